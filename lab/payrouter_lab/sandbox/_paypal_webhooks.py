"""PayPal's webhook signature check, as the stand-in answers it.

PayPal signs each notification with its certificate and offers
`POST /v1/notifications/verify-webhook-signature`, which answers SUCCESS or FAILURE for the
transmission headers and the event. The stand-in cannot sign with PayPal's key, so it
defines its own deterministic signature over the same inputs PayPal's covers (transmission
id and time, webhook id, a CRC32 of the event) and checks that: the client code under test,
which only asks the API, is the same either way.

`notification` wraps a resource as PayPal's v1 event: for a capture or authorization, the one
the stand-in's Payments v2 shows (`GET /v2/payments/captures/{id}`), which names its order in
`supplementary_data.related_ids` and its `up` link as PayPal's notifications do.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import zlib
from collections.abc import Mapping
from datetime import UTC, datetime

from ._exchange import Call, Reply, json_reply
from ._paypal_wire import error, new_id, now

__all__ = [
    "notification",
    "signed_headers",
    "transmission_signature",
    "verify_webhook_signature",
]

_FIELDS = (
    "auth_algo",
    "cert_url",
    "transmission_id",
    "transmission_sig",
    "transmission_time",
    "webhook_id",
    "webhook_event",
)


def transmission_signature(
    webhook_id: str, transmission_id: str, transmission_time: str, event: Mapping[str, object]
) -> str:
    """The stand-in's signature of one notification."""
    canonical = json.dumps(event, sort_keys=True, separators=(",", ":")).encode()
    message = f"{transmission_id}|{transmission_time}|{webhook_id}|{zlib.crc32(canonical)}"
    digest = hmac.new(webhook_id.encode(), message.encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def notification(
    event_type: str,
    resource: Mapping[str, object],
    *,
    resource_type: str = "capture",
    event_id: str | None = None,
) -> dict[str, object]:
    """PayPal's v1 event of `event_type` around `resource` (e.g. PAYMENT.CAPTURE.COMPLETED
    with the capture from `GET /v2/payments/captures/{id}`)."""
    return {
        "id": event_id or f"WH-{new_id()}",
        "event_version": "1.0",
        "create_time": now(),
        "resource_type": resource_type,
        "resource_version": "2.0",
        "event_type": event_type,
        "summary": f"{event_type} for {resource.get('id')}",
        "resource": dict(resource),
    }


def signed_headers(
    webhook_id: str, event: Mapping[str, object], *, transmission_id: str = "tx-1"
) -> dict[str, str]:
    """The headers PayPal sends with `event`, signed the stand-in's way (for tests)."""
    sent = datetime.now(UTC).isoformat()
    return {
        "PAYPAL-TRANSMISSION-ID": transmission_id,
        "PAYPAL-TRANSMISSION-TIME": sent,
        "PAYPAL-TRANSMISSION-SIG": transmission_signature(webhook_id, transmission_id, sent, event),
        "PAYPAL-CERT-URL": "https://api.paypal.com/v1/notifications/certs/CERT-360caa42",
        "PAYPAL-AUTH-ALGO": "SHA256withRSA",
    }


async def verify_webhook_signature(call: Call) -> Reply:
    """`POST /v1/notifications/verify-webhook-signature`: SUCCESS or FAILURE."""
    body = call.json()
    missing = [name for name in _FIELDS if not body.get(name)]
    event = body.get("webhook_event")
    if missing or not isinstance(event, dict):
        return error(400, "VALIDATION_ERROR", f"Missing or invalid fields: {missing}")
    expected = transmission_signature(
        str(body["webhook_id"]), str(body["transmission_id"]), str(body["transmission_time"]), event
    )
    genuine = hmac.compare_digest(expected, str(body["transmission_sig"]))
    return json_reply(200, {"verification_status": "SUCCESS" if genuine else "FAILURE"})
