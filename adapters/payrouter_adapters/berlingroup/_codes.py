"""Berlin Group NextGenPSD2 1.3.x codes as data: reviewers read rows, not branches.

`FAILURE_BY_CODE` maps every `tppMessages[].code` (or RFC 7807 `code`) the PIS part of the
specification defines for HTTP 400, 401, 403, 404, 405, 406, 409 and 429, plus the
`FUNDS_NOT_AVAILABLE` status message, to the taxonomy, for an initiation or a cancellation.
`STATUS_FAILURE_BY_CODE` is the same table for an error answering a status request, which moves
nothing and says nothing about the payment. `TRANSACTION_STATUS` maps the ISO 20022
`transactionStatus` values to an outcome. The adorsys copy of the 1.3.11 document dropped the
`MessageCode*_PIS` enums; the rows follow the Berlin Group Implementation Guidelines 1.3.x.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

from payrouter.provider import FailureKind, Outcome

__all__ = ["FAILURE_BY_CODE", "SCA_LINKS", "STATUS_FAILURE_BY_CODE", "TRANSACTION_STATUS"]

_K = FailureKind

FAILURE_BY_CODE: Final[Mapping[str, FailureKind]] = MappingProxyType(
    {
        # 400: our request is malformed or inconsistent; no payment resource was created.
        "FORMAT_ERROR": _K.INVALID_REQUEST,
        "PARAMETER_NOT_CONSISTENT": _K.INVALID_REQUEST,
        "PARAMETER_NOT_SUPPORTED": _K.INVALID_REQUEST,
        "SERVICE_INVALID": _K.INVALID_REQUEST,
        "RESOURCE_BLOCKED": _K.INVALID_REQUEST,
        "TIMESTAMP_INVALID": _K.INVALID_REQUEST,
        "PERIOD_INVALID": _K.INVALID_REQUEST,
        "SCA_METHOD_UNKNOWN": _K.INVALID_REQUEST,
        "EXECUTION_DATE_INVALID": _K.INVALID_REQUEST,
        "KID_MISSING": _K.INVALID_REQUEST,
        "REQUIRED_KID_MISSING": _K.INVALID_REQUEST,
        # The ASPSP refused the initiation itself (xs2a: amount above the available funds).
        "PAYMENT_FAILED": _K.CARD_DECLINED,
        "FUNDS_NOT_AVAILABLE": _K.INSUFFICIENT_FUNDS,
        # The payment resource: gone means gone; expired does not say whether it executed.
        "RESOURCE_UNKNOWN": _K.NOT_FOUND,
        "RESOURCE_EXPIRED": _K.INVALID_REQUEST,
        # 401: the TPP's certificate, signature or OAuth token, i.e. our configuration.
        "CERTIFICATE_INVALID": _K.CREDENTIALS_REJECTED,
        "CERTIFICATE_EXPIRED": _K.CREDENTIALS_REJECTED,
        "CERTIFICATE_BLOCKED": _K.CREDENTIALS_REJECTED,
        "CERTIFICATE_REVOKED": _K.CREDENTIALS_REJECTED,
        "CERTIFICATE_MISSING": _K.CREDENTIALS_REJECTED,
        "ROLE_INVALID": _K.CREDENTIALS_REJECTED,
        "SIGNATURE_INVALID": _K.CREDENTIALS_REJECTED,
        "SIGNATURE_MISSING": _K.CREDENTIALS_REJECTED,
        "TOKEN_INVALID": _K.CREDENTIALS_REJECTED,
        "TOKEN_UNKNOWN": _K.CREDENTIALS_REJECTED,
        "TOKEN_EXPIRED": _K.CREDENTIALS_REJECTED,
        "CONSENT_UNKNOWN": _K.CREDENTIALS_REJECTED,
        "CONSENT_INVALID": _K.CREDENTIALS_REJECTED,
        "CONSENT_EXPIRED": _K.CREDENTIALS_REJECTED,
        # 401/400: the customer (PSU) could not be identified or authenticated.
        "PSU_CREDENTIALS_INVALID": _K.AUTHENTICATION_FAILED,
        "CORPORATE_ID_INVALID": _K.AUTHENTICATION_FAILED,
        "SCA_INVALID": _K.AUTHENTICATION_FAILED,
        # 403: the service or product is barred for this customer.
        "SERVICE_BLOCKED": _K.ACCOUNT_LOCKED,
        "PRODUCT_INVALID": _K.CARD_DECLINED,
        # 404/405/406/409: the ASPSP does not offer what we asked for, or not in this state.
        "PRODUCT_UNKNOWN": _K.INVALID_REQUEST,
        "CANCELLATION_INVALID": _K.INVALID_REQUEST,
        "REQUESTED_FORMATS_INVALID": _K.INVALID_REQUEST,
        "STATUS_INVALID": _K.INVALID_REQUEST,
        # 429: too many requests (or accesses without the PSU present) for the ASPSP.
        "ACCESS_EXCEEDED": _K.RATE_LIMITED,
    }
)
"""One row per documented message code; `tests/adapters/test_berlingroup.py` pins every row."""

STATUS_FAILURE_BY_CODE: Final[Mapping[str, FailureKind]] = MappingProxyType(
    {
        **FAILURE_BY_CODE,
        # A status request (`GET .../{paymentId}/status`) moves nothing, and an error answering
        # it is about that request, not the payment: PAYMENT_FAILED and FUNDS_NOT_AVAILABLE say
        # why an initiation was refused (a rejected payment answers 200 RJCT, read with
        # `FAILURE_BY_CODE`), SERVICE_BLOCKED blocks the PSU's access now, not a transfer
        # that may have executed before, and no PSU takes part in a status request. None is a
        # decline here: where the money stands is unknown, and the next lookup asks again.
        "PAYMENT_FAILED": _K.UNKNOWN_OUTCOME,
        "FUNDS_NOT_AVAILABLE": _K.UNKNOWN_OUTCOME,
        "PSU_CREDENTIALS_INVALID": _K.UNKNOWN_OUTCOME,
        "CORPORATE_ID_INVALID": _K.UNKNOWN_OUTCOME,
        "SCA_INVALID": _K.UNKNOWN_OUTCOME,
        "SERVICE_BLOCKED": _K.UNKNOWN_OUTCOME,
        "PRODUCT_INVALID": _K.UNKNOWN_OUTCOME,
    }
)
"""`FAILURE_BY_CODE` for a status request. The other rows stay: they are the request's own
failure (our request, our credentials, throttling), which a lookup reports without the
paymentId and so never as the payment's outcome; RESOURCE_UNKNOWN stays `NOT_FOUND`, which the
router never takes as proof of absence from a lookup by paymentId."""

TRANSACTION_STATUS: Final[Mapping[str, Outcome]] = MappingProxyType(
    {
        # Settled: on the creditor's account (ACCC) or completed on the debtor's (ACSC).
        "ACCC": Outcome.SUCCEEDED,
        "ACSC": Outcome.SUCCEEDED,
        # Accepted or in flight, but the money has not arrived yet.
        "ACCP": Outcome.PENDING,
        "ACSP": Outcome.PENDING,
        "ACTC": Outcome.PENDING,
        "ACWC": Outcome.PENDING,
        "ACWP": Outcome.PENDING,
        "ACFC": Outcome.PENDING,
        "PDNG": Outcome.PENDING,
        "PART": Outcome.PENDING,
        # Received, waiting for the customer's SCA: nothing authorised, no money in flight.
        # PATC: a multi-level SCA with some but not all authorisations done (RJCT if the rest
        # do not come in time).
        "RCVD": Outcome.REQUIRES_ACTION,
        "PATC": Outcome.REQUIRES_ACTION,
        # Rejected by the ASPSP, or cancelled before execution: no money moved.
        "RJCT": Outcome.FAILED,
        "CANC": Outcome.FAILED,
    }
)
"""ISO 20022 `transactionStatus` as the specification lists it, to our outcomes."""

SCA_LINKS: Final[tuple[str, ...]] = (
    "scaRedirect",
    "scaOAuth",
    "startAuthorisation",
    "startAuthorisationWithPsuIdentification",
    "startAuthorisationWithPsuAuthentication",
    "startAuthorisationWithEncryptedPsuAuthentication",
    "startAuthorisationWithAuthenticationMethodSelection",
    "startAuthorisationWithTransactionAuthorisation",
)
"""`_links` that say the customer must authorise, in order of preference."""
