"""The built-in scenarios price each provider as its stand-in bills, so a drill's records
check reports a fee difference only where one was planted (`POST /_admin/{provider}/fees`)."""

from __future__ import annotations

import pytest

from payrouter import Money, fee_minor
from payrouter_lab.drill import builtin_scenarios
from payrouter_lab.sandbox._statements import PRICES


@pytest.mark.parametrize("name", sorted(builtin_scenarios()))
def test_a_built_in_scenarios_fee_rules_give_the_fee_its_stand_ins_bill(name: str) -> None:
    scenario = builtin_scenarios()[name]
    for provider in scenario.providers:
        if not provider.fees:
            continue  # unpriced: the records check compares no fee
        price = PRICES[provider.type]
        for method in provider.methods:
            for minor in (1, 999, 1250, 123_457):
                amount = Money(minor_units=minor, currency=scenario.currency)
                billed = price.fee(minor)
                assert fee_minor(provider.fees, method, amount) == billed, (
                    f"{name}: {provider.name} ({provider.type}) {method} on {amount}"
                )
