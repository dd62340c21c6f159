"""A reconcile pass whose lease ran out writes no status over the payment's next holder.

Reconcile (or a `pay` taking a crashed payment over) resolves the open attempts, then writes
the payment's status derived from them. If its lease runs out in between (a slow ladder, a
loaded database), another worker may take the payment over, find nothing moved, and pay on.
The stale pass's `failed`, landing over that payment while its charge is in flight, would
tell waiting callers "failed" and let the next retry claim the order id and charge again.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr
from sqlalchemy import create_engine, text

from payrouter import (
    CardSource,
    Money,
    PaymentInProgressError,
    PaymentMethod,
    PaymentRequest,
    PaymentStatus,
    Router,
    RouterSettings,
)
from payrouter._ledger import (
    AttemptOutcome,
    AttemptRow,
    Claim,
    PaymentUpdate,
    SqlLedger,
    held_by,
)
from payrouter._paying._keys import derive_key
from payrouter.provider import Charge, FailureKind, Outcome, ProviderReply, Resolution
from payrouter.testing import SimulatedAdapter, SimulatedProvider

ORDER = "order-reconciled-twice"
_SEARCHABLE = Resolution(lookup=True, search_lag_seconds=0)


def _request() -> PaymentRequest:
    return PaymentRequest(
        order_id=ORDER,
        amount=Money.of("10.00", "EUR"),
        sources=[CardSource(token=SecretStr("pm_card_visa"))],
        customer_country="DE",
    )


class _PausedFinish(SqlLedger):
    """A ledger whose first status write waits until the test lets it go on: the moment
    between a reconcile pass reading the attempts and writing the status derived from them."""

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.reached, self.go_on = asyncio.Event(), asyncio.Event()

    async def finish_payment(self, order_id: str, update: PaymentUpdate) -> object:  # type: ignore[override]
        if not self.reached.is_set():
            self.reached.set()
            await self.go_on.wait()
        return await super().finish_payment(order_id, update)


class _Stalling(SimulatedAdapter):
    """Charges only once the test lets the call go on (a payment in flight)."""

    def __init__(self, provider: SimulatedProvider) -> None:
        super().__init__(provider, resolution=_SEARCHABLE)
        self.called, self.go_on = asyncio.Event(), asyncio.Event()

    async def pay(self, charge: Charge, *, idempotency_key: str) -> ProviderReply:
        self.called.set()
        await self.go_on.wait()
        return await super().pay(charge, idempotency_key=idempotency_key)


@pytest.fixture(params=["sqlite", "postgres"])
def ledger_url(tmp_path: Path, request: pytest.FixtureRequest) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/ledger.db"
    return str(request.getfixturevalue("postgres_url"))


def _run_out_leases(url: str) -> None:
    """Every lease on the ledger ends now, as a stalled holder's would."""
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(text("UPDATE payrouter_payments SET lease_until = 0"))
    finally:
        engine.dispose()


async def _crashed(url: str, adapter: SimulatedAdapter) -> None:
    """A worker died after writing attempt 1 and before sending it: nothing moved."""
    key = derive_key("payrouter", ORDER, 1, max_length=adapter.idempotency_key_max_length)
    ledger = SqlLedger(url)
    await ledger.open()
    try:
        paid = _request()
        await ledger.claim(ORDER, paid.fingerprint(), paid.amount, "dead-worker", 0.001)
        await ledger.record_attempt(AttemptRow(ORDER, 1, adapter.name, PaymentMethod.CARD, key))
    finally:
        await ledger.close()


async def test_a_reconcile_that_lost_its_lease_never_writes_failed_over_the_next_payer(
    ledger_url: str,
) -> None:
    provider = SimulatedProvider("card_a")
    settings = RouterSettings(in_progress_wait_seconds=0, lookup_tries=1)
    await _crashed(ledger_url, SimulatedAdapter(provider, resolution=_SEARCHABLE))
    stale_ledger = _PausedFinish(ledger_url)
    stale = Router(
        [SimulatedAdapter(provider, resolution=_SEARCHABLE)], ledger=stale_ledger, hooks=()
    )
    taker_adapter = _Stalling(provider)
    taker = Router([taker_adapter], ledger=ledger_url, hooks=(), settings=settings)
    retrier = Router(
        [SimulatedAdapter(provider, resolution=_SEARCHABLE)],
        ledger=ledger_url,
        hooks=(),
        settings=settings,
    )
    async with stale, taker, retrier:
        reconciling = asyncio.create_task(stale.reconcile())
        await stale_ledger.reached.wait()  # it read attempt 1 as failed (absent): "failed"
        _run_out_leases(ledger_url)  # ...and stalled past its lease
        paying = asyncio.create_task(taker.pay(_request()))
        await taker_adapter.called.wait()  # took it over, found nothing moved, pays on
        stale_ledger.go_on.set()
        await reconciling
        during = await taker.lookup(ORDER)
        assert during is not None
        assert during.status is PaymentStatus.PROCESSING  # still the taker's, in flight
        with pytest.raises(PaymentInProgressError):  # not retaken, so not charged again
            await retrier.pay(_request())
        taker_adapter.go_on.set()
        paid = await paying
        assert paid.status is PaymentStatus.SUCCEEDED
        assert len(provider.charges(ORDER)) == 1


