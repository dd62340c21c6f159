"""Stripe's codes as data: each table is read-only and looked up with one `.get()`.

Reviewers read rows, not branches; `tests/adapters/test_stripe.py` has a test per row. Where a
row's choice is not obvious, the comment next to it says why. Sources: Stripe's decline codes
(docs.stripe.com/declines/codes), error codes (docs.stripe.com/error-codes), HTTP status
reference and `Stripe-Should-Retry` (docs.stripe.com/error-low-level), and the 2023-08-16
OpenAPI spec for the status enums.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final

from payrouter.provider import Advice, DeclineType, FailureKind, Outcome

__all__ = [
    "ADVICE_CODES",
    "AWAITING_AUTHENTICATION",
    "CANCELLATION_REASONS",
    "CAPTURE_STATUSES",
    "DECLINE_CODES",
    "DECLINE_TYPES",
    "ERROR_CODES",
    "ERROR_TYPES",
    "HTTP_STATUSES",
    "INTENT_STATUSES",
    "PARAM_ERRORS",
    "REFUND_FAILURES",
    "REFUND_STATUSES",
    "SHOULD_RETRY",
    "STATE_ERRORS",
    "STRIPE_EXPONENTS",
    "VOID_STATUSES",
    "StatusRow",
]


@dataclass(frozen=True, slots=True)
class StatusRow:
    """One object status: its outcome and, for failures, the kind when no code says more."""

    outcome: Outcome
    default_kind: FailureKind | None = None


INTENT_STATUSES: Final[Mapping[str, StatusRow]] = MappingProxyType(
    {
        "succeeded": StatusRow(Outcome.SUCCEEDED),
        # Authorized and held for a manual capture: the payment is taken, as far as we care.
        "requires_capture": StatusRow(Outcome.SUCCEEDED),
        "processing": StatusRow(Outcome.PENDING),
        "requires_action": StatusRow(Outcome.REQUIRES_ACTION),
        # After a confirm, this is the failed attempt; `last_payment_error` says why.
        "requires_payment_method": StatusRow(Outcome.FAILED, FailureKind.CARD_DECLINED),
        # Nothing was (or will be) captured; `cancellation_reason` picks the kind.
        "canceled": StatusRow(Outcome.FAILED, FailureKind.CARD_DECLINED),
        # We always send confirm=true, so an unconfirmed intent is a surprise: let a human look.
        "requires_confirmation": StatusRow(Outcome.UNKNOWN),
    }
)
"""`payment_intent.status` → outcome, for `pay` and `lookup`."""

CAPTURE_STATUSES: Final[Mapping[str, StatusRow]] = MappingProxyType(
    {
        "succeeded": StatusRow(Outcome.SUCCEEDED),
        "processing": StatusRow(Outcome.PENDING),
    }
)
"""`payment_intent.status` after `/capture`; any other status is unknown."""

VOID_STATUSES: Final[Mapping[str, StatusRow]] = MappingProxyType(
    {"canceled": StatusRow(Outcome.SUCCEEDED)}
)
"""`payment_intent.status` after `/cancel`: canceled means the void is done."""

REFUND_STATUSES: Final[Mapping[str, StatusRow]] = MappingProxyType(
    {
        "succeeded": StatusRow(Outcome.SUCCEEDED),
        "pending": StatusRow(Outcome.PENDING),
        "requires_action": StatusRow(Outcome.REQUIRES_ACTION),
        "failed": StatusRow(Outcome.FAILED, FailureKind.CARD_DECLINED),
        "canceled": StatusRow(Outcome.FAILED, FailureKind.CARD_DECLINED),
    }
)
"""`refund.status` → outcome; a failure's kind comes from `REFUND_FAILURES`."""

REFUND_FAILURES: Final[Mapping[str, FailureKind]] = MappingProxyType(
    {
        "lost_or_stolen_card": FailureKind.ACCOUNT_LOCKED,
        "expired_or_canceled_card": FailureKind.ACCOUNT_CLOSED,
        "declined": FailureKind.CARD_DECLINED,
        # Our Stripe balance cannot cover it, or a dispute blocks it: an operator must act.
        "insufficient_funds": FailureKind.INVALID_REQUEST,
        "charge_for_pending_refund_disputed": FailureKind.INVALID_REQUEST,
        "merchant_request": FailureKind.INVALID_REQUEST,
        "unknown": FailureKind.CARD_DECLINED,
    }
)
"""`refund.failure_reason` → kind."""

