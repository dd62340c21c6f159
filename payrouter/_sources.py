"""How a customer offers to pay: cards, wallets and bank accounts, by their credentials.

Each source carries the credentials providers can charge it by; the router sends each
provider only one it can use (`_paying._plan`). Validation happens here, at the edge: card
numbers and IBANs are refused wherever they do not belong (`_sensitive`), and every message
names the field and the fix.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable
from typing import Annotated, Any, Final, Literal, Self

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ModelWrapValidatorHandler,
    SecretStr,
    StringConstraints,
    ValidationError,
    ValidationInfo,
    model_validator,
)
from pydantic_core import InitErrorDetails

from ._sensitive import card_data_problem, contains_card_number, luhn_valid

__all__ = [
    "STRICT_FROZEN",
    "BankTransferSource",
    "CardSource",
    "EdgeModel",
    "FreeText",
    "NetworkToken",
    "PaymentMethod",
    "PaymentSource",
    "VaultCard",
    "WalletSource",
    "no_card_data",
    "source_identity",
]

STRICT_FROZEN: Final = ConfigDict(
    frozen=True, strict=True, extra="forbid", hide_input_in_errors=True
)


class EdgeModel(BaseModel):
    """A model validated at the edge whose errors never carry the input.

    `hide_input_in_errors` only hides it from `str()`; `errors()` and `json()` (what FastAPI
    returns in a 422) would still carry a card number or IBAN. So every error is rebuilt
    with the input replaced, keeping the field path and the message that names the fix.
    """

    model_config = STRICT_FROZEN

    @model_validator(mode="wrap")
    @classmethod
    def _redact_inputs(cls, data: Any, handler: ModelWrapValidatorHandler[Self]) -> Self:
        try:
            return handler(data)
        except ValidationError as error:
            details: list[InitErrorDetails] = []
            for item in error.errors(include_url=False, include_input=False):
                detail = InitErrorDetails(type=item["type"], loc=item["loc"], input="[redacted]")
                if "ctx" in item:
                    detail["ctx"] = item["ctx"]
                details.append(detail)
            raise ValidationError.from_exception_data(
                error.title, details, hide_input=True
            ) from None


class PaymentMethod(enum.StrEnum):
    """The three families of payment method the router can fail over between."""

    CARD = "card"
    WALLET = "wallet"
    BANK_TRANSFER = "bank_transfer"


def no_card_data(value: str, info: ValidationInfo) -> str:
    """Refuse a card number or IBAN in a field that reaches a provider (see `_sensitive`)."""
    problem = card_data_problem(value)
    if problem is not None:
        raise ValueError(f"{info.field_name} {problem}")
    return value


def _no_card_data_secret(value: SecretStr | None, info: ValidationInfo) -> SecretStr | None:
    if value is not None:
        no_card_data(value.get_secret_value(), info)
    return value


FreeText = Annotated[str, AfterValidator(no_card_data)]
"""A string sent to providers: never a card number or an IBAN."""


def _refuse_card_number(token: SecretStr) -> SecretStr:
    if contains_card_number(token.get_secret_value()):
        raise ValueError(
            "looks like a raw card number: pass the provider's card token or payment method id "
            "(e.g. 'pm_card_visa'), never the card number itself"
        )
    return token


def _check_iban(iban: SecretStr) -> SecretStr:
    compact = iban.get_secret_value().replace(" ", "").upper()
    if not re.fullmatch(r"[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}", compact):
        raise ValueError("is not an IBAN: expected country code, 2 check digits, then the BBAN")
    rearranged = compact[4:] + compact[:4]
    if int("".join(str(int(char, 36)) for char in rearranged)) % 97 != 1:
        raise ValueError("has wrong IBAN check digits: check the number with the customer")
    return SecretStr(compact)


ProviderName = Annotated[str, StringConstraints(pattern=r"^\S{1,100}$")]
"""The name of a configured provider, as in the config file (`card_b`, `stripe`)."""

_CardToken = Annotated[SecretStr, AfterValidator(_refuse_card_number)]


def _check_token_number(number: SecretStr) -> SecretStr:
    digits = number.get_secret_value()
    if not re.fullmatch(r"[0-9]{13,19}", digits) or not luhn_valid(digits):
        raise ValueError("is not a token PAN: expected 13-19 digits passing the Luhn check")
    return number


class NetworkToken(EdgeModel):
    """A card network token (Visa Token Service, Mastercard MDES) standing for one card.

    The token PAN is issued by the card network to this merchant, so every provider whose API
    takes network tokens can charge it: the portable credential for card failover. A
    customer-initiated payment carries the `cryptogram` (and `eci`) the token requestor
    generated for it; a merchant-initiated one carries the `network_transaction_id` of the
    first payment instead. The token PAN is kept secret like a card token.
    """

    number: Annotated[SecretStr, AfterValidator(_check_token_number)] = Field(
        description="The token PAN (13-19 digits), never the card's own number."
    )
    expiry_month: int = Field(ge=1, le=12)
    expiry_year: int = Field(ge=2000, le=2099, description="Four digits, e.g. 2030.")
    cryptogram: SecretStr | None = Field(
        default=None,
        min_length=1,
        max_length=64,
        description="TAVV/DSRP cryptogram of a customer-initiated payment (base64).",
    )
    eci: Annotated[str, StringConstraints(pattern=r"^[0-9]{2}$")] | None = Field(
        default=None, description="Electronic commerce indicator given with the cryptogram."
    )
    network_transaction_id: (
        Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9]{1,64}$")] | None
    ) = Field(
        default=None,
        description="For a merchant-initiated payment: the first payment's network "
        "transaction id (Visa transaction id, Mastercard trace id).",
    )

    @model_validator(mode="after")
    def _cryptogram_or_transaction(self) -> Self:
        if self.cryptogram is None and self.network_transaction_id is None:
            raise ValueError(
                "give the cryptogram of this customer-initiated payment, or the "
                "network_transaction_id of the first payment for a merchant-initiated one"
            )
        if self.eci is not None and self.cryptogram is None:
            raise ValueError("eci comes with a cryptogram: give both, or neither")
        return self


def _refuse_card_number_alias(alias: SecretStr) -> SecretStr:
    if contains_card_number(alias.get_secret_value()):
        raise ValueError(
            "looks like a raw card number: give the vault's alias for it, never the number"
        )
    return alias


_Alias = Annotated[
    SecretStr,
    StringConstraints(min_length=1, max_length=200),
    AfterValidator(_refuse_card_number_alias),
]


class VaultCard(EdgeModel):
    """A card held by a forwarding vault (VGS, Basis Theory, ...), by the aliases it issued.

    The vault stores the card number and CVC and gives the checkout an alias for each; a
    provider configured to be reached through that vault (`HttpAdapter.from_options(vault=)`)
    is sent the aliases in its raw-card fields, and the vault's proxy swaps them for the card
    data on the way. So neither the merchant's servers nor payrouter ever hold the number,
    while every provider behind the vault can charge the card (docs/security.md).
    """

    vault: ProviderName = Field(description="The configured vault's name, e.g. 'vgs'.")
    number: _Alias = Field(description="The vault's alias of the card number.")
    expiry_month: int = Field(ge=1, le=12)
    expiry_year: int = Field(ge=2000, le=2099, description="Four digits, e.g. 2030.")
    cvc: _Alias | None = Field(
        default=None, description="The vault's alias of the CVC, for a shopper-present payment."
    )


class CardSource(EdgeModel):
    """A card, as the credentials providers can charge it by: the router never sees its number.

    Give what the checkout has:
    - `token` alone: one provider's card token or payment method id. It goes to the providers
      that recognize its format (Stripe's `pm_...`); name the issuer with `provider` when its
      format says nothing (an Adyen stored payment method id).
    - `tokens`: a token per configured provider, for a card tokenized at several.
    - `network_token`: the card network's token, which every provider taking network tokens
      can charge.
    - `vault_card`: the aliases a forwarding vault issued for the card, charged at every
      provider reached through that vault.
    The router sends each provider only a credential it can charge, and skips the others.
    """

    method: Literal[PaymentMethod.CARD] = PaymentMethod.CARD
    token: _CardToken | None = Field(
        default=None,
        description="One provider's card token or payment method id, e.g. 'pm_card_visa'.",
    )
    provider: ProviderName | None = Field(
        default=None, description="The configured provider that issued `token`."
    )
    tokens: dict[ProviderName, _CardToken] = Field(
        default_factory=dict,
        max_length=10,
        description="Card tokens by configured provider name, for a card tokenized at several.",
    )
    network_token: NetworkToken | None = None
    vault_card: VaultCard | None = None
    network: FreeText | None = Field(default=None, description="'visa', 'mastercard', ...")

    @model_validator(mode="after")
    def _some_credential(self) -> Self:
        if self.provider is not None and self.token is None:
            raise ValueError("provider names who issued `token`: give the token too")
        if (
            self.token is None
            and not self.tokens
            and self.network_token is None
            and self.vault_card is None
        ):
            raise ValueError(
                "give the card's credential: token (one provider's), tokens (one per "
                "provider), network_token or vault_card"
            )
        if self.token is not None and self.provider in self.tokens:
            raise ValueError(f"two tokens for provider {self.provider!r}: give it in `tokens` only")
        return self

    def token_for(self, provider: str, *, recognizes: Callable[[str], bool]) -> SecretStr | None:
        """The token `provider` can charge, if any; `recognizes` tells its own tokens apart."""
        named = self.tokens.get(provider)
        if named is not None:
            return named
        if self.token is None:
            return None
        if self.provider is not None:
            return self.token if self.provider == provider else None
        return self.token if recognizes(self.token.get_secret_value()) else None


class WalletSource(EdgeModel):
    """A wallet such as PayPal, Alipay or Apple Pay, with the customer's wallet credential.

    `account` is the wallet's payer id or payment token; name its issuer with `provider`, or
    give one per provider in `accounts`, when the wallet can go through several providers
    (Apple Pay through Stripe and through Adyen) with a token each. A wallet without any
    credential is approved by the customer at the wallet (a redirect), through any provider.
    """

    method: Literal[PaymentMethod.WALLET] = PaymentMethod.WALLET
    wallet: Annotated[FreeText, StringConstraints(min_length=1, max_length=40)] = Field(
        description="Wallet type, e.g. 'paypal', 'alipay', 'applepay'."
    )
    account: Annotated[SecretStr | None, AfterValidator(_no_card_data_secret)] = Field(
        default=None, description="Wallet account or payer id: never a card number or IBAN."
    )
    provider: ProviderName | None = Field(
        default=None, description="The configured provider that issued `account`."
    )
    accounts: dict[ProviderName, Annotated[SecretStr, AfterValidator(_no_card_data_secret)]] = (
        Field(
            default_factory=dict,
            max_length=10,
            description="Wallet tokens by configured provider name.",
        )
    )

    @model_validator(mode="after")
    def _named_account(self) -> Self:
        if self.provider is not None and self.account is None:
            raise ValueError("provider names who issued `account`: give the account too")
        if self.account is not None and self.provider in self.accounts:
            raise ValueError(
                f"two accounts for provider {self.provider!r}: give it in `accounts` only"
            )
        return self

    def account_for(self, provider: str) -> SecretStr | None:
        """The wallet credential for `provider`: named for it, or given without a name."""
        named = self.accounts.get(provider)
        if named is not None:
            return named
        if self.provider is None or self.provider == provider:
            return self.account
        return None


class BankTransferSource(EdgeModel):
    """A bank account to debit or initiate a transfer from, by IBAN (checked with mod 97)."""

    method: Literal[PaymentMethod.BANK_TRANSFER] = PaymentMethod.BANK_TRANSFER
    iban: Annotated[SecretStr, AfterValidator(_check_iban)]
    holder_name: Annotated[FreeText, StringConstraints(min_length=1, max_length=140)] | None = None


PaymentSource = Annotated[
    CardSource | WalletSource | BankTransferSource, Field(discriminator="method")
]
"""One way the customer offered to pay; `PaymentRequest.sources` lists them by preference."""


def source_identity(source: CardSource | WalletSource | BankTransferSource) -> list[str]:
    match source:
        case CardSource():
            # A token alone hashes as it always did, so fingerprints in existing ledgers hold.
            identity = ["card", source.token.get_secret_value() if source.token else ""]
            for name, token in sorted(source.tokens.items()):
                identity += [name, token.get_secret_value()]
            if source.network_token is not None:
                identity += ["network_token", source.network_token.number.get_secret_value()]
            if source.vault_card is not None:
                vaulted = source.vault_card
                identity += ["vault_card", vaulted.vault, vaulted.number.get_secret_value()]
            return identity
        case WalletSource():
            account = source.account.get_secret_value() if source.account else ""
            identity = ["wallet", source.wallet, account]
            for name, token in sorted(source.accounts.items()):
                identity += [name, token.get_secret_value()]
            return identity
        case BankTransferSource():
            return ["bank_transfer", source.iban.get_secret_value()]
