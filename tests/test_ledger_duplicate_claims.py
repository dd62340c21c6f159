"""A duplicate request for an order in flight is answered with the payment as one commit left it.

The claim finds the order id taken and reads the payment's row, then its attempts. Another
worker finishing the payment between those two statements must not produce an answer that
pairs the payment's old status with its attempt's new outcome: the checkout would be told
"requires action" beside an attempt that succeeded.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from pydantic import SecretStr
from sqlalchemy import text

from payrouter import CardSource, Money, PaymentRequest, PaymentStatus, Router
from payrouter._ledger import ClaimKind, SqlLedger
from payrouter.provider import Outcome
from payrouter.testing import Behavior, SimulatedAdapter, SimulatedProvider
from tests.another_worker import settles_between_the_reads

AMOUNT = Money.of("10.00", "EUR")


@pytest.fixture(params=["sqlite", "postgres"])
def ledger_url(tmp_path: Path, request: pytest.FixtureRequest) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/ledger.db"
    return str(request.getfixturevalue("postgres_url"))


async def test_a_duplicate_claim_answers_with_the_payment_as_one_commit_left_it(
    ledger_url: str,
) -> None:
    card = SimulatedProvider("card")
    card.default = Behavior.requires_action()
    ledger = SqlLedger(ledger_url)
    order_id = f"order-dup-{time.time_ns()}"
    async with Router([SimulatedAdapter(card)], ledger=ledger, hooks=()) as router:
        await router.pay(
            PaymentRequest(
                order_id=order_id,
                amount=AMOUNT,
                sources=[CardSource(token=SecretStr("pm_card_visa"))],
                customer_country="DE",
            )
        )
        fingerprint = await ledger.transact(
            lambda conn: conn.execute(
                text("SELECT fingerprint FROM payrouter_payments WHERE order_id = :o"),
                {"o": order_id},
            ).scalar_one()
        )
        async with settles_between_the_reads(ledger, order_id) as settled:
            claim = await ledger.claim(order_id, fingerprint, AMOUNT, "second#1", 60.0)
        after = await ledger.get(order_id)

    assert settled == [True]
    assert claim.kind is ClaimKind.EXISTING
    assert claim.payment is not None
    assert claim.payment.status is PaymentStatus.REQUIRES_ACTION
    assert [attempt.outcome for attempt in claim.payment.attempts] == [Outcome.REQUIRES_ACTION]
    assert after is not None
    assert after.status is PaymentStatus.SUCCEEDED  # the other worker's commit did land
