"""Money: integer minor units of an ISO 4217 currency, built only from exact amounts."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from payrouter import Money, currency_exponent
from payrouter._money import MAX_MINOR_UNITS


@pytest.mark.parametrize(
    ("amount", "currency", "minor_units"),
    [
        ("10.50", "EUR", 1050),
        ("0.01", "EUR", 1),
        (Decimal("12.34"), "USD", 1234),
        (7, "EUR", 700),
        (500, "JPY", 500),
        ("500", "JPY", 500),
        ("1.234", "KWD", 1234),
        (Decimal("2"), "KWD", 2000),
    ],
)
def test_of_builds_minor_units_from_exact_amounts(
    amount: str | Decimal | int, currency: str, minor_units: int
) -> None:
    """Money.of turns a str, Decimal or int major-unit amount into integer minor units."""
    money = Money.of(amount, currency)
    assert money.minor_units == minor_units
    assert money.currency == currency


def test_trailing_zeros_beyond_the_exponent_are_not_extra_precision() -> None:
    """'500.00' JPY is exactly 500 yen: zeros after the point carry no extra precision."""
    assert Money.of("500.00", "JPY").minor_units == 500
    assert Money.of("1.500", "EUR").minor_units == 150


@pytest.mark.parametrize(("currency", "exponent"), [("JPY", 0), ("EUR", 2), ("KWD", 3)])
def test_currency_exponent_comes_from_the_iso_table(currency: str, exponent: int) -> None:
    """JPY has no minor unit, EUR has cents, KWD has fils (three digits)."""
    assert currency_exponent(currency) == exponent


def test_unknown_currency_exponent_names_the_fix() -> None:
    """An unknown code is refused with a hint to use an upper-case ISO 4217 code."""
    with pytest.raises(ValueError, match=r"unknown currency 'XXX'.*ISO 4217"):
        currency_exponent("XXX")


def test_float_amount_is_refused_with_the_string_to_use_instead() -> None:
    """Floats cannot hold cents exactly, so they are refused and the message shows a str."""
    with pytest.raises(ValueError, match=r"is a float: pass a str or Decimal such as '0.1'"):
        Money.of(0.1, "EUR")  # type: ignore[arg-type]


@pytest.mark.parametrize("amount", ["0", "0.00", 0, "-1", "-0.01", Decimal("-5")])
def test_zero_or_negative_amount_is_refused(amount: str | Decimal | int) -> None:
    """A payment amount is always positive."""
    with pytest.raises(ValueError, match="must be a positive number"):
        Money.of(amount, "EUR")


@pytest.mark.parametrize("amount", ["NaN", "Infinity", "-Infinity", Decimal("NaN")])
def test_non_finite_amount_is_refused(amount: str | Decimal) -> None:
    """NaN and infinities are numbers to Decimal, never amounts of money."""
    with pytest.raises(ValueError, match="must be a positive number"):
        Money.of(amount, "EUR")


def test_text_that_is_not_a_number_is_refused_with_an_example() -> None:
    """Garbage text is refused, and the message shows the expected shape."""
    with pytest.raises(ValueError, match=r"'ten' is not a number: pass e.g. '12.50'"):
        Money.of("ten", "EUR")


@pytest.mark.parametrize(
    ("amount", "currency"), [("1.5", "JPY"), ("1.005", "EUR"), ("0.0001", "KWD")]
)
def test_more_decimal_places_than_the_currency_allows_is_refused(
    amount: str, currency: str
) -> None:
    """Silently rounding an amount would charge something else than asked: say 'round it'."""
    with pytest.raises(ValueError, match=rf"more decimal places than {currency}.*round it"):
        Money.of(amount, currency)


@pytest.mark.parametrize("currency", ["XXX", "eur", "EURO", ""])
def test_unknown_currency_is_refused(currency: str) -> None:
    """Only active ISO 4217 codes in upper case are money."""
    with pytest.raises(ValueError, match="unknown currency"):
        Money.of("1", currency)


@pytest.mark.parametrize(
    ("money", "text"),
    [
        (Money.of("10.5", "EUR"), "10.50 EUR"),
        (Money.of("0.01", "USD"), "0.01 USD"),
        (Money.of(500, "JPY"), "500 JPY"),
        (Money.of("5", "KWD"), "5.000 KWD"),
        (Money.of("1.234", "KWD"), "1.234 KWD"),
    ],
)
def test_str_shows_exactly_the_currency_digits(money: Money, text: str) -> None:
    """str() prints every minor-unit digit of the currency, and no more."""
    assert str(money) == text


def test_amount_property_is_an_exact_decimal() -> None:
    """The major-unit amount is a Decimal, never a float."""
    amount = Money.of("10.50", "EUR").amount
    assert isinstance(amount, Decimal)
    assert amount == Decimal("10.50")


@pytest.mark.parametrize("minor_units", [1.0, "100", Decimal(100), True])
def test_model_is_strict_about_minor_units(minor_units: object) -> None:
    """Money(minor_units=...) takes an int only: no float, text, Decimal or bool coercion."""
    with pytest.raises(ValidationError):
        Money(minor_units=minor_units, currency="EUR")  # type: ignore[arg-type]


def test_of_refuses_a_bool_amount() -> None:
    """True is not an amount: Money.of must be as strict as Money itself, not pay 1.00 EUR."""
    with pytest.raises(ValueError, match="True"):
        Money.of(True, "EUR")


@pytest.mark.parametrize("minor_units", [0, -100])
def test_model_refuses_non_positive_minor_units(minor_units: int) -> None:
    """Money built directly is positive too."""
    with pytest.raises(ValidationError):
        Money(minor_units=minor_units, currency="EUR")


def test_model_refuses_unknown_currency_and_extra_fields() -> None:
    """The model validates its currency and forbids unknown fields."""
    with pytest.raises(ValidationError, match="unknown currency"):
        Money(minor_units=100, currency="ABC")
    with pytest.raises(ValidationError, match="extra"):
        Money(minor_units=100, currency="EUR", note="x")  # type: ignore[call-arg]


def test_money_is_frozen_and_compares_by_value() -> None:
    """Money cannot be changed after creation, and equal amounts are equal."""
    money = Money.of("1.00", "EUR")
    with pytest.raises(ValidationError):
        money.minor_units = 5  # type: ignore[misc]
    assert money == Money(minor_units=100, currency="EUR")
    assert money != Money(minor_units=100, currency="USD")


@pytest.mark.parametrize("minor_units", [2**63, 2**63 + 1, 10**30])
def test_minor_units_beyond_the_ledger_range_are_a_validation_error(minor_units: int) -> None:
    """2^63 minor units or more cannot be stored: a ValidationError says so, not OverflowError."""
    with pytest.raises(ValidationError, match=r"(?s)minor_units.*at most 9223372036854775807"):
        Money(minor_units=minor_units, currency="EUR")


def test_largest_storable_amount_is_accepted() -> None:
    """2^63 - 1 minor units is the largest amount, and it is kept exactly."""
    assert Money(minor_units=2**63 - 1, currency="EUR").minor_units == 2**63 - 1


@pytest.mark.parametrize(
    "amount",
    [
        "1234567890123456789012345678.91",  # 30 significant digits
        "92233720368547758.08",  # 2^63 cents
        Decimal("1E+40"),
        "1e999999999",
    ],
)
def test_of_refuses_amounts_too_large_instead_of_rounding(amount: str | Decimal) -> None:
    """Beyond the storable range Money.of raises a clear ValueError; it never rounds."""
    with pytest.raises(ValueError, match=r"too large"):
        Money.of(amount, "EUR")


@pytest.mark.parametrize(
    "amount",
    ["1.0000000000000000000000000000001", "100.000000000000000000000000001", "1e-999999999"],
)
def test_of_never_rounds_away_digits_beyond_decimal_precision(amount: str) -> None:
    """Digits past Decimal's 28-digit context are still seen: more decimals than EUR has."""
    with pytest.raises(ValueError, match=r"more decimal places than EUR allows"):
        Money.of(amount, "EUR")


def test_of_keeps_long_exact_amounts_exactly() -> None:
    """Nineteen significant digits with trailing zeros in the decimals lose nothing."""
    money = Money.of("92233720368547758.0700000000000000000000", "EUR")
    assert money.minor_units == 2**63 - 1


@settings(max_examples=300, deadline=None, derandomize=True)
@given(
    amount=st.decimals(allow_nan=False, allow_infinity=False, places=None)
    | st.from_regex(r"\A-?[0-9]{0,40}(\.[0-9]{0,40})?([eE]-?[0-9]{1,4})?\Z"),
    currency=st.sampled_from(["EUR", "JPY", "KWD", "CLF"]),
)
def test_of_is_exact_or_refuses(amount: Decimal | str, currency: str) -> None:
    """Whatever the digits, Money.of either keeps the amount exactly or raises ValueError."""
    try:
        money = Money.of(amount, currency)
    except ValueError:
        return
    assert money.amount == Decimal(amount)
    assert 0 < money.minor_units <= MAX_MINOR_UNITS
