"""Signature checks as the providers document them, with stdlib hmac/hashlib.

Stripe signs ``"{t}.{payload}"`` with HMAC-SHA256 and sends ``Stripe-Signature: t=...,v1=...``;
Adyen signs each notification item's fields joined by ``:`` with the hex key, base64 in
``additionalData.hmacSignature``. Comparisons are constant-time so timing leaks nothing.
"""

import base64
import hashlib
import hmac
import time
from collections.abc import Callable, Mapping
from typing import Any

from ._errors import ForgedNotificationError, StaleNotificationError


class StripeVerifier:
    """Checks a ``Stripe-Signature`` header against the raw body and a tolerance window."""

    def __init__(
        self, secret: str, tolerance: int = 300, clock: Callable[[], float] = time.time
    ) -> None:
        self._secret = secret.encode()
        self._tolerance = tolerance
        self._clock = clock

    def verify(self, header: str, payload: bytes) -> None:
        """Raise ForgedNotificationError or StaleNotificationError unless genuine and fresh."""
        timestamp: int | None = None
        signatures: list[str] = []
        for part in header.split(","):
            key, _, value = part.strip().partition("=")
            if key == "t" and value.isdigit():
                timestamp = int(value)
            elif key == "v1":
                signatures.append(value)
        if timestamp is None or not signatures:
            raise ForgedNotificationError("Stripe-Signature lacks t= or v1=")
        signed = f"{timestamp}.".encode() + payload
        expected = hmac.new(self._secret, signed, hashlib.sha256).hexdigest()
        if not any(hmac.compare_digest(expected, sig) for sig in signatures):
            raise ForgedNotificationError("Stripe-Signature does not match the payload")
        # Checked after the signature so an attacker cannot learn the window from replies.
        if abs(self._clock() - timestamp) > self._tolerance:
            raise StaleNotificationError(f"Stripe event signed {timestamp}, outside the window")


_ADYEN_FIELDS = ("pspReference", "originalReference", "merchantAccountCode", "merchantReference")


class AdyenVerifier:
    """Checks ``additionalData.hmacSignature`` on one Adyen NotificationRequestItem."""

    def __init__(self, hmac_key_hex: str) -> None:
        self._key = bytes.fromhex(hmac_key_hex)

    def verify(self, item: Mapping[str, Any]) -> None:
        """Raise ForgedNotificationError unless the item's signature matches its fields."""
        signature = (item.get("additionalData") or {}).get("hmacSignature")
        if not isinstance(signature, str):
            raise ForgedNotificationError("Adyen item has no additionalData.hmacSignature")
        amount = item.get("amount") or {}
        fields = [str(item.get(name) or "") for name in _ADYEN_FIELDS]
        fields += [str(amount.get("value", "")), str(amount.get("currency", ""))]
        fields += [str(item.get("eventCode", "")), str(item.get("success", ""))]
        digest = hmac.new(self._key, ":".join(fields).encode(), hashlib.sha256).digest()
        if not hmac.compare_digest(base64.b64encode(digest).decode(), signature):
            raise ForgedNotificationError("Adyen hmacSignature does not match the item")
