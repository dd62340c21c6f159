"""Request bodies for Adyen Checkout v72, built from payrouter's models.

Secrets (card tokens, wallet tokens, IBANs) are read with `get_secret_value()` here and only
here, straight into the body; nothing built in this module is logged or put in a message.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Final, Literal

from pydantic import SecretStr

from payrouter import (
    BankTransferSource,
    CardSource,
    Money,
    NetworkToken,
    VaultCard,
    WalletSource,
    currency_exponent,
)
from payrouter.provider import Charge, UnsendableError

from ._codes import ADYEN_EXPONENTS, REFUND_REASONS

__all__ = [
    "REFERENCE_MAX_LENGTH",
    "WALLETS",
    "AttemptAuthentication",
    "RecurringModel",
    "WalletRow",
    "adyen_amount",
    "fit",
    "payment_body",
    "refund_reason",
]

REFERENCE_MAX_LENGTH: Final = 80
"""`reference` and `paymentReference` take at most 80 characters."""
_STORED_ID_MAX_LENGTH: Final = 64
_SHOPPER_REFERENCE_LENGTHS: Final = range(3, 257)

_NATIVE_THREE_DS: Final = "disabled"
"""A shopper-present card is challenged by redirect: `action.url` is all the checkout needs,
where native 3-D Secure needs Adyen's component and an action object without a URL."""

RecurringModel = Literal["CardOnFile", "Subscription", "UnscheduledCardOnFile"]
AttemptAuthentication = Literal["always", "never"]


@dataclass(frozen=True, slots=True)
class WalletRow:
    """How one wallet is sent: Adyen's `paymentMethod.type` and where its token goes."""

    type: str
    account_field: str | None = None
    extra: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))


WALLETS: Final[Mapping[str, WalletRow]] = MappingProxyType(
    {
        "alipay": WalletRow("alipay"),
        "alipay_hk": WalletRow("alipay_hk"),
        "wechatpay": WalletRow("wechatpayQR"),  # a QR code the shopper scans on desktop
        "wechatpay_web": WalletRow("wechatpayWeb"),
        "paypal": WalletRow("paypal", extra=MappingProxyType({"subtype": "redirect"})),
        "applepay": WalletRow("applepay", account_field="applePayToken"),
        "googlepay": WalletRow("googlepay", account_field="googlePayToken"),
        "samsungpay": WalletRow("samsungpay", account_field="samsungPayToken"),
        "twint": WalletRow("twint"),
        "mobilepay": WalletRow("mobilepay"),
        "swish": WalletRow("swish"),
        "kakaopay": WalletRow("kakaopay"),
        "gcash": WalletRow("gcash"),
    }
)
"""`WalletSource.wallet` → Adyen payment method. Token wallets (Apple/Google/Samsung Pay) need
`WalletSource.account` to hold the wallet's payment token; the others redirect the shopper."""


def fit(value: str, limit: int = REFERENCE_MAX_LENGTH) -> str:
    """`value` if it fits in `limit` characters, else a deterministic shortening of it.

    The same input always gives the same output, so a payment and its later `/cancels` by
    reference agree; the hash suffix keeps two long references apart.
    """
    if len(value) <= limit:
        return value
    digest = hashlib.sha256(value.encode()).hexdigest()[:16]
    return f"{value[: limit - len(digest) - 1]}-{digest}"


def adyen_amount(money: Money) -> dict[str, object]:
    """Adyen's `Amount` in Adyen's minor units, which differ from ISO 4217 for a few currencies.

    Raises:
        UnsendableError: the amount has finer precision than Adyen takes in that currency
            (e.g. 10.50 IDR, which Adyen counts in whole rupiah).
    """
    exponent = ADYEN_EXPONENTS.get(money.currency, currency_exponent(money.currency))
    scaled = money.amount.scaleb(exponent)
    if scaled != scaled.to_integral_value():
        raise UnsendableError(
            "amount_not_representable",
            f"Adyen takes {money.currency} with {exponent} decimals: round the amount",
        )
    return {"value": int(scaled), "currency": money.currency}


