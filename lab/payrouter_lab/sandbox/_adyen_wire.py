"""Adyen's wire format and a payment's state at the Adyen stand-in: refusal reasons, error
bodies, pspReferences and who pays."""

from __future__ import annotations

import secrets
import string
from dataclasses import dataclass

from ._card_numbers import card_payer, carries_card_number
from ._exchange import Reply, json_reply
from ._faults import FaultKind

__all__ = ["REFUSALS", "TOKEN_FIELDS", "Payment", "new_psp", "payer_of", "service_error"]

REFUSALS = {
    FaultKind.INSUFFICIENT_FUNDS: ("Not enough balance", "12"),
    FaultKind.ACCOUNT_LOCKED: ("Pin tries exceeded", "18"),
    FaultKind.ACCOUNT_FROZEN: ("Blocked Card", "5"),
    # Adyen has no "account closed" refusal; a closed card comes back as expired.
    FaultKind.ACCOUNT_CLOSED: ("Expired Card", "6"),
    FaultKind.REGION_RESTRICTED: ("Restricted Card", "25"),
    FaultKind.DECLINED: ("Refused", "2"),
}
"""Outcome fault → Adyen's (refusalReason, refusalReasonCode)."""
TOKEN_FIELDS = ("applePayToken", "googlePayToken", "samsungPayToken")
_PSP_ALPHABET = string.ascii_uppercase + string.digits


def new_psp() -> str:
    return "".join(secrets.choice(_PSP_ALPHABET) for _ in range(16))


def service_error(status: int, code: str, message: str, kind: str) -> Reply:
    body = {"status": status, "errorCode": code, "message": message, "errorType": kind}
    return json_reply(status, body)


@dataclass(slots=True)
class Payment:
    psp: str
    reference: str
    order_id: str | None
    value: int
    currency: str
    payer: str | None
    manual: bool
    result: str
    approved: bool = False
    failed: bool = False  # the shopper failed the 3-D Secure challenge
    captured: int = 0
    refunded: int = 0
    released: bool = False


def payer_of(method: object) -> str | None:
    if not isinstance(method, dict):
        return None
    if carries_card_number(method):
        return card_payer(method)
    for field in ("storedPaymentMethodId", "iban", *TOKEN_FIELDS, "type"):
        value = method.get(field)
        if isinstance(value, str) and value:
            return value
    return None
