"""Berlin Group NextGenPSD2 1.3.x codes as data: reviewers read rows, not branches.

`FAILURE_BY_CODE` maps every `tppMessages[].code` (or RFC 7807 `code`) the PIS part of the
specification defines for HTTP 400, 401, 403, 404, 405, 406, 409 and 429, plus the
`FUNDS_NOT_AVAILABLE` status message, to the taxonomy. `TRANSACTION_STATUS` maps the ISO 20022
`transactionStatus` values to an outcome. The adorsys copy of the 1.3.11 document dropped the
`MessageCode*_PIS` enums; the rows follow the Berlin Group Implementation Guidelines 1.3.x.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

from payrouter.provider import FailureKind, Outcome

__all__ = ["FAILURE_BY_CODE", "SCA_LINKS", "TRANSACTION_STATUS"]

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
        "PATC": Outcome.PENDING,
        "PART": Outcome.PENDING,
        # Received, waiting for the customer's SCA: nothing authorised, no money in flight.
        "RCVD": Outcome.REQUIRES_ACTION,
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