CANCELLATION_REASONS: Final[Mapping[str, FailureKind]] = MappingProxyType(
    {
        "fraudulent": FailureKind.SUSPECTED_FRAUD,
        # The customer walked away from 3-D Secure or a redirect.
        "abandoned": FailureKind.AUTHENTICATION_FAILED,
        "requested_by_customer": FailureKind.CARD_DECLINED,
        "duplicate": FailureKind.CARD_DECLINED,
        "automatic": FailureKind.CARD_DECLINED,  # the authorization expired uncaptured
        "failed_invoice": FailureKind.CARD_DECLINED,
        "void_invoice": FailureKind.CARD_DECLINED,
    }
)
"""`payment_intent.cancellation_reason` → kind, for a canceled intent found by `lookup`."""


DECLINE_CODES: Final[Mapping[str, FailureKind]] = MappingProxyType(
    {
        "insufficient_funds": FailureKind.INSUFFICIENT_FUNDS,
        "card_velocity_exceeded": FailureKind.INSUFFICIENT_FUNDS,  # balance or credit limit
        "withdrawal_count_limit_exceeded": FailureKind.INSUFFICIENT_FUNDS,
        # Stripe asks that lost/stolen/fraud declines be shown as a generic decline; the
        # SUSPECTED_FRAUD policy's customer message is exactly that.
        "fraudulent": FailureKind.SUSPECTED_FRAUD,
        "lost_card": FailureKind.SUSPECTED_FRAUD,
        "stolen_card": FailureKind.SUSPECTED_FRAUD,
        "merchant_blacklist": FailureKind.SUSPECTED_FRAUD,
        "security_violation": FailureKind.SUSPECTED_FRAUD,
        "pickup_card": FailureKind.ACCOUNT_LOCKED,  # "contact your card issuer"
        "restricted_card": FailureKind.ACCOUNT_LOCKED,
        "pin_try_exceeded": FailureKind.ACCOUNT_LOCKED,
        "new_account_information_available": FailureKind.ACCOUNT_CLOSED,  # card replaced
        # Only without an intent; with one it waits for the customer (AWAITING_AUTHENTICATION).
        "authentication_required": FailureKind.AUTHENTICATION_REQUIRED,
        "incorrect_pin": FailureKind.AUTHENTICATION_FAILED,
        "invalid_pin": FailureKind.AUTHENTICATION_FAILED,
        "offline_pin_required": FailureKind.AUTHENTICATION_FAILED,
        "online_or_offline_pin_required": FailureKind.AUTHENTICATION_FAILED,
        # A processing error is Stripe's or the acquirer's, not the card's; the intent is back
        # in requires_payment_method, so nothing moved and another provider may succeed.
        "processing_error": FailureKind.PROVIDER_DOWN,
        # Issuer-side: another provider would reach the same issuer.
        "issuer_not_available": FailureKind.CARD_DECLINED,
        "try_again_later": FailureKind.CARD_DECLINED,
        "reenter_transaction": FailureKind.CARD_DECLINED,
        "approve_with_id": FailureKind.CARD_DECLINED,
        "call_issuer": FailureKind.CARD_DECLINED,
        "card_not_supported": FailureKind.CARD_DECLINED,
        "currency_not_supported": FailureKind.CARD_DECLINED,
        "do_not_honor": FailureKind.CARD_DECLINED,
        "do_not_try_again": FailureKind.CARD_DECLINED,
        "duplicate_transaction": FailureKind.CARD_DECLINED,
        "expired_card": FailureKind.CARD_DECLINED,
        "generic_decline": FailureKind.CARD_DECLINED,
        "incorrect_number": FailureKind.CARD_DECLINED,
        "incorrect_cvc": FailureKind.CARD_DECLINED,
        "incorrect_zip": FailureKind.CARD_DECLINED,
        "invalid_account": FailureKind.CARD_DECLINED,
        "invalid_amount": FailureKind.CARD_DECLINED,
        "invalid_cvc": FailureKind.CARD_DECLINED,
        "invalid_expiry_month": FailureKind.CARD_DECLINED,
        "invalid_expiry_year": FailureKind.CARD_DECLINED,
        "invalid_number": FailureKind.CARD_DECLINED,
        "no_action_taken": FailureKind.CARD_DECLINED,
        "not_permitted": FailureKind.CARD_DECLINED,
        "revocation_of_all_authorizations": FailureKind.CARD_DECLINED,
        "revocation_of_authorization": FailureKind.CARD_DECLINED,
        "service_not_allowed": FailureKind.CARD_DECLINED,
        "stop_payment_order": FailureKind.CARD_DECLINED,
        "testmode_decline": FailureKind.CARD_DECLINED,
        "transaction_not_allowed": FailureKind.CARD_DECLINED,
    }
)
"""`error.decline_code` (the issuer's reason) → kind; looked up before `error.code`."""


