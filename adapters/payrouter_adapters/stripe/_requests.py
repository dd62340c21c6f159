"""Form bodies for Stripe's v1 API, built from payrouter's models.

The card token is read with `get_secret_value()` here and only here, straight into the body;
nothing built in this module is logged or put in a message.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

from pydantic import SecretStr

from payrouter import CardSource, Money, WalletSource, currency_exponent
from payrouter.provider import Charge, UnsendableError

from ._codes import STRIPE_EXPONENTS

__all__ = [
    "METADATA_ORDER_ID",
    "METADATA_REFERENCE",
    "REFUND_REASONS",
    "WALLETS",
    "intent_form",
    "money_from_stripe",
    "refund_form",
    "search_query",
    "stripe_amount",
]

METADATA_REFERENCE: Final = "payrouter_reference"
"""Metadata key holding our attempt reference; `lookup` searches by it."""
METADATA_ORDER_ID: Final = "order_id"
"""Metadata key holding the merchant's order id, for the Dashboard."""
REFUND_REASONS: Final = frozenset({"duplicate", "fraudulent", "requested_by_customer"})
"""Stripe's refund `reason` enum; any other reason travels as `metadata[reason]`."""

WALLETS: Final[Mapping[str, str]] = MappingProxyType(
    {"applepay": "Apple Pay", "googlepay": "Google Pay"}
)
"""Wallets Stripe charges as cards: Stripe.js (Payment Request Button, Express Checkout
Element) or Stripe's mobile SDKs turn the wallet's payment token into a PaymentMethod
(`pm_...`), and that Stripe credential is what is charged."""

_METADATA_VALUE_MAX_LENGTH: Final = 500
_WALLET_METHOD: Final = re.compile(r"pm_[A-Za-z0-9_]+")
_STRIPE_CUSTOMER_PREFIX: Final = "cus_"


def stripe_amount(money: Money) -> int:
    """`money` in Stripe's minor unit, which differs from ISO 4217 for ISK and MGA.

    Raises:
        UnsendableError: the amount is not representable at Stripe (e.g. 1.50 MGA).
    """
    iso = currency_exponent(money.currency)
    shift = STRIPE_EXPONENTS.get(money.currency, iso) - iso
    scale: int = 10 ** abs(shift)
    if shift >= 0:
        return money.minor_units * scale
    whole, rest = divmod(money.minor_units, scale)
    if rest:
        raise UnsendableError(
            "amount_not_representable",
            f"Stripe takes {money.currency} without fractions; round the amount to whole units",
        )
    return whole


def money_from_stripe(amount: int, currency: str) -> Money:
    """The inverse of `stripe_amount`: Stripe's minor units back into ISO 4217 ones."""
    iso = currency_exponent(currency)
    shift = STRIPE_EXPONENTS.get(currency, iso) - iso
    scale: int = 10 ** abs(shift)
    minor = amount // scale if shift >= 0 else amount * scale
    return Money(minor_units=minor, currency=currency)


def intent_form(
    charge: Charge, default_return_url: str | None, made_method: str | None = None
) -> dict[str, str]:
    """`POST /v1/payment_intents` body: create and confirm in one call, paid with
    `made_method` when a PaymentMethod was made for the charge first (`_payment_methods`).

    Raises:
        UnsendableError: not a card, a metadata key Stripe refuses, or an amount Stripe
            cannot represent.
    """
    form = {
        "amount": str(stripe_amount(charge.amount)),
        "currency": charge.amount.currency.lower(),
        "confirm": "true",
        **({"payment_method": made_method} if made_method else _payment_method(charge)),
        "payment_method_types[0]": "card",
        "capture_method": "automatic" if charge.capture else "manual",
    }
    metadata = dict(charge.metadata)
    customer = charge.customer_id
    if customer is not None and customer.startswith(_STRIPE_CUSTOMER_PREFIX):
        form["customer"] = customer
    elif charge.off_session:
        raise UnsendableError(
            "customer_required",
            "a saved card is charged for its Stripe customer: set customer_id to the cus_... "
            "the PaymentMethod is attached to",
        )
    elif customer is not None:
        metadata["customer_id"] = customer
    if charge.off_session:
        form["off_session"] = "true"  # merchant-initiated: Stripe applies the stored mandate
    elif charge.authenticate:  # a resend after authentication_required: ask for 3-D Secure
        form["payment_method_options[card][request_three_d_secure]"] = "any"
    metadata[METADATA_REFERENCE] = charge.reference
    metadata[METADATA_ORDER_ID] = charge.order_id
    form.update(_metadata(metadata))
    return_url = charge.return_url or default_return_url
    if return_url is not None:
        form["return_url"] = return_url
    if charge.description:
        form["description"] = charge.description
    return form


