"""Verifying provider notifications so nobody can forge a payment's outcome.

This first slice holds the signature verifiers and the transition table; the ledger
store, ASGI app and Django function are not built yet (see the task report).
"""

from ._errors import ForgedNotificationError, MalformedNotificationError, StaleNotificationError
from ._event import WebhookEvent, parse_stripe
from ._signatures import AdyenVerifier, StripeVerifier
from ._transitions import is_legal_transition

__all__ = [
    "AdyenVerifier",
    "ForgedNotificationError",
    "MalformedNotificationError",
    "StaleNotificationError",
    "StripeVerifier",
    "WebhookEvent",
    "is_legal_transition",
    "parse_stripe",
]
