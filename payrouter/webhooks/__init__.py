"""Provider notifications nobody can forge, applied to the ledger once and only forwards.

`WebhookReceiver` verifies (Stripe-Signature with its tolerance window, Adyen's HMAC per
item, PayPal by asking PayPal), parses into one normalized `WebhookEvent`, and applies it
in one ledger transaction that also remembers the event id, so replays change nothing and
out-of-order events never move a payment backwards. Mount `app(receiver)` in
FastAPI/Starlette, or call `payrouter.webhooks.django.handle` from a Django view.
"""

from ._asgi import app
from ._errors import (
    ForgedNotificationError,
    MalformedNotificationError,
    NotificationDeferredError,
    StaleNotificationError,
    VerificationUnavailableError,
)
from ._event import Effect, WebhookEvent, parse_adyen, parse_paypal, parse_stripe
from ._receiver import Answer, AsyncVerifier, WebhookReceiver
from ._signatures import AdyenVerifier, StripeVerifier
from ._store import Receipt, WebhookResult
from ._transitions import is_legal_transition

__all__ = [
    "AdyenVerifier",
    "Answer",
    "AsyncVerifier",
    "Effect",
    "ForgedNotificationError",
    "MalformedNotificationError",
    "NotificationDeferredError",
    "Receipt",
    "StaleNotificationError",
    "StripeVerifier",
    "VerificationUnavailableError",
    "WebhookEvent",
    "WebhookReceiver",
    "WebhookResult",
    "app",
    "is_legal_transition",
    "parse_adyen",
    "parse_paypal",
    "parse_stripe",
]