def _payment_method(charge: Charge) -> dict[str, str]:
    """What the intent is paid with: a card's PaymentMethod, or a wallet's Stripe credential.

    Raises:
        UnsendableError: not a card or a wallet Stripe takes, or no Stripe credential for it.
    """
    match charge.source:
        case CardSource(token=None):  # the router sends only what our rules declare we take
            raise UnsendableError(
                "payment_method_required", "a Stripe card charge needs a Stripe payment method id"
            )
        case CardSource(token=token) if token is not None:
            return {"payment_method": token.get_secret_value()}
        case WalletSource(wallet=wallet, account=account) if wallet.lower() in WALLETS:
            return _wallet_payment_method(WALLETS[wallet.lower()], account)
    raise UnsendableError(
        "unsupported_method", f"Stripe takes cards and the wallets {sorted(WALLETS)} here"
    )


def _wallet_payment_method(wallet: str, account: SecretStr | None) -> dict[str, str]:
    """The PaymentMethod Stripe made of the wallet's payment token, as `payment_method`.

    Stripe.js (Payment Request Button, Express Checkout Element) and Stripe's mobile SDKs
    create it from the Apple Pay / Google Pay sheet. A legacy card token (`tok_...`) cannot go
    here: the 2023-08-16 spec has no `payment_method_data[card]` on PaymentIntents, so the
    adapter makes the PaymentMethod first (`card[token]` on `POST /v1/payment_methods`).
    """
    credential = account.get_secret_value() if account is not None else ""
    if _WALLET_METHOD.fullmatch(credential):
        return {"payment_method": credential}
    raise UnsendableError(
        "wallet_token_required",
        f"{wallet} at Stripe is charged by the PaymentMethod (pm_...) or card token (tok_...) "
        "Stripe made of the wallet's payment token: give it in WalletSource.accounts under "
        "this provider's name",
    )


def refund_form(
    payment_intent: str, money: Money, reason: str | None, key: str, order_id: str
) -> dict[str, str]:
    """`POST /v1/refunds` body for a refund of `money` of `payment_intent`.

    Raises:
        UnsendableError: the amount is not representable at Stripe.
    """
    form = {"payment_intent": payment_intent, "amount": str(stripe_amount(money))}
    metadata = {METADATA_REFERENCE: key, METADATA_ORDER_ID: order_id}
    if reason in REFUND_REASONS:
        form["reason"] = reason
    elif reason:
        metadata["reason"] = reason[:_METADATA_VALUE_MAX_LENGTH]
    form.update(_metadata(metadata))
    return form


def search_query(reference: str) -> str:
    """Stripe search query for the intent carrying `reference` in its metadata."""
    quoted = reference.replace("\\", "\\\\").replace("'", "\\'")
    return f"metadata['{METADATA_REFERENCE}']:'{quoted}'"


def _metadata(entries: dict[str, str]) -> dict[str, str]:
    for key in entries:
        if "[" in key or "]" in key:
            raise UnsendableError(
                "metadata_key_invalid",
                f"Stripe metadata keys cannot contain square brackets: rename {key[:40]!r}",
            )
    return {f"metadata[{key}]": value for key, value in entries.items()}
