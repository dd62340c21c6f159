"""Provider notifications nobody can forge, applied to the ledger once and only forwards.

`WebhookReceiver` takes one `WebhookSource` per provider (each provider's adapter package
has one: `payrouter_adapters.stripe.StripeWebhooks`, `.adyen.AdyenWebhooks`,
`.paypal.PayPalWebhooks`), which verifies a delivery and reads it into neutral
`WebhookEvent`s. The receiver refuses bodies over its size limit (413), answers what a
source refuses with the error's status, and applies each event through
`Router.apply_webhook`: one ledger transaction that also remembers the event id, so replays
change nothing, out-of-order events never move a payment backwards, and an amount that is
not the payment's never marks it paid. Mount `app(receiver)` in FastAPI/Starlette, or call
`payrouter.webhooks.django.handle` from a Django view.
"""

from .._public import present_as_public
from ._asgi import app
from ._errors import (
    ForgedNotificationError,
    MalformedNotificationError,
    NotificationDeferredError,
    NotificationTooLargeError,
    StaleNotificationError,
    VerificationUnavailableError,
    WebhookError,
)
from ._event import Effect, WebhookEvent, WebhookSource, load_json_object
from ._receipt import Receipt, WebhookResult
from ._receiver import Answer, WebhookReceiver

__all__ = [
    "Answer",
    "Effect",
    "ForgedNotificationError",
    "MalformedNotificationError",
    "NotificationDeferredError",
    "NotificationTooLargeError",
    "Receipt",
    "StaleNotificationError",
    "VerificationUnavailableError",
    "WebhookError",
    "WebhookEvent",
    "WebhookReceiver",
    "WebhookResult",
    "WebhookSource",
    "app",
    "load_json_object",
]

present_as_public(__name__, __all__, globals())
