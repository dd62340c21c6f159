"""Rule 3: write before call. Every attempt is in the ledger before its provider hears of it,
and reconcile finishes what a crash, a timeout or a pending settlement left open, by lookup only.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from payrouter import (
    BankTransferSource,
    CardSource,
    LedgerUnavailableError,
    Money,
    PaymentMethod,
    PaymentRequest,
    PaymentResult,
    PaymentStatus,
    Router,
    RouterClosedError,
    RouterSettings,
)
from payrouter._ledger import AttemptRow, SqlLedger
from payrouter.provider import Charge, FailureKind, Outcome, ProviderReply, Resolution
from payrouter.testing import Behavior, SimulatedAdapter, SimulatedProvider

CARD = PaymentMethod.CARD


def request(order_id: str = "order-1", *, iban: bool = False) -> PaymentRequest:
    source: Any = (
        BankTransferSource(iban=SecretStr("DE89370400440532013000"))
        if iban
        else CardSource(token=SecretStr("pm_card_visa"))
    )
    return PaymentRequest(
        order_id=order_id,
        amount=Money.of("10.00", "EUR"),
        sources=[source],
        customer_country="DE",
    )


def router(
    adapters: Sequence[SimulatedAdapter],
    *,
    ledger: Any = "sqlite://",
    settings: RouterSettings | None = None,
) -> Router:
    return Router(adapters, ledger=ledger, hooks=(), settings=settings)


class LedgerPeekingAdapter(SimulatedAdapter):
    """Reads the ledger through a second connection at the moment the provider is called."""

    def __init__(self, provider: SimulatedProvider, peek: SqlLedger) -> None:
        super().__init__(provider)
        self.peek = peek
        self.seen: list[tuple[str, PaymentResult | None]] = []

    async def pay(self, charge: Charge, *, idempotency_key: str) -> ProviderReply:
        self.seen.append((idempotency_key, await self.peek.get(charge.order_id)))
        return await super().pay(charge, idempotency_key=idempotency_key)


class RefusingLedger:
    """A ledger that stops recording attempts after `allowed` of them (disk full, DB down)."""

    def __init__(self, inner: SqlLedger, allowed: int = 0) -> None:
        self.inner = inner
        self.allowed = allowed

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def _take(self) -> None:
        if self.allowed <= 0:
            raise LedgerUnavailableError("ledger write failed: disk I/O error")
        self.allowed -= 1

    async def claim(self, *args: Any, first_attempt: AttemptRow | None = None, **kw: Any) -> Any:
        """Attempt 1 travels with the claim, in one transaction: refused, neither is written."""
        if first_attempt is not None:
            self._take()
        return await self.inner.claim(*args, first_attempt=first_attempt, **kw)

    async def record_attempt(self, row: AttemptRow) -> None:
        self._take()
        await self.inner.record_attempt(row)


# -- write before call -------------------------------------------------------------------


async def test_attempt_is_committed_before_the_provider_is_called(tmp_path: Path) -> None:
    """At call time the attempt row is already committed, with its key and no outcome yet."""
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    peek = SqlLedger(url)
    adapter = LedgerPeekingAdapter(SimulatedProvider("card_a"), peek)
    async with router([adapter], ledger=url) as payments:
        await peek.open()
        try:
            result = await payments.pay(request())
        finally:
            await peek.close()
        ((key, seen),) = adapter.seen
        assert seen is not None
        assert seen.status is PaymentStatus.PROCESSING
        (attempt,) = seen.attempts
        assert (attempt.number, attempt.provider, attempt.idempotency_key) == (1, "card_a", key)
        assert attempt.outcome is None
        assert attempt.finished_at is None
        (finished,) = result.attempts
        assert finished.outcome is Outcome.SUCCEEDED
        assert finished.finished_at is not None
        assert (
            finished.provider_reference == adapter.provider.charges("order-1")[0].provider_reference
        )


async def test_each_retry_and_failover_call_finds_its_attempt_already_written(
    tmp_path: Path,
) -> None:
    """Retries replay a written attempt; a failover call finds its own new attempt written first."""
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    peek = SqlLedger(url)
    busy = LedgerPeekingAdapter(SimulatedProvider("card_a"), peek)
    busy.provider.default = Behavior.overloaded()
    spare = LedgerPeekingAdapter(SimulatedProvider("card_b"), peek)
    async with router([busy, spare], ledger=url) as payments:
        await peek.open()
        try:
            await payments.pay(request())
        finally:
            await peek.close()
    for adapter in (busy, spare):
        for key, seen in adapter.seen:
            assert seen is not None
            written = {a.idempotency_key: a for a in seen.attempts}
            assert key in written
            assert written[key].provider == adapter.name
            assert written[key].outcome is None


async def test_no_provider_is_called_when_the_attempt_cannot_be_recorded() -> None:
    """If the ledger cannot record the attempt, the provider is never called."""
    adapter = SimulatedAdapter(SimulatedProvider("card_a"))
    async with router([adapter], ledger=RefusingLedger(SqlLedger("sqlite://"))) as payments:
        with pytest.raises(LedgerUnavailableError):
            await payments.pay(request())
        assert adapter.provider.calls == 0
        assert adapter.provider.charges() == []


async def test_failover_stops_when_the_next_attempt_cannot_be_recorded() -> None:
    """The second provider is not called if its attempt cannot be written first."""
    first = SimulatedAdapter(SimulatedProvider("card_a"))
    second = SimulatedAdapter(SimulatedProvider("card_b"))
    first.provider.default = Behavior.unavailable()
    ledger = RefusingLedger(SqlLedger("sqlite://"), allowed=1)
    async with router([first, second], ledger=ledger) as payments:
        with pytest.raises(LedgerUnavailableError):
            await payments.pay(request())
        assert first.provider.calls == 1
        assert second.provider.calls == 0
        assert second.provider.charges() == []


# -- reconcile ---------------------------------------------------------------------------


async def _orphan(url: str, adapter: SimulatedAdapter, payment: PaymentRequest) -> str:
    """A worker claimed the order, wrote attempt 1, reached the provider, then died."""
    crashed = SqlLedger(url)
    await crashed.open()
    try:
        await crashed.claim(
            payment.order_id, payment.fingerprint(), payment.amount, "dead-worker", -1.0
        )
        key = f"payrouter:{payment.order_id}:1"
        await crashed.record_attempt(AttemptRow(payment.order_id, 1, adapter.name, CARD, key))
    finally:
        await crashed.close()
    charge = Charge(
        reference=key,
        order_id=payment.order_id,
        amount=payment.amount,
        source=payment.sources[0],
        customer_country=payment.customer_country,
    )
    reply = await adapter.pay(charge, idempotency_key=key)  # the dead worker's call
    assert reply.outcome is Outcome.SUCCEEDED
    return key


async def test_reconcile_finishes_a_crashed_workers_payment_as_succeeded(tmp_path: Path) -> None:
    """An orphaned attempt whose lease expired is looked up and the payment ends succeeded."""
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    adapter = SimulatedAdapter(SimulatedProvider("card_a"))
    payment = request()
    await _orphan(url, adapter, payment)
    calls = adapter.provider.calls
    async with router([adapter], ledger=url) as payments:
        report = await payments.reconcile()
        result = await payments.lookup("order-1")
        (charge,) = adapter.provider.charges("order-1")
        assert result is not None
        assert result.status is PaymentStatus.SUCCEEDED
        assert result.provider == "card_a"
        assert result.provider_reference == charge.provider_reference
        assert [a.outcome for a in result.attempts] == [Outcome.SUCCEEDED]
        assert [(c.order_id, c.before, c.after) for c in report.changes] == [
            ("order-1", PaymentStatus.PROCESSING, PaymentStatus.SUCCEEDED)
        ]
        assert adapter.provider.calls == calls


async def test_reconcile_leaves_a_live_workers_payment_alone(tmp_path: Path) -> None:
    """A payment whose worker still holds its lease is not taken over, even with money taken."""
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    adapter = SimulatedAdapter(SimulatedProvider("card_a"))
    payment = request()
    live = SqlLedger(url)
    await live.open()
    try:
        await live.claim(payment.order_id, payment.fingerprint(), payment.amount, "live", 600)
        await live.record_attempt(AttemptRow("order-1", 1, "card_a", CARD, "payrouter:order-1:1"))
    finally:
        await live.close()
    async with router([adapter], ledger=url) as payments:
        report = await payments.reconcile()
        result = await payments.lookup("order-1")
        assert report.examined == 0
        assert result is not None
        assert result.status is PaymentStatus.PROCESSING
        assert result.attempts[0].outcome is None
        assert adapter.provider.calls == 0


async def test_pending_payment_succeeds_once_the_provider_has_settled_it() -> None:
    """A pending bank transfer stays pending until the provider's books say it settled."""
    bank = SimulatedAdapter(SimulatedProvider("bank_a"))
    bank.provider.script(Behavior.pending())
    async with router([bank]) as payments:
        pending = await payments.pay(request(iban=True))
        assert pending.status is PaymentStatus.PENDING
        calls = bank.provider.calls
        report = await payments.reconcile()
        assert report.still_open == ("order-1",)
        assert report.changes == ()
        assert pending.provider_reference is not None
        bank.provider.settle(pending.provider_reference)
        report = await payments.reconcile()
        result = await payments.lookup("order-1")
        assert result is not None
        assert result.status is PaymentStatus.SUCCEEDED
        assert report.still_open == ()
        assert [(c.before, c.after) for c in report.changes] == [
            (PaymentStatus.PENDING, PaymentStatus.SUCCEEDED)
        ]
        assert bank.provider.calls == calls


