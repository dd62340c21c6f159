"""Amounts at the limits: the merchant's per-currency ceiling, refused before anything is sent."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from pydantic import SecretStr, ValidationError

from payrouter import (
    CardSource,
    ConfigurationError,
    InvalidPaymentError,
    Money,
    PaymentRequest,
    PaymentStatus,
    Router,
    RouterSettings,
)
from payrouter.testing import SimulatedAdapter, SimulatedProvider


def _request(order_id: str, amount: Money) -> PaymentRequest:
    return PaymentRequest(
        order_id=order_id,
        amount=amount,
        sources=[CardSource(token=SecretStr("pm_card"))],
        customer_country="DE",
    )


async def test_amount_above_the_merchants_ceiling_is_refused_before_any_call(
    tmp_path: Path,
) -> None:
    """Above `max_amount_minor` for its currency a payment raises and reaches no provider."""
    provider = SimulatedProvider("card")
    settings = RouterSettings(max_amount_minor={"EUR": 100_000})
    ledger = f"sqlite:///{tmp_path / 'ledger.db'}"
    async with Router(
        [SimulatedAdapter(provider)], ledger=ledger, settings=settings, hooks=()
    ) as r:
        with pytest.raises(InvalidPaymentError, match=r"1000\.01 EUR is above.*1000\.00 EUR"):
            await r.pay(_request("too-much", Money(minor_units=100_001, currency="EUR")))
        assert provider.charges("too-much") == []
        assert await r.lookup("too-much") is None
        at_limit = await r.pay(_request("at-limit", Money(minor_units=100_000, currency="EUR")))
        assert at_limit.status is PaymentStatus.SUCCEEDED
        other = await r.pay(_request("usd", Money(minor_units=10**12, currency="USD")))
        assert other.status is PaymentStatus.SUCCEEDED


def test_ceiling_is_read_from_the_config_file(tmp_path: Path) -> None:
    """`router.max_amount_minor` in the file becomes the router's per-currency ceiling."""
    path = tmp_path / "payrouter.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "router": {"max_amount_minor": {"EUR": 5_000_000, "JPY": 1_000_000}},
                "providers": [{"name": "sim", "type": "simulated"}],
            }
        )
    )
    router = Router.from_config(path, hooks=())
    assert router.settings.max_amount_minor == {"EUR": 5_000_000, "JPY": 1_000_000}


@pytest.mark.parametrize(
    ("ceiling", "problem"),
    [({"EUX": 100}, "unknown currency 'EUX'"), ({"EUR": 0}, "greater than 0")],
)
def test_a_bad_ceiling_is_refused_naming_the_currency(
    ceiling: dict[str, int], problem: str
) -> None:
    """An unknown currency or a ceiling below one minor unit is a configuration mistake."""
    with pytest.raises(ValidationError, match=problem):
        RouterSettings(max_amount_minor=ceiling)


def test_a_ceiling_beyond_the_ledger_range_is_refused(tmp_path: Path) -> None:
    """A ceiling of 2^63 or more could never be reached by a storable amount: refused."""
    path = tmp_path / "payrouter.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "router": {"max_amount_minor": {"EUR": 2**63}},
                "providers": [{"name": "sim", "type": "simulated"}],
            }
        )
    )
    with pytest.raises(ConfigurationError, match=r"router\.max_amount_minor\.EUR"):
        Router.from_config(path, hooks=())
