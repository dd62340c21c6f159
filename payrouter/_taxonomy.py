"""What a provider call can end as, and what the router does about each kind of failure.

Three outcomes, never two: a call succeeded (or was accepted), definitely failed, or its
outcome is unknown. Adapters translate provider codes into a `FailureKind` through their own
tables; this module's `POLICY` table alone decides what the router does with each kind.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final

__all__ = [
    "AUTHENTICATION_KINDS",
    "DECLINE_TYPES",
    "POLICY",
    "REATTEMPT_ADVICE",
    "Advice",
    "DeclineType",
    "FailureKind",
    "FailurePolicy",
    "Outcome",
    "may_reattempt",
    "policy_for",
]


class Outcome(enum.StrEnum):
    """How one provider call ended, as far as the money is concerned."""

    SUCCEEDED = "succeeded"
    """The provider took the payment (authorized or captured)."""
    PARTIALLY_AUTHORISED = "partially_authorised"
    """The issuer authorised less than asked (Adyen's `PartiallyAuthorised`): money is held,
    but not the charge's amount; the reply's `amount` is the part. Money moved, so it never
    fails over; it is never `succeeded` either: the merchant captures the part or voids it."""
    REQUIRES_ACTION = "requires_action"
    """The customer must act (3-D Secure, wallet approval, bank SCA); no money moved yet."""
    PENDING = "pending"
    """The provider accepted the payment and will settle it later (e.g. a bank transfer)."""
    FAILED = "failed"
    """Definitely failed: the `FailureKind` says whether the money provably did not move."""
    UNKNOWN = "unknown"
    """Money may have moved: timeout after send, reset mid-response, 5xx after submission."""


class FailureKind(enum.StrEnum):
    """The normalized taxonomy every provider code maps to."""

    BUSY = "busy"
    RATE_LIMITED = "rate_limited"
    PROVIDER_DOWN = "provider_down"
    MAINTENANCE = "maintenance"
    NETWORK_BEFORE_SEND = "network_before_send"
    UNKNOWN_OUTCOME = "unknown_outcome"
    CREDENTIALS_REJECTED = "credentials_rejected"
    INSUFFICIENT_FUNDS = "insufficient_funds"
    ACCOUNT_LOCKED = "account_locked"
    ACCOUNT_FROZEN = "account_frozen"
    ACCOUNT_CLOSED = "account_closed"
    REGION_RESTRICTED = "region_restricted"
    AUTHENTICATION_FAILED = "authentication_failed"
    """The customer did not pass the provider's check (3-D Secure failed or abandoned,
    wallet or bank login refused)."""
    AUTHENTICATION_REQUIRED = "authentication_required"
    """The issuer wants the customer to authenticate (3-D Secure, strong customer
    authentication) and this provider could not challenge them here, e.g. a saved card
    charged without the customer. The customer must be brought back to pay on session."""
    SUSPECTED_FRAUD = "suspected_fraud"
    CARD_DECLINED = "card_declined"
    INVALID_REQUEST = "invalid_request"
    NOT_FOUND = "not_found"


@dataclass(frozen=True, slots=True)
class FailurePolicy:
    """What the router does after a failure of one kind.

    Attributes:
        retry_same: try the same provider again (same idempotency key) after a backoff.
        fail_over: move on to the next candidate; only for kinds where the money provably
            did not move.
        counts_against_breaker: the failure says something about the provider's health.
        is_decline: the customer's payment source was refused; the result is `declined`.
        alert: an operator must look (our configuration, not the customer, is at fault).
        customer_message: what a checkout may show the customer; never provider internals.
    """

    retry_same: bool
    fail_over: bool
    counts_against_breaker: bool
    is_decline: bool = False
    alert: bool = False
    customer_message: str = "The payment could not be completed. Please try another method."


def _decline(message: str) -> FailurePolicy:
    return FailurePolicy(
        retry_same=False,
        fail_over=False,
        counts_against_breaker=False,
        is_decline=True,
        customer_message=message,
    )


POLICY: Final = MappingProxyType(
    {
        FailureKind.BUSY: FailurePolicy(
            retry_same=True, fail_over=True, counts_against_breaker=True
        ),
        FailureKind.RATE_LIMITED: FailurePolicy(
            retry_same=True, fail_over=True, counts_against_breaker=True
        ),
        FailureKind.PROVIDER_DOWN: FailurePolicy(
            retry_same=False, fail_over=True, counts_against_breaker=True
        ),
        FailureKind.MAINTENANCE: FailurePolicy(
            retry_same=False, fail_over=True, counts_against_breaker=False
        ),
        FailureKind.NETWORK_BEFORE_SEND: FailurePolicy(
            retry_same=True, fail_over=True, counts_against_breaker=True
        ),
        # Never failed over: money may have moved. The router looks the payment up instead.
        FailureKind.UNKNOWN_OUTCOME: FailurePolicy(
            retry_same=False, fail_over=False, counts_against_breaker=True
        ),
        FailureKind.CREDENTIALS_REJECTED: FailurePolicy(
            retry_same=False, fail_over=True, counts_against_breaker=False, alert=True
        ),
        FailureKind.INSUFFICIENT_FUNDS: _decline(
            "The payment was declined for insufficient funds. Please use another method."
        ),
        FailureKind.ACCOUNT_LOCKED: _decline(
            "The account is locked. Please contact your provider or use another method."
        ),
        FailureKind.ACCOUNT_FROZEN: _decline(
            "The account is frozen. Please contact your provider or use another method."
        ),
        FailureKind.ACCOUNT_CLOSED: _decline("The account is closed. Please use another method."),
        FailureKind.REGION_RESTRICTED: _decline(
            "This method is not available in your region. Please use another method."
        ),
        FailureKind.AUTHENTICATION_FAILED: _decline(
            "We could not verify the payment. Please sign in again or use another method."
        ),
        # Never another provider: every issuer check would ask the same, and sending it on
        # unauthenticated is what the rules forbid. The customer pays again, present.
        FailureKind.AUTHENTICATION_REQUIRED: _decline(
            "Your bank asks you to confirm this payment. Please pay again and complete the check."
        ),
        FailureKind.SUSPECTED_FRAUD: _decline("The payment was declined."),
        FailureKind.CARD_DECLINED: _decline("The payment was declined. Please use another method."),
        # Refused before any money moved, as this provider saw the request (a token it never
        # issued, a field it alone requires): retrying cannot help, another provider may.
        # Still an alert: it may be our bug.
        FailureKind.INVALID_REQUEST: FailurePolicy(
            retry_same=False, fail_over=True, counts_against_breaker=False, alert=True
        ),
        # A lookup found nothing under our reference: the money did not move there.
        FailureKind.NOT_FOUND: FailurePolicy(
            retry_same=False, fail_over=True, counts_against_breaker=False
        ),
    }
)
"""One row per kind; `tests/test_taxonomy.py` pins every row."""


def policy_for(kind: FailureKind) -> FailurePolicy:
    """The policy row for `kind`; every kind has one (a test checks the table is complete)."""
    return POLICY[kind]


class DeclineType(enum.StrEnum):
    """Whether a declined card might be approved on another attempt now.

    The networks split declines the same way: a soft decline is this attempt's (the issuer
    was unavailable or said "do not honour" without a reason, the path to it failed), a hard
    one is the card's (lost or stolen, invalid account or number, fraud, closed, expired).
    """

    SOFT = "soft"
    """Another attempt, through another acquirer, may be approved."""
    HARD = "hard"
    """No attempt with this card as sent will be approved; retrying only adds network fees."""


class Advice(enum.StrEnum):
    """The card network's (or provider's) advice on retrying a declined card, normalized.

    Adapters translate their provider's fields (Stripe `advice_code` and
    `network_advice_code`, Adyen's Mastercard merchant advice code, Visa's decline
    categories) into these; a reattempt honours them through `REATTEMPT_ADVICE`.
    """

    TRY_AGAIN_LATER = "try_again_later"
    """The issuer cannot approve now but may on a later attempt (Stripe `try_again_later`,
    Mastercard MAC 02, Visa category 2)."""
    WAIT_BEFORE_RETRY = "wait_before_retry"
    """Retry no sooner than a stated wait, an hour to ten days (Mastercard MAC 24-30)."""
    CONFIRM_CARD_DATA = "confirm_card_data"
    """The card data must be updated or confirmed before any retry (Stripe
    `confirm_card_data`, Mastercard MAC 01, Visa category 3)."""
    DO_NOT_TRY_AGAIN = "do_not_try_again"
    """Never retry this card (Stripe `do_not_try_again`, Mastercard MAC 03, 04 and 21,
    Visa category 1); networks fine merchants who do."""


DECLINE_TYPES: Final = MappingProxyType(
    {
        # An unmapped card decline is hard: a reattempt must be earned by a row saying soft.
        FailureKind.CARD_DECLINED: DeclineType.HARD,
        # The same balance is behind every acquirer; the networks allow a retry days later,
        # which is the merchant's dunning, not a failover.
        FailureKind.INSUFFICIENT_FUNDS: DeclineType.HARD,
        FailureKind.ACCOUNT_LOCKED: DeclineType.HARD,
        FailureKind.ACCOUNT_FROZEN: DeclineType.HARD,
        FailureKind.ACCOUNT_CLOSED: DeclineType.HARD,
        FailureKind.REGION_RESTRICTED: DeclineType.HARD,
        FailureKind.SUSPECTED_FRAUD: DeclineType.HARD,
        # Never sent unauthenticated elsewhere after the issuer asked for authentication.
        FailureKind.AUTHENTICATION_FAILED: DeclineType.HARD,
        FailureKind.AUTHENTICATION_REQUIRED: DeclineType.HARD,
    }
)
"""A decline's type when its provider's code says nothing more; one row per decline kind."""

REATTEMPT_ADVICE: Final = MappingProxyType(
    {
        Advice.TRY_AGAIN_LATER: True,
        Advice.WAIT_BEFORE_RETRY: False,
        Advice.CONFIRM_CARD_DATA: False,
        Advice.DO_NOT_TRY_AGAIN: False,
    }
)
"""Whether a soft decline with this advice may be reattempted at another acquirer at once."""


def may_reattempt(decline: DeclineType | None, advice: Advice | None) -> bool:
    """True for a soft decline whose advice, if any, allows another attempt now."""
    return decline is DeclineType.SOFT and (advice is None or REATTEMPT_ADVICE[advice])


AUTHENTICATION_KINDS: Final = frozenset(
    {FailureKind.AUTHENTICATION_FAILED, FailureKind.AUTHENTICATION_REQUIRED}
)
"""Declines about the customer's authentication (3-D Secure). Never reattempted at another
acquirer, whatever an adapter's or a merchant's table calls them: after a provider asked for
authentication, the card is never sent unauthenticated elsewhere."""
