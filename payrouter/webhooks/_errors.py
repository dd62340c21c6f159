"""Why a notification was refused; each maps to one HTTP status the provider sees."""


class ForgedNotificationError(Exception):
    """The signature is missing or does not match: answered 401, nothing is applied."""


class StaleNotificationError(Exception):
    """The signed timestamp lies outside the tolerance window: a captured request replayed
    later. Answered 401 like a forgery, because the signature no longer vouches for it."""


class MalformedNotificationError(Exception):
    """The body is not the JSON shape the provider documents: answered 400."""


class NotificationDeferredError(Exception):
    """The payment is being paid right now (a live worker holds its lease): answered 503 and
    nothing is stored, so the provider delivers again once the worker has written its own
    outcome; applied now, that outcome would overwrite it."""


class VerificationUnavailableError(Exception):
    """The provider's verification service could not be asked (PayPal verifies by API):
    answered 503, so the provider delivers the notification again later."""
