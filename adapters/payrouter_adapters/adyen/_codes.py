"""Adyen's codes as data: each table is read-only and looked up with one `.get()`.

Reviewers read rows, not branches; `tests/adapters/test_adyen.py` has a test per row. Where a
row's choice is not obvious, the comment next to it says why.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final

from payrouter.provider import DeclineType, FailureKind, Outcome

__all__ = [
    "ADYEN_EXPONENTS",
    "ERROR_CODES",
    "HTTP_STATUSES",
    "PAYMENT_ERROR_CODES",
    "REFUND_REASONS",
    "REFUSALS",
    "REFUSAL_CODE_BY_REASON",
    "REFUSAL_DECLINE_TYPES",
    "RESULT_CODES",
    "ResultRow",
]


@dataclass(frozen=True, slots=True)
class ResultRow:
    """One `resultCode`: its outcome and, for failures, the kind when the reason is unmapped."""

    outcome: Outcome
    default_kind: FailureKind | None = None


RESULT_CODES: Final[Mapping[str, ResultRow]] = MappingProxyType(
    {
        "Authorised": ResultRow(Outcome.SUCCEEDED),
        "Received": ResultRow(Outcome.PENDING),
        "Pending": ResultRow(Outcome.PENDING),
        "RedirectShopper": ResultRow(Outcome.REQUIRES_ACTION),
        "IdentifyShopper": ResultRow(Outcome.REQUIRES_ACTION),
        "ChallengeShopper": ResultRow(Outcome.REQUIRES_ACTION),
        "PresentToShopper": ResultRow(Outcome.REQUIRES_ACTION),
        "Refused": ResultRow(Outcome.FAILED, FailureKind.CARD_DECLINED),
        # "Error" is final (no money moved) but says nothing against the shopper's source: it
        # is the processing chain failing, so another provider may well succeed.
        "Error": ResultRow(Outcome.FAILED, FailureKind.PROVIDER_DOWN),
        # Cancelled "by the shopper or the merchant before processing was completed": we never
        # cancel an open payment ourselves, so it is the shopper abandoning the approval.
        "Cancelled": ResultRow(Outcome.FAILED, FailureKind.AUTHENTICATION_FAILED),
        # The issuer held part of the amount (the answer's `amount`): neither a success nor a
        # failure, its own state; the merchant captures the part or voids it.
        "PartiallyAuthorised": ResultRow(Outcome.PARTIALLY_AUTHORISED),
    }
)
"""`PaymentResponse.resultCode` → outcome. Authentication-only codes (`AuthenticationFinished`,
`AuthenticationNotRequired`) and `Success` are never requested, so they stay unmapped: unknown."""


REFUSALS: Final[Mapping[str, FailureKind]] = MappingProxyType(
    {
        "0": FailureKind.CARD_DECLINED,  # Unknown
        "2": FailureKind.CARD_DECLINED,  # Refused
        "3": FailureKind.CARD_DECLINED,  # Referral
        "4": FailureKind.PROVIDER_DOWN,  # Acquirer Error: the chain failed, not the card
        "5": FailureKind.ACCOUNT_LOCKED,  # Blocked Card
        "6": FailureKind.CARD_DECLINED,  # Expired Card
        "7": FailureKind.CARD_DECLINED,  # Invalid Amount
        "8": FailureKind.CARD_DECLINED,  # Invalid Card Number
        "9": FailureKind.CARD_DECLINED,  # Issuer Unavailable: another provider hits the same bank
        "10": FailureKind.CARD_DECLINED,  # Not supported
        "11": FailureKind.AUTHENTICATION_FAILED,  # 3D Not Authenticated
        "12": FailureKind.INSUFFICIENT_FUNDS,  # Not enough balance
        "14": FailureKind.SUSPECTED_FRAUD,  # Acquirer Fraud
        "15": FailureKind.CARD_DECLINED,  # Cancelled
        "16": FailureKind.AUTHENTICATION_FAILED,  # Shopper Cancelled
        "17": FailureKind.AUTHENTICATION_FAILED,  # Invalid Pin
        "18": FailureKind.ACCOUNT_LOCKED,  # Pin tries exceeded
        "19": FailureKind.AUTHENTICATION_FAILED,  # Pin validation not possible
        "20": FailureKind.SUSPECTED_FRAUD,  # FRAUD
        "21": FailureKind.PROVIDER_DOWN,  # Not Submitted: never reached the issuer
        "22": FailureKind.SUSPECTED_FRAUD,  # FRAUD-CANCELLED
        "23": FailureKind.CARD_DECLINED,  # Transaction Not Permitted
        "24": FailureKind.CARD_DECLINED,  # CVC Declined
        "25": FailureKind.REGION_RESTRICTED,  # Restricted Card: not usable in this country
        "26": FailureKind.CARD_DECLINED,  # Revocation Of Auth
        "27": FailureKind.CARD_DECLINED,  # Declined Non Generic
        "28": FailureKind.INSUFFICIENT_FUNDS,  # Withdrawal amount exceeded
        "29": FailureKind.CARD_DECLINED,  # Withdrawal count exceeded
        "31": FailureKind.SUSPECTED_FRAUD,  # Issuer Suspected Fraud
        "32": FailureKind.CARD_DECLINED,  # AVS Declined
        "33": FailureKind.AUTHENTICATION_FAILED,  # Card requires online pin
        "34": FailureKind.CARD_DECLINED,  # No checking account available on Card
        "35": FailureKind.CARD_DECLINED,  # No savings account available on Card
        "36": FailureKind.AUTHENTICATION_FAILED,  # Mobile pin required
        "37": FailureKind.CARD_DECLINED,  # Contactless fallback
        # Authentication required: the issuer wants 3-D Secure that was not done here (a
        # payment without the shopper, or attemptAuthentication never). Not a failed check.
        "38": FailureKind.AUTHENTICATION_REQUIRED,
        "39": FailureKind.AUTHENTICATION_FAILED,  # RReq not received from DS
        "40": FailureKind.CARD_DECLINED,  # Current AID is in Penalty Box
        "41": FailureKind.AUTHENTICATION_FAILED,  # CVM Required Restart Payment
        "42": FailureKind.AUTHENTICATION_FAILED,  # 3DS Authentication Error
        "44": FailureKind.CARD_DECLINED,  # Transaction blocked by Adyen to prevent retry fees
    }
)
"""`refusalReasonCode` → kind, for `Refused` and `Error` results (Adyen's refusal reasons)."""

REFUSAL_DECLINE_TYPES: Final[Mapping[str, DeclineType]] = MappingProxyType(
    {
        # Soft: this attempt's, not the card's; another acquirer may get an approval.
        "0": DeclineType.SOFT,  # Unknown: the issuer gave no reason
        "2": DeclineType.SOFT,  # Refused: a generic decline, such as "do not honour"
        "9": DeclineType.SOFT,  # Issuer Unavailable
        # Hard: lost or stolen, invalid account or number, fraud, closed, expired.
        "5": DeclineType.HARD,  # Blocked Card
        "6": DeclineType.HARD,  # Expired Card
        "8": DeclineType.HARD,  # Invalid Card Number
        "14": DeclineType.HARD,  # Acquirer Fraud
        "20": DeclineType.HARD,  # FRAUD
        "22": DeclineType.HARD,  # FRAUD-CANCELLED
        "26": DeclineType.HARD,  # Revocation Of Auth
        "31": DeclineType.HARD,  # Issuer Suspected Fraud
        # Adyen itself stops retries that would cost network fees.
        "44": DeclineType.HARD,  # Transaction blocked by Adyen to prevent retry fees
    }
)
"""`refusalReasonCode` → soft or hard; a code not listed takes its kind's type (hard for
every decline kind). Adyen's "Acquirer Error" (4) and "Not Submitted" (21) are no declines:
the chain failed before the issuer, so they fail over as `provider_down`."""

REFUSAL_CODE_BY_REASON: Final[Mapping[str, str]] = MappingProxyType(
    {
        "unknown": "0",
        "refused": "2",
        "referral": "3",
        "acquirer error": "4",
        "blocked card": "5",
        "expired card": "6",
        "invalid amount": "7",
        "invalid card number": "8",
        "issuer unavailable": "9",
        "not supported": "10",
        "3d not authenticated": "11",
        "not enough balance": "12",
        "acquirer fraud": "14",
        "cancelled": "15",
        "shopper cancelled": "16",
        "invalid pin": "17",
        "pin tries exceeded": "18",
        "pin validation not possible": "19",
        "fraud": "20",
        "not submitted": "21",
        "fraud-cancelled": "22",
        "transaction not permitted": "23",
        "cvc declined": "24",
        "restricted card": "25",
        "revocation of auth": "26",
        "declined non generic": "27",
        "withdrawal amount exceeded": "28",
        "withdrawal count exceeded": "29",
        "issuer suspected fraud": "31",
        "avs declined": "32",
        "card requires online pin": "33",
        "no checking account available on card": "34",
        "no savings account available on card": "35",
        "mobile pin required": "36",
        "contactless fallback": "37",
        "authentication required": "38",
        "rreq not received from ds": "39",
        "current aid is in penalty box": "40",
        "cvm required restart payment": "41",
        "3ds authentication error": "42",
        "transaction blocked by adyen to prevent excessive retry fees": "44",
    }
)
"""Lower-cased `refusalReason` text → its code, for replies that carry only the text."""


HTTP_STATUSES: Final[Mapping[int, FailureKind]] = MappingProxyType(
    {
        401: FailureKind.CREDENTIALS_REJECTED,  # our API key is wrong
        403: FailureKind.CREDENTIALS_REJECTED,  # key lacks the role, or wrong merchant account
        # "Resource is locked: the request is already processed or in progress": a concurrent
        # duplicate under the same Idempotency-Key, still in flight.
        409: FailureKind.UNKNOWN_OUTCOME,
        429: FailureKind.RATE_LIMITED,
        # Adyen's own errors come as 500 with a body; a bare 503 comes from its edge, before
        # the payments platform saw the request, and the same key makes a retry safe.
        503: FailureKind.BUSY,
    }
)
"""HTTP status → kind, checked before the body's `errorCode`. Other 5xx (500, 502, 504) may
come after processing: unless their `errorCode` proves a rejection, they are unknown."""


ERROR_CODES: Final[Mapping[str, FailureKind]] = MappingProxyType(
    {
        "704": FailureKind.UNKNOWN_OUTCOME,  # request already processed or in progress
        "00_500": FailureKind.UNKNOWN_OUTCOME,  # internal error
        "010": FailureKind.CREDENTIALS_REJECTED,  # Not allowed
        "901": FailureKind.CREDENTIALS_REJECTED,  # Invalid Merchant Account
        "00_401": FailureKind.CREDENTIALS_REJECTED,
        "00_403": FailureKind.CREDENTIALS_REJECTED,
        "101": FailureKind.CARD_DECLINED,  # Invalid card number
        "103": FailureKind.CARD_DECLINED,  # CVC is not the right length
        "108": FailureKind.CARD_DECLINED,  # Invalid bank account number (the shopper's IBAN)
        "129": FailureKind.CARD_DECLINED,  # Expiry Date Invalid
        "800": FailureKind.NOT_FOUND,  # Contract not found (no such stored method)
        "803": FailureKind.NOT_FOUND,  # PaymentDetail not found
        "100": FailureKind.INVALID_REQUEST,  # No amount specified
        "107": FailureKind.INVALID_REQUEST,  # Recurring is not enabled
        "125": FailureKind.INVALID_REQUEST,  # Invalid recurring contract specified
        "137": FailureKind.INVALID_REQUEST,  # Invalid amount specified
        "138": FailureKind.INVALID_REQUEST,  # Unsupported currency specified
        "167": FailureKind.INVALID_REQUEST,  # Original pspReference required
        "177": FailureKind.INVALID_REQUEST,  # Metadata size exceeds limit
        "702": FailureKind.INVALID_REQUEST,  # Unable to parse the request
        "802": FailureKind.INVALID_REQUEST,  # Invalid contract
        "905": FailureKind.INVALID_REQUEST,  # Payment details are not supported (configuration)
        "00_422": FailureKind.INVALID_REQUEST,
        "14_030": FailureKind.INVALID_REQUEST,  # Return URL is missing
        "5_002": FailureKind.INVALID_REQUEST,  # Invalid Apple Pay token (not this Adyen's)
        # Unable to decrypt data: Adyen's answer to a Google Pay token it cannot decrypt (made
        # for another gateway, or not a token at all); nothing was charged.
        "174": FailureKind.INVALID_REQUEST,
    }
)
"""`ServiceError.errorCode` → kind. An unmapped code is `INVALID_REQUEST` on a 4xx (Adyen
refused our request) and unknown on a 5xx (Adyen may have processed it)."""

PAYMENT_ERROR_CODES: Final[Mapping[str, FailureKind]] = MappingProxyType(
    {
        **ERROR_CODES,
        # A payment with a storedPaymentMethodId this shopper has not stored at Adyen
        # (another provider's token, another shopper's id, one deleted): refused before any
        # payment was made, so the router records it and moves on to a provider that holds a
        # credential for the card. For a stored method's deletion it stays NOT_FOUND.
        "800": FailureKind.INVALID_REQUEST,
    }
)
"""`ERROR_CODES` for `/payments`, where a code about the request's own credential means the
request was refused, not that a payment is missing."""


REFUND_REASONS: Final[Mapping[str, str]] = MappingProxyType(
    {
        "fraud": "FRAUD",
        "fraudulent": "FRAUD",
        "customer_request": "CUSTOMER REQUEST",
        "requested_by_customer": "CUSTOMER REQUEST",
        "return": "RETURN",
        "duplicate": "DUPLICATE",
    }
)
"""Our refund reason → Adyen's `merchantRefundReason` enum; anything else is "OTHER"."""


ADYEN_EXPONENTS: Final[Mapping[str, int]] = MappingProxyType(
    {"CLP": 2, "CVE": 0, "IDR": 0, "ISK": 2}
)
"""Currencies where Adyen's minor unit differs from ISO 4217 (Adyen's currency-codes page)."""