DECLINE_TYPES: Final[Mapping[str, DeclineType]] = MappingProxyType(
    {
        # Soft: this attempt's, not the card's; another acquirer may get an approval.
        "do_not_honor": DeclineType.SOFT,
        "generic_decline": DeclineType.SOFT,
        "issuer_not_available": DeclineType.SOFT,
        "try_again_later": DeclineType.SOFT,
        "reenter_transaction": DeclineType.SOFT,
        "approve_with_id": DeclineType.SOFT,
        "no_action_taken": DeclineType.SOFT,
        # Hard: lost or stolen, invalid account or number, fraud, closed, expired.
        "lost_card": DeclineType.HARD,
        "stolen_card": DeclineType.HARD,
        "pickup_card": DeclineType.HARD,
        "fraudulent": DeclineType.HARD,
        "invalid_account": DeclineType.HARD,
        "incorrect_number": DeclineType.HARD,
        "invalid_number": DeclineType.HARD,
        "expired_card": DeclineType.HARD,
        "new_account_information_available": DeclineType.HARD,  # the card was replaced
        "do_not_try_again": DeclineType.HARD,
        "revocation_of_all_authorizations": DeclineType.HARD,
        "revocation_of_authorization": DeclineType.HARD,
        "stop_payment_order": DeclineType.HARD,
        # Stripe stopped accepting this card after too many declines: retrying elsewhere is
        # exactly what the networks' retry rules fine.
        "card_decline_rate_limit_exceeded": DeclineType.HARD,
    }
)
"""`decline_code` (or `code` without one) → soft or hard; a code not listed takes its kind's
type (`payrouter.provider.DECLINE_TYPES`: hard for every decline kind)."""


ADVICE_CODES: Final[Mapping[str, Advice]] = MappingProxyType(
    {
        "try_again_later": Advice.TRY_AGAIN_LATER,
        "do_not_try_again": Advice.DO_NOT_TRY_AGAIN,
        "confirm_card_data": Advice.CONFIRM_CARD_DATA,
    }
)
"""`error.advice_code` (Stripe's own advice, 2024-12-18 API and later) → advice. The card
network's two-digit `network_advice_code` is read through the shared MAC table."""


