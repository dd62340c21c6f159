"""The claim and attempt 1 go to the ledger together: one transaction, one commit.

A new payment's row and its first attempt's row are written in the same transaction, before
the provider is called; an order id that turns out taken gets no attempt row from the call
that found it taken, and its provider is not called by it.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from pydantic import SecretStr
from sqlalchemy import Connection

from payrouter import (
    CardSource,
    Money,
    PaymentMethod,
    PaymentRequest,
    PaymentStatus,
    Router,
)
from payrouter._ledger import AttemptRow, ClaimKind, PaymentUpdate, SqlLedger
from payrouter.provider import Charge, ProviderReply
from payrouter.testing import SimulatedAdapter, SimulatedProvider

AMOUNT = Money.of("10.00", "EUR")


def _request(order_id: str, amount: Money = AMOUNT) -> PaymentRequest:
    return PaymentRequest(
        order_id=order_id,
        amount=amount,
        sources=[CardSource(token=SecretStr("pm_card_visa"))],
        customer_country="DE",
    )


def _row(order_id: str) -> AttemptRow:
    return AttemptRow(order_id, 1, "card_a", PaymentMethod.CARD, f"payrouter:{order_id}:1")


@pytest.fixture(params=["sqlite", "postgres"])
def ledger_url(tmp_path: Path, request: pytest.FixtureRequest) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/ledger.db"
    return str(request.getfixturevalue("postgres_url"))


async def test_a_new_claim_writes_its_first_attempt_with_it(ledger_url: str) -> None:
    ledger = SqlLedger(ledger_url)
    await ledger.open()
    try:
        claim = await ledger.claim(
            "order-new", "f" * 64, AMOUNT, "worker#1", 60.0, first_attempt=_row("order-new")
        )
        assert claim.kind is ClaimKind.NEW
        assert claim.attempt_recorded
        payment = await ledger.get("order-new")
        assert payment is not None
        assert payment.status is PaymentStatus.PROCESSING
        assert [(a.number, a.provider, a.outcome) for a in payment.attempts] == [
            (1, "card_a", None)
        ]
    finally:
        await ledger.close()


async def test_a_claim_that_finds_the_order_taken_writes_no_attempt(ledger_url: str) -> None:
    """In progress elsewhere, the same order with other money, or failed and retaken: the
    attempt that came with the claim is not written (the retake numbers attempts on)."""
    ledger = SqlLedger(ledger_url)
    await ledger.open()
    try:
        for order_id in ("order-busy", "order-failed"):
            await ledger.claim(order_id, "f" * 64, AMOUNT, "first#1", 60.0)
        await ledger.finish_payment("order-failed", PaymentUpdate(PaymentStatus.FAILED))
        found = {
            (order_id, fingerprint): await ledger.claim(
                order_id, fingerprint, AMOUNT, "second#2", 60.0, first_attempt=_row(order_id)
            )
            for order_id, fingerprint in [
                ("order-busy", "f" * 64),
                ("order-busy", "e" * 64),
                ("order-failed", "f" * 64),
            ]
        }
        assert [claim.kind for claim in found.values()] == [
            ClaimKind.EXISTING,
            ClaimKind.CONFLICT,
            ClaimKind.RETAKEN,
        ]
        assert not any(claim.attempt_recorded for claim in found.values())
        for order_id in ("order-busy", "order-failed"):
            payment = await ledger.get(order_id)
            assert payment is not None
            assert payment.attempts == ()
    finally:
        await ledger.close()


async def test_a_payment_commits_twice_on_sqlite(tmp_path: Path) -> None:
    """Claim and attempt 1 in one transaction, outcome and status in another: two commits,
    and the first holds both rows, committed before the provider is called."""
    provider = SimulatedProvider("card_a")
    ledger = SqlLedger(f"sqlite:///{tmp_path / 'ledger.db'}")
    trail: list[str] = []

    def trace(conn: Connection, on: bool) -> None:
        dbapi = conn.connection.dbapi_connection
        assert isinstance(dbapi, sqlite3.Connection)
        dbapi.set_trace_callback(trail.append if on else None)

    async with Router([_Noting(provider, trail)], ledger=ledger, hooks=()) as router:
        await router.pay(_request("order-warm"))
        await ledger.transact(lambda conn: trace(conn, True))
        trail.clear()
        result = await router.pay(_request("order-1"))
        await ledger.transact(lambda conn: trace(conn, False))
    assert result.status is PaymentStatus.SUCCEEDED
    steps = [_step(sql) for sql in trail if _step(sql)]
    assert steps == [
        "INSERT payrouter_payments",
        "INSERT payrouter_attempts",
        "COMMIT",
        "provider called",
        "UPDATE payrouter_attempts",
        "UPDATE payrouter_payments",
        "COMMIT",
    ]


class _Noting(SimulatedAdapter):
    """Notes in the trail when the provider is called."""

    def __init__(self, provider: SimulatedProvider, trail: list[str]) -> None:
        super().__init__(provider)
        self.trail = trail

    async def pay(self, charge: Charge, *, idempotency_key: str) -> ProviderReply:
        self.trail.append("provider called")
        return await super().pay(charge, idempotency_key=idempotency_key)


def _step(sql: str) -> str:
    """A traced statement as "VERB table", COMMIT, or a note; "" for the rest."""
    words = sql.split()
    if words[:1] == ["INSERT"]:
        return f"INSERT {words[2]}"
    if words[:1] == ["UPDATE"]:
        return f"UPDATE {words[1]}"
    return sql if sql in ("COMMIT", "provider called") else ""
