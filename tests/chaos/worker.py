"""One checkout process of the chaos suite: pays its orders against the shared ledger.

Run as `python -m tests.chaos.worker <payrouter.yaml> <plan.json>`. It builds the router from
the merchant's config (the real adapters, pointed at the stand-ins), pays its orders with
`CONCURRENCY` in flight, plays the customer where a payment needs one (the bank's SCA page),
asks for the refunds its plan names, and prints one JSON line per event on stdout:

- `{"started": order_id}` when an attempt is about to call a provider (a hook), so the parent
  knows a payment is in flight when it sends SIGKILL;
- `{"order": ..., "status": ..., "keys": [...]}` when `pay` answered: the status the caller
  was told (or the error's class) and the idempotency keys of the attempts it was told about.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

import httpx

from payrouter import (
    AttemptSummary,
    FollowUpNotAllowedError,
    FollowUpRefusedError,
    LedgerUnavailableError,
    OutcomeNotRecordedError,
    PaymentError,
    PaymentInProgressError,
    PaymentResult,
    PaymentStatus,
    Router,
)
from payrouter.instrumentation import AttemptStarted, Event
from tests.chaos.plan import CONCURRENCY, Order, read_plan


def _say(line: dict[str, object]) -> None:
    sys.stdout.write(json.dumps(line) + "\n")
    sys.stdout.flush()


_STARTED: set[str] = set()


def _hook(event: Event) -> None:
    if isinstance(event, AttemptStarted):
        _STARTED.add(event.order_id)
        _say({"started": event.order_id})


async def _approve(router: Router, result: PaymentResult, browser: httpx.AsyncClient) -> None:
    """The customer completes the bank's SCA page; the checkout then asks where it stands."""
    if result.status is not PaymentStatus.REQUIRES_ACTION or result.action_url is None:
        return
    try:
        await browser.get(result.action_url)
    except httpx.HTTPError:
        return  # the customer's page did not load: the payment stays awaiting them


def _attempts(attempts: Sequence[AttemptSummary]) -> list[str]:
    """What the caller was told about each attempt, for the report of a broken invariant."""
    return [
        f"{a.number} {a.provider} {a.outcome} {a.failure_kind} {a.provider_code}" for a in attempts
    ]


async def _pay(router: Router, order: Order, browser: httpx.AsyncClient) -> dict[str, object]:
    told: dict[str, object] = {"order": order.order_id}
    try:
        result = await router.pay(order.request())
        await _approve(router, result, browser)
        if result.status is PaymentStatus.REQUIRES_ACTION:
            result = await router.refresh(order.order_id) or result
    except PaymentInProgressError:
        return {**told, "status": "in_progress", "keys": []}
    except OutcomeNotRecordedError:
        return {**told, "status": "not_recorded", "keys": []}  # money may have moved
    except PaymentError as error:
        keys = [attempt.idempotency_key for attempt in error.attempts]
        seen = _attempts(error.attempts)
        return {**told, "status": f"failed:{type(error).__name__}", "keys": keys, "seen": seen}
    except LedgerUnavailableError as error:
        return {**told, "status": f"ledger:{type(error).__name__}", "keys": []}  # none called
    told |= {
        "status": result.status.value,
        "keys": [a.idempotency_key for a in result.attempts],
        "seen": _attempts(result.attempts),
    }
    if order.refund and result.status is PaymentStatus.SUCCEEDED:
        try:
            refund = await router.refund(order.order_id, key=f"refund-{order.order_id}")
            told["refund"] = refund.status.value
        except (FollowUpNotAllowedError, FollowUpRefusedError, LedgerUnavailableError) as error:
            told["refund"] = type(error).__name__
    return told


async def main(config: Path, plan: Path, die_after: int | None) -> None:
    """Pay the plan; given `die_after`, SIGKILL this process once that many payments were
    answered while others are in flight at their providers (a crash mid-run)."""
    mine = read_plan(plan)
    slots = asyncio.Semaphore(CONCURRENCY)
    answered: set[str] = set()
    async with (
        Router.from_config(config, hooks=[_hook]) as router,
        httpx.AsyncClient(timeout=10) as browser,
    ):

        async def one(order: Order) -> None:
            async with slots:
                _say(await _pay(router, order, browser))
            answered.add(order.order_id)
            if die_after is not None and len(answered) >= die_after and _STARTED - answered:
                os.kill(os.getpid(), signal.SIGKILL)

        await asyncio.gather(*(one(order) for order in mine))
    _say({"done": len(mine)})


if __name__ == "__main__":
    die_after = int(sys.argv[3]) if len(sys.argv) > 3 else None
    asyncio.run(main(Path(sys.argv[1]), Path(sys.argv[2]), die_after))
