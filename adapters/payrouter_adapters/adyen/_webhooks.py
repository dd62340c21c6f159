"""Adyen notifications: each item's HMAC checked, then the item read into a neutral event.

Adyen signs each NotificationRequestItem with HMAC-SHA256 under the webhook's hex key, over
``pspReference:originalReference:merchantAccountCode:merchantReference:value:currency:
eventCode:success`` (base64 in ``additionalData.hmacSignature``). Every item is type-checked
and verified before anything else is done for it, and one forged item refuses the delivery.

What is not signed is not trusted: `eventDate` is outside the HMAC, so it is kept for the
record but never used to judge freshness (an edited date would pass). Adyen redelivers a
notification for up to 30 days; a replay of a genuine item is recognised by the event-id
store (event code, pspReference and success), whose entries the ledger never deletes.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import Any, Final

from payrouter import ConfigurationError, FollowUpStatus, PaymentStatus
from payrouter.provider import FailureKind, policy_for
from payrouter.webhooks import (
    Effect,
    ForgedNotificationError,
    MalformedNotificationError,
    WebhookEvent,
    load_json_object,
)

from ._amounts import iso_minor
from ._codes import REFUSAL_CODE_BY_REASON, REFUSALS

__all__ = ["AdyenWebhooks"]

_SIGNED: Final = ("pspReference", "originalReference", "merchantAccountCode", "merchantReference")
_TEXT: Final = (*_SIGNED, "eventCode", "success", "eventDate", "reason")
_DECLINED: Final = PaymentStatus.DECLINED

# (eventCode, success) -> what it does; a code missing here is acknowledged and ignored.
_EFFECTS: Final[Mapping[tuple[str, bool], tuple[Effect, PaymentStatus | FollowUpStatus | None]]] = {
    ("AUTHORISATION", True): (Effect.PAYMENT, PaymentStatus.SUCCEEDED),
    ("AUTHORISATION", False): (Effect.PAYMENT, PaymentStatus.DECLINED),
    ("CAPTURE", True): (Effect.FOLLOW_UP, FollowUpStatus.SUCCEEDED),
    ("CAPTURE", False): (Effect.FOLLOW_UP, FollowUpStatus.REFUSED),
    ("CAPTURE_FAILED", True): (Effect.FOLLOW_UP, FollowUpStatus.REFUSED),
    ("REFUND", True): (Effect.FOLLOW_UP, FollowUpStatus.SUCCEEDED),
    ("REFUND", False): (Effect.FOLLOW_UP, FollowUpStatus.REFUSED),
    ("REFUND_FAILED", True): (Effect.FOLLOW_UP, FollowUpStatus.REFUSED),
    # "The refunded amount was reversed and returned to your bank account": after the REFUND
    # that confirmed it, like REFUND_FAILED (the core undoes the confirmation, saying so).
    ("REFUNDED_REVERSED", True): (Effect.FOLLOW_UP, FollowUpStatus.REFUSED),
    ("CANCELLATION", True): (Effect.FOLLOW_UP, FollowUpStatus.SUCCEEDED),
    ("CANCELLATION", False): (Effect.FOLLOW_UP, FollowUpStatus.REFUSED),
    ("CANCEL_OR_REFUND", True): (Effect.FOLLOW_UP, FollowUpStatus.SUCCEEDED),
    ("CANCEL_OR_REFUND", False): (Effect.FOLLOW_UP, FollowUpStatus.REFUSED),
    ("CHARGEBACK", True): (Effect.DISPUTE, None),
    ("NOTIFICATION_OF_CHARGEBACK", True): (Effect.DISPUTE, None),
}


class AdyenWebhooks:
    """Adyen's notifications for `WebhookReceiver`: every item's HMAC checked.

    Args:
        hmac_key_hex: the webhook's HMAC key, as the Customer Area shows it (hex).
        provider: the name the Adyen adapter was configured under.
        clock: the current Unix time (stands in for an item without a readable eventDate).
        previous_hmac_keys_hex: keys replaced by `hmac_key_hex`, still accepted while a key
            is rotated: Adyen asks that the previous key's signatures be accepted for some
            time, since a notification keeps the signature it was made with, also when it is
            retried from the queue (up to 30 days). Drop them once nothing signed with them
            is left in the queue.

    Raises:
        ConfigurationError: a key is empty (an HMAC any stranger can compute) or not hex.
    """

    acknowledgement = "[accepted]"  # what Adyen expects in the 200 answer

    def __init__(
        self,
        hmac_key_hex: str,
        *,
        provider: str = "adyen",
        clock: Callable[[], float] = time.time,
        previous_hmac_keys_hex: Iterable[str] = (),
    ) -> None:
        self._keys = tuple(_key(key) for key in (hmac_key_hex, *previous_hmac_keys_hex))
        self.provider = provider
        self._clock = clock

    def __repr__(self) -> str:
        return f"AdyenWebhooks(provider={self.provider!r})"

    async def read(self, body: bytes, headers: Mapping[str, str]) -> list[WebhookEvent]:
        """Every item verified, then read; one forged or malformed item refuses them all."""
        request = load_json_object(body, "Adyen notification")
        entries = request.get("notificationItems")
        if not isinstance(entries, list) or not entries:
            raise MalformedNotificationError("Adyen body has no notificationItems list")
        events = []
        for entry in entries:
            item = entry.get("NotificationRequestItem") if isinstance(entry, dict) else None
            if not isinstance(item, dict):
                raise MalformedNotificationError("an Adyen entry has no NotificationRequestItem")
            self.verify(item)  # before any other work for this item
            events.append(self._event(item))
        return events

    def verify(self, item: Mapping[str, Any]) -> None:
        """Raise unless the item's fields have the documented types and its HMAC matches.

        Raises:
            MalformedNotificationError: a signed field or `amount`/`additionalData` of the
                wrong type (checked first: nothing is hashed for a body of the wrong shape).
            ForgedNotificationError: no signature, or one that does not match.
        """
        _check_shape(item)
        additional = item.get("additionalData") or {}
        signature = additional.get("hmacSignature")
        if not isinstance(signature, str) or not signature.isascii():
            raise ForgedNotificationError("Adyen item has no additionalData.hmacSignature")
        amount = item.get("amount") or {}
        value = amount.get("value")
        fields = [item.get(name) or "" for name in _SIGNED]
        fields += ["" if value is None else str(value), amount.get("currency") or ""]
        fields += [item.get("eventCode") or "", item.get("success") or ""]
        message = ":".join(fields).encode("utf-8", "surrogatepass")
        try:
            given = base64.b64decode(signature, validate=True)
        except (binascii.Error, ValueError):
            raise ForgedNotificationError("Adyen hmacSignature is not base64") from None
        digests = [hmac.new(key, message, hashlib.sha256).digest() for key in self._keys]
        if not any(hmac.compare_digest(digest, given) for digest in digests):
            raise ForgedNotificationError("Adyen hmacSignature does not match the item")

    def _event(self, item: Mapping[str, Any]) -> WebhookEvent:
        code, psp, success_text = (
            item.get("eventCode"),
            item.get("pspReference"),
            item.get("success"),
        )
        if not (code and psp and success_text in ("true", "false")):
            raise MalformedNotificationError("Adyen item lacks eventCode/pspReference/success")
        success = success_text == "true"
        amount = item.get("amount") or {}
        effect, target = _EFFECTS.get((code, success), (Effect.NONE, None))
        original = item.get("originalReference")
        reference = original if effect is Effect.DISPUTE and original else psp
        currency, value = amount.get("currency") or None, amount.get("value")
        return WebhookEvent(
            provider=self.provider,
            event_id=f"{code}:{psp}:{success_text}",  # Adyen's own identity of an event
            type=code,
            # A dispute names the payment in originalReference; everything else by its own psp.
            provider_reference=reference,
            our_reference=item.get("merchantReference") or None,
            amount_minor=_iso(value, currency),
            currency=currency,
            occurred_at=self._when(item.get("eventDate")),
            status=target if isinstance(target, PaymentStatus) else None,
            effect=effect,
            followup_status=target if isinstance(target, FollowUpStatus) else None,
            authorisation=code == "AUTHORISATION",
            failure_kind=_refusal_kind(item.get("reason")) if target is _DECLINED else None,
        )

    def _when(self, event_date: str | None) -> datetime:
        """eventDate for the record (unsigned, so never judged); receipt time without it."""
        try:
            moment = datetime.fromisoformat(event_date or "")
            moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
            moment.timestamp()
        except (ValueError, OverflowError):
            return datetime.fromtimestamp(self._clock(), UTC)
        return moment


def _key(hmac_key_hex: str) -> bytes:
    """The key's bytes; the error never repeats the key (it is a secret)."""
    try:
        key = bytes.fromhex(hmac_key_hex)
    except ValueError:
        raise ConfigurationError("an Adyen HMAC key is not hexadecimal") from None
    if not key:
        raise ConfigurationError("an Adyen HMAC key is empty: copy it from the Customer Area")
    return key