def refund_reason(reason: str | None) -> str | None:
    """Adyen's `merchantRefundReason` for our free-text reason; None sends none."""
    if reason is None:
        return None
    return REFUND_REASONS.get(reason.strip().lower(), "OTHER")


def _shopper_reference(customer_id: str | None) -> str | None:
    if customer_id is None or len(customer_id) not in _SHOPPER_REFERENCE_LENGTHS:
        return None
    return customer_id


def _stored_card(source: CardSource) -> dict[str, object]:
    if source.token is None:  # the router sends only what our rules declare we take
        raise UnsendableError(
            "stored_payment_method_required", "an Adyen card charge needs its stored card id"
        )
    token = source.token.get_secret_value()
    if len(token) > _STORED_ID_MAX_LENGTH:
        raise UnsendableError(
            "token_too_long",
            "an Adyen card token is a storedPaymentMethodId of at most 64 characters",
        )
    return {"type": "scheme", "storedPaymentMethodId": token}


def _network_token(token: NetworkToken, *, merchant_initiated: bool) -> dict[str, object]:
    """`paymentMethod` of type `networkToken`: the token PAN and its expiry, plus, for a
    merchant-initiated payment, the first payment's `networkTxReference` as
    `networkPaymentReference` (Checkout v72 `CardDetails`)."""
    method: dict[str, object] = {
        "type": "networkToken",
        "number": token.number.get_secret_value(),
        "expiryMonth": f"{token.expiry_month:02d}",
        "expiryYear": str(token.expiry_year),
    }
    if merchant_initiated:
        method["networkPaymentReference"] = token.network_transaction_id
    return method


def _vault_card(card: VaultCard) -> dict[str, object]:
    """`paymentMethod` of type `scheme` with raw card fields holding the vault's aliases; the
    vault's proxy, which the adapter's requests go through, swaps them for the card data."""
    method: dict[str, object] = {
        "type": "scheme",
        "number": card.number.get_secret_value(),
        "expiryMonth": f"{card.expiry_month:02d}",
        "expiryYear": str(card.expiry_year),
    }
    if card.cvc is not None:
        method["cvc"] = card.cvc.get_secret_value()
    return method


def _token_cryptogram(cryptogram: SecretStr, eci: str | None) -> dict[str, object]:
    """`mpiData` of a customer-initiated network token payment: the token's cryptogram is
    its TAVV (`tokenAuthenticationVerificationValue`, "the network token cryptogram" in
    `ThreeDSecureData`), authenticated by the token requestor, hence transStatus Y."""
    mpi: dict[str, object] = {
        "directoryResponse": "Y",
        "authenticationResponse": "Y",
        "tokenAuthenticationVerificationValue": cryptogram.get_secret_value(),
    }
    if eci is not None:
        mpi["eci"] = eci
    return mpi