ERROR_CODES: Final[Mapping[str, FailureKind]] = MappingProxyType(
    {
        "card_declined": FailureKind.CARD_DECLINED,
        "card_decline_rate_limit_exceeded": FailureKind.CARD_DECLINED,
        "expired_card": FailureKind.CARD_DECLINED,
        "incorrect_address": FailureKind.CARD_DECLINED,
        "incorrect_cvc": FailureKind.CARD_DECLINED,
        "incorrect_number": FailureKind.CARD_DECLINED,
        "incorrect_zip": FailureKind.CARD_DECLINED,
        "invalid_cvc": FailureKind.CARD_DECLINED,
        "invalid_expiry_month": FailureKind.CARD_DECLINED,
        "invalid_expiry_year": FailureKind.CARD_DECLINED,
        "invalid_number": FailureKind.CARD_DECLINED,
        "payment_intent_payment_attempt_failed": FailureKind.CARD_DECLINED,
        "payment_method_provider_decline": FailureKind.CARD_DECLINED,
        "insufficient_funds": FailureKind.INSUFFICIENT_FUNDS,
        "authentication_required": FailureKind.AUTHENTICATION_REQUIRED,
        "payment_intent_authentication_failure": FailureKind.AUTHENTICATION_FAILED,
        "payment_intent_action_required": FailureKind.AUTHENTICATION_FAILED,
        "payment_intent_payment_attempt_expired": FailureKind.AUTHENTICATION_FAILED,
        "processing_error": FailureKind.PROVIDER_DOWN,  # see DECLINE_CODES
        "payment_method_provider_timeout": FailureKind.PROVIDER_DOWN,
        "payment_method_not_available": FailureKind.PROVIDER_DOWN,
        "rate_limit": FailureKind.RATE_LIMITED,
        # Another request holds the object's lock; Stripe rejected this one before acting.
        "lock_timeout": FailureKind.BUSY,
        # A request under the same Idempotency-Key is still running: it may move money.
        "idempotency_key_in_use": FailureKind.UNKNOWN_OUTCOME,
        "api_key_expired": FailureKind.CREDENTIALS_REJECTED,
        "platform_api_key_expired": FailureKind.CREDENTIALS_REJECTED,
        "secret_key_required": FailureKind.CREDENTIALS_REJECTED,
        "livemode_mismatch": FailureKind.CREDENTIALS_REJECTED,  # test key, live object
        "testmode_charges_only": FailureKind.CREDENTIALS_REJECTED,  # account not activated
        "account_invalid": FailureKind.CREDENTIALS_REJECTED,
        "resource_missing": FailureKind.NOT_FOUND,
        "amount_too_large": FailureKind.INVALID_REQUEST,
        "amount_too_small": FailureKind.INVALID_REQUEST,
        "invalid_charge_amount": FailureKind.INVALID_REQUEST,
        "invalid_charge_amount_no_decimal_compatible": FailureKind.INVALID_REQUEST,
        "balance_insufficient": FailureKind.INVALID_REQUEST,  # our balance, for a refund
        "charge_already_captured": FailureKind.INVALID_REQUEST,
        "charge_already_refunded": FailureKind.INVALID_REQUEST,
        "charge_disputed": FailureKind.INVALID_REQUEST,
        "charge_expired_for_capture": FailureKind.INVALID_REQUEST,
        "refund_disputed_payment": FailureKind.INVALID_REQUEST,
        "email_invalid": FailureKind.INVALID_REQUEST,
        "url_invalid": FailureKind.INVALID_REQUEST,
        "parameter_invalid_empty": FailureKind.INVALID_REQUEST,
        "parameter_invalid_integer": FailureKind.INVALID_REQUEST,
        "parameter_invalid_string_blank": FailureKind.INVALID_REQUEST,
        "parameter_invalid_string_empty": FailureKind.INVALID_REQUEST,
        "parameter_missing": FailureKind.INVALID_REQUEST,
        "parameter_unknown": FailureKind.INVALID_REQUEST,
        "parameters_exclusive": FailureKind.INVALID_REQUEST,
        "payment_intent_incompatible_payment_method": FailureKind.INVALID_REQUEST,
        "payment_intent_invalid_parameter": FailureKind.INVALID_REQUEST,
        # Named with the intent's status (`STATE_ERRORS`): `already_done` lists those that
        # mean a resent capture or cancel was done by its first call.
        "payment_intent_unexpected_state": FailureKind.INVALID_REQUEST,
        "payment_method_currency_mismatch": FailureKind.INVALID_REQUEST,
        "payment_method_invalid_parameter": FailureKind.INVALID_REQUEST,
        "payment_method_unactivated": FailureKind.INVALID_REQUEST,
        "payment_method_unexpected_state": FailureKind.INVALID_REQUEST,
    }
)
"""`error.code` → kind, for 4xx answers (and `last_payment_error` without a decline code)."""