def _refusal_kind(reason: object) -> FailureKind:
    """An unsuccessful AUTHORISATION's `reason` is Adyen's refusal reason: its kind through the
    adapter's tables (a failed 3-D Secure challenge is "3D Not Authenticated"); a generic
    card decline when it is missing or new."""
    code = REFUSAL_CODE_BY_REASON.get(reason.strip().lower()) if isinstance(reason, str) else None
    kind = REFUSALS.get(code) if code is not None else None
    return kind if kind is not None and policy_for(kind).is_decline else FailureKind.CARD_DECLINED


def _iso(value: int | None, currency: str | None) -> int | None:
    """The signed amount in ISO minor units (Adyen counts CLP, CVE, IDR, ISK its own way);
    None when it has no exact ISO value or the currency is unknown: never any payment's."""
    if value is None or currency is None:
        return None
    try:
        return iso_minor(value, currency)
    except ValueError:
        return None


def _check_shape(item: Mapping[str, Any]) -> None:
    """The documented types: text fields strings, `amount` an object with an integer value
    and a string currency, `additionalData` an object."""
    for name in _TEXT:
        if not isinstance(item.get(name, ""), str | None):
            raise MalformedNotificationError(f"Adyen item's {name} is not a string")
    amount = item.get("amount")
    if amount is not None:
        if not isinstance(amount, dict):
            raise MalformedNotificationError("Adyen item's amount is not an object")
        value = amount.get("value")
        if not isinstance(value, int | None) or isinstance(value, bool):
            raise MalformedNotificationError("Adyen item's amount.value is not an integer")
        if not isinstance(amount.get("currency"), str | None):
            raise MalformedNotificationError("Adyen item's amount.currency is not a string")
    if not isinstance(item.get("additionalData") or {}, dict):
        raise MalformedNotificationError("Adyen item's additionalData is not an object")
