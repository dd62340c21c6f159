"""A worker process that pays one order and stops at a chosen instant, to be killed there.

Run as `python tests/crash_worker.py <instant> <ledger URL> <books.db>`; the crash test starts
it, waits until the instant is reached and sends SIGKILL. The worker never exits by itself
once the instant is reached: it blocks, so whatever the parent finds afterwards is what a
crash at that instant leaves behind.

Instants:
    hang_after_charging   the provider took the money and never answers
    block_before_send     the attempt is written; the adapter blocks before any request leaves
    slow_before_charging  the provider received the request and is slow; nothing taken yet
    hang_after_refunding  the payment succeeded; the provider refunded it and never answers

The worker prints a marker line to stdout right before it blocks; the parent uses it only to
know when to kill, never to know what happened (it reads the ledger and the books for that).
"""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path

import httpx
from pydantic import SecretStr

from payrouter import CardSource, Money, OutboxSettings, PaymentRequest, Router, RouterSettings
from payrouter.provider import Charge, ProviderReply
from payrouter.testing import Behavior, SimulatedAdapter, SimulatedProvider

ORDER_ID = "order-crash-1"
PROVIDER = "card_a"
DEADLINE_SECONDS = 1.0
"""The worker's payment deadline: the kill must land well within it (it lands in ~10 ms)."""
LEASE_SECONDS = 1.5
"""Tiny, so the parent's reconcile may take the orphaned payment over after a short wait."""

ADAPTER_BLOCKED = "adapter-blocked-before-send"
PROVIDER_RECEIVED = "provider-received"
FOLLOW_UP_RECEIVED = "follow-up-received"
INSTANTS = (
    "hang_after_charging",
    "block_before_send",
    "slow_before_charging",
    "hang_after_refunding",
)


def payment_request() -> PaymentRequest:
    """The order the worker pays; the parent pays the same one again after a crash."""
    return PaymentRequest(
        order_id=ORDER_ID,
        amount=Money.of("10.00", "EUR"),
        sources=[CardSource(token=SecretStr("pm_card_visa"))],
        customer_country="DE",
    )


def _mark(marker: str) -> None:
    print(marker, flush=True)


class _MarkingProvider(SimulatedProvider):
    """Says on stdout when a payment request has reached the provider."""

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.method == "POST" and request.url.path == "/payments":
            _mark(PROVIDER_RECEIVED)
        elif request.method == "POST" and request.url.path.startswith("/payments/"):
            _mark(FOLLOW_UP_RECEIVED)
        return await super().handle_async_request(request)


class _BlockingAdapter(SimulatedAdapter):
    """Stops after the router wrote the attempt and called us, before any request is sent."""

    async def pay(self, charge: Charge, *, idempotency_key: str) -> ProviderReply:
        _mark(ADAPTER_BLOCKED)
        await asyncio.sleep(3600)  # waiting on a connection pool, a DNS lookup, a TLS handshake
        return await super().pay(charge, idempotency_key=idempotency_key)


def _adapter(instant: str, books: Path) -> SimulatedAdapter:
    provider = _MarkingProvider(PROVIDER, books_path=books)
    if instant == "hang_after_charging":
        provider.script(Behavior.hang_after_charging())
    elif instant == "slow_before_charging":
        provider.script(Behavior.succeed(delay=3600))
    elif instant == "block_before_send":
        return _BlockingAdapter(provider)
    elif instant == "hang_after_refunding":
        provider.script_followups(Behavior.hang_after_charging())
    else:
        raise SystemExit(f"unknown instant {instant!r}; choose one of {INSTANTS}")
    return SimulatedAdapter(provider)


async def _main(instant: str, ledger: str, books: Path) -> None:
    settings = RouterSettings(
        deadline_seconds=DEADLINE_SECONDS,
        lease_seconds=LEASE_SECONDS,
        outbox=OutboxSettings(lease_seconds=LEASE_SECONDS, initial_backoff_seconds=0),
    )
    adapter = _adapter(instant, books)
    async with Router([adapter], ledger=ledger, settings=settings, hooks=()) as r:
        started = time.monotonic()
        result: object = await r.pay(payment_request())
        if instant == "hang_after_refunding":
            result = await r.refund(ORDER_ID)
    # Reaching this line means the instant was never reached, or the kill came too late.
    elapsed = time.monotonic() - started
    print(f"worker finished unkilled after {elapsed:.3f}s: {result!r}", file=sys.stderr)


if __name__ == "__main__":
    if len(sys.argv) != 4:
        raise SystemExit("usage: crash_worker.py <instant> <ledger URL> <books.db>")
    asyncio.run(_main(sys.argv[1], sys.argv[2], Path(sys.argv[3])))
