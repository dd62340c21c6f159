"""Money as integer minor units of an ISO 4217 currency.

Floats cannot hold cents exactly, so no float ever enters the money path: amounts are built
from `Decimal` or decimal strings at the edge and kept as integers inside.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Annotated, Final, Self

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictInt, field_validator

__all__ = ["MAX_MINOR_UNITS", "CurrencyCode", "Money", "currency_exponent"]

MAX_MINOR_UNITS: Final = 2**63 - 1
"""The largest amount in minor units: the ledger stores amounts as signed 64-bit integers
(SQLite INTEGER, PostgreSQL BIGINT), so anything larger could not be recorded."""

# ISO 4217 active codes with a minor unit other than 2. Everything in `_TWO_DECIMALS` has 2.
_EXPONENT_NOT_TWO: Final[dict[str, int]] = {
    **dict.fromkeys(
        "BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF".split(), 0
    ),
    **dict.fromkeys("BHD IQD JOD KWD LYD OMR TND".split(), 3),
    "CLF": 4,
    "UYW": 4,
}
_TWO_DECIMALS: Final[frozenset[str]] = frozenset(
    """
    AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BMD BND BOB BOV BRL BSD BTN BWP
    BYN BZD CAD CDF CHE CHF CHW CNY COP COU CRC CUP CVE CZK DKK DOP DZD EGP ERN ETB EUR FJD
    FKP GBP GEL GHS GIP GMD GTQ GYD HKD HNL HTG HUF IDR ILS INR IRR JMD KES KGS KHR KPW KYD
    KZT LAK LBP LKR LRD LSL MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MXV MYR MZN NAD
    NGN NIO NOK NPR NZD PAB PEN PGK PHP PKR PLN QAR RON RSD RUB SAR SBD SCR SDG SEK SGD SHP
    SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT TOP TRY TTD TWD TZS UAH USD USN UYU UZS VED
    VES WST XCD XCG YER ZAR ZMW ZWG
    """.split()
)


def currency_exponent(currency: str) -> int:
    """Digits after the decimal point for `currency` (JPY 0, EUR 2, KWD 3).

    Raises:
        ValueError: `currency` is not an active ISO 4217 code.
    """
    if currency in _EXPONENT_NOT_TWO:
        return _EXPONENT_NOT_TWO[currency]
    if currency in _TWO_DECIMALS:
        return 2
    raise ValueError(
        f"unknown currency {currency!r}: use an active ISO 4217 code in upper case, e.g. 'EUR'"
    )


def _check_currency(code: str) -> str:
    currency_exponent(code)
    return code


CurrencyCode = Annotated[str, AfterValidator(_check_currency)]
"""An active ISO 4217 code such as "EUR"; validated against the exponent table."""


class Money(BaseModel):
    """An amount of one currency: 10.50 EUR is `Money(minor_units=1050, currency="EUR")`.

    A payment amount is always positive; build one from text with `Money.of("10.50", "EUR")`.
    """

    model_config = ConfigDict(frozen=True, strict=True, extra="forbid")

    minor_units: StrictInt = Field(gt=0, description="Amount in the currency's minor unit.")
    currency: CurrencyCode

    @field_validator("minor_units")
    @classmethod
    def _storable(cls, value: int) -> int:
        if value > MAX_MINOR_UNITS:
            raise ValueError(
                f"must be at most {MAX_MINOR_UNITS} (2^63 - 1), the largest amount the ledger "
                "can record: check the amount and its unit (minor units, e.g. cents)"
            )
        return value

    @classmethod
    def of(cls, amount: Decimal | str | int, currency: str) -> Self:
        """Build from a major-unit amount: `Money.of("12.50", "EUR")`, `Money.of(500, "JPY")`.

        Floats are refused because `0.1 + 0.2` is not `0.3`; pass a string or a `Decimal`.

        Raises:
            ValueError: the amount is a float, not a number, not positive, has more
                decimal places than the currency allows (e.g. "1.5" JPY, "1.005" EUR), or is
                more than `MAX_MINOR_UNITS` minor units. Nothing is ever rounded.
        """
        if isinstance(amount, float):
            raise ValueError(
                f"amount {amount!r} is a float: pass a str or Decimal such as '{amount}'"
            )
        if isinstance(amount, bool) or not isinstance(amount, Decimal | str | int):
            raise ValueError(
                f"amount {amount!r} is not a number: pass a str or Decimal, e.g. '12.50'"
            )
        try:
            value = Decimal(amount)
        except InvalidOperation:
            raise ValueError(f"amount {amount!r} is not a number: pass e.g. '12.50'") from None
        if not value.is_finite() or value <= 0:
            raise ValueError(f"amount {amount!r} must be a positive number, e.g. '12.50'")
        return cls(minor_units=_exact_minor_units(value, amount, currency), currency=currency)

    @property
    def amount(self) -> Decimal:
        """The major-unit amount as an exact `Decimal` (1050 EUR minor units -> 10.50)."""
        return Decimal(self.minor_units).scaleb(-currency_exponent(self.currency))

    def __str__(self) -> str:
        return f"{self.amount:.{currency_exponent(self.currency)}f} {self.currency}"


def _exact_minor_units(value: Decimal, amount: object, currency: str) -> int:
    """`value` in minor units by integer arithmetic on its digits, never Decimal arithmetic:
    Decimal operations round to the context's 28 significant digits, which would turn
    "1.0000000000000000000000000000001" EUR into 100 cents without a word."""
    exponent = currency_exponent(currency)
    _, digit_tuple, value_exponent = value.as_tuple()
    assert isinstance(value_exponent, int)  # finite, checked by the caller
    digits = int("".join(map(str, digit_tuple)))
    shift = value_exponent + exponent
    if shift < 0:
        cut = -shift  # digits below the minor unit; more than there are means some are nonzero
        digits, dropped = divmod(digits, 10**cut) if cut <= len(digit_tuple) else (0, 1)
        if dropped:
            raise ValueError(
                f"amount {amount!r} has more decimal places than {currency} allows "
                f"({exponent}): round it before paying"
            )
        shift = 0
    too_long = len(str(digits)) + shift > len(str(MAX_MINOR_UNITS))  # before raising 10**shift
    if too_long or digits * 10**shift > MAX_MINOR_UNITS:
        raise ValueError(
            f"amount is too large: at most {MAX_MINOR_UNITS} minor units of {currency} "
            "(2^63 - 1) can be recorded"
        )
    minor_units: int = digits * 10**shift
    return minor_units
