"""3-D Secure 2 at the Adyen stand-in: stored cards whose issuer asks for authentication.

A `storedPaymentMethodId` beginning with `3ds2_` stands for a card stored from one of Adyen's
3-D Secure 2 test cards (docs.adyen.com/development-resources/testing/3d-secure-2-authentication),
whose issuer challenges every payment. As at Adyen:

- Shopper present (`shopperInteraction` Ecommerce): `RedirectShopper` with a `redirect`
  action (GET `action.url`), the flow Adyen may always choose, even when native 3-D Secure
  is preferred. The challenge page passes, or with `?outcome=fail` fails; `/payments/details`
  with `redirectResult` then answers `Authorised`, or `Refused` "3D Not Authenticated" (11).
- Shopper absent (`ContAuth`) or `attemptAuthentication: never`: nobody can be challenged, so
  the issuer's soft decline stands: `Refused` "Authentication required" (38).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

__all__ = ["CHALLENGE_FAILED", "THREE_DS2_PREFIX", "challenge", "needs_challenge"]

THREE_DS2_PREFIX: Final = "3ds2_"
"""Stored card ids with this prefix need 3-D Secure 2 on every payment."""
CHALLENGE_FAILED: Final = {"refusalReason": "3D Not Authenticated", "refusalReasonCode": "11"}
_REQUIRED: Final = {"refusalReason": "Authentication required", "refusalReasonCode": "38"}


def needs_challenge(method: Mapping[str, object]) -> bool:
    """A card payment from a stored card whose issuer asks for 3-D Secure 2."""
    stored = method.get("storedPaymentMethodId")
    return (
        method.get("type") == "scheme"
        and isinstance(stored, str)
        and stored.startswith(THREE_DS2_PREFIX)
    )


def challenge(body: Mapping[str, object], url: str) -> tuple[str, dict[str, object]]:
    """The `resultCode` and extra fields of a payment whose issuer wants authentication;
    `url` is the stand-in's challenge page for this payment."""
    authentication = body.get("authenticationData")
    asked = authentication if isinstance(authentication, dict) else {}
    if (
        body.get("shopperInteraction") == "ContAuth"
        or asked.get("attemptAuthentication") == "never"
    ):
        return "Refused", dict(_REQUIRED)
    action = {"type": "redirect", "method": "GET", "paymentMethodType": "scheme", "url": url}
    return "RedirectShopper", {"action": action}