def _card(
    charge: Charge, source: CardSource, shopper: str | None, recurring_model: RecurringModel
) -> dict[str, object]:
    """The card fields of a `/payments` body: a stored card, a network token, or the
    aliases of a card held by a forwarding vault (raw card fields the vault fills in).

    A network token is charged customer-initiated with its cryptogram while the shopper is
    present, and merchant-initiated (`ContAuth`, with the first payment's network transaction
    id) off session or when the token carries no cryptogram.
    """
    token = source.network_token
    if source.token is None and token is not None:
        cryptogram = token.cryptogram
        if charge.off_session and token.network_transaction_id is not None:
            cryptogram = None  # the shopper is absent: the first payment's id speaks for them
        merchant_initiated = cryptogram is None
        fields: dict[str, object] = {
            "paymentMethod": _network_token(token, merchant_initiated=merchant_initiated)
        }
        if cryptogram is not None:
            fields["mpiData"] = _token_cryptogram(cryptogram, token.eci)
            recurring_model = "CardOnFile"
        elif recurring_model == "CardOnFile":
            recurring_model = "UnscheduledCardOnFile"
        fields["recurringProcessingModel"] = recurring_model
        fields["shopperInteraction"] = "ContAuth" if merchant_initiated else "Ecommerce"
        return fields
    if source.token is None and source.vault_card is not None:
        if charge.off_session and recurring_model == "CardOnFile":
            recurring_model = "UnscheduledCardOnFile"
        return {
            "paymentMethod": _vault_card(source.vault_card),
            "recurringProcessingModel": recurring_model,
            "shopperInteraction": "Ecommerce" if recurring_model == "CardOnFile" else "ContAuth",
        }
    if shopper is None:
        raise UnsendableError(
            "shopper_reference_required",
            "a stored card needs Charge.customer_id (3-256 characters) as shopperReference",
        )
    if charge.off_session and recurring_model == "CardOnFile":
        recurring_model = "UnscheduledCardOnFile"  # the shopper is not there to act
    return {
        "paymentMethod": _stored_card(source),
        "recurringProcessingModel": recurring_model,
        "shopperInteraction": "Ecommerce" if recurring_model == "CardOnFile" else "ContAuth",
    }


def _wallet(source: WalletSource) -> dict[str, object]:
    row = WALLETS.get(source.wallet.lower())
    if row is None:
        raise UnsendableError(
            "wallet_unsupported",
            f"wallet {source.wallet!r} has no Adyen mapping: use one of {sorted(WALLETS)}",
        )
    method: dict[str, object] = {"type": row.type, **row.extra}
    if row.account_field is not None:
        if source.account is None:
            raise UnsendableError(
                "wallet_token_required",
                f"{source.wallet} needs the wallet's payment token in WalletSource.account",
            )
        method[row.account_field] = source.account.get_secret_value()
    return method


def _bank_transfer(source: BankTransferSource) -> dict[str, object]:
    if source.holder_name is None:
        raise UnsendableError(
            "owner_name_required",
            "a SEPA direct debit needs the account holder: set BankTransferSource.holder_name",
        )
    return {
        "type": "sepadirectdebit",
        "iban": source.iban.get_secret_value(),
        "ownerName": source.holder_name,
    }


def payment_body(
    charge: Charge,
    *,
    merchant_account: str,
    default_return_url: str,
    recurring_model: RecurringModel,
    attempt_authentication: AttemptAuthentication | None = None,
) -> dict[str, object]:
    """The `POST /payments` body for `charge`. A shopper-present card payment carries
    `attempt_authentication` (the merchant's choice; left out, Adyen's rules decide), and
    `always` when the charge asks for authentication (a resend after refusal 38).

    Raises:
        UnsendableError: the charge cannot be sent to Adyen as it stands.
    """
    body: dict[str, object] = {
        "amount": adyen_amount(charge.amount),
        "merchantAccount": merchant_account,
        "reference": fit(charge.reference),
        "merchantOrderReference": charge.order_id,
        "returnUrl": charge.return_url or default_return_url,
        "countryCode": charge.customer_country,
    }
    shopper = _shopper_reference(charge.customer_id)
    if shopper is not None:
        body["shopperReference"] = shopper
    match charge.source:
        case CardSource():
            body.update(_card(charge, charge.source, shopper, recurring_model))
        case WalletSource():
            body["paymentMethod"] = _wallet(charge.source)
        case BankTransferSource():
            body["paymentMethod"] = _bank_transfer(charge.source)
    if body.get("shopperInteraction") == "Ecommerce" and "mpiData" not in body:
        authentication: dict[str, object] = {
            "threeDSRequestData": {"nativeThreeDS": _NATIVE_THREE_DS}
        }
        attempt = "always" if charge.authenticate else attempt_authentication
        if attempt is not None:
            authentication["attemptAuthentication"] = attempt
        body["authenticationData"] = authentication
    if charge.capture:
        body["captureDelayHours"] = 0
    else:
        body["additionalData"] = {"manualCapture": "true"}
    return body
