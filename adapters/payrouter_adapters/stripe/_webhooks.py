"""Stripe notifications: the `Stripe-Signature` check and the Event read into neutral events.

Stripe signs ``"{t}.{raw body}"`` with HMAC-SHA256 under the endpoint's secret and sends
``Stripe-Signature: t=<unix time>,v1=<hex>`` (several v1 while a secret is rolled). The
signature is checked on the raw bytes first, in constant time, then the signed `t` against
the tolerance window, and only then is the body parsed. Amounts come back in ISO 4217 minor
units (Stripe's own unit differs for ISK and MGA), so the receiver can compare them with the
ledger's payment.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, Final

from payrouter import ConfigurationError, FollowUpStatus, PaymentStatus
from payrouter.provider import FailureKind, policy_for
from payrouter.webhooks import (
    Effect,
    ForgedNotificationError,
    MalformedNotificationError,
    StaleNotificationError,
    WebhookEvent,
    load_json_object,
)

from ._amounts import iso_amount
from ._authentication import awaits_authentication
from ._codes import DECLINE_CODES, ERROR_CODES

__all__ = ["StripeWebhooks"]

_STATUS: Final[Mapping[str, PaymentStatus]] = {
    "payment_intent.succeeded": PaymentStatus.SUCCEEDED,
    "payment_intent.payment_failed": PaymentStatus.DECLINED,
    "payment_intent.processing": PaymentStatus.PROCESSING,
    "payment_intent.requires_action": PaymentStatus.REQUIRES_ACTION,
}
_REFUND_EVENTS: Final = frozenset(
    {"refund.created", "refund.updated", "charge.refund.updated", "refund.failed"}
)
_REFUND_STATUS: Final[Mapping[str, FollowUpStatus]] = {
    "succeeded": FollowUpStatus.SUCCEEDED,
    "failed": FollowUpStatus.REFUSED,
    "canceled": FollowUpStatus.REFUSED,
}
_DISPUTES: Final = frozenset({"charge.dispute.created", "charge.dispute.funds_withdrawn"})
_HEX: Final = frozenset("0123456789abcdef")
_MAX_SIGNATURES: Final = 8  # a roll has two; more is noise, not worth hashing


class StripeWebhooks:
    """Stripe's notifications for `WebhookReceiver`: verified with the endpoint's secret.

    Args:
        secret: the endpoint's signing secret (`whsec_...`).
        provider: the name the Stripe adapter was configured under.
        tolerance: seconds a signed timestamp may differ from now (Stripe's libraries: 300).
        clock: the current Unix time, injectable for tests.

    Raises:
        ConfigurationError: `secret` is empty or blank (an unset environment variable): an
            HMAC under an empty key is one any stranger can compute.
    """

    acknowledgement = "ok"

    def __init__(
        self,
        secret: str,
        *,
        provider: str = "stripe",
        tolerance: int = 300,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not secret.strip():
            raise ConfigurationError(
                "StripeWebhooks needs the endpoint's signing secret (whsec_...)"
            )
        self._secret = secret.encode()
        self.provider = provider
        self._tolerance = tolerance
        self._clock = clock

    def __repr__(self) -> str:
        return f"StripeWebhooks(provider={self.provider!r}, tolerance={self._tolerance})"

    async def read(self, body: bytes, headers: Mapping[str, str]) -> list[WebhookEvent]:
        """Verify `Stripe-Signature` over `body`, then read the Event."""
        self.verify(headers.get("stripe-signature", ""), body)
        return [parse_event(body, self.provider)]

    def verify(self, header: str, payload: bytes) -> None:
        """Raise ForgedNotificationError or StaleNotificationError unless genuine and fresh."""
        timestamp: int | None = None
        signatures: list[bytes] = []
        for part in header.split(",")[: 2 * _MAX_SIGNATURES]:
            key, _, value = part.strip().partition("=")
            if key == "t" and value.isascii() and value.isdigit() and len(value) <= 12:
                timestamp = int(value)
            elif key == "v1" and len(value) == 64 and set(value) <= _HEX:
                signatures.append(value.encode("ascii"))
        if timestamp is None or not signatures:
            raise ForgedNotificationError("Stripe-Signature lacks t= or a v1= of 64 hex digits")
        signed = f"{timestamp}.".encode() + payload
        expected = hmac.new(self._secret, signed, hashlib.sha256).hexdigest().encode("ascii")
        if not any(hmac.compare_digest(expected, signature) for signature in signatures):
            raise ForgedNotificationError("Stripe-Signature does not match the payload")
        # Checked after the signature so an attacker cannot learn the window from replies.
        if abs(self._clock() - timestamp) > self._tolerance:
            raise StaleNotificationError(f"Stripe event signed at {timestamp}, outside the window")


def parse_event(body: bytes, provider: str = "stripe") -> WebhookEvent:
    """Read a Stripe Event into one neutral event.

    Raises:
        MalformedNotificationError: not an Event: the message names what is missing.
    """
    event = load_json_object(body, "Stripe event")
    event_id, kind, created = event.get("id"), event.get("type"), event.get("created")
    data = event.get("data")
    obj = data.get("object") if isinstance(data, dict) else None
    if not (isinstance(event_id, str) and isinstance(kind, str) and _is_int(created)):
        raise MalformedNotificationError("Stripe event lacks a string id/type or integer created")
    if not isinstance(obj, dict):
        raise MalformedNotificationError("Stripe event's data.object is not an object")
    status = _STATUS.get(kind)
    if status is PaymentStatus.DECLINED and _awaits_authentication(obj):
        status = PaymentStatus.REQUIRES_ACTION  # confirmed again on session: not a decline
    effect, followup_status = (Effect.PAYMENT, None) if status else (Effect.NONE, None)
    reference = obj.get("id")
    if kind in _REFUND_EVENTS:
        refund_status = obj.get("status")
        followup_status = (
            _REFUND_STATUS.get(refund_status) if isinstance(refund_status, str) else None
        )
        effect = Effect.FOLLOW_UP if followup_status else Effect.NONE
    elif kind in _DISPUTES:
        effect, reference = Effect.DISPUTE, obj.get("payment_intent") or obj.get("charge")
    metadata = obj.get("metadata")
    ours = metadata.get("payrouter_reference") if isinstance(metadata, dict) else None
    amount, currency = iso_amount(obj.get("amount"), obj.get("currency"))
    return WebhookEvent(
        provider=provider,
        event_id=event_id,
        type=kind,
        provider_reference=reference if isinstance(reference, str) and reference else None,
        our_reference=ours if isinstance(ours, str) else None,  # set by the Stripe adapter
        amount_minor=amount,
        currency=currency,
        occurred_at=_moment(created),
        status=status,
        effect=effect,
        followup_status=followup_status,
        failure_kind=_decline_kind(obj) if status is PaymentStatus.DECLINED else None,
    )


def _awaits_authentication(intent: Mapping[str, Any]) -> bool:
    """The failed intent waits for the customer to authenticate (`_authentication`)."""
    problem = intent.get("last_payment_error")
    if not isinstance(problem, dict):
        return False
    return awaits_authentication(problem.get("code"), problem.get("decline_code"))


def _decline_kind(intent: Mapping[str, Any]) -> FailureKind:
    """Why the intent failed, from `last_payment_error` through the adapter's tables
    (`decline_code` first, then `code`); a generic card decline when they do not say."""
    problem = intent.get("last_payment_error")
    problem = problem if isinstance(problem, dict) else {}
    decline_code, code = problem.get("decline_code"), problem.get("code")
    kind = DECLINE_CODES.get(decline_code) if isinstance(decline_code, str) else None
    if kind is None and isinstance(code, str):
        kind = ERROR_CODES.get(code)
    return kind if kind is not None and policy_for(kind).is_decline else FailureKind.CARD_DECLINED


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _moment(created: Any) -> datetime:
    try:
        return datetime.fromtimestamp(created, UTC)
    except (OverflowError, OSError, ValueError):
        raise MalformedNotificationError("Stripe event's created is not a usable time") from None
