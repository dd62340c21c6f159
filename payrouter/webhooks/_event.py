"""One normalized shape for every provider's notification, mapped through tables.

What a notification does is decided by the tables below, per provider and event type (and
Adyen's `success`): move a payment's status, confirm or refuse a follow-up the provider had
accepted, record a dispute, or nothing (types we do not know are acknowledged and ignored).
"""

from __future__ import annotations

import enum
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from .._followups import FollowUpStatus
from .._models import PaymentStatus
from ._errors import MalformedNotificationError

__all__ = ["Effect", "WebhookEvent", "parse_adyen", "parse_paypal", "parse_stripe"]


class Effect(enum.Enum):
    """What a notification does to the ledger."""

    PAYMENT = "payment"
    """Moves a payment's status (only forward: the transitions table decides)."""
    FOLLOW_UP = "follow_up"
    """Confirms or refuses a capture, refund or void the provider had accepted."""
    DISPUTE = "dispute"
    """A chargeback or dispute opened: recorded against the payment."""
    NONE = "none"
    """A type we do not act on: acknowledged, recorded, ignored."""


@dataclass(frozen=True, slots=True)
class WebhookEvent:
    """What a notification says, whichever provider sent it.

    `status` is the payment status a PAYMENT event moves to; `followup_status` what a
    FOLLOW_UP event makes of the follow-up whose provider reference is `provider_reference`.
    """

    provider: str
    event_id: str
    type: str
    provider_reference: str | None
    our_reference: str | None
    amount_minor: int | None
    currency: str | None
    occurred_at: datetime
    status: PaymentStatus | None
    effect: Effect = Effect.NONE
    followup_status: FollowUpStatus | None = None


_STRIPE_STATUS: Final[Mapping[str, PaymentStatus]] = {
    "payment_intent.succeeded": PaymentStatus.SUCCEEDED,
    "payment_intent.payment_failed": PaymentStatus.DECLINED,
    "payment_intent.processing": PaymentStatus.PROCESSING,
    "payment_intent.requires_action": PaymentStatus.REQUIRES_ACTION,
}
_STRIPE_REFUND_EVENTS: Final = frozenset(
    {"refund.created", "refund.updated", "charge.refund.updated", "refund.failed"}
)
_STRIPE_REFUND_STATUS: Final[Mapping[str, FollowUpStatus]] = {
    "succeeded": FollowUpStatus.SUCCEEDED,
    "failed": FollowUpStatus.REFUSED,
    "canceled": FollowUpStatus.REFUSED,
}
_STRIPE_DISPUTES: Final = frozenset({"charge.dispute.created", "charge.dispute.funds_withdrawn"})


def parse_stripe(body: bytes) -> WebhookEvent:
    """Read a Stripe Event; raise MalformedNotificationError naming what is missing."""
    try:
        event = json.loads(body)
        obj = event["data"]["object"]
        event_id, kind, created = str(event["id"]), str(event["type"]), int(event["created"])
    except (ValueError, KeyError, TypeError) as exc:
        raise MalformedNotificationError(f"Stripe event lacks id/type/created/data: {exc}") from exc
    if not isinstance(obj, dict):
        raise MalformedNotificationError("Stripe event's data.object is not an object")
    metadata = obj.get("metadata") or {}
    amount = obj.get("amount")
    reference = obj.get("id")
    status = _STRIPE_STATUS.get(kind)
    effect, followup_status = (Effect.PAYMENT, None) if status else (Effect.NONE, None)
    if kind in _STRIPE_REFUND_EVENTS:
        followup_status = _STRIPE_REFUND_STATUS.get(str(obj.get("status")))
        effect = Effect.FOLLOW_UP if followup_status else Effect.NONE
    elif kind in _STRIPE_DISPUTES:
        effect, reference = Effect.DISPUTE, obj.get("payment_intent") or obj.get("charge")
    return WebhookEvent(
        provider="stripe",
        event_id=event_id,
        type=kind,
        provider_reference=str(reference) if reference else None,
        our_reference=metadata.get("payrouter_reference"),  # set by the Stripe adapter
        amount_minor=amount if isinstance(amount, int) else None,
        currency=str(obj["currency"]).upper() if obj.get("currency") else None,
        occurred_at=datetime.fromtimestamp(created, UTC),
        status=status,
        effect=effect,
        followup_status=followup_status,
    )


# (eventCode, success) -> what it does; a code missing here is acknowledged and ignored.
_ADYEN: Final[Mapping[tuple[str, bool], tuple[Effect, PaymentStatus | FollowUpStatus | None]]] = {
    ("AUTHORISATION", True): (Effect.PAYMENT, PaymentStatus.SUCCEEDED),
    ("AUTHORISATION", False): (Effect.PAYMENT, PaymentStatus.DECLINED),
    ("CAPTURE", True): (Effect.FOLLOW_UP, FollowUpStatus.SUCCEEDED),
    ("CAPTURE", False): (Effect.FOLLOW_UP, FollowUpStatus.REFUSED),
    ("CAPTURE_FAILED", True): (Effect.FOLLOW_UP, FollowUpStatus.REFUSED),
    ("REFUND", True): (Effect.FOLLOW_UP, FollowUpStatus.SUCCEEDED),
    ("REFUND", False): (Effect.FOLLOW_UP, FollowUpStatus.REFUSED),
    ("REFUND_FAILED", True): (Effect.FOLLOW_UP, FollowUpStatus.REFUSED),
    ("CANCELLATION", True): (Effect.FOLLOW_UP, FollowUpStatus.SUCCEEDED),
    ("CANCELLATION", False): (Effect.FOLLOW_UP, FollowUpStatus.REFUSED),
    ("CANCEL_OR_REFUND", True): (Effect.FOLLOW_UP, FollowUpStatus.SUCCEEDED),
    ("CANCEL_OR_REFUND", False): (Effect.FOLLOW_UP, FollowUpStatus.REFUSED),
    ("CHARGEBACK", True): (Effect.DISPUTE, None),
    ("NOTIFICATION_OF_CHARGEBACK", True): (Effect.DISPUTE, None),
}


