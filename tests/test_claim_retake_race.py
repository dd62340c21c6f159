"""A claim that loses the retake of a failed payment answers with the payment as it is now.

On PostgreSQL the claim's statements commit one by one: it reads the row (`failed`), and
before its retake lands another worker retakes the order and sends attempt 2. The claim must
not answer with the `failed` it read: that told a customer "failed" while attempt 2 was
charging (seen in the chaos suite). SQLite runs the claim's statements in one transaction on
the ledger's thread, so only PostgreSQL can interleave there.
"""

from __future__ import annotations

import time
from typing import Any

import pytest
from pydantic import SecretStr
from sqlalchemy import create_engine, event, text

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
from payrouter._ledger import AttemptOutcome, AttemptRow, PaymentUpdate, SqlLedger, held_by
from payrouter.provider import FailureKind, Outcome
from payrouter.testing import SimulatedAdapter, SimulatedProvider

ORDER = "order-retaken-twice"
_RETAKEN_BY_OTHER = """
    UPDATE payrouter_payments SET status = 'processing', owner = 'other-worker#2',
        lease_until = :until
    WHERE order_id = :order_id AND status = 'failed'
"""
_OTHERS_ATTEMPT = """
    INSERT INTO payrouter_attempts (order_id, number, provider, method, idempotency_key,
        tries, started_at)
    VALUES (:order_id, 2, 'card_a', 'card', 'payrouter:order-retaken-twice:2', 0, :now)
"""


def _request() -> PaymentRequest:
    return PaymentRequest(
        order_id=ORDER,
        amount=Money.of("10.00", "EUR"),
        sources=[CardSource(token=SecretStr("pm_card_visa"))],
        customer_country="DE",
    )


async def _failed_once(ledger: SqlLedger) -> None:
    """Attempt 1 found the provider down (nothing moved): the payment failed, retakeable."""
    request = _request()
    await ledger.claim(ORDER, request.fingerprint(), request.amount, "first-worker#1", 60.0)
    down = AttemptOutcome(Outcome.FAILED, FailureKind.PROVIDER_DOWN, "503", None, None, 1, 5.0)
    with held_by("first-worker#1"):
        await ledger.record_attempt(
            AttemptRow(ORDER, 1, "card_a", PaymentMethod.CARD, "payrouter:order-retaken-twice:1")
        )
        await ledger.finish_attempt(ORDER, 1, down, payment=PaymentUpdate(PaymentStatus.FAILED))


async def test_a_claim_that_lost_the_retake_never_answers_failed(postgres_url: str) -> None:
    provider = SimulatedProvider("card_a")
    ledger = SqlLedger(postgres_url)
    settings = RouterSettings(in_progress_wait_seconds=0, lookup_tries=1)
    other = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    raced: list[str] = []

    def other_worker_retakes_first(
        conn: object, cursor: object, statement: str, *args: Any
    ) -> None:
        """Just before this claim's retake runs, another worker's retake and attempt land."""
        if raced or not statement.lstrip().startswith("UPDATE payrouter_payments"):
            return
        if "fingerprint" not in statement:
            return
        raced.append(statement)
        with other.connect() as db:
            db.execute(text(_RETAKEN_BY_OTHER), {"until": time.time() + 60, "order_id": ORDER})
            db.execute(text(_OTHERS_ATTEMPT), {"order_id": ORDER, "now": time.time()})

    try:
        async with Router(
            [SimulatedAdapter(provider)], ledger=ledger, hooks=(), settings=settings
        ) as router:
            await _failed_once(ledger)
            event.listen(
                ledger._require_engine(), "before_cursor_execute", other_worker_retakes_first
            )
            with pytest.raises(PaymentInProgressError):  # the other worker's, in flight
                await router.pay(_request())
            assert raced, "the claim never tried to retake the failed payment"
            payment = await router.lookup(ORDER)
            assert payment is not None
            assert payment.status is PaymentStatus.PROCESSING
            assert provider.charges(ORDER) == []  # this caller sent nothing
    finally:
        other.dispose()
