"""Amounts written as decimal strings in major units (PayPal's `value`, Berlin Group's
`instructedAmount.amount`) in ISO 4217 minor units, exactly.

Read back from an order, a payment resource or a notification without rounding: a value that
is no whole number of minor units, not a number, or absurdly large cannot be any payment's
amount.
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal, InvalidOperation

from payrouter import Money, currency_exponent
from payrouter.provider import ProviderReply

__all__ = ["iso_minor", "with_amount"]


def iso_minor(value: object, currency: object) -> int | None:
    """A decimal string in ISO minor units; None when it is not exactly representable
    (a fraction of a minor unit, not a number, absurdly large), which never matches a payment."""
    if not isinstance(value, str) or not isinstance(currency, str) or len(value) > 40:
        return None
    try:
        amount = Decimal(value)
        exponent = currency_exponent(currency)
    except (InvalidOperation, ValueError):
        return None
    if not amount.is_finite() or amount.adjusted() > 20:
        return None
    minor = amount.scaleb(exponent)
    return int(minor) if minor == minor.to_integral_value() and minor >= 0 else None


def with_amount(
    reply: ProviderReply, value: str | None, currency: str | None, status: int
) -> ProviderReply:
    """A successful order's reply carrying what the order is for, for the router to compare
    with the charge; unknown (`amount_mismatch`) when the provider states an amount that
    cannot be any payment of ours; unchanged when it states none."""
    if value is None or currency is None:
        return reply
    minor = iso_minor(value, currency)
    if minor is None or minor <= 0:
        return ProviderReply.unknown(
            provider_code="amount_mismatch",
            http_status=status,
            provider_reference=reply.provider_reference,
            message=f"{value} {currency} is no amount of a payment of ours",
        )
    return replace(reply, amount=Money(minor_units=minor, currency=currency))
