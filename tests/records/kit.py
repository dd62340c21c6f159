"""Planting differences between a ledger and a provider's records, the way they happen.

Each kind is made on the side where it happens in life: a ledger restored from the wrong
backup or edited by hand (amount, currency, status, captured, refunded, a row lost or
invented), or a provider that bills a payment a fee other than its price list.
"""

from __future__ import annotations

import time
from pathlib import Path

import httpx
from sqlalchemy import create_engine, text

from payrouter import PaymentResult

__all__ = ["edit", "plant_fee", "plant_payment", "plant_refund"]


def edit(database: Path, statement: str, **values: object) -> None:
    """Change a ledger row behind the router's back, as a bad restore or manual fix would."""
    engine = create_engine(f"sqlite:///{database}")
    with engine.begin() as conn:
        assert conn.execute(text(statement), values).rowcount >= 1
    engine.dispose()


def plant_payment(
    database: Path, order_id: str, provider: str, reference: str, at: float | None = None
) -> None:
    """A succeeded payment the ledger holds but the provider never took (made at `at`)."""
    now = time.time() if at is None else at
    edit(
        database,
        "INSERT INTO payrouter_payments (order_id, fingerprint, status, amount_minor, currency,"
        " provider, method, provider_reference, created_at, updated_at) VALUES (:o, 'f',"
        " 'succeeded', 500, 'EUR', :p, 'card', :r, :now, :now)",
        o=order_id,
        p=provider,
        r=reference,
        now=now,
    )
    edit(
        database,
        "INSERT INTO payrouter_attempts (order_id, number, provider, method, idempotency_key,"
        " outcome, provider_reference, tries, started_at, finished_at) VALUES (:o, 1, :p,"
        " 'card', :k, 'succeeded', :r, 1, :now, :now)",
        o=order_id,
        p=provider,
        k=f"key-{order_id}",
        r=reference,
        now=now,
    )


def plant_refund(database: Path, payment: PaymentResult, minor_units: int) -> None:
    """A refund the ledger says succeeded and the provider never made."""
    now = time.time()
    edit(
        database,
        "INSERT INTO payrouter_followups (followup_id, kind, provider, order_id, method,"
        " amount_minor, currency, idempotency_key, status, tries, created_at, updated_at)"
        " VALUES (:f, 'refund', :p, :o, 'card', :m, 'EUR', :k, 'succeeded', 1, :now, :now)",
        f=f"{payment.order_id}:refund:planted",
        p=payment.provider,
        o=payment.order_id,
        m=minor_units,
        k=f"planted-{payment.order_id}",
        now=now,
    )


async def plant_fee(admin_url: str, provider: str, provider_reference: str, fee: int) -> None:
    """The provider's records bill this payment `fee` instead of its list price."""
    async with httpx.AsyncClient(base_url=admin_url) as admin:
        response = await admin.post(
            f"/_admin/{provider}/fees",
            json={"provider_reference": provider_reference, "fee_minor": fee},
        )
    assert response.status_code == 201, response.text
