"""The built-in outage drill: a promotion-day of traffic against simulated providers.

The same customers and the same fault timeline are replayed against the router and against a
hand-rolled try/except chain that fails over on any exception; the providers' own books say
how often each one charged a customer twice or lost the record of a payment.

Faults are a pure function of (seed, provider, order, call number), so both strategies meet
exactly the same provider behaviour, and the same seed gives the same drill.
"""

from __future__ import annotations

import asyncio
import hashlib
import random
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from ._adapter import Capabilities, Charge
from ._errors import PaymentError
from ._models import (
    BankTransferSource,
    CardSource,
    PaymentMethod,
    PaymentRequest,
    PaymentStatus,
    WalletSource,
)
from ._money import Money
from ._router import Router
from ._settings import BreakerSettings, RetrySettings, RouterSettings
from ._taxonomy import FailureKind, Outcome
from .testing import Behavior, SimulatedAdapter, SimulatedProvider

__all__ = ["DrillResult", "StrategyFigures", "run_drill"]

_PROVIDERS: tuple[tuple[str, PaymentMethod], ...] = (
    ("wallet_main", PaymentMethod.WALLET),
    ("wallet_backup", PaymentMethod.WALLET),
    ("card_a", PaymentMethod.CARD),
    ("card_b", PaymentMethod.CARD),
    ("bank", PaymentMethod.BANK_TRANSFER),
)
_IBAN = "DE89370400440532013000"
_COUNTRIES = ("DE", "FR", "NL", "ES", "IT")


@dataclass(frozen=True, slots=True)
class _Phase:
    """Between `start` and `end` (shares of the drill), `provider` behaves per `behavior`."""

    start: float
    end: float
    provider: str
    rate: float
    behavior: Callable[[], Behavior]
    label: str


_PROMOTION_DAY: tuple[_Phase, ...] = (
    _Phase(0.25, 0.45, "wallet_main", 0.7, lambda: Behavior.rate_limited(0.5), "main wallet busy"),
    _Phase(0.45, 0.70, "wallet_main", 1.0, Behavior.refuse_connection, "main wallet down"),
    _Phase(0.35, 0.60, "card_b", 1.0, Behavior.maintenance, "card_b maintenance"),
    _Phase(0.30, 0.50, "card_a", 0.03, Behavior.timeout_after_charging, "network flaps (lost)"),
    _Phase(0.30, 0.50, "card_a", 0.03, Behavior.timeout_before_charging, "network flaps"),
)


@dataclass(slots=True)
class StrategyFigures:
    """What one strategy achieved over the drill, counted from the providers' books."""

    name: str
    payments: int = 0
    succeeded: int = 0
    declined: int = 0
    pending: int = 0
    failed: int = 0
    double_charges: int = 0
    records_lost: int = 0
    attempts: int = 0
    pending_after_reconcile: int | None = None
    latencies_ms: list[float] = field(default_factory=list)

    @property
    def success_rate(self) -> float:
        return self.succeeded / self.payments if self.payments else 0.0

    @property
    def attempts_per_payment(self) -> float:
        return self.attempts / self.payments if self.payments else 0.0

    def percentile_ms(self, share: float) -> float:
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else 0.0


@dataclass(frozen=True, slots=True)
class DrillResult:
    seed: int
    payments: int
    seconds: float
    strategies: tuple[StrategyFigures, ...]
    phases: tuple[str, ...]


