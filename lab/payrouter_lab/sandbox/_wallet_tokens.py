"""Wallet payment tokens as Adyen checks them before anything is charged.

An Apple Pay token goes to Adyen as `applePayToken`: the sheet's `paymentData`, stringified
and base64-encoded. Anything else (another provider's credential, such as a Stripe
PaymentMethod made of the same wallet) does not conform, and Adyen refuses it with
`5_002 Invalid Apple Pay token` (docs.adyen.com, "Handle Apple Pay errors"); nothing is charged.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Final

__all__ = ["apple_pay_token_error"]

_PAYMENT_DATA_FIELDS: Final = frozenset({"version", "data", "signature", "header"})
"""The fields of Apple Pay's PKPaymentToken `paymentData` (EC_v1 / RSA_v1)."""


def apple_pay_token_error(method: dict[str, object]) -> tuple[str, str] | None:
    """Adyen's (errorCode, message) for a `paymentMethod` whose Apple Pay token does not
    conform, else None (no Apple Pay token, or one of the right shape)."""
    token = method.get("applePayToken")
    if token is None:
        return None
    try:
        data = json.loads(base64.b64decode(str(token), validate=True))
    except (binascii.Error, UnicodeDecodeError, ValueError):
        data = None
    if isinstance(data, dict) and data.keys() >= _PAYMENT_DATA_FIELDS:
        return None
    return ("5_002", "Invalid Apple Pay token")