async def test_a_payment_its_provider_has_not_settled_is_left_open_with_that_reason() -> None:
    """Reconcile asked and the provider answered "accepted, not settled": the open payment says
    so, with the next step, instead of an empty reason an operator cannot act on."""
    bank = SimulatedAdapter(SimulatedProvider("bank_a"))
    bank.provider.script(Behavior.pending())
    async with router([bank]) as payments:
        await payments.pay(request(iban=True))
        report = await payments.reconcile()

    (still,) = report.open
    assert still.provider == "bank_a"
    assert still.status is PaymentStatus.PENDING
    assert still.reason == "accepted by bank_a, not settled yet"
    assert "reconcile again" in still.next_step


async def test_unknown_attempt_succeeds_once_the_late_request_reached_the_provider() -> None:
    """A timed-out request that the provider processed late is found by reconcile."""
    adapter = SimulatedAdapter(SimulatedProvider("card_a"))
    adapter.provider.script(Behavior.timeout_before_charging())
    payment = request()
    async with router([adapter]) as payments:
        pending = await payments.pay(payment)
        assert pending.status is PaymentStatus.PENDING
        key = pending.attempts[0].idempotency_key
        late = Charge(
            reference=key,
            order_id="order-1",
            amount=payment.amount,
            source=payment.sources[0],
            customer_country="DE",
        )
        await adapter.pay(late, idempotency_key=key)  # the lost request arrives after all
        calls = adapter.provider.calls
        await payments.reconcile()
        result = await payments.lookup("order-1")
        (charge,) = adapter.provider.charges("order-1")
        assert result is not None
        assert result.status is PaymentStatus.SUCCEEDED
        assert result.provider_reference == charge.provider_reference
        assert adapter.provider.calls == calls


