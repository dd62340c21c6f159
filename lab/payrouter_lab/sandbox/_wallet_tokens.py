"""Wallet payment tokens as Adyen checks them before anything is charged.

An Apple Pay token goes to Adyen as `applePayToken`: the sheet's `paymentData`, stringified
and base64-encoded. Anything else (another provider's credential, such as a Stripe
PaymentMethod made of the same wallet) does not conform, and Adyen refuses it with
`5_002 Invalid Apple Pay token` (docs.adyen.com, "Handle Apple Pay errors"); nothing is charged.

A Google Pay token goes as `googlePayToken`: the `token` of Google Pay's `PaymentData`
(`paymentMethodData.tokenizationData.token`), itself a JSON string with `protocolVersion`,
`signature` and `signedMessage` (and `intermediateSigningKey` from ECv2), encrypted for the
gateway the merchant named to Google (`gateway: "adyen"`). Adyen documents no code of its own for
a Google Pay token it cannot read; it answers one with its generic decryption error, 422
`174 Unable to decrypt data` (errorType validation; Adyen's generic error codes at
docs.adyen.com/development-resources/error-codes, the 17x encryption errors, and the 422
"Unable to decrypt data" answer shown in Adyen/adyen-oracle-commerce-cloud issue 428). The
stand-in cannot decrypt, so it refuses what does not have the token's shape (another
provider's credential, such as a Stripe PaymentMethod) before anything is charged; a
well-formed token made for another gateway would pass here, and not at Adyen.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Final

__all__ = ["apple_pay_token_error", "google_pay_token_error", "wallet_token_error"]

_PAYMENT_DATA_FIELDS: Final = frozenset({"version", "data", "signature", "header"})
"""The fields of Apple Pay's PKPaymentToken `paymentData` (EC_v1 / RSA_v1)."""
_GOOGLE_PAY_TOKEN_FIELDS: Final = frozenset({"protocolVersion", "signature", "signedMessage"})
"""The fields of Google Pay's payment method token (ECv1, ECv2: developers.google.com/pay/api,
"Payment data cryptography for merchants")."""
_GOOGLE_PAY_PROTOCOLS: Final = frozenset({"ECv1", "ECv2"})


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


def google_pay_token_error(method: dict[str, object]) -> tuple[str, str] | None:
    """Adyen's (errorCode, message) for a `paymentMethod` whose Google Pay token Adyen cannot
    decrypt, else None (no Google Pay token, or one of the right shape).

    The stand-in cannot decrypt, so, as for Apple Pay, it checks the token's shape: a
    credential that is not a Google Pay payment method token (a Stripe PaymentMethod, an id
    from another provider) is refused.
    """
    token = method.get("googlePayToken")
    if token is None:
        return None
    try:
        data = json.loads(str(token))
    except ValueError:
        data = None
    if (
        isinstance(data, dict)
        and data.keys() >= _GOOGLE_PAY_TOKEN_FIELDS
        and data.get("protocolVersion") in _GOOGLE_PAY_PROTOCOLS
    ):
        return None
    return ("174", "Unable to decrypt data")


def wallet_token_error(method: dict[str, object]) -> tuple[str, str] | None:
    """Adyen's refusal of the wallet token in `paymentMethod`, if any (Apple Pay, Google Pay)."""
    return apple_pay_token_error(method) or google_pay_token_error(method)
