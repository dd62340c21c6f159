"""Why a notification was refused; each maps to one HTTP status the provider sees.

    PayrouterError
      WebhookError                    a notification was refused or put off; nothing applied
        ForgedNotificationError       401: signature missing or wrong
        StaleNotificationError        401: signed timestamp outside the tolerance window
        MalformedNotificationError    400: not the shape the provider documents
        NotificationTooLargeError     413: the body is over the receiver's size limit
        NotificationDeferredError     503: the payment is being paid right now
        VerificationUnavailableError  503: the provider's verification API cannot be asked

A `WebhookSource` raises only these (and nothing else) for whatever bytes it is handed, so
the receiver can answer every delivery with a 4xx or 5xx that says why, never a crash.
"""

from __future__ import annotations

from .._errors import PayrouterError

__all__ = [
    "ForgedNotificationError",
    "MalformedNotificationError",
    "NotificationDeferredError",
    "NotificationTooLargeError",
    "StaleNotificationError",
    "VerificationUnavailableError",
    "WebhookError",
]


class WebhookError(PayrouterError):
    """A notification was refused or put off; `status` is the HTTP answer it gets."""

    status: int = 400


class ForgedNotificationError(WebhookError):
    """The signature is missing or does not match: answered 401, nothing is applied."""

    status = 401


class StaleNotificationError(WebhookError):
    """The signed timestamp lies outside the tolerance window: a captured request replayed
    later. Answered 401 like a forgery, because the signature no longer vouches for it."""

    status = 401


class MalformedNotificationError(WebhookError):
    """The body is not the JSON shape the provider documents (bad JSON, nested too deep,
    fields of the wrong type, amounts out of range): answered 400 with the reason."""

    status = 400


class NotificationTooLargeError(WebhookError):
    """The body is larger than the receiver's `max_body_bytes`: answered 413, and reading
    stops at the limit, so an oversized body is never held in memory or parsed."""

    status = 413


class NotificationDeferredError(WebhookError):
    """The payment is being paid right now (a live worker holds its lease): answered 503 and
    nothing is stored, so the provider delivers again once the worker has written its own
    outcome; applied now, that outcome would overwrite it."""

    status = 503


class VerificationUnavailableError(WebhookError):
    """The provider's verification service could not be asked (PayPal verifies by API):
    answered 503, so the provider delivers the notification again later."""

    status = 503