async def _failed_once(url: str) -> None:
    """Attempt 1 found the provider down (nothing moved): the order failed, retakeable."""
    ledger = SqlLedger(url)
    await ledger.open()
    try:
        paid = _request()
        await ledger.claim(ORDER, paid.fingerprint(), paid.amount, "first#1", 60.0)
        down = AttemptOutcome(Outcome.FAILED, FailureKind.PROVIDER_DOWN, "503", None, None, 1, 5.0)
        with held_by("first#1"):
            await ledger.record_attempt(
                AttemptRow(ORDER, 1, "card_a", PaymentMethod.CARD, f"payrouter:{ORDER}:1")
            )
            failed = PaymentUpdate(PaymentStatus.FAILED)
            await ledger.finish_attempt(ORDER, 1, down, payment=failed)
    finally:
        await ledger.close()


class _SlowClaim(SqlLedger):
    """A ledger whose claims come back only when the test lets them, and past the deadline
    (`deadline_seconds` after the claim was asked for): a stuck database."""

    def __init__(self, url: str, deadline_seconds: float) -> None:
        super().__init__(url)
        self.claimed, self.go_on = asyncio.Event(), asyncio.Event()
        self._deadline_seconds = deadline_seconds

    async def claim(self, *args: Any, **kwargs: Any) -> Claim:  # type: ignore[override]
        asked = time.monotonic()
        claim = await super().claim(*args, **kwargs)
        self.claimed.set()
        await self.go_on.wait()
        # Back only once the pay's deadline has passed (a sleep never ends early).
        await asyncio.sleep(max(0.0, asked + self._deadline_seconds - time.monotonic()))
        return claim


async def test_a_claim_back_past_its_lease_never_writes_failed_over_the_taker(
    ledger_url: str,
) -> None:
    """A retry retakes a failed order, but the retake comes back too late to pay (the
    `LedgerUnavailableError` path) and past its lease: a taker already pays the order, so the
    late retake writes nothing over it."""
    provider = SimulatedProvider("card_a")
    # Leases end only when the test runs them out: the 2 s that follows a 1 s deadline could
    # pass on its own on a busy machine, freeing the taker's order to the retrier.
    settings = RouterSettings(
        in_progress_wait_seconds=0, lookup_tries=1, deadline_seconds=1.0, lease_seconds=600.0
    )
    stuck_ledger = _SlowClaim(ledger_url, settings.deadline_seconds)
    stuck = Router(
        [SimulatedAdapter(provider, resolution=_SEARCHABLE)],
        ledger=stuck_ledger,
        hooks=(),
        settings=settings,
    )
    taker_adapter = _Stalling(provider)
    # The taker's call waits on the test, so its deadline must outlast the test's steps.
    patient = settings.model_copy(update={"deadline_seconds": 600.0})
    taker = Router([taker_adapter], ledger=ledger_url, hooks=(), settings=patient)
    retrier = Router(
        [SimulatedAdapter(provider, resolution=_SEARCHABLE)],
        ledger=ledger_url,
        hooks=(),
        settings=settings,
    )
    await _failed_once(ledger_url)
    async with stuck, taker, retrier:
        late = asyncio.create_task(stuck.pay(_request()))
        await stuck_ledger.claimed.wait()  # claimed in the database, the answer not back yet
        _run_out_leases(ledger_url)
        paying = asyncio.create_task(taker.pay(_request()))
        await taker_adapter.called.wait()  # took it over (nothing sent) and pays it
        stuck_ledger.go_on.set()
        with pytest.raises(PaymentInProgressError):
            await late
        during = await taker.lookup(ORDER)
        assert during is not None
        assert during.status is PaymentStatus.PROCESSING
        with pytest.raises(PaymentInProgressError):
            await retrier.pay(_request())
        taker_adapter.go_on.set()
        paid = await paying
        assert paid.status is PaymentStatus.SUCCEEDED
        assert len(provider.charges(ORDER)) == 1
