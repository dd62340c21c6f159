"""payrouter's one exception tree; `except PayrouterError` covers the whole library.

    PayrouterError
      ConfigurationError            router, provider or adapter set up wrongly; raised at startup
      InvalidPaymentError           input refused before any provider was called (also ValueError)
      IdempotencyConflictError      the order id was already used with other money fields
      PaymentInProgressError        another worker is paying this order right now; ask again
      LedgerUnavailableError        the ledger cannot be written, so no provider is called
      OutcomeNotRecordedError       a provider was called but its answer could not be written:
                                    it may have charged; reconcile settles it
      RouterClosedError             the router was used before opening or after closing
      PaymentError                  the payment was not completed; `.attempts` lists each try
        NoEligibleProviderError     no configured provider can take this payment at all
        AllProvidersUnavailableError  every eligible provider was busy, down or in maintenance
          CapacityExhaustedError    no capacity to call one: rate limits, caps, or shed at admission
        ProviderRejectedRequestError  every provider tried refused the request as invalid
      FollowUpNotAllowedError       a capture/refund/void broke a money rule (also ValueError)
      FollowUpRefusedError          the provider definitely refused a follow-up; see `.followup`
      RecordsNotReadyError          a provider has not published a period's records yet (its
                                    records source raises it; the comparison reports it late)
      UnsendableError               an adapter cannot put a request in its provider's terms
                                    (also ValueError; in payrouter.provider, answered by the
                                    adapter as INVALID_REQUEST, nothing sent)

A declined payment is not an exception: `pay` returns a `PaymentResult` whose status is
`declined`, with a customer-safe reason. Messages and reprs never contain secrets.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import ValidationError

if TYPE_CHECKING:
    from ._followups import FollowUp
    from ._models import AttemptSummary, PaymentMethod

__all__ = [
    "AllProvidersUnavailableError",
    "CapacityExhaustedError",
    "ConfigurationError",
    "FollowUpNotAllowedError",
    "FollowUpRefusedError",
    "IdempotencyConflictError",
    "InvalidPaymentError",
    "LedgerUnavailableError",
    "NoEligibleProviderError",
    "OutcomeNotRecordedError",
    "PaymentError",
    "PaymentInProgressError",
    "PayrouterError",
    "ProviderRejectedRequestError",
    "RouterClosedError",
]


class PayrouterError(Exception):
    """Root of the tree, so that one `except` clause can handle every payrouter failure."""


class ConfigurationError(PayrouterError):
    """The router or a provider is configured wrongly; the message names the field and fix."""

    @classmethod
    def from_validation(cls, error: ValidationError, origin: str) -> ConfigurationError:
        """One line per problem, `field.path: message`, never the input value itself (it may be
        a secret): the form every config, scenario and option error takes."""
        problems = "\n".join(
            f"  {'.'.join(str(part) for part in issue['loc']) or '(top)'}: {issue['msg']}"
            for issue in error.errors(include_input=False)
        )
        return cls(f"{origin} has {error.error_count()} problem(s):\n{problems}")


class InvalidPaymentError(PayrouterError, ValueError):
    """The payment request was refused at the edge; no provider was called."""


class IdempotencyConflictError(PayrouterError):
    """The order id was paid before with a different amount, currency, customer or source.

    Reusing an order id for another payment would break "one order, one charge": use a new
    order id for a new payment. A `failed` payment charged nothing, so its order id may be
    paid again with other details, and this is not raised for it.
    """

    def __init__(self, order_id: str) -> None:
        super().__init__(
            f"order {order_id!r} was already submitted with different amount, currency, "
            "customer or payment sources: use a new order id for a different payment"
        )
        self.order_id = order_id


class PaymentInProgressError(PayrouterError):
    """Another call or worker holds this order and has not finished within our wait.

    Nothing was sent; ask again with `router.lookup(order_id)` or the same `pay` later.
    """

    def __init__(self, order_id: str) -> None:
        super().__init__(f"order {order_id!r} is still being processed by another worker")
        self.order_id = order_id


class LedgerUnavailableError(PayrouterError):
    """The ledger cannot be used, so no provider was called (write before call).

    Nothing was charged: the same order id can be paid again once the ledger is back. The
    message names the file (or server) and the fix. When a provider had already been called
    the router raises `OutcomeNotRecordedError` instead, never this.
    """


class OutcomeNotRecordedError(PayrouterError):
    """A provider was called, but the ledger could not record what it answered.

    The provider may have charged. The attempt is in the ledger without an outcome, so
    `reconcile` (or `payrouter worker`) asks the provider and settles the payment once the
    ledger is back. Do not retry under another order id: that would charge twice. Retrying
    `pay` with the same order id is safe: it answers the settled result, or that the payment
    is still in progress.

    Not a `LedgerUnavailableError` on purpose: code that treats that error as "nothing
    happened, try again" must not catch this one.
    """

    def __init__(self, order_id: str, provider: str, attempt: int) -> None:
        super().__init__(
            f"order {order_id!r}: {provider} was called (attempt {attempt}) but the outcome "
            "could not be recorded in the ledger; the provider may have charged. Reconcile "
            "will settle it once the ledger is back: do not retry under another order id"
        )
        self.order_id = order_id
        self.provider = provider
        self.attempt = attempt


class RouterClosedError(PayrouterError):
    """The router is not open: use `async with Router(...)` or call `await router.open()`."""


class PaymentError(PayrouterError):
    """The payment was not completed, and no money moved; `.attempts` says what was tried.

    The ledger keeps the payment as `failed`, so the same order id may be paid again later.
    """

    def __init__(
        self,
        message: str,
        *,
        order_id: str,
        attempts: tuple[AttemptSummary, ...] = (),
        healthy_methods: tuple[PaymentMethod, ...] = (),
    ) -> None:
        super().__init__(message)
        self.order_id = order_id
        self.attempts = attempts
        self.healthy_methods = healthy_methods
        """Methods that can take this payment right now, so the checkout can offer them."""


class NoEligibleProviderError(PaymentError):
    """No configured provider supports any of the request's methods, currency or country."""


