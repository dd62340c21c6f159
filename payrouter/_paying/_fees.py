"""What each provider charges per payment: rules as data, computed in integer minor units.

A rule is a percentage of the amount plus a fixed part, for a method and currency (either may
be left open). The first matching rule wins, so specific rows go first and a catch-all last.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal

from pydantic import BaseModel, ConfigDict, Field

from .._models import PaymentMethod
from .._money import CurrencyCode, Money

__all__ = ["FeeRule", "fee_minor"]


class FeeRule(BaseModel):
    """`percent` of the amount plus `fixed_minor`, e.g. 1.4 % + 0.25 EUR for EU cards."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    method: PaymentMethod | None = Field(default=None, description="None: any method.")
    currency: CurrencyCode | None = Field(default=None, description="None: any currency.")
    percent: Decimal = Field(default=Decimal(0), ge=0, le=100)
    fixed_minor: int = Field(default=0, ge=0, description="In the payment's minor units.")

    def matches(self, method: PaymentMethod, currency: str) -> bool:
        return (self.method is None or self.method is method) and (
            self.currency is None or self.currency == currency
        )


def fee_minor(rules: Sequence[FeeRule], method: PaymentMethod, amount: Money) -> int | None:
    """The fee in `amount`'s minor units by the first matching rule; None when none matches.

    The percentage is rounded half up to a whole minor unit, once per payment, as acquirers
    bill it; an exact Decimal product, so 1.4 % of 10.00 EUR is 14 cents, never 13.999.
    """
    for rule in rules:
        if rule.matches(method, amount.currency):
            share = (Decimal(amount.minor_units) * rule.percent / 100).quantize(
                Decimal(1), rounding=ROUND_HALF_UP
            )
            return int(share) + rule.fixed_minor
    return None
