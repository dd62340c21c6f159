"""Fee rules as data, computed in integer minor units: first matching rule, half-up rounding."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from payrouter import FeeRule, Money, PaymentMethod, fee_minor

CARD, WALLET = PaymentMethod.CARD, PaymentMethod.WALLET
EU_CARDS = FeeRule(method=CARD, currency="EUR", percent=Decimal("1.4"), fixed_minor=25)
ANY = FeeRule(percent=Decimal("2.9"), fixed_minor=30)


def test_the_first_matching_rule_wins_and_none_matching_is_unknown() -> None:
    rules = [EU_CARDS, FeeRule(method=WALLET, percent=Decimal("3.4"), fixed_minor=35)]
    assert fee_minor(rules, CARD, Money.of("10.00", "EUR")) == 14 + 25
    assert fee_minor(rules, WALLET, Money.of("10.00", "USD")) == 34 + 35
    assert fee_minor(rules, CARD, Money.of("10.00", "USD")) is None
    assert fee_minor([EU_CARDS, ANY], CARD, Money.of("10.00", "USD")) == 29 + 30


def test_the_percentage_is_rounded_half_up_once() -> None:
    half = FeeRule(percent=Decimal("0.5"))
    assert fee_minor([half], CARD, Money(minor_units=101, currency="EUR")) == 1  # 0.505 -> 1
    assert fee_minor([half], CARD, Money(minor_units=99, currency="EUR")) == 0  # 0.495 -> 0
    assert fee_minor([half], CARD, Money(minor_units=100, currency="JPY")) == 1  # 0.5 -> 1


@given(
    st.integers(min_value=1, max_value=10**12),
    st.integers(min_value=0, max_value=10**6),
    st.decimals(min_value=0, max_value=100, places=3),
)
def test_a_fee_is_never_negative_and_never_falls_as_the_amount_grows(
    minor: int, extra: int, percent: Decimal
) -> None:
    rule = [FeeRule(percent=percent, fixed_minor=7)]
    smaller = fee_minor(rule, CARD, Money(minor_units=minor, currency="EUR"))
    larger = fee_minor(rule, CARD, Money(minor_units=minor + extra, currency="EUR"))
    assert smaller is not None
    assert larger is not None
    assert 7 <= smaller <= larger


def test_the_drill_adds_up_fees_on_what_each_provider_took() -> None:
    from payrouter import PaymentStatus
    from payrouter_lab.drill import PaymentRecord
    from payrouter_lab.drill._figures import routing_figures

    def record(order: str, attempts: list[tuple[str, str]], status: PaymentStatus) -> PaymentRecord:
        return PaymentRecord(order, 0.0, 1.0, status, attempts, "card", amount_minor=10_000)

    records = [
        record("o-1", [("card_a", "succeeded")], PaymentStatus.SUCCEEDED),
        record("o-2", [("card_a", "failed"), ("card_b", "succeeded")], PaymentStatus.SUCCEEDED),
        record("o-3", [("card_a", "failed")], PaymentStatus.DECLINED),
        record("o-4", [("card_c", "succeeded")], PaymentStatus.SUCCEEDED),
    ]
    fees = {"card_a": [EU_CARDS], "card_b": [ANY]}

    figures = routing_figures(records, fees, "EUR")

    assert figures["first_choice"] == {"card_a": 3, "card_c": 1}
    assert figures["taken"] == {"card_a": 1, "card_b": 1, "card_c": 1}
    assert figures["fees_minor"] == {"card_a": 140 + 25, "card_b": 290 + 30}
    assert figures["fees_total_minor"] == 165 + 320
    assert figures["unpriced_providers"] == ["card_c"]