class _FaultTimeline:
    """Decides each call's behaviour from (seed, provider, order, call number) alone."""

    def __init__(self, seed: int, payments: int) -> None:
        self._seed = seed
        self._payments = payments
        self._calls: Counter[tuple[str, str]] = Counter()

    def behave(self, provider: str) -> Callable[[dict[str, object]], Behavior | None]:
        def decide(call: dict[str, object]) -> Behavior | None:
            order_id = str(call["order_id"])
            number = self._calls[(provider, order_id)]
            self._calls[(provider, order_id)] += 1
            position = int(order_id.rsplit("-", 1)[1]) / self._payments
            for phase in _PROMOTION_DAY:
                if phase.provider == provider and phase.start <= position < phase.end:
                    draw = _uniform(self._seed, provider, order_id, number, phase.label)
                    if draw < phase.rate:
                        return phase.behavior()
            if str(call.get("source", "")).startswith("frozen"):
                return Behavior.decline_with(FailureKind.ACCOUNT_FROZEN)
            if str(call.get("source", "")).startswith("empty"):
                return Behavior.decline_with(FailureKind.INSUFFICIENT_FUNDS)
            return None

        return decide


def _uniform(seed: int, *parts: object) -> float:
    digest = hashlib.sha256(repr((seed, *parts)).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def _customers(seed: int, count: int) -> list[PaymentRequest]:
    rng = random.Random(seed)  # noqa: S311 - simulation, not cryptography
    requests = []
    for index in range(count):
        wallet_kind = rng.choices(["ok", "frozen", "empty"], [0.94, 0.03, 0.03])[0]
        wallet = WalletSource(wallet="paypal" if wallet_kind == "ok" else f"{wallet_kind}-wallet")
        card = CardSource(token=f"tok_{rng.randrange(10**8)}")
        bank = BankTransferSource(iban=_IBAN)
        sources = rng.choice([(wallet, card), (card,), (wallet,), (card, bank), (bank,)])
        requests.append(
            PaymentRequest(
                order_id=f"drill-{seed}-{index}",
                amount=Money(minor_units=rng.randrange(500, 20000), currency="EUR"),
                sources=sources,
                customer_country=rng.choice(_COUNTRIES),
            )
        )
    return requests


def _providers(
    timeline: _FaultTimeline, books: Path, tag: str
) -> tuple[list[SimulatedAdapter], list[SimulatedProvider]]:
    adapters, providers = [], []
    for name, method in _PROVIDERS:
        provider = SimulatedProvider(name, books_path=books / f"{tag}-{name}.db")
        provider.behave = timeline.behave(name)
        providers.append(provider)
        adapters.append(
            SimulatedAdapter(provider, capabilities=Capabilities(methods=frozenset({method})))
        )
    return adapters, providers


def _count_books(
    figures: StrategyFigures,
    providers: Sequence[SimulatedProvider],
    settled: dict[str, PaymentStatus],
) -> None:
    charges = Counter(entry.order_id for provider in providers for entry in provider.charges())
    figures.double_charges = sum(count - 1 for count in charges.values() if count > 1)
    kept = (PaymentStatus.SUCCEEDED, PaymentStatus.PENDING)
    figures.records_lost = sum(1 for order in charges if settled.get(order) not in kept)


async def _bounded(
    jobs: Sequence[Callable[[], Awaitable[None]]], concurrency: int, progress: Callable[[], None]
) -> None:
    gate = asyncio.Semaphore(concurrency)

    async def one(job: Callable[[], Awaitable[None]]) -> None:
        async with gate:
            await job()
            progress()

    await asyncio.gather(*(one(job) for job in jobs))


async def _no_wait(_seconds: float) -> None:
    """Backoff waits are skipped in the drill; breaker timeouts still run on the real clock."""


async def _run_router(
    requests: list[PaymentRequest],
    workdir: Path,
    seed: int,
    concurrency: int,
    progress: Callable[[], None],
) -> StrategyFigures:
    adapters, providers = _providers(_FaultTimeline(seed, len(requests)), workdir, "router")
    settings = RouterSettings(
        retry=RetrySettings(max_tries=2),
        breaker=BreakerSettings(fail_max=5, reset_timeout_seconds=0.5),
        not_found_after_seconds=0,
        lookup_tries=2,
    )
    figures = StrategyFigures("payrouter")
    settled: dict[str, PaymentStatus] = {}
    ledger = f"sqlite:///{workdir / 'ledger.db'}"
    async with Router(
        adapters, ledger=ledger, settings=settings, hooks=(), sleep=_no_wait
    ) as router:

        async def pay(request: PaymentRequest) -> None:
            started = time.perf_counter()
            try:
                result = await router.pay(request)
                settled[request.order_id] = result.status
                figures.attempts += len(result.attempts)
            except PaymentError as error:
                settled[request.order_id] = PaymentStatus.FAILED
                figures.attempts += len(error.attempts)
            figures.latencies_ms.append((time.perf_counter() - started) * 1000)

        await _bounded([partial(pay, r) for r in requests], concurrency, progress)
        _tally(figures, settled)
        report = await router.reconcile(limit=len(requests))
        for change in report.changes:
            settled[change.order_id] = change.after
        figures.pending_after_reconcile = len(report.still_open)
        _count_books(figures, providers, settled)  # before close: closing shuts the books
    return figures


async def _run_naive_chain(
    requests: list[PaymentRequest],
    workdir: Path,
    seed: int,
    concurrency: int,
    progress: Callable[[], None],
) -> StrategyFigures:
    """The hand-rolled chain: try each provider in turn, fail over on any exception."""
    adapters, providers = _providers(_FaultTimeline(seed, len(requests)), workdir, "naive")
    figures = StrategyFigures("try/except chain")
    settled: dict[str, PaymentStatus] = {}

    async def pay(request: PaymentRequest) -> None:
        started = time.perf_counter()
        settled[request.order_id] = PaymentStatus.FAILED
        for source in request.sources:
            for adapter in adapters:
                if source.method not in adapter.capabilities.methods:
                    continue
                figures.attempts += 1
                charge = Charge(
                    reference=uuid.uuid4().hex,
                    order_id=request.order_id,
                    amount=request.amount,
                    source=source,
                    customer_country=request.customer_country,
                )
                try:
                    reply = await adapter.pay(charge, idempotency_key=uuid.uuid4().hex)
                except Exception:  # noqa: S112 - the naive strategy under test
                    continue
                if reply.outcome is Outcome.SUCCEEDED:
                    settled[request.order_id] = PaymentStatus.SUCCEEDED
                    figures.latencies_ms.append((time.perf_counter() - started) * 1000)
                    return
        figures.latencies_ms.append((time.perf_counter() - started) * 1000)

    await _bounded([partial(pay, r) for r in requests], concurrency, progress)
    _tally(figures, settled)
    _count_books(figures, providers, settled)
    for adapter in adapters:
        await adapter.aclose()
    return figures


def _tally(figures: StrategyFigures, settled: dict[str, PaymentStatus]) -> None:
    counts = Counter(settled.values())
    figures.payments = len(settled)
    figures.succeeded = counts[PaymentStatus.SUCCEEDED]
    figures.declined = counts[PaymentStatus.DECLINED]
    figures.pending = counts[PaymentStatus.PENDING] + counts[PaymentStatus.REQUIRES_ACTION]
    figures.failed = counts[PaymentStatus.FAILED]


async def run_drill(
    *,
    payments: int = 3000,
    seed: int = 7,
    concurrency: int = 32,
    progress: Callable[[], None] = lambda: None,
) -> DrillResult:
    """Run the promotion-day drill against the router and the naive chain, same faults."""
    started = time.perf_counter()
    requests = _customers(seed, payments)
    with tempfile.TemporaryDirectory(prefix="payrouter-drill-") as folder:
        workdir = Path(folder)
        router = await _run_router(requests, workdir, seed, concurrency, progress)
        naive = await _run_naive_chain(requests, workdir, seed, concurrency, progress)
    return DrillResult(
        seed=seed,
        payments=payments,
        seconds=time.perf_counter() - started,
        strategies=(router, naive),
        phases=tuple(
            f"{phase.label}: {phase.start:.0%}-{phase.end:.0%} of traffic"
            for phase in _PROMOTION_DAY
        ),
    )
