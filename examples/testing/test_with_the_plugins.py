"""A merchant's own tests with payrouter's pytest plugins: no import of any fixture needed.

`payrouter_simulated` (from `payrouter`) scripts providers in memory; `payrouter_sandbox` and
`payrouter_sandbox_env` (from `payrouter-lab`) run stand-ins of the real providers on free
ports, with faults and books. This file is shown in full in docs/guides/testing.md.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr

from payrouter import CardSource, Money, PaymentRequest, PaymentStatus, Router, WalletSource
from payrouter.testing import Behavior
from payrouter.testing.pytest_plugin import SimulatedProviders
from payrouter_lab.testing import SandboxControl

CONFIG = Path(__file__).parents[1] / "fastapi_checkout" / "payrouter.yaml"


def order(order_id: str, *sources: CardSource | WalletSource) -> PaymentRequest:
    return PaymentRequest(
        order_id=order_id,
        amount=Money.of("24.90", "EUR"),
        customer_country="DE",
        customer_id="shopper-1",
        sources=sources or (CardSource(token="pm_card_visa"),),
    )


async def test_a_wallet_outage_falls_back_to_the_card(
    payrouter_simulated: SimulatedProviders,
) -> None:
    payrouter_simulated["wallet"].default = Behavior.refuse_connection()
    async with payrouter_simulated.router() as router:
        result = await router.pay(
            order("o-1", WalletSource(wallet="paypal"), CardSource(token="t"))
        )
    assert (result.status, result.provider) == (PaymentStatus.SUCCEEDED, "card_a")
    assert len(payrouter_simulated["card_a"].charges("o-1")) == 1  # charged exactly once


@pytest.mark.slow
async def test_stripe_down_sends_the_card_to_adyen(
    payrouter_sandbox: SandboxControl, payrouter_sandbox_env: object, tmp_path: Path
) -> None:
    config = payrouter_sandbox.config_for(CONFIG, tmp_path)  # URLs and ledger for this test
    # No provider charges another's token: the card is tokenized at both (the stand-in
    # issues the shopper's Adyen stored card, as the checkout's Adyen tokenization would).
    stored = payrouter_sandbox.credential("adyen", customer="shopper-1")
    card = CardSource(tokens={"stripe": SecretStr("pm_card_visa"), "adyen": SecretStr(stored)})
    payrouter_sandbox.fault("stripe", "down")
    async with Router.from_config(config, hooks=()) as router:
        result = await router.pay(order("o-2", card))
    assert result.provider == "adyen"
    assert payrouter_sandbox.books("adyen")["orders"] == {"o-2": {"taken": 2490, "refunded": 0}}
    assert payrouter_sandbox.books("stripe")["orders"] == {}


@pytest.mark.slow
async def test_three_d_secure_sends_the_customer_to_authenticate(
    payrouter_sandbox: SandboxControl, payrouter_sandbox_env: object, tmp_path: Path
) -> None:
    config = payrouter_sandbox.config_for(CONFIG, tmp_path)
    async with Router.from_config(config, hooks=()) as router:
        result = await router.pay(order("o-3", CardSource(token="pm_card_threeDSecure2Required")))
    assert result.status is PaymentStatus.REQUIRES_ACTION
    assert result.action_url is not None
