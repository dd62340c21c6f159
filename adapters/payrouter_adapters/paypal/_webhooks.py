"""PayPal notifications: verified by asking PayPal, with the adapter's own credentials.

PayPal signs a notification with its certificate (SHA256withRSA over the transmission id and
time, the webhook id and a CRC32 of the body). Its documented check is an API call,
`verify-webhook-signature`, which needs no certificate handling here: the adapter already
holds an OAuth client for PayPal, so the source reuses it. Freshness is judged from the
signed `PayPal-Transmission-Time` header, never from the body's `create_time` (covered only by
a CRC32, which is not a cryptographic check). PayPal retries a notification for up to three
days; replays are recognised by the event-id store, whose entries the ledger never deletes.

Only PayPal's verdict (`verification_status` FAILURE) or an answer refusing what the delivery
carried (400, 422) makes a notification forged. Any other answer says nothing about its
signature: throttling (429 RATE_LIMIT_REACHED), a timeout (408), our own credentials (401,
403), a 5xx, or a 2xx without a verdict leave it unverified for now (503), and PayPal
delivers it again.

A capture or authorization is named as the adapter's own replies name it, `ORDER:capture:ID`
(`ORDER:authorization:ID`), with the order from the resource's
`supplementary_data.related_ids.order_id`, else from its `up` link to
`/v2/checkout/orders/{id}`: the ledger keeps that reference for a payment whose answer was
lost, and refunds and lookups need the order and the payment. A resource naming neither is
`capture:ID`, which the adapter still refunds (by the capture) and looks up (Payments v2).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, Final
from urllib.parse import urlsplit

from payrouter import FollowUpStatus, PaymentStatus
from payrouter.provider import ProviderReply
from payrouter.webhooks import (
    Effect,
    ForgedNotificationError,
    MalformedNotificationError,
    StaleNotificationError,
    VerificationUnavailableError,
    WebhookError,
    WebhookEvent,
    load_json_object,
)

from .._amounts import iso_minor
from ._adapter import PayPalAdapter
from ._requests import PaymentKind, Reference

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

# event_type -> the kind of payment its resource is, for those whose resource is a capture or
# an authorization of an order (a refund's resource is the refund: its id alone names it).
_PAYMENT_KINDS: Final[Mapping[str, PaymentKind]] = {
    "PAYMENT.CAPTURE.COMPLETED": "capture",
    "PAYMENT.CAPTURE.PENDING": "capture",
    "PAYMENT.CAPTURE.DENIED": "capture",
    "PAYMENT.CAPTURE.DECLINED": "capture",
    "PAYMENT.AUTHORIZATION.CREATED": "authorization",
    "PAYMENT.AUTHORIZATION.VOIDED": "authorization",
}

_ORDER_LINK: Final = re.compile(r"/v2/checkout/orders/([^/]+)/?")
"""The path of a payment's `up` link when its parent is the order (not an authorization)."""
_PAYPAL_ID: Final = re.compile(r"[0-9A-Za-z_-]{1,64}")
"""What an order id may look like to be written into a reference (no `:`, bounded)."""

# verify-webhook-signature's non-2xx status -> what it makes of the notification. Only an
# answer refusing what the delivery carried is a forgery; the others say nothing about it.
_FORGED: Final = ForgedNotificationError
_UNVERIFIED: Final = VerificationUnavailableError
_VERIFICATION_STATUSES: Final[Mapping[int, tuple[type[WebhookError], str]]] = {
    400: (_FORGED, "PayPal refused the notification's headers or event"),  # VALIDATION_ERROR
    422: (_FORGED, "PayPal refused the notification's content"),
    401: (_UNVERIFIED, "PayPal refused our credentials"),  # after one fresh token
    403: (_UNVERIFIED, "PayPal refused our app the verification"),
    404: (_UNVERIFIED, "PayPal knows no such webhook id: check ours"),
    408: (_UNVERIFIED, "PayPal timed out"),
    429: (_UNVERIFIED, "PayPal is throttling us (RATE_LIMIT_REACHED)"),
}
_UNMAPPED: Final = (_UNVERIFIED, "PayPal could not verify it now")
"""Any other status (5xx, 405, 415, ...): unknown is never a forgery."""


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
        if isinstance(answer, ProviderReply):  # no token: the question was never asked
            raise VerificationUnavailableError("PayPal could not verify the notification now")
        if not answer.is_success:
            error, reason = _VERIFICATION_STATUSES.get(answer.status_code, _UNMAPPED)
            raise error(f"{reason} (HTTP {answer.status_code})")
        try:
            document = answer.json()
        except ValueError:
            raise VerificationUnavailableError("PayPal's verification answer is not JSON") from None
        status = document.get("verification_status") if isinstance(document, dict) else None
        if status == "FAILURE":
            raise ForgedNotificationError("PayPal answered FAILURE")
        if status != "SUCCESS":
            raise VerificationUnavailableError(f"PayPal's answer has no verdict ({status!r:.40})")
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
    payment_kind = _PAYMENT_KINDS.get(kind)
    if payment_kind is not None and isinstance(reference, str) and reference:
        reference = str(Reference(_order_id(resource), payment_kind, reference))
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


def _order_id(resource: Mapping[str, Any]) -> str | None:
    """The order a capture or authorization belongs to: `supplementary_data.related_ids`,
    else the `up` link (a capture of an authorization links up to the authorization)."""
    supplementary = resource.get("supplementary_data")
    related = supplementary.get("related_ids") if isinstance(supplementary, dict) else None
    found = related.get("order_id") if isinstance(related, dict) else None
    if not isinstance(found, str):
        links = resource.get("links")
        ups = [
            link.get("href")
            for link in (links if isinstance(links, list) else [])
            if isinstance(link, dict) and link.get("rel") == "up"
        ]
        found = next(filter(None, map(_linked_order, ups)), None)
    return found if isinstance(found, str) and _PAYPAL_ID.fullmatch(found) else None


def _linked_order(href: object) -> str | None:
    try:
        path = urlsplit(href).path if isinstance(href, str) else ""
    except ValueError:  # not a URL at all
        return None
    match = _ORDER_LINK.fullmatch(path)
    return match.group(1) if match else None


def _time(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
        moment.timestamp()
    except (ValueError, OverflowError):
        raise MalformedNotificationError("PayPal time is not ISO 8601") from None
    return moment