def parse_adyen(body: bytes) -> list[tuple[Mapping[str, Any], WebhookEvent]]:
    """Read an Adyen NotificationRequest: each item (to verify) with its normalized event.

    Adyen sends no event id; its own guidance identifies a notification by event code,
    pspReference and success, which is what `event_id` is made of.
    """
    try:
        request = json.loads(body)
        items = [entry["NotificationRequestItem"] for entry in request["notificationItems"]]
    except (ValueError, KeyError, TypeError) as exc:
        raise MalformedNotificationError(f"Adyen body lacks notificationItems: {exc}") from exc
    parsed: list[tuple[Mapping[str, Any], WebhookEvent]] = []
    for item in items:
        try:
            code, psp = str(item["eventCode"]), str(item["pspReference"])
            success = str(item["success"]).lower() == "true"
            occurred = datetime.fromisoformat(str(item["eventDate"]))
        except (KeyError, TypeError, ValueError) as exc:
            raise MalformedNotificationError(
                f"Adyen item lacks eventCode/pspReference/success/eventDate: {exc}"
            ) from exc
        amount = item.get("amount") or {}
        effect, target = _ADYEN.get((code, success), (Effect.NONE, None))
        original = item.get("originalReference")
        moves_payment = effect is Effect.PAYMENT
        event = WebhookEvent(
            provider="adyen",
            event_id=f"{code}:{psp}:{str(success).lower()}",
            type=code,
            # A dispute names the payment in originalReference; everything else by its own psp.
            provider_reference=str(original) if effect is Effect.DISPUTE and original else psp,
            our_reference=item.get("merchantReference"),
            amount_minor=amount.get("value") if isinstance(amount.get("value"), int) else None,
            currency=amount.get("currency"),
            occurred_at=occurred if occurred.tzinfo else occurred.replace(tzinfo=UTC),
            status=target if moves_payment and isinstance(target, PaymentStatus) else None,
            effect=effect,
            followup_status=target if isinstance(target, FollowUpStatus) else None,
        )
        parsed.append((item, event))
    return parsed


# event_type -> what it does; the resource is a capture, a refund or a dispute.
_PAYPAL: Final[Mapping[str, tuple[Effect, PaymentStatus | FollowUpStatus | None]]] = {
    "PAYMENT.CAPTURE.COMPLETED": (Effect.PAYMENT, PaymentStatus.SUCCEEDED),
    "PAYMENT.CAPTURE.DENIED": (Effect.PAYMENT, PaymentStatus.DECLINED),
    "PAYMENT.CAPTURE.DECLINED": (Effect.PAYMENT, PaymentStatus.DECLINED),
    "PAYMENT.CAPTURE.REFUNDED": (Effect.FOLLOW_UP, FollowUpStatus.SUCCEEDED),
    "CUSTOMER.DISPUTE.CREATED": (Effect.DISPUTE, None),
}


def parse_paypal(body: bytes) -> WebhookEvent:
    """Read a PayPal webhook event (v1 notification with a `resource`)."""
    try:
        event = json.loads(body)
        event_id, kind = str(event["id"]), str(event["event_type"])
        occurred = datetime.fromisoformat(str(event["create_time"]).replace("Z", "+00:00"))
        resource = event["resource"]
        assert isinstance(resource, dict)
    except (ValueError, KeyError, TypeError, AssertionError) as exc:
        raise MalformedNotificationError(
            f"PayPal event lacks id/event_type/create_time/resource: {exc}"
        ) from exc
    effect, target = _PAYPAL.get(kind, (Effect.NONE, None))
    reference = resource.get("id")
    if effect is Effect.DISPUTE:
        disputed = resource.get("disputed_transactions") or [{}]
        reference = disputed[0].get("seller_transaction_id")
    amount = resource.get("amount") or {}
    value, currency = amount.get("value"), amount.get("currency_code")
    return WebhookEvent(
        provider="paypal",
        event_id=event_id,
        type=kind,
        provider_reference=str(reference) if reference else None,
        our_reference=resource.get("invoice_id"),  # the adapter's attempt reference
        amount_minor=None if value is None or currency is None else _paypal_minor(value, currency),
        currency=currency,
        occurred_at=occurred if occurred.tzinfo else occurred.replace(tzinfo=UTC),
        status=target if isinstance(target, PaymentStatus) else None,
        effect=effect,
        followup_status=target if isinstance(target, FollowUpStatus) else None,
    )


def _paypal_minor(value: object, currency: str) -> int | None:
    from decimal import Decimal, InvalidOperation

    from .._money import currency_exponent

    try:
        return int(Decimal(str(value)).scaleb(currency_exponent(currency)))
    except (InvalidOperation, ValueError):
        return None
