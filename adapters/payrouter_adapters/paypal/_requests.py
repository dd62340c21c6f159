"""Request bodies and payment references for PayPal, built from payrouter's models.

The wallet account is read with `get_secret_value()` here and only here, straight into the
body; nothing built in this module is logged or put in a message.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Final, Literal

from payrouter import Money, WalletSource, currency_exponent
from payrouter.provider import Charge, UnsendableError

from ._codes import PAYPAL_EXPONENTS

__all__ = [
    "PaymentKind",
    "Reference",
    "capture_body",
    "fit",
    "order_body",
    "paypal_money",
    "refund_body",
]

PaymentKind = Literal["capture", "authorization", "refund"]
_TEXT_MAX_LENGTH: Final = 127
"""`invoice_id`, `custom_id` and `description` of a purchase unit (and of a refund)."""
_NOTE_MAX_LENGTH: Final = 255
_VAULT_ID: Final = re.compile(r"^[0-9A-Za-z_-]{1,255}$")


@dataclass(frozen=True, slots=True)
class Reference:
    """Our `provider_reference` for PayPal: the order id, and the payment inside it once known.

    Written `ORDER` or `ORDER:capture:ID` / `ORDER:authorization:ID` / `ORDER:refund:ID`
    (PayPal ids are upper-case letters and digits, so `:` cannot clash). A lookup needs the
    order; capturing or voiding needs the authorization; refunding needs the capture. Keeping
    all of them in one string lets each call be one HTTP exchange.

    A payment known only from a notification that did not name its order (PayPal's
    `supplementary_data.related_ids.order_id` and `up` link both missing) is written
    `capture:ID` / `authorization:ID`, `order_id` None: its follow-ups still name the payment,
    a lookup gets the payment itself (Payments v2), and the ledger's suffix match (`:ID`)
    finds it in a full reference the same way.
    """

    order_id: str | None
    kind: PaymentKind | None = None
    payment_id: str | None = None

    def __str__(self) -> str:
        if self.kind is None or self.payment_id is None:
            return self.order_id or ""
        if self.order_id is None:
            return f"{self.kind}:{self.payment_id}"
        return f"{self.order_id}:{self.kind}:{self.payment_id}"

    @classmethod
    def parse(cls, text: str) -> Reference | None:
        """The reference written in `text`, or None when it is not one of ours."""
        match text.split(":"):
            case [order_id] if order_id:
                return cls(order_id)
            case [("capture" | "authorization" | "refund") as kind, payment_id] if payment_id:
                return cls(None, kind, payment_id)
            case [order_id, ("capture" | "authorization" | "refund") as kind, payment_id] if (
                order_id and payment_id
            ):
                return cls(order_id, kind, payment_id)
            case _:
                return None


def fit(value: str, limit: int = _TEXT_MAX_LENGTH) -> str:
    """`value` if it fits `limit`, else a deterministic prefix plus a hash of the whole.

    Deterministic, so a retry sends the same text and PayPal sees the same request.
    """
    if len(value) <= limit:
        return value
    digest = hashlib.sha256(value.encode()).hexdigest()[:16]
    return f"{value[: limit - 17]}~{digest}"


def paypal_money(money: Money) -> dict[str, str]:
    """PayPal's `money` object: ISO code and a decimal string ("10.50", "1050" for JPY).

    Raises:
        UnsendableError: PayPal takes the currency without decimals (HUF, TWD) and the
            amount has a fraction.
    """
    iso = currency_exponent(money.currency)
    exponent = PAYPAL_EXPONENTS.get(money.currency, iso)
    amount = money.amount
    if amount != round(amount, exponent):
        raise UnsendableError(
            "amount_not_representable",
            f"PayPal takes {money.currency} without decimals: round the amount to whole units",
        )
    return {"currency_code": money.currency, "value": f"{amount:.{exponent}f}"}


def order_body(
    charge: Charge, return_url: str | None, cancel_url: str | None
) -> tuple[dict[str, object], bool]:
    """`POST /v2/checkout/orders` body, and whether it moves money at once (a vaulted wallet).

    `WalletSource.account` is a Vault v3 payment token id (merchant-initiated: PayPal
    completes the order in the create call) or, when it holds an `@`, the payer's e-mail
    address (prefilled on PayPal's login page; the payer still approves).

    Raises:
        UnsendableError: not a PayPal wallet, no return URL for the payer's approval, an
            account that is neither a token id nor an e-mail, or an unrepresentable amount.
    """
    source = charge.source
    if not isinstance(source, WalletSource) or source.wallet.lower() != "paypal":
        raise UnsendableError(
            "unsupported_method", "this adapter takes PayPal wallets only (WalletSource 'paypal')"
        )
    wallet: dict[str, object] = {}
    account = source.account.get_secret_value() if source.account else None
    if account and "@" in account:
        wallet["email_address"] = account
    elif account and _VAULT_ID.match(account):
        wallet["vault_id"] = account
    elif account:
        raise UnsendableError(
            "account_invalid",
            "WalletSource.account must be a PayPal vault payment token id or the payer's e-mail",
        )
    vaulted = "vault_id" in wallet
    if charge.off_session and not vaulted:
        raise UnsendableError(
            "vault_id_required",
            "a recurring PayPal charge needs the vault payment token id in Mandate.mandate_id",
        )
    return_url = charge.return_url or return_url
    if return_url is None and not vaulted:
        raise UnsendableError(
            "return_url_required",
            "the payer approves at PayPal and comes back to a return_url: set it on the "
            "payment request or in the adapter's options",
        )
    if return_url is not None:
        wallet["experience_context"] = {
            "return_url": return_url,
            "cancel_url": cancel_url or return_url,
            "user_action": "PAY_NOW",
        }
    unit: dict[str, object] = {
        "amount": paypal_money(charge.amount),
        "invoice_id": fit(charge.reference),
        "custom_id": fit(charge.order_id),
    }
    if charge.description:
        unit["description"] = charge.description[:_TEXT_MAX_LENGTH]
    body: dict[str, object] = {
        "intent": "CAPTURE" if charge.capture else "AUTHORIZE",
        "purchase_units": [unit],
        "payment_source": {"paypal": wallet},
    }
    return body, vaulted


def capture_body(amount: Money, authorized: Money) -> dict[str, object]:
    """`POST /v2/payments/authorizations/{id}/capture` body; the last capture when it takes
    the whole authorized amount.

    Raises:
        UnsendableError: the amount is not representable at PayPal.
    """
    return {
        "amount": paypal_money(amount),
        "final_capture": amount.minor_units >= authorized.minor_units,
    }


def refund_body(amount: Money, order_id: str, reason: str | None) -> dict[str, object]:
    """`POST /v2/payments/captures/{id}/refund` body; `reason` is PayPal's `note_to_payer`.

    Raises:
        UnsendableError: the amount is not representable at PayPal.
    """
    body: dict[str, object] = {"amount": paypal_money(amount), "custom_id": fit(order_id)}
    if reason:
        body["note_to_payer"] = reason[:_NOTE_MAX_LENGTH]
    return body
