"""The three ways to pay a drill's traffic: payrouter, and the two habits it replaces.

- payrouter: the router built from a config file, as a merchant runs it.
- single provider + tenacity: one provider per method, retries on any error with a new key
  each time (hand-rolled code rarely carries idempotency keys), no failover, no lookup.
- try/except chain: every provider of every offered method in turn, moving on after any
  exception or refusal, new key each time.

All three use the same real adapters against the same sandbox; they differ only in policy.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import defaultdict
from collections.abc import Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

from payrouter import (
    LedgerUnavailableError,
    MismatchKind,
    OpenPayment,
    PaymentError,
    PaymentMethod,
    PaymentStatus,
    RecordsReport,
    Router,
)

from ._browsers import Browsers
from ._customers import Approvals, Customers
from ._figures import PaymentRecord, StrategyRun
from ._observed import Observed
from ._scenario import DrillProvider, Scenario
from ._traffic import Arrival

__all__ = [
    "Progress",
    "RouterRun",
    "adapter_options",
    "open_loop",
    "router_config",
    "serve_with_router",
]

Progress = Callable[[PaymentRecord], None]

# Adapter options each provider type needs against the sandbox (which accepts any secret).
_SANDBOX_OPTIONS: dict[str, dict[str, object]] = {
    "stripe": {"api_key": "sk_test_drill"},
    "adyen": {
        "api_key": "drill-key",
        "merchant_account": "DrillShop",
        "return_url": "https://shop.example/return",
    },
    "paypal": {"client_id": "drill", "client_secret": "drill-secret"},
    "berlingroup": {
        "creditor_iban": "DE89370400440532013000",
        "creditor_name": "Drill Shop GmbH",
        "access_token": "drill-token",
        "account_id": "drill-account",  # AIS access to the receiving account: its records
        "consent_id": "drill-consent",
    },
}
_READ_TIMEOUT_SECONDS = 2.0
_RECONCILE_READ_TIMEOUT_SECONDS = 30.0
"""Reconcile is the merchant's back-office job, not a checkout: it may wait for an answer
(on a loaded machine a stand-in can take longer than a checkout's read timeout to answer a
replay, and an unanswered replay leaves the payment open)."""


def adapter_options(provider: DrillProvider, url: str) -> dict[str, object]:
    """A provider's adapter options pointed at the stand-in at `url`."""
    return {
        "base_url": url,
        "read_timeout_seconds": _READ_TIMEOUT_SECONDS,
        **_SANDBOX_OPTIONS[provider.type],
        **provider.options,
    }


def router_config(scenario: Scenario, urls: dict[str, str], folder: Path) -> Path:
    """Write the merchant-style config the router under test is built from.

    `urls` maps each provider's name to the base URL of the stand-in serving it.
    """
    providers = [
        {
            "name": provider.name,
            "type": provider.type,
            "methods": [method.value for method in provider.methods],
            "fees": [rule.model_dump(mode="json", exclude_none=True) for rule in provider.fees],
            "options": adapter_options(provider, urls[provider.name]),
        }
        for provider in scenario.providers
    ]
    config = {
        "ledger": "sqlite:///drill-ledger.db",
        "router": scenario.router.model_dump(mode="json"),
        "routing": {
            method.value: strategy.model_dump(mode="json")
            for method, strategy in scenario.routing.items()
        },
        "providers": providers,
    }
    # Each drill starts from an empty ledger: a ledger left by an earlier run in this folder
    # would answer every order id from its records, and the drill would measure nothing.
    for stale in folder.glob("drill-ledger.db*"):
        stale.unlink()
    path = folder / "payrouter.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    for provider in providers:
        options = provider["options"]
        assert isinstance(options, dict)
        options["read_timeout_seconds"] = _RECONCILE_READ_TIMEOUT_SECONDS
    _reconcile_config(path).write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def _reconcile_config(checkout_config: Path) -> Path:
    """The back office's config beside the checkout's: the same ledger and providers, with
    reconcile's read timeout (as a merchant runs `payrouter reconcile` on its own config)."""
    return checkout_config.with_name("payrouter-reconcile.yaml")


async def open_loop(
    arrivals: Sequence[Arrival],
    pay: Callable[[Arrival], Coroutine[Any, Any, PaymentRecord]],
    progress: Progress,
) -> list[PaymentRecord]:
    """Send each payment at its arrival time, whatever the earlier ones are doing."""
    started = time.monotonic()
    tasks: list[asyncio.Task[PaymentRecord]] = []
    for arrival in arrivals:
        delay = started + arrival.at - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(pay(arrival)))
        tasks[-1].add_done_callback(lambda task: progress(task.result()))
    return list(await asyncio.gather(*tasks))


@dataclass(frozen=True, slots=True)
class RouterRun:
    """payrouter's run: its records, breaker changes, what reconcile settled, the records
    check, and the payments reconcile left pending, each with why (`OpenPayment`)."""

    records: list[PaymentRecord]
    breaker_events: list[dict[str, object]]
    settled: dict[str, PaymentStatus]
    records_check: dict[str, object]
    left_pending: list[dict[str, object]]

    def strategy_run(self, name: str, books: Mapping[str, int]) -> StrategyRun:
        """The run as the report's figures take it, with the books read after it."""
        return StrategyRun(
            name, self.records, books, self.settled, self.breaker_events, self.left_pending
        )


