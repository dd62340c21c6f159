"""One instance of every error a checkout can meet from payrouter, with the HTTP status each
example answers for it: the examples' tests send each one through every endpoint."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Final

from pydantic import ValidationError

import payrouter
from payrouter import (
    AllProvidersUnavailableError,
    CapacityExhaustedError,
    ConfigurationError,
    FollowUp,
    FollowUpKind,
    FollowUpNotAllowedError,
    FollowUpRefusedError,
    FollowUpStatus,
    IdempotencyConflictError,
    InvalidPaymentError,
    LedgerUnavailableError,
    Money,
    NoEligibleProviderError,
    OutcomeNotRecordedError,
    PaymentError,
    PaymentInProgressError,
    PaymentMethod,
    PayrouterError,
    ProviderRejectedRequestError,
    RouterClosedError,
)
from payrouter.provider import FailureKind, RecordsNotReadyError, UnsendableError

__all__ = ["ERRORS", "public_error_classes"]

_REFUSED = FollowUp(
    followup_id="E-1/refund/1",
    kind=FollowUpKind.REFUND,
    provider="stripe",
    method=PaymentMethod.CARD,
    order_id="E-1",
    amount=Money.of("1.00", "EUR"),
    idempotency_key="E-1/refund/1",
    status=FollowUpStatus.REFUSED,
    failure_kind=FailureKind.INVALID_REQUEST,
    provider_code="charge_disputed",
    message="the charge is disputed",
    tries=1,
    created_at=datetime(2026, 1, 1, tzinfo=UTC),
    updated_at=datetime(2026, 1, 1, tzinfo=UTC),
)


def _validation_error() -> ValidationError:
    try:
        Money.model_validate({"minor_units": -1, "currency": "EUR"})
    except ValidationError as error:
        return error
    raise AssertionError("a negative amount validated")


def _failed(kind: type[PaymentError]) -> PaymentError:
    return kind(
        f"{kind.__name__} for order E-2",
        order_id="E-2",
        healthy_methods=(PaymentMethod.WALLET,),
    )


ERRORS: Final[dict[Exception, int]] = {
    _validation_error(): 422,
    ValueError("amount: 24.901 has more decimals than EUR allows"): 422,
    InvalidPaymentError("sources: give at least one payment source"): 422,
    _failed(NoEligibleProviderError): 422,
    IdempotencyConflictError("E-2"): 409,
    PaymentInProgressError("E-2"): 409,
    OutcomeNotRecordedError("E-2", "stripe", 1): 202,
    _failed(AllProvidersUnavailableError): 503,
    _failed(CapacityExhaustedError): 503,
    LedgerUnavailableError("the ledger file payments.db is locked"): 503,
    RouterClosedError("the router is closed"): 503,
    RecordsNotReadyError("stripe", "the report is not generated yet"): 503,
    ConfigurationError("providers[stripe].options.api_key: field required"): 503,
    PayrouterError("a kind of error added later"): 503,
    _failed(ProviderRejectedRequestError): 502,
    _failed(PaymentError): 502,
    UnsendableError("amount_not_representable", "round the amount"): 502,
    FollowUpRefusedError(_REFUSED): 502,
    FollowUpNotAllowedError("only 14.90 EUR is left to refund", order_id="E-1"): 422,
}
"""Each sample error → the status both examples answer with."""


def public_error_classes() -> set[type[PayrouterError]]:
    """Every payrouter error class a merchant can import, from both public homes."""
    names = [(payrouter, name) for name in payrouter.__all__]
    names += [(payrouter.provider, name) for name in payrouter.provider.__all__]
    return {
        value
        for module, name in names
        if isinstance(value := getattr(module, name), type) and issubclass(value, PayrouterError)
    }
