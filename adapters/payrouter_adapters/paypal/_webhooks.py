"""PayPal notifications: verified by asking PayPal, with the adapter's own credentials.

PayPal signs a notification with its certificate (SHA256withRSA over the transmission id and
time, the webhook id and a CRC32 of the body). Its documented check is an API call,
`verify-webhook-signature`, which needs no certificate handling here: the adapter already
holds an OAuth client for PayPal, so the verifier reuses it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from payrouter.provider import ProviderReply
from payrouter.webhooks import (
    ForgedNotificationError,
    MalformedNotificationError,
    VerificationUnavailableError,
)

from ._adapter import PayPalAdapter

__all__ = ["PayPalWebhookVerifier"]

_HEADERS = {
    "auth_algo": "paypal-auth-algo",
    "cert_url": "paypal-cert-url",
    "transmission_id": "paypal-transmission-id",
    "transmission_sig": "paypal-transmission-sig",
    "transmission_time": "paypal-transmission-time",
}


class PayPalWebhookVerifier:
    """Checks a PayPal notification with PayPal; give it to `WebhookReceiver(paypal=...)`.

    Args:
        adapter: the configured PayPal adapter (its credentials and connection pool).
        webhook_id: the id PayPal gave the webhook when it was registered.
    """

    def __init__(self, adapter: PayPalAdapter, webhook_id: str) -> None:
        self._adapter = adapter
        self._webhook_id = webhook_id

    async def verify(self, headers: Mapping[str, str], body: bytes) -> None:
        """Raise unless PayPal answers SUCCESS for these headers and this body."""
        lowered = {key.lower(): value for key, value in headers.items()}
        missing = [header for header in _HEADERS.values() if not lowered.get(header)]
        if missing:
            raise ForgedNotificationError(f"PayPal notification without {', '.join(missing)}")
        try:
            event = json.loads(body)
        except ValueError as error:
            raise MalformedNotificationError(f"PayPal body is not JSON: {error}") from None
        if not isinstance(event, dict):
            raise MalformedNotificationError("PayPal body is not a JSON object")
        verification: dict[str, object] = {
            field: lowered[header] for field, header in _HEADERS.items()
        }
        verification |= {"webhook_id": self._webhook_id, "webhook_event": event}
        answer = await self._adapter.verify_webhook_signature(verification)
        if isinstance(answer, ProviderReply) or answer.status_code >= 500:
            raise VerificationUnavailableError("PayPal could not verify the notification now")
        status = answer.json().get("verification_status") if answer.is_success else None
        if status != "SUCCESS":
            raise ForgedNotificationError(f"PayPal answered {status or answer.status_code}")
