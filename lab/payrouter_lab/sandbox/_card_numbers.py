"""Card numbers at the Adyen stand-in, network tokens and raw cards, checked as Adyen checks them.

Checkout v72 takes a merchant's network token as `paymentMethod.type` `networkToken` with the
token PAN (`number`), `expiryMonth` and `expiryYear`, and either the token's cryptogram
(`mpiData.tokenAuthenticationVerificationValue`, a customer-initiated payment) or the first
payment's network transaction id (`paymentMethod.networkPaymentReference`, a merchant-initiated
one). A token PAN is a card number to the acquirer, so a malformed one is refused the way a
malformed card number is: 422 errorCode 101 "Invalid card number", 129 "Expiry Date Invalid";
a token past its expiry is `Refused` "Expired Card" (6), as the issuer answers. Stripe takes no
merchant network tokens (its API has no field for them), so only Adyen's stand-in has this.

Raw card fields (`scheme` with `number`, what a forwarding vault fills in from its aliases)
are checked the same way: an alias the vault did not swap reaches Adyen as a number that is
not one, and is refused with errorCode 101.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Final

__all__ = [
    "EXPIRED",
    "card_number_error",
    "card_payer",
    "card_refusal",
    "carries_card_number",
]

EXPIRED: Final = {"refusalReason": "Expired Card", "refusalReasonCode": "6"}
_TOKEN_PAN: Final = re.compile(r"[0-9]{13,19}")
_MONTH: Final = re.compile(r"(0[1-9]|1[0-2])")
_YEAR: Final = re.compile(r"20[0-9]{2}")


def _luhn_valid(digits: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char) * (2 if position % 2 else 1)
        total += value - 9 if value > 9 else value
    return total % 10 == 0


def carries_card_number(method: Mapping[str, object]) -> bool:
    """A network token, or raw card fields: a card number Adyen checks before processing."""
    return method.get("type") == "networkToken" or (
        method.get("type") == "scheme" and "number" in method
    )


def card_number_error(
    method: Mapping[str, object], body: Mapping[str, object]
) -> tuple[str, str] | None:
    """Adyen's (errorCode, message) for a payment by the card number in `method` (the body's
    `paymentMethod`: a network token or raw card fields) that it would not process, if any."""
    number = method.get("number")
    if not isinstance(number, str) or not _TOKEN_PAN.fullmatch(number) or not _luhn_valid(number):
        return "101", "Invalid card number"
    month, year = method.get("expiryMonth"), method.get("expiryYear")
    if not (isinstance(month, str) and _MONTH.fullmatch(month)) or not (
        isinstance(year, str) and _YEAR.fullmatch(year)
    ):
        return "129", "Expiry Date Invalid"
    if method.get("type") != "networkToken":
        return None
    mpi = body.get("mpiData")
    cryptogram = mpi.get("tokenAuthenticationVerificationValue") if isinstance(mpi, dict) else None
    reference = method.get("networkPaymentReference")
    if not cryptogram and not reference:
        return (
            "702",
            "Required field 'mpiData.tokenAuthenticationVerificationValue' or "
            "'paymentMethod.networkPaymentReference' is not provided.",
        )
    return None


def card_refusal(
    method: Mapping[str, object], now: datetime | None = None
) -> dict[str, str] | None:
    """The issuer's refusal of a well-formed card number: one past its expiry month."""
    today = now or datetime.now(UTC)
    month, year = int(str(method["expiryMonth"])), int(str(method["expiryYear"]))
    if (year, month) < (today.year, today.month):
        return dict(EXPIRED)
    return None


def card_payer(method: Mapping[str, object]) -> str:
    """The payer a card number is booked and faulted under (`network_token_...` or
    `card_...`): never the number itself."""
    digest = hashlib.sha256(str(method.get("number", "")).encode()).hexdigest()[:12]
    kind = "network_token" if method.get("type") == "networkToken" else "card"
    return f"{kind}_{digest}"
