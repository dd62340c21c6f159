"""Signed notifications as Stripe and Adyen send them, and a router whose payments they name."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Mapping
from datetime import UTC, datetime

from pydantic import SecretStr

from payrouter import (
    CardSource,
    Money,
    OutboxSettings,
    PaymentRequest,
    PaymentResult,
    Router,
    RouterSettings,
)
from payrouter.testing import Behavior, SimulatedAdapter, SimulatedProvider
from payrouter.webhooks import WebhookReceiver
from payrouter_adapters.adyen import AdyenWebhooks
from payrouter_adapters.stripe import StripeWebhooks

STRIPE_SECRET = "whsec_test_secret"
ADYEN_KEY = "44782DEF547AAA06C910C43932B1EB0C71FC68D9D0C057550C48EC2ACF6BA056"


def stripe_body(kind: str, obj: Mapping[str, object], event_id: str = "evt_1") -> bytes:
    """A Stripe Event; the object reports `pending_payment`'s 10.00 EUR unless it says else."""
    obj = {"amount": 1000, "currency": "eur", **obj}
    event = {"id": event_id, "type": kind, "created": int(time.time()), "data": {"object": obj}}
    return json.dumps(event).encode()


def stripe_headers(
    body: bytes, *, secret: str = STRIPE_SECRET, at: int | None = None
) -> dict[str, str]:
    stamp = int(time.time()) if at is None else at
    signature = hmac.new(secret.encode(), f"{stamp}.".encode() + body, hashlib.sha256).hexdigest()
    return {"Stripe-Signature": f"t={stamp},v1={signature}"}


def adyen_body(
    code: str,
    psp: str,
    *,
    success: bool = True,
    original: str = "",
    key: str = ADYEN_KEY,
    when: datetime | None = None,
    value: int = 1000,
    currency: str = "EUR",
    reason: str | None = None,
) -> bytes:
    """An Adyen notification of one item, signed with `key` (10.00 EUR unless told else);
    `reason` (unsigned, as at Adyen) is a refusal's reason."""
    item: dict[str, object] = {
        "eventCode": code,
        "pspReference": psp,
        "originalReference": original,
        "merchantAccountCode": "ShopECOM",
        "merchantReference": "ref-1",
        "amount": {"value": value, "currency": currency},
        "success": "true" if success else "false",
        "eventDate": (when or datetime.now(UTC)).isoformat(),
    }
    fields = [str(item[name] or "") for name in ("pspReference", "originalReference")]
    fields += [str(item["merchantAccountCode"]), str(item["merchantReference"])]
    fields += [str(value), currency, code, str(item["success"])]
    digest = hmac.new(bytes.fromhex(key), ":".join(fields).encode(), hashlib.sha256).digest()
    item["additionalData"] = {"hmacSignature": base64.b64encode(digest).decode()}
    if reason is not None:
        item["reason"] = reason
    return json.dumps(
        {"live": "false", "notificationItems": [{"NotificationRequestItem": item}]}
    ).encode()


def simulated(name: str) -> SimulatedAdapter:
    return SimulatedAdapter(SimulatedProvider(name))


def router(*adapters: SimulatedAdapter, ledger: str = "sqlite://") -> Router:
    settings = RouterSettings(outbox=OutboxSettings(initial_backoff_seconds=0))
    return Router(adapters, ledger=ledger, hooks=(), settings=settings)


def receiver(target: object, max_body_bytes: int = 1024 * 1024) -> WebhookReceiver:
    return WebhookReceiver(
        target,  # type: ignore[arg-type]
        [StripeWebhooks(STRIPE_SECRET), AdyenWebhooks(ADYEN_KEY)],
        max_body_bytes=max_body_bytes,
    )


async def pending_payment(payments: Router, order_id: str = "order-1") -> PaymentResult:
    """A payment the provider accepted and settles later: a webhook will say how it went."""
    (adapter,) = payments.adapters
    assert isinstance(adapter, SimulatedAdapter)
    adapter.provider.script(Behavior.pending())
    return await payments.pay(
        PaymentRequest(
            order_id=order_id,
            amount=Money.of("10.00", "EUR"),
            sources=[CardSource(token=SecretStr("pm_card_visa"))],
            customer_country="DE",
        )
    )