async def test_not_found_is_not_trusted_before_the_providers_search_lag() -> None:
    """A fresh 'no such payment' may be a request still in flight: the payment stays pending."""
    adapter = SimulatedAdapter(
        SimulatedProvider("card_a"), resolution=Resolution(lookup=True, search_lag_seconds=300)
    )
    adapter.provider.script(Behavior.timeout_before_charging())
    async with router([adapter]) as payments:
        await payments.pay(request())
        report = await payments.reconcile()
        result = await payments.lookup("order-1")
        assert result is not None
        assert result.status is PaymentStatus.PENDING
        assert result.attempts[0].outcome is Outcome.UNKNOWN
        assert report.still_open == ("order-1",)
        assert adapter.provider.calls == 1


async def test_not_found_past_the_providers_search_lag_fails_the_payment() -> None:
    """Past the declared search lag, 'no such payment' is trusted: failed, nothing taken."""
    adapter = SimulatedAdapter(
        SimulatedProvider("card_a"), resolution=Resolution(lookup=True, search_lag_seconds=0)
    )
    adapter.provider.script(Behavior.timeout_before_charging())
    async with router([adapter]) as payments:
        await payments.pay(request())
        report = await payments.reconcile()
        result = await payments.lookup("order-1")
        assert result is not None
        assert result.status is PaymentStatus.FAILED
        (attempt,) = result.attempts
        assert (attempt.outcome, attempt.failure_kind) == (Outcome.FAILED, FailureKind.NOT_FOUND)
        assert [(c.before, c.after) for c in report.changes] == [
            (PaymentStatus.PENDING, PaymentStatus.FAILED)
        ]
        assert adapter.provider.charges() == []
        assert adapter.provider.calls == 1


async def test_reconcile_never_sends_a_payment_to_a_provider_without_replay() -> None:
    """Across pending, unknown and action-required payments, reconcile only looks up."""
    adapter = SimulatedAdapter(SimulatedProvider("card_a"))
    adapter.provider.script(
        Behavior.pending(),
        Behavior.timeout_before_charging(),
        Behavior.requires_action(),
        Behavior.timeout_after_charging(),
    )
    adapter.resolution = Resolution(lookup=True, search_lag_seconds=0)  # no replay declared
    settings = RouterSettings(lookup_tries=1)
    async with router([adapter], settings=settings) as payments:
        for number in range(4):
            await payments.pay(request(f"order-{number}"))
        calls = adapter.provider.calls
        taken = len(adapter.provider.charges())
        await payments.reconcile()
        await payments.reconcile()
        assert adapter.provider.calls == calls
        assert len(adapter.provider.charges()) == taken


async def test_a_router_that_cannot_open_its_ledger_closes_its_adapters(tmp_path: Path) -> None:
    """The failed open's error reaches the caller, and no adapter connection is left open."""
    closed: list[str] = []

    class Tracked(SimulatedAdapter):
        async def aclose(self) -> None:
            closed.append(self.name)
            await super().aclose()

    missing_directory = tmp_path / "no-such-directory" / "ledger.db"
    adapters = [Tracked(SimulatedProvider("card_a")), Tracked(SimulatedProvider("card_b"))]
    router = Router(adapters, ledger=f"sqlite:///{missing_directory}", hooks=())
    with pytest.raises(LedgerUnavailableError):
        await router.open()
    assert sorted(closed) == ["card_a", "card_b"]
    with pytest.raises(RouterClosedError):
        await router.open()
