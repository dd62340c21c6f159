"""Applying a verified notification to the ledger, replay-safe, in one transaction.

`apply_webhook_event` is the named operation the webhook receiver calls; the statements live
here, beside the tables, so no connection leaves the ledger.

The event's id is inserted first; a conflict means we saw it before, and nothing else
happens. Then its effect is a conditional UPDATE guarded by the transitions table, so an
out-of-order event (a failure after a success) matches no row and changes nothing. Both
happen in the same transaction: a crash cannot apply an event without remembering it, or
remember it without applying it.

A payment event is applied only when the amount and currency the provider reports are the
payment's own. A mismatch never moves the payment: it is remembered with the reported figures
(the payment row holds ours) as `amount_mismatch`. An authorisation for less than asked, in
the same currency, makes the payment `partially_authorised`, never `succeeded`. A refund's or
capture's notification is held to the follow-up's own figures the same way: a mismatch never
finishes the follow-up, and becomes the same open discrepancy.

Event ids are kept for good (nothing deletes them), so a provider's redelivery is recognised
however late it comes: Adyen retries for 30 days, Stripe for 3 days (and resends from its
dashboard for 30), PayPal for 3 days.
"""

from __future__ import annotations

import time
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Final

from sqlalchemy import Connection, and_, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from .._followups import FollowUpStatus
from .._models import PaymentStatus
from .._money import Money
from .._taxonomy import Outcome, policy_for
from ..webhooks._errors import NotificationDeferredError
from ..webhooks._event import Effect, WebhookEvent
from ..webhooks._receipt import Receipt, WebhookResult
from ..webhooks._transitions import LEGAL
from ._amount_discrepancy import record_discrepancy
from ._schema import attempts, followups, payments, webhook_events

if TYPE_CHECKING:
    from ._records import Ledger

__all__ = ["apply_event", "apply_webhook_event"]


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
            event_id=event.event_id,
            type=event.type,
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
    if receipt.expected is not None and receipt.order_id is not None:
        record_discrepancy(conn, event, receipt)
    conn.execute(
        update(webhook_events)
        .where(
            webhook_events.c.provider == event.provider,
            webhook_events.c.event_id == event.event_id,
        )
        .values(
            result=receipt.result.value, order_id=receipt.order_id, followup_id=receipt.followup_id
        )
    )
    return receipt


