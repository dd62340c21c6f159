"""Stripe's amounts in ISO 4217 minor units, exactly or not at all.

Stripe's own minor unit differs from ISO 4217 for ISK and MGA (`STRIPE_EXPONENTS`). Reading an
amount Stripe reports (a webhook, a pay answer, a lookup) must not round: an amount with no
exact ISO value cannot be any payment's, and saying so is the caller's cue to distrust it.
"""

from __future__ import annotations

from payrouter import currency_exponent

from ._codes import STRIPE_EXPONENTS

__all__ = ["iso_amount"]


def iso_amount(amount: object, currency: object) -> tuple[int | None, str | None]:
    """Stripe's amount in ISO 4217 minor units; None where it has no exact ISO value.

    An amount Stripe reports that maps to no whole ISO minor unit (ISK in Stripe's hundredths
    not divisible by 100) cannot be any payment's amount, so it is reported as unreadable:
    the receiver treats a success without a readable amount as a mismatch.
    """
    if not isinstance(currency, str) or len(currency) != 3:
        return None, None
    code = currency.upper()
    if not isinstance(amount, int) or isinstance(amount, bool) or amount < 0:
        return None, code
    try:
        iso = currency_exponent(code)
    except ValueError:
        return None, code if code.isascii() and code.isalpha() else None
    shift = STRIPE_EXPONENTS.get(code, iso) - iso
    scale: int = 10 ** abs(shift)
    if shift >= 0:
        whole, rest = divmod(amount, scale)
        return (None if rest else whole), code
    return amount * scale, code