STATE_ERRORS: Final = frozenset({"payment_intent_unexpected_state"})
"""`error.code`s refusing a call for the state of the intent the error carries
(`error.payment_intent`): the reply's `provider_code` names that state,
`<code>:<intent status>` (`payment_intent_unexpected_state:succeeded`), because the same code
refuses a capture already done and one the intent can never take (canceled,
requires_payment_method), and only the first is settled by `Resolution.already_done`. Without
the intent the code stays bare. Stripe (stripe/stripe-php#818): a PaymentIntent answers an
already-captured capture with this code, never the Charges API's `charge_already_captured`."""


ERROR_TYPES: Final[Mapping[str, FailureKind]] = MappingProxyType(
    {
        # The key was used before with other parameters (400, no code). Each attempt has its
        # own key, so Stripe already holds a request under it, which may have charged: look
        # it up, never fail over.
        "idempotency_error": FailureKind.UNKNOWN_OUTCOME,
    }
)
"""`error.type` → kind, for a 4xx whose `code` no row maps (Stripe sends some errors without
one), ahead of `HTTP_STATUSES`; such a reply's `provider_code` is the type."""


PARAM_ERRORS: Final[Mapping[tuple[str, str], FailureKind]] = MappingProxyType(
    {
        # "No such PaymentMethod": the token is not this Stripe account's (another provider's,
        # or detached). Stripe refused the request before creating anything, so the router
        # records it and moves on to a provider holding a credential for the card.
        ("resource_missing", "payment_method"): FailureKind.INVALID_REQUEST,
        # "No such customer": the customer a saved card belongs to is not at this account.
        ("resource_missing", "customer"): FailureKind.INVALID_REQUEST,
    }
)
"""(`error.code`, `error.param`) → kind, ahead of `ERROR_CODES`: a code whose meaning turns on
the object it names. `resource_missing` alone stays NOT_FOUND: a payment looked up that
Stripe does not have."""

HTTP_STATUSES: Final[Mapping[int, FailureKind]] = MappingProxyType(
    {
        400: FailureKind.INVALID_REQUEST,
        401: FailureKind.CREDENTIALS_REJECTED,
        402: FailureKind.CARD_DECLINED,  # "parameters were valid but the request failed"
        403: FailureKind.CREDENTIALS_REJECTED,  # restricted key without the permission
        404: FailureKind.NOT_FOUND,
        409: FailureKind.UNKNOWN_OUTCOME,  # conflict with a concurrent request, same key
        424: FailureKind.UNKNOWN_OUTCOME,  # external dependency failed mid-request
        429: FailureKind.RATE_LIMITED,
        # Stripe: "treat the result of a 500 as indeterminate"; gateways (502/504) too.
        500: FailureKind.UNKNOWN_OUTCOME,
        502: FailureKind.UNKNOWN_OUTCOME,
        504: FailureKind.UNKNOWN_OUTCOME,
        # Stripe's load shedders refuse with 503 before the API runs ("Scaling your API
        # with rate limiters"), and the same key makes a retry safe.
        503: FailureKind.BUSY,
    }
)
"""HTTP status → kind, when neither `decline_code`, `code` nor `type` is in the tables above."""


SHOULD_RETRY: Final[Mapping[str, FailureKind]] = MappingProxyType(
    {
        # Stripe caches the result of every request whose endpoint began executing, and a
        # retry under the same key replays it; "true" means nothing was cached, so the
        # request never ran.
        "true": FailureKind.BUSY,
        # "A retry won't have an additional effect": the request ran, with whatever effect.
        "false": FailureKind.UNKNOWN_OUTCOME,
    }
)
"""`Stripe-Should-Retry` on a 5xx → kind, ahead of `HTTP_STATUSES`. Ignored on a 4xx, where
the code is more precise (409 `idempotency_key_in_use` says "retry" yet is still in flight)."""


STRIPE_EXPONENTS: Final[Mapping[str, int]] = MappingProxyType({"ISK": 2, "MGA": 0})
"""Currencies whose Stripe minor unit differs from ISO 4217 (docs.stripe.com/currencies):
ISK stays two-decimal at Stripe (multiples of 100); MGA is zero-decimal at Stripe."""


AWAITING_AUTHENTICATION: Final = frozenset({"authentication_required"})
"""`decline_code` or `code` by which Stripe keeps the intent for the customer to authenticate
on session (`_authentication`): `requires_action` on a known intent, else the decline
`DECLINE_CODES` says."""