def _effect(conn: Connection, event: WebhookEvent) -> Receipt:
    match event.effect:
        case Effect.PAYMENT if _names_a_follow_up(conn, event):
            # PayPal reports a later capture with the event a payment's own capture sends
            # (PAYMENT.CAPTURE.COMPLETED): naming a follow-up's reference, it is about that.
            assert event.status is not None
            status = _FOLLOW_UP_BY_STATUS.get(event.status)
            if status is None:
                return Receipt(event.event_id, WebhookResult.OUT_OF_ORDER, _order_of(conn, event))
            return _finish_follow_up(conn, replace(event, followup_status=status))
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
        select(
            payments.c.status,
            payments.c.lease_until,
            payments.c.amount_minor,
            payments.c.currency,
            payments.c.provider_reference,
        ).where(payments.c.order_id == order_id)
    ).one()
    if held.status not in _FROM[event.status]:
        # Nothing to move (a late event, or a capture's notification for a payment already
        # settled): its amount is a follow-up's business, not a payment discrepancy.
        return Receipt(event.event_id, WebhookResult.OUT_OF_ORDER, order_id)
    expected = Money(minor_units=held.amount_minor, currency=held.currency)
    target = judge_amount(event, event.status, expected)
    if target is None:  # never applied, so no live worker's outcome can be overwritten
        return Receipt(event.event_id, WebhookResult.AMOUNT_MISMATCH, order_id, None, expected)
    if target is PaymentStatus.DECLINED and _open_elsewhere(conn, order_id, event):
        # A decline of an attempt the payment moved on from (failed over after it): another
        # attempt may have moved money, so the payment is not declined by this one.
        return Receipt(event.event_id, WebhookResult.OUT_OF_ORDER, order_id)
    if held.status == PaymentStatus.PROCESSING.value and (held.lease_until or 0.0) > now:
        # Raised inside the transaction, so the event's id is not remembered either.
        raise NotificationDeferredError(f"payment {order_id!r} is being paid right now")
    values: dict[str, object] = {"status": target.value, "updated_at": now}
    if target is PaymentStatus.DECLINED and event.failure_kind is not None:
        values["failure_kind"] = event.failure_kind.value
        values["decline_reason"] = policy_for(event.failure_kind).customer_message
    elif target is PaymentStatus.DECLINED:
        values["decline_reason"] = "declined by the provider"
    # Any move ends the payment's lease (never a live paying worker's: deferred above). Its
    # holder, a reconcile pass or a return page asking the provider, would otherwise write the
    # status it derived from the attempts over this one (`requires_action` over `pending`, a
    # move backwards); its fenced write now fails, and it reads what is here.
    values |= {"owner": None, "lease_until": None}
    if target is not PaymentStatus.DECLINED and held.provider_reference is None:
        # Found by our attempt's reference (its answer was lost): the provider's own id is
        # what its follow-ups need (a Stripe refund names the intent).
        values |= {"provider": event.provider, "provider_reference": event.provider_reference}
    moved = conn.execute(
        update(payments)
        .where(payments.c.order_id == order_id, payments.c.status.in_(_FROM[target]))
        .values(values)
        .returning(payments.c.order_id)
    ).first()
    if not moved:
        return Receipt(event.event_id, WebhookResult.OUT_OF_ORDER, order_id)
    if target is PaymentStatus.PARTIALLY_AUTHORISED:
        return Receipt(event.event_id, WebhookResult.PARTIALLY_AUTHORISED, order_id, None, expected)
    return Receipt(event.event_id, WebhookResult.APPLIED, order_id)


def judge_amount(
    event: WebhookEvent, target: PaymentStatus, expected: Money
) -> PaymentStatus | None:
    """The status `event` may move the payment to given its reported figures, None if they
    do not match `expected`.

    A success must report the payment's amount and currency exactly; one that reports none
    cannot prove what was paid. An authorisation (`event.authorisation`) for less, in the
    same currency, is a partial authorisation. Other statuses only need to agree when the
    provider reports figures at all.
    """
    if target is not PaymentStatus.SUCCEEDED:
        return target if agrees(event, expected, must_report=False) else None
    if event.currency != expected.currency or event.amount_minor is None:
        return None
    if event.amount_minor == expected.minor_units:
        return target
    if event.authorisation and 0 < event.amount_minor < expected.minor_units:
        return PaymentStatus.PARTIALLY_AUTHORISED
    return None


def agrees(event: WebhookEvent, expected: Money, *, must_report: bool) -> bool:
    """True when `event` reports `expected`'s amount and currency, or (unless it
    `must_report` them, as a success must) reports no figures at all."""
    reported = (event.amount_minor, event.currency)
    if None in reported:
        return not must_report
    return reported == (expected.minor_units, expected.currency)


_CONFIRMABLE: Final = (FollowUpStatus.PENDING.value,)
_REFUSABLE: Final = (FollowUpStatus.PENDING.value, FollowUpStatus.SUCCEEDED.value)
_REVERSED: Final = (
    "{provider} reported {type} after confirming this {kind}: it did not hold, and the money "
    "went back to the merchant's account (a refund to a closed card, an acquirer's or "
    "scheme's rejection); pay the customer back another way, or send it again"
)
"""A confirmed refund or capture that its provider reports failed afterwards: Stripe moves a
refund from `succeeded` to `failed` when the card can no longer take it; Adyen sends
REFUND_FAILED, REFUNDED_REVERSED or CAPTURE_FAILED after the REFUND or CAPTURE that confirmed
it. The follow-up becomes `refused`, saying so."""

_FOLLOW_UP_BY_STATUS: Final = {
    PaymentStatus.SUCCEEDED: FollowUpStatus.SUCCEEDED,
    PaymentStatus.DECLINED: FollowUpStatus.REFUSED,
}


