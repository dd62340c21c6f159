"""The credentials a stand-in issued, and to whom: no provider charges another's token.

A Stripe PaymentMethod, an Adyen stored payment method or a PayPal vault payment token exists
only at the provider that issued it, so each stand-in keeps a `Vault` of the ones it issued
(through the admin API, `POST /_admin/{provider}/credentials`, as a checkout's tokenization
would) and refuses any other with that provider's own error. Stripe's documented test
PaymentMethods and tokens exist at every Stripe account, as in test mode.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Mapping, Set
from dataclasses import dataclass
from typing import Final

__all__ = ["STRIPE_TEST_METHODS", "CredentialRequest", "Vault", "random_digits"]

STRIPE_TEST_METHODS: Final = frozenset(
    {
        *(
            f"{prefix}_{brand}"
            for prefix in ("pm_card", "tok")
            for brand in (
                "visa",
                "visa_debit",
                "mastercard",
                "mastercard_debit",
                "mastercard_prepaid",
                "amex",
                "discover",
                "diners",
                "jcb",
                "unionpay",
            )
        ),
        "pm_card_visa_chargeDeclined",
        "pm_card_visa_chargeDeclinedInsufficientFunds",
        "pm_card_visa_chargeDeclinedLostCard",
        "pm_card_visa_chargeDeclinedStolenCard",
        "pm_card_chargeDeclined",
        "pm_card_chargeDeclinedInsufficientFunds",
        "pm_card_chargeDeclinedLostCard",
        "pm_card_chargeDeclinedStolenCard",
        "pm_card_chargeDeclinedExpiredCard",
        "pm_card_chargeDeclinedIncorrectCvc",
        "pm_card_chargeDeclinedProcessingError",
        "pm_card_chargeDeclinedFraudulent",
        "pm_card_authenticationRequired",
        "pm_card_threeDSecure2Required",
        "tok_chargeDeclined",
        "tok_chargeDeclinedInsufficientFunds",
        "tok_chargeDeclinedLostCard",
        "tok_chargeDeclinedStolenCard",
        "tok_chargeDeclinedExpiredCard",
        "tok_chargeDeclinedIncorrectCvc",
        "tok_chargeDeclinedProcessingError",
        "tok_chargeDeclinedFraudulent",
    }
)
"""Stripe's test PaymentMethods and card tokens (docs.stripe.com/testing): every test-mode
account knows them, so a test may send them without creating anything first."""

_ID: Final = re.compile(r"[0-9A-Za-z_-]{1,64}")


@dataclass(frozen=True, slots=True)
class CredentialRequest:
    """An admin request to issue a credential: for whom, and optionally its id.

    A chosen id lets a test or a drill name a card (`3ds2_...` at Adyen) or target its
    payers with a fault's `payer_prefix`; the provider's own format is still enforced.
    """

    customer: str | None = None
    credential_id: str | None = None

    @classmethod
    def parse(cls, body: object) -> CredentialRequest | str:
        """The request, or a message naming the bad field."""
        if not isinstance(body, dict):
            return "expected a JSON object {customer?: str, id?: str}"
        unknown = set(body) - {"customer", "id"}
        if unknown:
            return f"unknown fields {sorted(unknown)}: expected customer and id"
        customer, credential_id = body.get("customer"), body.get("id")
        if customer is not None and (not isinstance(customer, str) or not customer.strip()):
            return "customer must be a non-empty string"
        if credential_id is not None and (
            not isinstance(credential_id, str) or not _ID.fullmatch(credential_id)
        ):
            return "id must be 1-64 letters, digits, '_' or '-'"
        return cls(customer, credential_id)


class Vault:
    """The credentials one provider issued: id -> the customer it belongs to (or None)."""

    def __init__(
        self,
        new_id: Callable[[], str],
        *,
        id_format: re.Pattern[str] | None = None,
        needs_customer: bool = False,
    ) -> None:
        self._new_id = new_id
        self._format = id_format
        self._needs_customer = needs_customer
        self._issued: dict[str, str | None] = {}

    def clear(self) -> None:
        """Forget every issued credential (the sandbox's reset)."""
        self._issued.clear()

    def issue(self, request: CredentialRequest) -> tuple[str, str | None] | str:
        """Issue a credential: (its id, its customer), or a message naming the bad field."""
        if self._needs_customer and request.customer is None:
            return "customer is required: this provider stores payment methods per shopper"
        credential_id = request.credential_id or self._new_id()
        if self._format is not None and not self._format.fullmatch(credential_id):
            return f"id must match {self._format.pattern} at this provider"
        owner = self._issued.get(credential_id, request.customer)
        if credential_id in self._issued and owner != request.customer:
            return f"id {credential_id!r} was issued to another customer"
        self._issued[credential_id] = request.customer
        return credential_id, request.customer

    def knows(self, credential_id: str) -> bool:
        """Whether this provider issued it."""
        return credential_id in self._issued

    def stored_for(self, method: Mapping[str, object], shopper: object, deleted: Set[str]) -> bool:
        """Adyen: whether a payment's `paymentMethod` may be charged for this shopper.

        Stored payment methods exist per shopper (`shopperReference`) and only at Adyen: an
        id Adyen never stored, another shopper's, one deleted, or one sent without a shopper
        is refused (errorCode 800 "Contract not found") before any payment is made. A
        payment method that is not a stored one is not this check's business.
        """
        stored = method.get("storedPaymentMethodId")
        if stored is None:
            return True
        return (
            isinstance(stored, str)
            and isinstance(shopper, str)
            and stored not in deleted
            and self.belongs(stored, shopper)
        )

    def belongs(self, credential_id: str, customer: str | None) -> bool:
        """Whether it was issued, to this customer."""
        return credential_id in self._issued and self._issued[credential_id] == customer


def random_digits(length: int, first: str = "8") -> Callable[[], str]:
    """New ids of `length` digits, as Adyen's stored payment method ids are (they begin with
    8, like `8415718415172200`, which no card network's number does)."""
    return lambda: first + "".join(secrets.choice("0123456789") for _ in range(length - 1))
