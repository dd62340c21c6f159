"""A worker whose lease was taken over writes nothing and sends nothing for that payment.

The takeover's worker resolved the open attempt and settled the payment; the stalled worker's
late writes must not add an attempt (a second provider call, so a second charge) nor write
`failed` over a payment the provider took (which would free the order id for another charge).
"""

from __future__ import annotations

import asyncio
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from payrouter import (
    CardSource,
    Money,
    PaymentInProgressError,
    PaymentMethod,
    PaymentRequest,
    PaymentStatus,
    Router,
)
from payrouter._ledger import (
    AttemptOutcome,
    AttemptRow,
    LeaseLostError,
    PaymentUpdate,
    SqlLedger,
    held_by,
)
from payrouter.provider import Charge, Outcome, ProviderReply
from payrouter.testing import SimulatedAdapter, SimulatedProvider

STALLED, TAKER = "worker-a#1", "worker-b#2"


def _row(number: int) -> AttemptRow:
    return AttemptRow(
        "order-1", number, "card_a", PaymentMethod.CARD, f"payrouter:order-1:{number}"
    )


async def _taken_over(url: str) -> SqlLedger:
    """A ledger where STALLED claimed order-1 with a lease already run out, attempt 1 sent,
    and TAKER then took it over and settled it succeeded."""
    ledger = SqlLedger(url)
    await ledger.open()
    await ledger.claim("order-1", "f" * 64, Money.of("10.00", "EUR"), STALLED, 0.0)
    with held_by(STALLED):
        await ledger.record_attempt(_row(1))
    assert await ledger.acquire("order-1", TAKER, 60.0)
    await ledger.finish_payment(
        "order-1", PaymentUpdate(PaymentStatus.SUCCEEDED, provider="card_a")
    )
    return ledger


@pytest.fixture(params=["sqlite", "postgres"])
def ledger_url(tmp_path: Path, request: pytest.FixtureRequest) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/ledger.db"
    return str(request.getfixturevalue("postgres_url"))


async def test_a_stalled_worker_cannot_record_another_attempt(ledger_url: str) -> None:
    ledger = await _taken_over(ledger_url)
    try:
        with held_by(STALLED), pytest.raises(LeaseLostError):
            await ledger.record_attempt(_row(2))
        payment = await ledger.get("order-1")
        assert payment is not None
        assert [a.number for a in payment.attempts] == [1]
    finally:
        await ledger.close()


async def test_a_stalled_workers_failed_never_overwrites_the_settled_payment(
    ledger_url: str,
) -> None:
    ledger = await _taken_over(ledger_url)
    try:
        with held_by(STALLED), pytest.raises(LeaseLostError):
            await ledger.finish_payment("order-1", PaymentUpdate(PaymentStatus.FAILED))
        outcome = AttemptOutcome(Outcome.FAILED, None, "card_declined", None, None, 1, 5.0)
        with held_by(STALLED), pytest.raises(LeaseLostError):
            await ledger.finish_attempt(
                "order-1", 1, outcome, payment=PaymentUpdate(PaymentStatus.FAILED)
            )
        payment = await ledger.get("order-1")
        assert payment is not None
        assert payment.status is PaymentStatus.SUCCEEDED
    finally:
        await ledger.close()


async def test_the_worker_holding_the_lease_writes_as_before(ledger_url: str) -> None:
    ledger = SqlLedger(ledger_url)
    await ledger.open()
    try:
        await ledger.claim("order-1", "f" * 64, Money.of("10.00", "EUR"), STALLED, 60.0)
        outcome = AttemptOutcome(Outcome.SUCCEEDED, None, None, "ch_1", None, 1, 5.0)
        with held_by(STALLED):
            await ledger.record_attempt(_row(1))
            paid = await ledger.finish_attempt(
                "order-1", 1, outcome, payment=PaymentUpdate(PaymentStatus.SUCCEEDED)
            )
        assert paid is not None
        assert paid.status is PaymentStatus.SUCCEEDED
    finally:
        await ledger.close()


class _Stalling(SimulatedAdapter):
    """A provider that takes the charge only once the test lets the call go on."""

    def __init__(self) -> None:
        super().__init__(SimulatedProvider("card_a"))
        self.called, self.go_on = asyncio.Event(), asyncio.Event()

    async def pay(self, charge: Charge, *, idempotency_key: str) -> ProviderReply:
        self.called.set()
        await self.go_on.wait()
        return await super().pay(charge, idempotency_key=idempotency_key)


async def test_a_pay_whose_lease_was_taken_over_mid_call_answers_in_progress(
    tmp_path: Path,
) -> None:
    """The stalled pay's provider took the money; the taker owns the payment now, so the
    stalled pay writes nothing over it and tells its caller to ask again."""
    url = f"sqlite:///{tmp_path}/ledger.db"
    adapter = _Stalling()
    async with Router([adapter], ledger=url, hooks=()) as router:
        paying = asyncio.create_task(
            router.pay(
                PaymentRequest(
                    order_id="order-1",
                    amount=Money.of("10.00", "EUR"),
                    sources=(CardSource(token="pm_card_visa"),),
                    customer_country="DE",
                )
            )
        )
        await adapter.called.wait()
        with closing(sqlite3.connect(tmp_path / "ledger.db")) as db, db:  # the lease runs out
            db.execute("UPDATE payrouter_payments SET lease_until = 0")
        taker = SqlLedger(url)
        await taker.open()
        try:
            assert await taker.acquire("order-1", TAKER, 60.0)
            adapter.go_on.set()
            with pytest.raises(PaymentInProgressError):
                await paying
            payment = await taker.get("order-1")
        finally:
            await taker.close()
        assert payment is not None
        assert payment.status is PaymentStatus.PROCESSING  # the taker's, to resolve
        assert len(adapter.provider.charges()) == 1