class AllProvidersUnavailableError(PaymentError):
    """Every eligible provider was busy, down, throttling or in maintenance; nothing moved."""


class CapacityExhaustedError(AllProvidersUnavailableError):
    """There was no capacity to call a provider in time, so none was called; no money moved.

    Either every eligible provider was at its rate limit or concurrency cap, or this process
    was shed at admission: it already had as many payments in flight as it can pay in time
    (its adaptive limit, lowered while the event loop lags), so the payment was refused
    before the ledger saw it. The router fails fast rather than queue: retry shortly, or
    offer another method.
    """


class ProviderRejectedRequestError(PaymentError):
    """Every provider tried refused the request as invalid, as it saw it; nothing was charged.

    Each refusal (a token the provider never issued, a field it alone requires) moved the
    payment on to the next candidate; this is raised when none was left. The payment is
    `failed`, so the same order id can be paid again, with the same details or fixed ones.
    Refusals also raise an alert: they may be a bug in the integration.
    """


class FollowUpNotAllowedError(PayrouterError, ValueError):
    """A capture, refund or void broke a money rule, so it was neither recorded nor sent.

    The message names the payment, the rule and what to do instead (refund a captured
    payment, void an authorized one, wait for a pending one to resolve).
    """

    def __init__(self, message: str, *, order_id: str | None = None) -> None:
        super().__init__(message)
        self.order_id = order_id


class FollowUpRefusedError(PayrouterError):
    """The provider definitely refused a follow-up; it stays in the ledger as `refused`.

    Never retried on its own: `.followup` carries the provider's code and message, for a
    person to act on (a refund of a disputed charge, a card closed since, ...).
    """

    def __init__(self, followup: FollowUp) -> None:
        what = followup.order_id or followup.mandate_id
        why = f"{followup.failure_kind} ({followup.provider_code}) {followup.message or ''}"
        super().__init__(
            f"{followup.provider} refused {followup.kind.value} {followup.followup_id} of "
            f"{what!r}: {why.rstrip()}"
        )
        self.followup = followup
