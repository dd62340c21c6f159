"""PayPal's codes as data: each table is read-only and looked up with one `.get()`.

Reviewers read rows, not branches; `tests/adapters/test_paypal.py` has a test per row. Sources:
the Orders v2 spec (`checkout_orders_v2.json`, every `details[].issue` enum of the create,
authorize and capture operations), PayPal's Payments v2 and Vault v3 specs of the same commit
(paypal/paypal-rest-api-specifications ec4d8f36) for the authorization, capture, refund and
payment-token issues, and PayPal's REST error reference (developer.paypal.com/api/rest/reference/
orders/v2/errors) for `name` values and HTTP statuses.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final

from payrouter.provider import FailureKind, Outcome

__all__ = [
    "ACTION_ISSUES",
    "AUTHORIZATION_STATUSES",
    "CAPTURE_STATUSES",
    "CODES",
    "COMPLETION_ACTION_ISSUES",
    "HTTP_STATUSES",
    "OAUTH_ERRORS",
    "ORDER_STATUSES",
    "PAYPAL_EXPONENTS",
    "REFUND_STATUSES",
    "StatusRow",
]

_INVALID = FailureKind.INVALID_REQUEST
_OURS = FailureKind.CREDENTIALS_REJECTED  # our PayPal account or app, never the customer
_UNKNOWN = FailureKind.UNKNOWN_OUTCOME


@dataclass(frozen=True, slots=True)
class StatusRow:
    """One resource status: its outcome and, for failures, the kind to report."""

    outcome: Outcome
    kind: FailureKind | None = None


ORDER_STATUSES: Final[Mapping[str, StatusRow]] = MappingProxyType(
    {
        # Money moved (or is held): the payment inside `purchase_units[].payments` says how.
        "COMPLETED": StatusRow(Outcome.SUCCEEDED),
        "CREATED": StatusRow(Outcome.REQUIRES_ACTION),
        "PAYER_ACTION_REQUIRED": StatusRow(Outcome.REQUIRES_ACTION),
        # The payer approved; nothing moved until we call `complete()` (capture/authorize).
        "APPROVED": StatusRow(Outcome.REQUIRES_ACTION),
        # Saved for later captures (intent AUTHORIZE): still in progress at PayPal.
        "SAVED": StatusRow(Outcome.PENDING),
        # Every purchase unit voided: nothing was or will be taken.
        "VOIDED": StatusRow(Outcome.FAILED, FailureKind.CARD_DECLINED),
    }
)
"""`order.status` → outcome, for `pay`, `lookup` and `complete`."""

CAPTURE_STATUSES: Final[Mapping[str, StatusRow]] = MappingProxyType(
    {
        "COMPLETED": StatusRow(Outcome.SUCCEEDED),
        # Refunds come later; the money was taken, which is what a lookup reports.
        "PARTIALLY_REFUNDED": StatusRow(Outcome.SUCCEEDED),
        "REFUNDED": StatusRow(Outcome.SUCCEEDED),
        "PENDING": StatusRow(Outcome.PENDING),  # e.g. PENDING_REVIEW, ECHECK
        "DECLINED": StatusRow(Outcome.FAILED, FailureKind.CARD_DECLINED),
        "FAILED": StatusRow(Outcome.FAILED, FailureKind.CARD_DECLINED),
    }
)
"""`capture.status` → outcome, inside an order or after capturing an authorization."""

AUTHORIZATION_STATUSES: Final[Mapping[str, StatusRow]] = MappingProxyType(
    {
        "CREATED": StatusRow(Outcome.SUCCEEDED),  # authorized and held for our capture
        "CAPTURED": StatusRow(Outcome.SUCCEEDED),
        "PARTIALLY_CAPTURED": StatusRow(Outcome.SUCCEEDED),
        "PENDING": StatusRow(Outcome.PENDING),
        "DENIED": StatusRow(Outcome.FAILED, FailureKind.CARD_DECLINED),
        # Released without a capture: for `void` this is the success, for a lookup a failure.
        "VOIDED": StatusRow(Outcome.FAILED, FailureKind.CARD_DECLINED),
    }
)
"""`authorization.status` → outcome, inside an order (intent AUTHORIZE)."""

REFUND_STATUSES: Final[Mapping[str, StatusRow]] = MappingProxyType(
    {
        "COMPLETED": StatusRow(Outcome.SUCCEEDED),
        "PENDING": StatusRow(Outcome.PENDING),
        "FAILED": StatusRow(Outcome.FAILED, FailureKind.CARD_DECLINED),
        "CANCELLED": StatusRow(Outcome.FAILED, FailureKind.CARD_DECLINED),
    }
)
"""`refund.status` → outcome."""


ACTION_ISSUES: Final = frozenset(
    {
        "PAYER_ACTION_REQUIRED",  # the payer must act (approve, 3-D Secure) before completion
        "ORDER_NOT_APPROVED",  # `complete()` before the payer approved
        "REDIRECT_PAYER_FOR_ALTERNATE_FUNDING",  # the payer must pick another funding source
    }
)
"""Issues that ask the payer to act: `requires_action` on an order we know, never a failure.
Without an order (a create refused this way) they are AUTHENTICATION_FAILED."""

COMPLETION_ACTION_ISSUES: Final = ACTION_ISSUES | {
    # The funding source the payer picked failed while we captured or authorized the order
    # they approved. PayPal's answer is to restart the payment so the payer picks another
    # (developer.paypal.com/docs/checkout/standard/customize/handle-funding-failures: "required
    # if you directly call the Orders API from your server"), and its answer carries a
    # `redirect` link back to the approval page. Nothing moved; the order is still good.
    "INSTRUMENT_DECLINED",
}
"""`ACTION_ISSUES` when completing an approved order (`complete()`: capture or authorize).
Anywhere else INSTRUMENT_DECLINED is the decline in `CODES`: a vaulted create completes in the
call with no payer present to pick another source, and Payments v2 follow-ups are ours alone."""


_INVALID_ISSUES: Final = (
    # Our request does not fit PayPal's schema or business rules: a bug to fix, no failover.
    "ACTION_DOES_NOT_MATCH_INTENT AMOUNT_CANNOT_BE_SPECIFIED AMOUNT_CHANGE_NOT_ALLOWED "
    "AMOUNT_MISMATCH AMOUNT_NOT_PATCHABLE APPLE_PAY_AMOUNT_MISMATCH AUTHORIZATION_AMOUNT_EXCEEDED "
    "AUTHORIZATION_CURRENCY_MISMATCH BANK_NOT_SUPPORTED_FOR_VERIFICATION "
    "BILLING_ADDRESS_INVALID BILLING_AGREEMENT_ID_MISMATCH "
    "BLIK_ONE_CLICK_MISSING_REQUIRED_PARAMETER CANCEL_URL_REQUIRED CANNOT_BE_NEGATIVE "
    "CANNOT_BE_ZERO_OR_NEGATIVE CAPTURE_ID_NOT_FOUND CAPTURE_STATUS_NOT_VALID "
    "CARD_EXPIRY_REQUIRED CARD_NUMBER_REQUIRED CITY_REQUIRED CRYPTOGRAM_REQUIRED "
    "CURRENCY_NOT_SUPPORTED_FOR_BANK CURRENCY_NOT_SUPPORTED_FOR_CARD_TYPE "
    "CURRENCY_NOT_SUPPORTED_FOR_COUNTRY DECIMAL_PRECISION DEVICE_DATA_NOT_AVAILABLE "
    "DONATION_ITEMS_NOT_SUPPORTED DUPLICATE_REFERENCE_ID EMV_DATA_REQUIRED FIELD_NOT_PATCHABLE "
    "GOOGLE_PAY_GATEWAY_MERCHANT_ID_MISMATCH IDENTIFIER_NOT_FOUND INCOMPATIBLE_PARAMETER_VALUE "
    "INVALID_ARRAY_MAX_ITEMS INVALID_ARRAY_MIN_ITEMS INVALID_COUNTRY_CODE "
    "INVALID_CURRENCY_CODE INVALID_EXPIRY_DATE INVALID_FX_RATE_ID INVALID_GOOGLE_PAY_TOKEN "
    "INVALID_IBAN INVALID_JSON_POINTER_FORMAT INVALID_PARAMETER INVALID_PARAMETER_SYNTAX "
    "INVALID_PARAMETER_VALUE INVALID_PATCH_OPERATION INVALID_PAYEE_PRICING_TIER_ID "
    "INVALID_PAYER_ID INVALID_PICKUP_ADDRESS INVALID_PLATFORM_FEES_ACCOUNT "
    "INVALID_PLATFORM_FEES_AMOUNT INVALID_PREVIOUS_TRANSACTION_REFERENCE "
    "INVALID_SECURITY_CODE_LENGTH INVALID_STRING_LENGTH INVALID_STRING_MAX_LENGTH "
    "ITEM_CATEGORY_NOT_SUPPORTED_BY_PAYMENT_SOURCE ITEM_SKU_MISMATCH ITEM_TOTAL_MISMATCH "
    "ITEM_TOTAL_REQUIRED MALFORMED_REQUEST_JSON MAX_AUTHORIZATION_COUNT_EXCEEDED "
    "MAX_VALUE_EXCEEDED MERCHANT_INITIATED_WITH_AUTHENTICATION_RESULTS "
    "MERCHANT_INITIATED_WITH_MULTIPLE_PURCHASE_UNITS MERCHANT_INITIATED_WITH_SECURITY_CODE "
    "MISMATCHED_VAULT_ID_TO_PAYMENT_SOURCE MISSING_CRYPTOGRAM MISSING_PICKUP_ADDRESS "
    "MISSING_PREVIOUS_REFERENCE MISSING_REQUIRED_PARAMETER MSP_NOT_SUPPORTED "
    "MULTIPLE_ITEM_CATEGORIES MULTIPLE_SHIPPING_ADDRESS_NOT_SUPPORTED "
    "MULTIPLE_SHIPPING_OPTION_SELECTED MULTIPLE_SHIPPING_TYPE_NOT_SUPPORTED MULTI_CURRENCY_ORDER "
    "NOT_ELIGIBLE_FOR_PAYPAL_TRANSACTION_ID_PROCESSING NOT_ELIGIBLE_FOR_PNREF_PROCESSING "
    "NOT_PATCHABLE NOT_SUPPORTED NO_PAYMENT_SOURCE_PROVIDED ONE_OF_PARAMETERS_REQUIRED "
    "ONE_OF_THE_PARAMETERS_REQUIRED ONLY_ONE_BANK_SOURCE_ALLOWED ONLY_ONE_PAYMENT_SOURCE_ALLOWED "
    "ORDER_ALREADY_COMPLETED ORDER_CANNOT_BE_CONFIRMED ORDER_CANNOT_BE_SAVED "
    "ORDER_COMPLETE_ON_PAYMENT_APPROVAL ORDER_IS_PENDING_APPROVAL PATCH_PATH_REQUIRED "
    "PATCH_VALUE_REQUIRED PAYEE_FX_RATE_ID_CURRENCY_MISMATCH PAYEE_FX_RATE_ID_EXPIRED "
    "PAYMENT_ALREADY_APPROVED PAYMENT_SOURCE_MISMATCH PAYMENT_SOURCE_NOT_SUPPORTED "
    "PAYMENT_TYPE_NOT_SUPPORTED_FOR_INTENT PAYPAL_REQUEST_ID_REQUIRED "
    "PAYPAL_TRANSACTION_ID_EXPIRED PAYPAL_TRANSACTION_ID_NOT_FOUND "
    "PERMISSION_DENIED_FOR_DONATION_ITEMS PLATFORM_FEES_NOT_SUPPORTED "
    "PLATFORM_FEE_PAYEE_CANNOT_BE_SAME_AS_PAYER PNREF_EXPIRED PNREF_NOT_FOUND "
    "POSTAL_CODE_REQUIRED PREFERRED_PAYMENT_SOURCE_MISMATCH "
    "PREFERRED_SHIPPING_OPTION_AMOUNT_MISMATCH REFERENCE_ID_NOT_FOUND REFERENCE_ID_REQUIRED "
    "REQUIRED_PARAMETER_FOR_CUSTOMER_INITIATED_PAYMENT REQUIRED_PARAMETER_FOR_PAYMENT_SOURCE "
    "RETURN_URL_REQUIRED SAVE_ORDER_NOT_SUPPORTED SHIPPING_ADDRESS_INVALID "
    "SHIPPING_OPTIONS_NOT_SUPPORTED SHIPPING_OPTION_NOT_SELECTED "
    "SHIPPING_TYPE_NOT_SUPPORTED_FOR_CLIENT TAX_TOTAL_MISMATCH TAX_TOTAL_REQUIRED "
    "TRACKER_ID_NOT_FOUND UNSUPPORTED_INTENT UNSUPPORTED_INTENT_FOR_PAYMENT_SOURCE "
    "UNSUPPORTED_PATCH_PARAMETER_VALUE UNSUPPORTED_PAYMENT_INSTRUCTION "
    "UNSUPPORTED_PROCESSING_INSTRUCTION UNSUPPORTED_SHIPPING_TYPE VAULT_INSTRUCTION_DUPLICATED "
    "VAULT_INSTRUCTION_REQUIRED "
    # Payments v2 follow-ups asked for something the payment no longer allows: the merchant's
    # logic is at fault (the key is kept 45 days there, so a replay cannot explain them).
    "AUTHORIZATION_ALREADY_CAPTURED AUTHORIZATION_VOIDED AUTH_CAPTURE_CURRENCY_MISMATCH "
    "AUTH_CURRENCY_MISMATCH CANNOT_BE_VOIDED CAPTURE_FULLY_REFUNDED CURRENCY_MISMATCH "
    "DECIMALS_NOT_SUPPORTED MAX_CAPTURE_AMOUNT_EXCEEDED MAX_CAPTURE_COUNT_EXCEEDED "
    "MAX_NUMBER_OF_REFUNDS_EXCEEDED PARTIAL_REFUND_NOT_ALLOWED PENDING_CAPTURE "
    "PLATFORM_FEE_EXCEEDED PLATFORM_FEE_NOT_ENABLED PREVIOUSLY_CAPTURED "
    "REAUTHORIZATION_NOT_SUPPORTED REFUND_AMOUNT_EXCEEDED REFUND_AMOUNT_TOO_LOW "
    "REFUND_CAPTURE_CURRENCY_MISMATCH REFUND_NOT_ALLOWED REFUND_NOT_PERMITTED_DUE_TO_CHARGEBACK "
    "REFUND_TIME_LIMIT_EXCEEDED TRANSACTION_DISPUTED "
    # A PayPal-Request-Id reused with another body: our key derivation is broken.
    "PAYPAL_REQUEST_ID_PREVIOUSLY_USED"
).split()

_OUR_ACCOUNT_ISSUES: Final = (
    # Our PayPal account or app cannot do this: an operator must act; another provider may.
    "AUTH_CAPTURE_NOT_ENABLED CONSENT_NEEDED INVALID_ACCOUNT_STATUS "
    "NOT_ELIGIBLE_FOR_TOKEN_PROCESSING NOT_ENABLED_FOR_APPLE_PAY "
    "NOT_ENABLED_FOR_BANK_PROCESSING NOT_ENABLED_FOR_CARD_PROCESSING NOT_ENABLED_FOR_GOOGLE_PAY "
    "NOT_ENABLED_TO_VAULT_PAYMENT_SOURCE "
    "PAYEE_ACCOUNT_INVALID PAYEE_ACCOUNT_LOCKED_OR_CLOSED PAYEE_ACCOUNT_NOT_VERIFIED "
    "PAYEE_ACCOUNT_RESTRICTED PAYEE_COUNTRY_NOT_SUPPORTED_FOR_PAYMENT_SOURCE "
    "PAYEE_NOT_ENABLED_FOR_BANK_PROCESSING PAYEE_NOT_ENABLED_FOR_CARD_PROCESSING "
    "PAYEE_PRICING_TIER_ID_NOT_ENABLED PERMISSION_DENIED REFUND_IS_RESTRICTED "
    "TRANSACTION_RECEIVING_LIMIT_EXCEEDED "
    # Our balance cannot fund a refund.
    "REFUND_FAILED_INSUFFICIENT_FUNDS "
    # The `name` of 401 and 403 answers.
    "AUTHENTICATION_FAILURE NOT_AUTHORIZED"
).split()

CODES: Final[Mapping[str, FailureKind]] = MappingProxyType(
    {
        **dict.fromkeys(_INVALID_ISSUES, _INVALID),
        **dict.fromkeys(_OUR_ACCOUNT_ISSUES, _OURS),
        # --- the payer's funding or account refused ---------------------------------------
        # The funding source failed: on a vaulted create (no payer to send back; the Orders v2
        # spec lists it for orders.create) PayPal names no finer reason. On completing an
        # approved order it asks for the payer instead: see COMPLETION_ACTION_ISSUES.
        "INSTRUMENT_DECLINED": FailureKind.CARD_DECLINED,
        "PAYER_CANNOT_PAY": FailureKind.CARD_DECLINED,
        "TRANSACTION_REFUSED": FailureKind.CARD_DECLINED,
        "MAX_NUMBER_OF_PAYMENT_ATTEMPTS_EXCEEDED": FailureKind.CARD_DECLINED,
        "DECLINED_DUE_TO_RELATED_TXN": FailureKind.CARD_DECLINED,
        "PAYMENT_SOURCE_CANNOT_BE_USED": FailureKind.CARD_DECLINED,
        "PAYMENT_SOURCE_DECLINED_BY_PROCESSOR": FailureKind.CARD_DECLINED,
        "ALIAS_DECLINED_BY_PROCESSOR": FailureKind.CARD_DECLINED,
        "CARD_BRAND_NOT_SUPPORTED": FailureKind.CARD_DECLINED,
        "CARD_TYPE_NOT_SUPPORTED": FailureKind.CARD_DECLINED,
        "CARD_EXPIRED": FailureKind.CARD_DECLINED,
        "REFERENCED_CARD_EXPIRED": FailureKind.CARD_DECLINED,
        "SETUP_ERROR_FOR_BANK": FailureKind.CARD_DECLINED,
        "PREVIOUS_TRANSACTION_REFERENCE_VOIDED": FailureKind.CARD_DECLINED,
        "AUTHORIZATION_DENIED": FailureKind.CARD_DECLINED,
        "AUTHORIZATION_EXPIRED": FailureKind.CARD_DECLINED,  # held too long to capture
        "TRANSACTION_LIMIT_EXCEEDED": FailureKind.INSUFFICIENT_FUNDS,  # the payer's limit
        # PayPal cannot tell locked from closed; "contact your provider" fits both.
        "PAYER_ACCOUNT_LOCKED_OR_CLOSED": FailureKind.ACCOUNT_LOCKED,
        "PAYER_ACCOUNT_RESTRICTED": FailureKind.ACCOUNT_FROZEN,
        # The saved wallet (vault token, billing agreement) can no longer be charged.
        "AGREEMENT_ALREADY_CANCELLED": FailureKind.ACCOUNT_CLOSED,
        "BILLING_AGREEMENT_NOT_FOUND": FailureKind.ACCOUNT_CLOSED,
        # A vault id this PayPal account does not hold (never vaulted here: another merchant's,
        # another provider's credential, or deleted): refused before any money moved, as the
        # Orders v2 spec documents (422 TOKEN_ID_NOT_FOUND, "Specified token was not found";
        # checkout_orders_v2.json, orders.capture-422 and orders.authorize-422). The router
        # moves on to a provider or source that can charge the customer, as for any credential
        # a provider never issued.
        "TOKEN_ID_NOT_FOUND": FailureKind.INVALID_REQUEST,
        "TOKEN_EXPIRED": FailureKind.ACCOUNT_CLOSED,
        "COUNTRY_NOT_SUPPORTED_BY_PAYMENT_SOURCE": FailureKind.REGION_RESTRICTED,
        "DOMESTIC_TRANSACTION_REQUIRED": FailureKind.REGION_RESTRICTED,
        "IBAN_COUNTRY_NOT_SUPPORTED": FailureKind.REGION_RESTRICTED,
        "PAYMENT_SOURCE_INFO_CANNOT_BE_VERIFIED": FailureKind.AUTHENTICATION_FAILED,
        "ORDER_EXPIRED": FailureKind.AUTHENTICATION_FAILED,  # the payer never finished
        "PAYER_ACTION_REQUIRED": FailureKind.AUTHENTICATION_FAILED,  # see ACTION_ISSUES
        "ORDER_NOT_APPROVED": FailureKind.AUTHENTICATION_FAILED,
        "REDIRECT_PAYER_FOR_ALTERNATE_FUNDING": FailureKind.AUTHENTICATION_FAILED,
        # Risk and compliance refusals: never routed elsewhere, shown as a plain decline.
        "COMPLIANCE_VIOLATION": FailureKind.SUSPECTED_FRAUD,
        "PAYEE_BLOCKED_TRANSACTION": FailureKind.SUSPECTED_FRAUD,  # our fraud filters
        "TRANSACTION_BLOCKED_BY_PAYEE": FailureKind.SUSPECTED_FRAUD,
        "PREVIOUS_TRANSACTION_REFERENCE_HAS_CHARGEBACK": FailureKind.SUSPECTED_FRAUD,
        # --- money may already have moved under this reference -----------------------------
        # invoice_id is our attempt reference: a transaction already carries it, e.g. a
        # retry after PayPal dropped the request id (orders keep it only 6 hours).
        "DUPLICATE_INVOICE_ID": _UNKNOWN,
        # An earlier completion of this order took (or is taking) the money: look it up.
        "ORDER_ALREADY_CAPTURED": _UNKNOWN,
        "ORDER_ALREADY_AUTHORIZED": _UNKNOWN,
        "ORDER_COMPLETED_OR_VOIDED": _UNKNOWN,
        "ORDER_COMPLETION_IN_PROGRESS": _UNKNOWN,
        # A request under our PayPal-Request-Id is still running.
        "PREVIOUS_REQUEST_IN_PROGRESS": _UNKNOWN,
        "DUPLICATE_REQUEST_ID": _UNKNOWN,
        "RESOURCE_CONFLICT": _UNKNOWN,
        # --- the `name` of an error, used when no issue is given or mapped -------------------
        "INVALID_REQUEST": _INVALID,
        "UNPROCESSABLE_ENTITY": _INVALID,  # business validation failed; nothing moved
        "UNSUPPORTED_MEDIA_TYPE": _INVALID,
        "RESOURCE_NOT_FOUND": FailureKind.NOT_FOUND,
        "INVALID_RESOURCE_ID": FailureKind.NOT_FOUND,
    }
)
"""`details[].issue`, then the error's `name` → kind, for 4xx answers other than 429. One
namespace: PayPal never uses a string as both an issue and a name with different meanings."""

HTTP_STATUSES: Final[Mapping[int, FailureKind]] = MappingProxyType(
    {
        400: _INVALID,
        401: _OURS,
        403: _OURS,
        404: FailureKind.NOT_FOUND,
        409: _UNKNOWN,  # a concurrent request under the same PayPal-Request-Id
        415: _INVALID,
        422: _INVALID,
        429: FailureKind.RATE_LIMITED,  # RATE_LIMIT_REACHED
        # INTERNAL_SERVER_ERROR: "something unexpected has gone wrong on the server"; it may
        # have acted. Gateways (502/504) lose PayPal's answer, not the request.
        500: _UNKNOWN,
        502: _UNKNOWN,
        504: _UNKNOWN,
        # SERVICE_UNAVAILABLE: "temporarily unable to handle the request (planned maintenance
        # or downtime)": refused before processing; a retry under the same key is safe.
        503: FailureKind.BUSY,
    }
)
"""HTTP status → kind: for 429 and 5xx always (a code in such a body is not trusted to prove
a rejection, and PayPal's names there only repeat the status), otherwise when the body names
no code we map (e.g. a proxy's HTML page)."""

OAUTH_ERRORS: Final[Mapping[str, FailureKind]] = MappingProxyType(
    {
        "invalid_client": _OURS,  # wrong client id or secret
        "unauthorized_client": _OURS,
        "invalid_grant": _OURS,
        "invalid_scope": _OURS,
        "access_denied": _OURS,
        "invalid_request": _INVALID,
        "unsupported_grant_type": _INVALID,
        "server_error": FailureKind.PROVIDER_DOWN,
        "temporarily_unavailable": FailureKind.BUSY,
    }
)
"""`POST /v1/oauth2/token` `error` (RFC 6749 §5.2) → kind. The payment was never sent, so a
token failure is never unknown: a 5xx there is PROVIDER_DOWN."""

PAYPAL_EXPONENTS: Final[Mapping[str, int]] = MappingProxyType({"HUF": 0, "TWD": 0})
"""Currencies PayPal takes without decimals although ISO 4217 gives them two
(developer.paypal.com/api/rest/reference/currency-codes)."""
