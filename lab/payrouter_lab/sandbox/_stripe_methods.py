"""Stripe PaymentMethods at the stand-in: which ids it charges, and the decline test cards.

As in Stripe's test mode, the documented test PaymentMethods and card tokens exist at every
account (`STRIPE_TEST_METHODS`), and PaymentMethods issued through the admin API exist at
this one (`Vault`). Any other id is another provider's token or a made-up one: Stripe answers
400 `resource_missing` on `payment_method` and creates nothing.
"""

from __future__ import annotations

from typing import Final

from ._credentials import STRIPE_TEST_METHODS, Vault
from ._exchange import Reply
from ._stripe_3ds import THREE_DS
from ._stripe_wire import error

__all__ = ["TEST_DECLINES", "unknown_method"]

_DECLINED_AS: Final = {
    "chargeDeclined": ("card_declined", "generic_decline"),
    "chargeDeclinedInsufficientFunds": ("card_declined", "insufficient_funds"),
    "chargeDeclinedLostCard": ("card_declined", "lost_card"),
    "chargeDeclinedStolenCard": ("card_declined", "stolen_card"),
    "chargeDeclinedFraudulent": ("card_declined", "fraudulent"),
    "chargeDeclinedExpiredCard": ("expired_card", "expired_card"),
    "chargeDeclinedIncorrectCvc": ("incorrect_cvc", "incorrect_cvc"),
    "chargeDeclinedProcessingError": ("processing_error", "processing_error"),
}
"""Stripe's decline test cards (docs.stripe.com/testing#declined-payments): the suffix of
`pm_card_[visa_]...` or `tok_...` -> the error `code` and `decline_code` the confirm gets."""
TEST_DECLINES: Final = {
    f"{prefix}{suffix}": answer
    for suffix, answer in _DECLINED_AS.items()
    for prefix in ("pm_card_", "pm_card_visa_", "tok_")
}


def unknown_method(vault: Vault, method: str | None) -> Reply | None:
    """Stripe's 400 for a PaymentMethod this account does not have, else None."""
    if method is None or method in STRIPE_TEST_METHODS or method in THREE_DS:
        return None
    if vault.knows(method):
        return None
    return error(
        400,
        "invalid_request_error",
        f"No such PaymentMethod: '{method}'",
        code="resource_missing",
        param="payment_method",
    )
