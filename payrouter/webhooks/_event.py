"""One normalized shape for every provider's notification, mapped through tables."""

import json
from dataclasses import dataclass
from datetime import UTC, datetime

from payrouter._models import PaymentStatus

from ._errors import MalformedNotificationError


@dataclass(frozen=True, slots=True)
class WebhookEvent:
    """What a notification says, whichever provider sent it.

    ``status`` is None for events that do not move the payment status (refunds, disputes,
    and types we do not know, which are acknowledged and ignored).
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


_STRIPE_STATUS: dict[str, PaymentStatus] = {
    "payment_intent.succeeded": PaymentStatus.SUCCEEDED,
    "payment_intent.payment_failed": PaymentStatus.DECLINED,
    "payment_intent.processing": PaymentStatus.PROCESSING,
    "payment_intent.requires_action": PaymentStatus.REQUIRES_ACTION,
}


def parse_stripe(body: bytes) -> WebhookEvent:
    """Read a Stripe Event; raise MalformedNotificationError naming what is missing."""
    try:
        event = json.loads(body)
        obj = event["data"]["object"]
        event_id, kind, created = str(event["id"]), str(event["type"]), int(event["created"])
    except (ValueError, KeyError, TypeError) as exc:
        raise MalformedNotificationError(f"Stripe event lacks id/type/created/data: {exc}") from exc
    metadata = obj.get("metadata") or {}
    amount = obj.get("amount")
    return WebhookEvent(
        provider="stripe",
        event_id=event_id,
        type=kind,
        provider_reference=obj.get("id"),
        our_reference=metadata.get("payrouter_reference"),  # set by the Stripe adapter
        amount_minor=amount if isinstance(amount, int) else None,
        currency=obj.get("currency"),
        occurred_at=datetime.fromtimestamp(created, UTC),
        status=_STRIPE_STATUS.get(kind),
    )
