"""The card networks' retry advice as data, shared by every adapter that passes it on.

Mastercard's merchant advice codes (MAC) come back from Stripe as `network_advice_code` and
from Adyen as `additionalData.merchantAdviceCode`; Visa has no MAC but sorts its response
codes into four decline categories, which Adyen's `refusalReasonRaw` carries. Sources:
Mastercard's MAC list as acquirers publish it (e.g. CyberSource's `merchantAdvice.code`,
Adyen's "Raw acquirer responses"), and Visa's decline categories (Visa Core Rules, retry
rules: category 1 never, categories 2 and 3 at most 15 reattempts in 30 days).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

from payrouter.provider import Advice

__all__ = ["MERCHANT_ADVICE_CODES", "VISA_CATEGORIES", "leading_code", "strictest"]

MERCHANT_ADVICE_CODES: Final[Mapping[str, Advice]] = MappingProxyType(
    {
        "01": Advice.CONFIRM_CARD_DATA,  # new account information available
        "02": Advice.TRY_AGAIN_LATER,  # cannot approve at this time, try again later
        "03": Advice.DO_NOT_TRY_AGAIN,  # do not try again (account closed, fraud)
        "04": Advice.DO_NOT_TRY_AGAIN,  # token requirements not fulfilled for this token type
        "21": Advice.DO_NOT_TRY_AGAIN,  # payment cancellation: the cardholder stopped it
        "24": Advice.WAIT_BEFORE_RETRY,  # retry after 1 hour
        "25": Advice.WAIT_BEFORE_RETRY,  # retry after 24 hours
        "26": Advice.WAIT_BEFORE_RETRY,  # retry after 2 days
        "27": Advice.WAIT_BEFORE_RETRY,  # retry after 4 days
        "28": Advice.WAIT_BEFORE_RETRY,  # retry after 6 days
        "29": Advice.WAIT_BEFORE_RETRY,  # retry after 8 days
        "30": Advice.WAIT_BEFORE_RETRY,  # retry after 10 days
    }
)
"""Mastercard merchant advice code → advice. Codes not listed (00, 22, 99) advise nothing."""

_CATEGORY_1 = ("04", "07", "12", "14", "15", "41", "43", "46", "57", "R0", "R1", "R3")
_CATEGORY_2 = ("03", "19", "51", "59", "61", "62", "65", "75", "78", "86", "91", "93", "96")
_CATEGORY_2_MORE = ("N3", "N4", "Z5")
_CATEGORY_3 = ("54", "55", "6P", "70", "82", "N7")

VISA_CATEGORIES: Final[Mapping[str, Advice]] = MappingProxyType(
    {
        # Category 1, issuer will never approve: pick up, lost, stolen, invalid account,
        # closed account, no such issuer, transaction not permitted, stop payment orders.
        **dict.fromkeys(_CATEGORY_1, Advice.DO_NOT_TRY_AGAIN),
        # Category 2, issuer cannot approve at this time: funds, limits, issuer unavailable.
        **dict.fromkeys(_CATEGORY_2 + _CATEGORY_2_MORE, Advice.TRY_AGAIN_LATER),
        # Category 3, data quality: expired card, wrong PIN or CVV, card data to revalidate.
        **dict.fromkeys(_CATEGORY_3, Advice.CONFIRM_CARD_DATA),
    }
)
"""Visa response code → advice by its decline category. Category 4 (generic, such as 05 "do
not honour") advises nothing: the decline's own type decides."""

_ORDER: Final = (
    Advice.TRY_AGAIN_LATER,
    Advice.WAIT_BEFORE_RETRY,
    Advice.CONFIRM_CARD_DATA,
    Advice.DO_NOT_TRY_AGAIN,
)
_LEADING: Final = re.compile(r"^\s*([0-9A-Z]{2})(?![0-9A-Za-z])")


def strictest(*advices: Advice | None) -> Advice | None:
    """The most restrictive of several pieces of advice: a "never" outweighs a "later"."""
    given = [advice for advice in advices if advice is not None]
    return max(given, key=_ORDER.index) if given else None


def leading_code(text: str | None) -> str | None:
    """The two-character code a raw field starts with ("03: Do not try again" → "03")."""
    match = _LEADING.match(text or "")
    return match.group(1) if match else None
