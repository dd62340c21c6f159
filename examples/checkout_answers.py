"""What a checkout answers over HTTP for every payment outcome and every payrouter error.

Both example checkouts (FastAPI and Django) answer through these two functions, so the shop's
front end sees the same thing whichever framework serves it, and never a bare 500:

    200  succeeded; requires_action with `action`: what the front end does next, either
         {"kind": "redirect", "url": ...} (send the customer there; also `redirect_url`) or
         {"kind": "sdk", "client_secret": ...} for Stripe.js (`stripe.handleNextAction`) or
         {"kind": "sdk", "action": {...}} for Adyen's Drop-in (`checkout.createFromAction`)
    202  pending: the provider has not confirmed yet (or the outcome is being recorded);
         ask `GET /payments/{order_id}` later, nothing to do now
    402  declined, with the customer-safe `decline_reason`; partially authorised
    409  this order is being paid right now, or was paid with other details
    422  invalid input, naming the field; no provider takes this kind of payment
    502  every provider refused the request as invalid: nothing was charged, and the same
         order can be paid again (`payable_again`)
    503  no provider (or no capacity, or the ledger) can take it right now: nothing was
         charged; `Retry-After` says when to try again, `methods_available_now` what works now

Messages come from payrouter's errors, which never carry a card number, token or IBAN.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

from pydantic import ValidationError

from payrouter import (
    AllProvidersUnavailableError,
    CapacityExhaustedError,
    ConfigurationError,
    FollowUpNotAllowedError,
    FollowUpRefusedError,
    IdempotencyConflictError,
    InvalidPaymentError,
    LedgerUnavailableError,
    NoEligibleProviderError,
    OutcomeNotRecordedError,
    PaymentError,
    PaymentInProgressError,
    PaymentResult,
    PaymentStatus,
    PayrouterError,
    ProviderRejectedRequestError,
    RouterClosedError,
)
from payrouter.provider import FailureKind, NextAction, RecordsNotReadyError, UnsendableError

__all__ = ["Answer", "action_view", "for_error", "for_result", "payment_view"]

RETRY_AFTER_SECONDS: Final = 2
"""How long a front end waits before asking again when nothing could take the payment now:
breakers re-test a provider within seconds, and a shed payment finds capacity soon after."""


@dataclass(frozen=True, slots=True)
class Answer:
    """One HTTP answer: status, JSON body and headers, for any framework to send."""

    status: int
    body: dict[str, object]
    headers: dict[str, str] = field(default_factory=dict)


def payment_view(result: PaymentResult) -> dict[str, object]:
    """What the front end needs to know about a payment, and nothing more."""
    awaiting = result.status is PaymentStatus.REQUIRES_ACTION
    return {
        "order_id": result.order_id,
        "status": result.status.value,
        "provider": result.provider,
        "redirect_url": result.action_url if awaiting else None,
        "action": action_view(result.action) if awaiting and result.action else None,
        "decline_reason": result.decline_reason,
    }


def action_view(action: NextAction) -> dict[str, object]:
    """The action as the front end's code takes it. The client secret leaves the server only
    here, in the answer to the customer's own checkout (Stripe: never log or store it)."""
    view: dict[str, object] = {"kind": action.kind, "type": action.provider_type}
    if action.url is not None:
        view["url"] = action.url
    if action.client_secret is not None:
        view["client_secret"] = action.client_secret.get_secret_value()
    if action.provider_data is not None:
        view["action"] = action.provider_data
    return view


def for_result(result: PaymentResult) -> Answer:
    """The answer for a payment `pay` (or the return page's `refresh`) came back with."""
    view = payment_view(result)
    match result.status:
        case PaymentStatus.SUCCEEDED | PaymentStatus.REQUIRES_ACTION:
            return Answer(200, view)
        case PaymentStatus.PENDING:
            return Answer(202, view | {"detail": "the provider has not confirmed it yet"})
        case PaymentStatus.PROCESSING:
            return Answer(409, view | {"detail": "this order is being paid right now"}, _later())
        case PaymentStatus.DECLINED:
            return Answer(402, view)
        case PaymentStatus.PARTIALLY_AUTHORISED:
            detail = "the card's issuer authorised only part of the amount; nothing was captured"
            return Answer(402, view | {"detail": detail})
        case PaymentStatus.FAILED if result.failure_kind is FailureKind.INVALID_REQUEST:
            detail = "every provider refused this payment; nothing was charged"
            return Answer(502, view | {"detail": detail, "payable_again": True})
        case PaymentStatus.FAILED:
            detail = "no provider could take this payment; nothing was charged"
            return Answer(503, view | {"detail": detail, "payable_again": True}, _later())


def for_error(error: PayrouterError | ValueError) -> Answer:
    """The answer for an error raised while paying, refreshing or refunding: every payrouter
    error, and invalid input (a `ValueError`, pydantic's `ValidationError` among them)."""
    match error:
        case ValidationError():  # before InvalidPaymentError: both are ValueErrors
            return Answer(422, {"detail": _problems(error)})
        case ProviderRejectedRequestError():
            return Answer(502, _failed(error, "every provider refused this payment"))
        case CapacityExhaustedError() | AllProvidersUnavailableError():
            return Answer(503, _failed(error, "no provider can take it right now"), _later())
        case NoEligibleProviderError():
            return Answer(422, _failed(error, "no provider takes this kind of payment"))
        case PaymentError():  # a future kind of "not completed": nothing was charged
            return Answer(502, _failed(error, "the payment was not completed"))
        case PaymentInProgressError():
            return Answer(409, {"detail": str(error)}, _later())
        case IdempotencyConflictError():
            return Answer(409, {"detail": str(error)})
        case OutcomeNotRecordedError():  # the provider may have charged: settle, don't retry
            return Answer(202, {"status": PaymentStatus.PENDING.value, "detail": str(error)})
        case LedgerUnavailableError() | RouterClosedError() | RecordsNotReadyError():
            return Answer(503, {"detail": str(error)}, _later())
        case FollowUpRefusedError() | UnsendableError():
            return Answer(502, {"detail": str(error)})
        case InvalidPaymentError() | FollowUpNotAllowedError():
            return Answer(422, {"detail": str(error)})
        case ConfigurationError():  # the server's set-up, not the customer's: say so
            return Answer(503, {"detail": "payments are not set up on this server"})
        case PayrouterError():  # a kind added later: nothing known to be charged
            return Answer(503, {"detail": str(error)}, _later())
    return Answer(422, {"detail": str(error)})  # e.g. an amount with too many decimals


def _later() -> dict[str, str]:
    return {"Retry-After": str(RETRY_AFTER_SECONDS)}


def _failed(error: PaymentError, what: str) -> dict[str, object]:
    """A payment that ended with nothing charged: it is `failed`, so the same order can be
    paid again, with the same details or fixed ones."""
    return {
        "detail": f"{what}; nothing was charged",
        "reason": str(error),
        "order_id": error.order_id,
        "payable_again": True,
        "methods_available_now": [method.value for method in error.healthy_methods],
    }


def _problems(error: ValidationError) -> str:
    """`field: message` per problem, never the input (it may be a card number)."""
    return "; ".join(
        f"{'.'.join(str(part) for part in issue['loc']) or 'body'}: {issue['msg']}"
        for issue in error.errors(include_input=False, include_url=False)
    )