async def serve_with_router(
    arrivals: Sequence[Arrival],
    config: Path,
    progress: Progress,
    on_breaker: Callable[[dict[str, object]], None] = lambda change: None,
    approvals: Approvals | None = None,
    seed: int = 0,
    browsers: Browsers | None = None,
) -> RouterRun:
    """Pay through payrouter, let customers approve what needs them (when `approvals` is
    set, in their `browsers`); reconcile until nothing is left to learn; then check the
    ledger against every provider's records (what the stand-ins took and never answered for
    shows there)."""
    seen = Observed(on_breaker)
    async with (
        Router.from_config(config, hooks=[seen.collect]) as router,
        contextlib.AsyncExitStack() as stack,
    ):
        customers = (
            await stack.enter_async_context(Customers(approvals, seed, router, browsers))
            if approvals is not None and browsers is not None
            else None
        )

        async def pay(arrival: Arrival) -> PaymentRecord:
            sent = time.perf_counter()
            try:
                result = await router.pay(arrival.request)
                status, method = result.status, result.method
                served = status in (PaymentStatus.SUCCEEDED, PaymentStatus.REQUIRES_ACTION)
                taken_by = result.provider if served and method is PaymentMethod.CARD else None
                if customers is not None:
                    customers.sent_to_approve(result)
            except (PaymentError, LedgerUnavailableError):
                # Not paid: refused, shed, or the ledger could not be written in time (then no
                # provider was called after its last write; reconcile settles any open attempt).
                status, method, taken_by = PaymentStatus.FAILED, None, None
            return seen.record(arrival, sent, status, method, taken_by)

        seen.clock_zero = time.monotonic()
        began = datetime.now(UTC) - timedelta(seconds=1)
        records = await open_loop(arrivals, pay, progress)
        if customers is not None:
            await customers.settle()
            for record in records:
                record.customer = customers.decisions.get(record.order_id)
        early = await router.compare_records(began, datetime.now(UTC), keep=False)
        # The checkout's router stays open meanwhile: answers it still reads late are kept.
        async with Router.from_config(_reconcile_config(config)) as back_office:
            settled, left_open = await _reconcile_until_quiet(back_office)
            books = await back_office.compare_records(began, datetime.now(UTC), keep=False)
        if customers is not None:  # what the return page saw, unless reconcile learnt more
            settled = {**customers.after_return, **settled}
    left_pending = [
        _open_row(payment) for payment in left_open if payment.status is PaymentStatus.PENDING
    ]
    return RouterRun(
        records, seen.breaker_events, settled, records_check(books, early), left_pending
    )


def _open_row(payment: OpenPayment) -> dict[str, object]:
    """A payment reconcile left open, as the report lists it (what `payrouter reconcile`
    prints for it)."""
    return {
        "order_id": payment.order_id,
        "provider": payment.provider,
        "status": payment.status.value,
        "reason": payment.reason,
        "next_step": payment.next_step,
        "overdue": payment.overdue,
    }


def records_check(report: RecordsReport, early: RecordsReport) -> dict[str, object]:
    """What the providers' records showed against the ledger after reconcile, per kind and
    provider, and what they showed unanswered before it (`early`)."""
    before: dict[str, int] = defaultdict(int)
    for mismatch in early.mismatches:
        if mismatch.kind is MismatchKind.UNANSWERED:
            before[mismatch.provider] += 1
    kinds: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for mismatch in report.mismatches:
        kinds[mismatch.kind.value][mismatch.provider] += 1
    return {
        "compared": report.compared,
        "differences": {kind: dict(sorted(by.items())) for kind, by in sorted(kinds.items())},
        "unanswered": [
            {
                "provider": m.provider,
                "order_id": m.order_id,
                "provider_reference": m.provider_reference,
                "provider_side": m.provider_side,
            }
            for m in report.mismatches
            if m.kind is MismatchKind.UNANSWERED
        ],
        "unanswered_before_reconcile": dict(sorted(before.items())),
        "late": dict(report.late),
        "failed": dict(report.failed),
        "unlisted": list(report.unlisted_providers),
    }


async def _reconcile_until_quiet(
    router: Router,
) -> tuple[dict[str, PaymentStatus], tuple[OpenPayment, ...]]:
    """Reconcile repeatedly while payments still settle (bank transfers arrive late); what
    it settled, and what its last pass left open, with why.

    Payments still waiting for a customer do not keep it going: by now every played customer
    has acted, and one who abandoned (or was never played) leaves the payment awaiting
    approval however often the provider is asked.
    """
    settled: dict[str, PaymentStatus] = {}
    left_open: tuple[OpenPayment, ...] = ()
    for _ in range(6):
        report = await router.reconcile(limit=100_000)
        for change in report.changes:
            settled[change.order_id] = change.after
        left_open = report.open
        if not await _may_still_settle(router, report.still_open):
            break
        await asyncio.sleep(0.5)
    return settled, left_open


async def _may_still_settle(router: Router, still_open: Sequence[str]) -> bool:
    for order_id in still_open:
        payment = await router.lookup(order_id)
        if payment is None or payment.status is not PaymentStatus.REQUIRES_ACTION:
            return True
    return False
