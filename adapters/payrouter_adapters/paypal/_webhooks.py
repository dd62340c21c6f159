"""PayPal notifications: verified by asking PayPal, with the adapter's own credentials.

PayPal signs a notification with its certificate (SHA256withRSA over the transmission id and
time, the webhook id and a CRC32 of the body). Its documented check is an API call,
`verify-webhook-signature`, which needs no certificate handling here: the adapter already
holds an OAuth client for PayPal, so the source reuses it. Freshness is judged from the
signed `PayPal-Transmission-Time` header, never from the body's `create_time` (covered only by
a CRC32, which is not a cryptographic check). PayPal retries a notification for up to three
days; replays are recognised by the event-id store, whose entries the ledger never deletes.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, Final

from payrouter import FollowUpStatus, PaymentStatus
from payrouter.provider import ProviderReply
from payrouter.webhooks import (
    Effect,
    ForgedNotificationError,
    MalformedNotificationError,
    StaleNotificationError,
    VerificationUnavailableError,
    WebhookEvent,
    load_json_object,
)

from .._amounts import iso_minor
from ._adapter import PayPalAdapter

__all__ = ["PayPalWebhooks"]

_HEADERS: Final = {
    "auth_algo": "paypal-auth-algo",
    "cert_url": "paypal-cert-url",
    "transmission_id": "paypal-transmission-id",
    "transmission_sig": "paypal-transmission-sig",
    "transmission_time": "paypal-transmission-time",
}

# event_type -> what it does; the resource is a capture, a refund or a dispute.
_EFFECTS: Final[Mapping[str, tuple[Effect, PaymentStatus | FollowUpStatus | None]]] = {
    "PAYMENT.CAPTURE.COMPLETED": (Effect.PAYMENT, PaymentStatus.SUCCEEDED),
    "PAYMENT.CAPTURE.DENIED": (Effect.PAYMENT, PaymentStatus.DECLINED),
    "PAYMENT.CAPTURE.DECLINED": (Effect.PAYMENT, PaymentStatus.DECLINED),
    "PAYMENT.CAPTURE.REFUNDED": (Effect.FOLLOW_UP, FollowUpStatus.SUCCEEDED),
    "CUSTOMER.DISPUTE.CREATED": (Effect.DISPUTE, None),
}


class PayPalWebhooks:
    """PayPal's notifications for `WebhookReceiver`: PayPal is asked whether each is genuine.

    Args:
        adapter: the configured PayPal adapter (its credentials and connection pool).
        webhook_id: the id PayPal gave the webhook when it was registered.
        max_age_seconds: how old the signed transmission time may be.
        clock: the current Unix time, injectable for tests.
    """

    acknowledgement = "ok"

    def __init__(
        self,
        adapter: PayPalAdapter,
        webhook_id: str,
        *,
        max_age_seconds: float = 31 * 24 * 3600,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._adapter = adapter
        self._webhook_id = webhook_id
        self._max_age = max_age_seconds
        self._clock = clock
        self.provider = adapter.name

    def __repr__(self) -> str:
        return f"PayPalWebhooks(provider={self.provider!r})"

    async def read(self, body: bytes, headers: Mapping[str, str]) -> list[WebhookEvent]:
        """Ask PayPal whether the delivery is genuine, check its signed time, read it."""
        event = await self.verify(headers, body)
        return [parse_event(event, self.provider)]

    async def verify(self, headers: Mapping[str, str], body: bytes) -> dict[str, Any]:
        """The verified event; raise unless PayPal answers SUCCESS and it is fresh."""
        lowered = {key.lower(): value for key, value in headers.items()}
        missing = [header for header in _HEADERS.values() if not lowered.get(header)]
        if missing:
            raise ForgedNotificationError(f"PayPal notification without {', '.join(missing)}")
        event = load_json_object(body, "PayPal event")
        verification: dict[str, object] = {
            field: lowered[header] for field, header in _HEADERS.items()
        }
        verification |= {"webhook_id": self._webhook_id, "webhook_event": event}
        answer = await self._adapter.verify_webhook_signature(verification)
        if isinstance(answer, ProviderReply) or answer.status_code >= 500:
            raise VerificationUnavailableError("PayPal could not verify the notification now")
        try:
            document = answer.json() if answer.is_success else {}
        except ValueError:
            raise VerificationUnavailableError("PayPal's verification answer is not JSON") from None
        status = document.get("verification_status") if isinstance(document, dict) else None
        if status != "SUCCESS":
            raise ForgedNotificationError(f"PayPal answered {status or answer.status_code}")
        sent = _time(lowered["paypal-transmission-time"])
        age = self._clock() - sent.timestamp()
        if age > self._max_age:
            raise StaleNotificationError(f"PayPal transmission {age:.0f}s old")
        return event


def parse_event(event: Mapping[str, Any], provider: str = "paypal") -> WebhookEvent:
    """Read a PayPal webhook event (v1 notification with a `resource`).

    Raises:
        MalformedNotificationError: not an event: the message names what is missing.
    """
    event_id, kind, resource = event.get("id"), event.get("event_type"), event.get("resource")
    if not (isinstance(event_id, str) and isinstance(kind, str) and isinstance(resource, dict)):
        raise MalformedNotificationError("PayPal event lacks id/event_type/resource")
    created = event.get("create_time")
    occurred = _time(created) if isinstance(created, str) else datetime.now(UTC)
    effect, target = _EFFECTS.get(kind, (Effect.NONE, None))
    reference = resource.get("id")
    if effect is Effect.DISPUTE:
        disputed = resource.get("disputed_transactions")
        first = disputed[0] if isinstance(disputed, list) and disputed else None
        reference = first.get("seller_transaction_id") if isinstance(first, dict) else None
    amount = resource.get("amount")
    value, currency = (
        (amount.get("value"), amount.get("currency_code"))
        if isinstance(amount, dict)
        else (None, None)
    )
    invoice = resource.get("invoice_id")  # the adapter's attempt reference
    return WebhookEvent(
        provider=provider,
        event_id=event_id,
        type=kind,
        provider_reference=reference if isinstance(reference, str) and reference else None,
        our_reference=invoice if isinstance(invoice, str) else None,
        amount_minor=iso_minor(value, currency),
        currency=currency if isinstance(currency, str) else None,
        occurred_at=occurred,
        status=target if isinstance(target, PaymentStatus) else None,
        effect=effect,
        followup_status=target if isinstance(target, FollowUpStatus) else None,
    )


def _time(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
        moment.timestamp()
    except (ValueError, OverflowError):
        raise MalformedNotificationError("PayPal time is not ISO 8601") from None
    return moment
