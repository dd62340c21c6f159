"""Applying a verified notification to the ledger, replay-safe, in one transaction.

The event's id is inserted first; a conflict means we saw it before, and nothing else
happens. Then its effect is a conditional UPDATE guarded by the transitions table, so an
out-of-order event (a failure after a success) matches no row and changes nothing. Both
happen in the same transaction: a crash cannot apply an event without remembering it, or
remember it without applying it.
"""

from __future__ import annotations

import enum
import time
from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy import Connection, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from .._followups import FollowUpStatus
from .._ledger._schema import attempts, followups, payments, webhook_events
from .._models import PaymentStatus
from ._errors import NotificationDeferredError
from ._event import Effect, WebhookEvent
from ._transitions import LEGAL

__all__ = ["Receipt", "WebhookResult", "apply_event"]


class WebhookResult(enum.StrEnum):
    """What a notification did; every one of them is answered 2xx to the provider."""

    APPLIED = "applied"
    REPLAYED = "replayed"
    """Seen before (same provider and event id): nothing changed."""
    OUT_OF_ORDER = "out_of_order"
    """Would move the payment or follow-up backwards or sideways: ignored."""
    NO_MATCH = "no_match"
    """No payment or follow-up of ours has that reference (made elsewhere): recorded only."""
    DISPUTE = "dispute"
    """A chargeback or dispute: recorded against the payment for a person to answer."""
    UNKNOWN_TYPE = "unknown_type"


@dataclass(frozen=True, slots=True)
class Receipt:
    event_id: str
    result: WebhookResult
    order_id: str | None = None
    followup_id: str | None = None


_FROM: Final = {
    target: [source.value for source, targets in LEGAL.items() if target in targets]
    for target in PaymentStatus
}


def apply_event(conn: Connection, event: WebhookEvent) -> Receipt:
    """Remember `event` and apply what it says, unless it was seen before."""
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    remembered = conn.execute(
        dialect.insert(webhook_events)
        .values(
            provider=event.provider,
            event_id=event.event_id[:255],
            type=event.type[:100],
            provider_reference=event.provider_reference,
            amount_minor=event.amount_minor,
            currency=event.currency,
            result=WebhookResult.UNKNOWN_TYPE.value,
            occurred_at=event.occurred_at.timestamp(),
            received_at=time.time(),
        )
        .on_conflict_do_nothing(index_elements=["provider", "event_id"])
        .returning(webhook_events.c.event_id)
    ).first()
    if remembered is None:
        return Receipt(event.event_id, WebhookResult.REPLAYED)
    receipt = _effect(conn, event)
    conn.execute(
        update(webhook_events)
        .where(
            webhook_events.c.provider == event.provider,
            webhook_events.c.event_id == event.event_id[:255],
        )
        .values(
            result=receipt.result.value, order_id=receipt.order_id, followup_id=receipt.followup_id
        )
    )
    return receipt


def _effect(conn: Connection, event: WebhookEvent) -> Receipt:
    match event.effect:
        case Effect.PAYMENT:
            return _move_payment(conn, event)
        case Effect.FOLLOW_UP:
            return _finish_follow_up(conn, event)
        case Effect.DISPUTE:
            order_id = _order_of(conn, event)
            result = WebhookResult.DISPUTE if order_id else WebhookResult.NO_MATCH
            return Receipt(event.event_id, result, order_id)
        case _:
            return Receipt(event.event_id, WebhookResult.UNKNOWN_TYPE, _order_of(conn, event))


def _move_payment(conn: Connection, event: WebhookEvent) -> Receipt:
    assert event.status is not None
    order_id = _order_of(conn, event)
    if order_id is None:
        return Receipt(event.event_id, WebhookResult.NO_MATCH)
    now = time.time()
    held = conn.execute(
        select(payments.c.status, payments.c.lease_until).where(payments.c.order_id == order_id)
    ).one()
    if held.status == PaymentStatus.PROCESSING.value and (held.lease_until or 0.0) > now:
        # Raised inside the transaction, so the event's id is not remembered either.
        raise NotificationDeferredError(f"payment {order_id!r} is being paid right now")
    values: dict[str, object] = {"status": event.status.value, "updated_at": now}
    if event.status is PaymentStatus.DECLINED:
        values["decline_reason"] = "declined by the provider"
    if event.status.is_final:
        values |= {"owner": None, "lease_until": None}
    moved = conn.execute(
        update(payments)
        .where(payments.c.order_id == order_id, payments.c.status.in_(_FROM[event.status]))
        .values(values)
        .returning(payments.c.order_id)
    ).first()
    result = WebhookResult.APPLIED if moved else WebhookResult.OUT_OF_ORDER
    return Receipt(event.event_id, result, order_id)


def _finish_follow_up(conn: Connection, event: WebhookEvent) -> Receipt:
    assert event.followup_status is not None
    found = conn.execute(
        select(followups.c.followup_id, followups.c.order_id, followups.c.status).where(
            followups.c.provider == event.provider,
            _names(followups.c.provider_reference, event.provider_reference or ""),
        )
    ).first()
    if found is None:
        return Receipt(event.event_id, WebhookResult.NO_MATCH, _order_of(conn, event))
    now = time.time()
    refused = event.followup_status is FollowUpStatus.REFUSED
    finished = conn.execute(
        update(followups)
        .where(
            followups.c.followup_id == found.followup_id,
            followups.c.status == FollowUpStatus.PENDING.value,  # only what awaits its answer
        )
        .values(
            status=event.followup_status.value,
            message=f"{event.provider} reported {event.type} unsuccessful" if refused else None,
            updated_at=now,
            finished_at=now,
        )
        .returning(followups.c.followup_id)
    ).first()
    result = WebhookResult.APPLIED if finished else WebhookResult.OUT_OF_ORDER
    return Receipt(event.event_id, result, found.order_id, found.followup_id)


def _order_of(conn: Connection, event: WebhookEvent) -> str | None:
    """Our order for the event: by the provider's reference, else by our attempt reference."""
    if event.provider_reference:
        order_id = conn.execute(
            select(payments.c.order_id).where(
                payments.c.provider == event.provider,
                _names(payments.c.provider_reference, event.provider_reference),
            )
        ).scalar()
        if order_id is not None:
            return str(order_id)
    conditions = []
    if event.provider_reference:
        conditions.append(_names(attempts.c.provider_reference, event.provider_reference))
    if event.our_reference:
        conditions.append(attempts.c.idempotency_key == event.our_reference)
    if not conditions:
        return None
    found = conn.execute(
        select(attempts.c.order_id)
        .where(attempts.c.provider == event.provider, or_(*conditions))
        .limit(1)
    ).scalar()
    return None if found is None else str(found)


def _names(column: Any, reference: str) -> Any:
    """The column holds `reference`, alone or after context (PayPal's `ORDER:capture:ID`)."""
    return or_(column == reference, column.endswith(f":{reference}", autoescape=True))
