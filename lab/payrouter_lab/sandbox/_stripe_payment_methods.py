"""`POST /v1/payment_methods` at the Stripe stand-in: a card PaymentMethod made from raw card
fields (what a forwarding vault's proxy fills in) or from a legacy card token (`tok_...`, what
Stripe.js makes of an Apple Pay or Google Pay sheet as a token).

Raw card data: Stripe refuses card numbers sent to its API unless the account has been
enabled for raw card data ("Sending credit card numbers directly to the Stripe API is generally
unsafe. ... To enable raw card data APIs in test mode, see
https://support.stripe.com/questions/enabling-access-to-raw-card-data-apis."), an
`invalid_request_error` answered with HTTP 402 and no `code`: the answer reported in
stripe/stripe-dotnet#2816, flutter-stripe/flutter_stripe#1638 and juspay/hyperswitch#1723 and
seen as `Stripe::CardError: (Status 402)` from stripe-ruby. The stand-in's account has no such
access until the admin API grants it (`POST /_admin/stripe/account`, `{"raw_card_data": true}`);
nothing is created either way.

A card token is single-use and exists only at the account that made it: Stripe's test tokens
(`tok_visa`, ...) everywhere in test mode, others once issued through the admin API. An unknown
one is 400 `resource_missing` ("No such token"), a used one 400 `token_already_used`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Final

from ._credentials import STRIPE_TEST_METHODS, CredentialRequest, Vault
from ._exchange import Call, Reply, json_reply
from ._stripe_wire import error, new_id

__all__ = ["RAW_CARD_DATA_REFUSED", "PaymentMethods"]

RAW_CARD_DATA_REFUSED: Final = (
    "Sending credit card numbers directly to the Stripe API is generally unsafe. We suggest you "
    "use test tokens that map to the test card you are using, see "
    "https://stripe.com/docs/testing. To enable raw card data APIs in test mode, see "
    "https://support.stripe.com/questions/enabling-access-to-raw-card-data-apis."
)


@dataclass(slots=True)
class PaymentMethods:
    """The card PaymentMethods this account made, and whether it may take raw card data."""

    vault: Vault
    raw_card_data: bool = False
    """Stripe's raw card data access for this account; off, as for every new account."""
    _origin: dict[str, str] = field(default_factory=dict)
    _used_tokens: set[str] = field(default_factory=set)

    def reset(self) -> None:
        """Forget the PaymentMethods made and the tokens used; raw card data access is off."""
        self.raw_card_data = False
        self._origin.clear()
        self._used_tokens.clear()

    def configure(self, settings: object) -> dict[str, object] | str:
        """Grant or withdraw raw card data access (`{"raw_card_data": bool}`), as Stripe's
        support does for an account that shows its PCI compliance."""
        if not isinstance(settings, dict) or set(settings) != {"raw_card_data"}:
            return 'expected {"raw_card_data": true or false}'
        access = settings["raw_card_data"]
        if not isinstance(access, bool):
            return "raw_card_data must be true or false"
        self.raw_card_data = access
        return {"raw_card_data": access}

    def origin(self, method: str) -> str:
        """The token a PaymentMethod was made from (its test decline, if any), else itself."""
        return self._origin.get(method, method)

    async def create(self, call: Call) -> Reply:
        """`POST /v1/payment_methods` with `type=card` and `card[...]`."""
        form = call.form()
        if form.get("type") != "card":
            return error(
                400,
                "invalid_request_error",
                "Missing required param: type.",
                code="parameter_missing",
                param="type",
            )
        token = form.get("card[token]")
        if token is not None:
            return self._from_token(token)
        number = form.get("card[number]")
        if number is None:
            return error(
                400,
                "invalid_request_error",
                "Missing required param: card[number].",
                code="parameter_missing",
                param="card[number]",
            )
        if not self.raw_card_data:
            return error(402, "invalid_request_error", RAW_CARD_DATA_REFUSED)
        problem = _card_problem(number, form)
        if problem is not None:
            return problem
        return self._made(number, number[-4:], form)

    def _from_token(self, token: str) -> Reply:
        if not (token in STRIPE_TEST_METHODS and token.startswith("tok_")) and not (
            token.startswith("tok_") and self.vault.knows(token)
        ):
            return error(
                400,
                "invalid_request_error",
                f"No such token: '{token}'",
                code="resource_missing",
                param="card[token]",
            )
        if token in self._used_tokens:
            return error(
                400,
                "invalid_request_error",
                f"You cannot use a Stripe token more than once: {token}.",
                code="token_already_used",
                param="card[token]",
            )
        if token not in STRIPE_TEST_METHODS:  # test tokens stand for a card, again and again
            self._used_tokens.add(token)
        return self._made(token, "4242", {})

    def _made(self, origin: str, last4: str, form: dict[str, str]) -> Reply:
        answer = self.vault.issue(CredentialRequest(credential_id=new_id("pm")))
        assert not isinstance(answer, str)
        method_id = answer[0]
        self._origin[method_id] = origin
        card = {
            "brand": "visa" if origin.startswith(("4", "tok_")) else "unknown",
            "last4": last4,
            "exp_month": int(form.get("card[exp_month]", "12")),
            "exp_year": int(form.get("card[exp_year]", "2034")),
        }
        body = {
            "id": method_id,
            "object": "payment_method",
            "type": "card",
            "card": card,
            "billing_details": {},
            "created": int(time.time()),
            "livemode": False,
            "metadata": {},
        }
        return json_reply(200, body)


def _card_problem(number: str, form: dict[str, str]) -> Reply | None:
    """Stripe's card_error for a number or expiry it would not take, else None."""
    if not number.isdigit() or not 12 <= len(number) <= 19 or not _luhn_valid(number):
        return error(
            402,
            "card_error",
            "Your card number is incorrect.",
            code="incorrect_number",
            param="number",
        )
    month, year = form.get("card[exp_month]", ""), form.get("card[exp_year]", "")
    if not month.isdigit() or not 1 <= int(month) <= 12:
        return error(
            402,
            "card_error",
            "Your card's expiration month is invalid.",
            code="invalid_expiry_month",
            param="exp_month",
        )
    if not year.isdigit():
        return error(
            402,
            "card_error",
            "Your card's expiration year is invalid.",
            code="invalid_expiry_year",
            param="exp_year",
        )
    return None


def _luhn_valid(digits: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char) * (2 if position % 2 else 1)
        total += value - 9 if value > 9 else value
    return total % 10 == 0
