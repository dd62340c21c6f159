"""The router's side of a notification: apply it in one transaction and say what it did.

`Router.apply_webhook` calls `apply`, so the receiver needs nothing from the router but that
one method: the transaction, the events raised and the discrepancy read-back live here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import select

from .._ledger._schema import payments, webhook_events
from .._money import Money
from ..instrumentation._events import AmountMismatch, Hook, WebhookReceived, emit
from ._event import WebhookEvent
from ._store import DISCREPANCIES, Receipt, apply_event

if TYPE_CHECKING:
    from .._ledger import Ledger

__all__ = ["AmountDiscrepancy", "apply", "discrepancies"]


@dataclass(frozen=True, slots=True)
class AmountDiscrepancy:
    """A notification whose amount or currency differed from its payment's, as remembered:
    `expected` is the payment's, `reported_*` the provider's. `result` is amount_mismatch
    (the payment was not moved) or partially_authorised (it was, to that status)."""

    provider: str
    event_id: str
    type: str
    order_id: str
    result: str
    expected: Money
    reported_minor: int | None
    reported_currency: str | None
    received_at: float


async def apply(ledger: Ledger, hooks: Sequence[Hook], event: WebhookEvent) -> Receipt:
    """Apply `event` in one ledger transaction; emit what it did (and any discrepancy)."""
    receipt = await ledger.transact(lambda conn: apply_event(conn, event))
    emit(
        hooks,
        WebhookReceived(
            event.provider, event.event_id, event.type, receipt.result.value, receipt.order_id
        ),
    )
    if receipt.expected is not None and receipt.order_id is not None:
        emit(
            hooks,
            AmountMismatch(
                order_id=receipt.order_id,
                provider=event.provider,
                source="webhook",
                reference=event.event_id,
                result=receipt.result.value,
                expected_minor=receipt.expected.minor_units,
                expected_currency=receipt.expected.currency,
                reported_minor=event.amount_minor,
                reported_currency=event.currency,
            ),
        )
    return receipt


async def discrepancies(ledger: Ledger, limit: int) -> list[AmountDiscrepancy]:
    """The most recent `limit` remembered discrepancies, newest first."""
    query = (
        select(
            webhook_events.c.provider,
            webhook_events.c.event_id,
            webhook_events.c.type,
            webhook_events.c.order_id,
            webhook_events.c.result,
            webhook_events.c.amount_minor,
            webhook_events.c.currency,
            webhook_events.c.received_at,
            payments.c.amount_minor.label("expected_minor"),
            payments.c.currency.label("expected_currency"),
        )
        .join(payments, payments.c.order_id == webhook_events.c.order_id)
        .where(webhook_events.c.result.in_([result.value for result in DISCREPANCIES]))
        .order_by(webhook_events.c.received_at.desc())
        .limit(limit)
    )
    rows = await ledger.transact(lambda conn: conn.execute(query).all())
    return [
        AmountDiscrepancy(
            provider=row.provider,
            event_id=row.event_id,
            type=row.type,
            order_id=row.order_id,
            result=row.result,
            expected=Money(minor_units=row.expected_minor, currency=row.expected_currency),
            reported_minor=row.amount_minor,
            reported_currency=row.currency,
            received_at=row.received_at,
        )
        for row in rows
    ]
