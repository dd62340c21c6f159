"""Adyen's amounts in ISO 4217 minor units, exactly or not at all.

Adyen counts a few currencies in other units than ISO 4217 (`ADYEN_EXPONENTS`: CLP and ISK
in hundredths, CVE and IDR in whole units). An amount Adyen reports (a pay answer, a
notification) is read back without rounding: one with no exact ISO value cannot be any
payment's, and saying so is the caller's cue to distrust it.
"""

from __future__ import annotations

from payrouter import currency_exponent

from ._codes import ADYEN_EXPONENTS

__all__ = ["iso_minor"]


def iso_minor(value: int, currency: str) -> int | None:
    """`value` (Adyen's minor units of `currency`) in ISO minor units; None if not exact.

    Raises:
        ValueError: `currency` is not an ISO 4217 code payrouter knows.
    """
    iso = currency_exponent(currency)
    shift = ADYEN_EXPONENTS.get(currency, iso) - iso
    scale: int = 10 ** abs(shift)
    if shift <= 0:
        return value * scale
    whole, rest = divmod(value, scale)
    return None if rest else whole