def _names_a_follow_up(conn: Connection, event: WebhookEvent) -> bool:
    """The event's reference is a follow-up's own, not also its payment's (Stripe's capture
    answers with the intent's id: its `payment_intent.succeeded` stays the payment's)."""
    reference = event.provider_reference
    if not reference:
        return False
    payment = conn.execute(
        select(payments.c.order_id).where(
            payments.c.provider == event.provider, _names(payments.c.provider_reference, reference)
        )
    ).first()
    if payment is not None:
        return False
    found = conn.execute(
        select(followups.c.followup_id)
        .where(
            followups.c.provider == event.provider,
            _names(followups.c.provider_reference, reference),
        )
        .limit(1)
    ).first()
    return found is not None


def _finish_follow_up(conn: Connection, event: WebhookEvent) -> Receipt:
    assert event.followup_status is not None
    found = conn.execute(
        select(
            followups.c.followup_id,
            followups.c.order_id,
            followups.c.amount_minor,
            followups.c.currency,
            followups.c.kind,
            followups.c.status,
        ).where(
            followups.c.provider == event.provider,
            _names(followups.c.provider_reference, event.provider_reference or ""),
        )
    ).first()
    if found is None:
        return Receipt(event.event_id, WebhookResult.NO_MATCH, _order_of(conn, event))
    if found.amount_minor is not None:  # a capture or refund (a void names no amount)
        expected = Money(minor_units=found.amount_minor, currency=found.currency)
        confirms = event.followup_status is FollowUpStatus.SUCCEEDED
        # Checked whatever the follow-up's status: a refund's amount never changes, so a
        # late notification naming other figures is a difference all the same.
        if not agrees(event, expected, must_report=confirms):
            return Receipt(
                event.event_id,
                WebhookResult.AMOUNT_MISMATCH,
                found.order_id,
                found.followup_id,
                expected,
            )
    now = time.time()
    refused = event.followup_status is FollowUpStatus.REFUSED
    reverses = refused and found.status == FollowUpStatus.SUCCEEDED.value
    message: str | None = None
    if reverses:
        message = _REVERSED.format(provider=event.provider, type=event.type, kind=found.kind)
    elif refused:
        message = f"{event.provider} reported {event.type} unsuccessful"
    finished = conn.execute(
        update(followups)
        .where(
            followups.c.followup_id == found.followup_id,
            # What awaits its answer; and a confirmed one that a failure reported later undoes
            # (`_REVERSED`). A confirmation never follows a failure, so nothing moves back.
            followups.c.status.in_(_REFUSABLE if refused else _CONFIRMABLE),
        )
        .values(
            status=event.followup_status.value,
            message=message,
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


_MAY_HAVE_MOVED: Final = tuple(
    outcome.value for outcome in Outcome if outcome is not Outcome.FAILED
)


def _open_elsewhere(conn: Connection, order_id: str, event: WebhookEvent) -> bool:
    """True when an attempt of `order_id` other than the event's may have moved money (its
    outcome unknown, open, or a success)."""
    mine = [attempts.c.idempotency_key == event.our_reference] if event.our_reference else []
    if event.provider_reference:  # NULL-safe: an attempt without a reference is not this one
        named = _names(attempts.c.provider_reference, event.provider_reference)
        mine.append(and_(attempts.c.provider_reference.is_not(None), named))
    others = select(attempts.c.number).where(
        attempts.c.order_id == order_id,
        or_(attempts.c.outcome.is_(None), attempts.c.outcome.in_(_MAY_HAVE_MOVED)),
        ~and_(attempts.c.provider == event.provider, or_(*mine)),
    )
    return conn.execute(others.limit(1)).first() is not None


def _names(column: Any, reference: str) -> Any:
    """The column holds `reference`, alone or after context (PayPal's `ORDER:capture:ID`)."""
    return or_(column == reference, column.endswith(f":{reference}", autoescape=True))


async def apply_webhook_event(ledger: Ledger, event: WebhookEvent) -> Receipt:
    """Remember `event` and apply what it says, in one ledger transaction."""
    return await ledger.transact(lambda conn: apply_event(conn, event))
