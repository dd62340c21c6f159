"""The pytest plugins merchants add to their suites by installing the packages.

`payrouter` brings `payrouter_simulated` (a router over simulated providers); `payrouter-lab`
brings `payrouter_sandbox` (the stand-ins on free ports, with fault control and books) and
`payrouter_sandbox_env`. Both arrive through `pytest11` entry points: these tests use the
fixtures without importing them, as a merchant's suite would.
"""

from __future__ import annotations

from importlib.metadata import entry_points
from pathlib import Path

import pytest
from pydantic import SecretStr

from payrouter import (
    BankTransferSource,
    CardSource,
    Money,
    PaymentRequest,
    PaymentStatus,
    Router,
    WalletSource,
)
from payrouter.instrumentation import FailedOver
from payrouter.testing import Behavior
from payrouter.testing.pytest_plugin import SimulatedProviders
from payrouter_lab.testing import TEST_CREDENTIALS, SandboxControl

ROOT = Path(__file__).resolve().parents[1]


def _request(order_id: str, *sources: object) -> PaymentRequest:
    return PaymentRequest(
        order_id=order_id,
        amount=Money.of("24.90", "EUR"),
        customer_country="DE",
        customer_id="shopper-1",
        sources=sources or (CardSource(token=SecretStr("pm_card_visa")),),  # type: ignore[arg-type]
    )


def test_both_plugins_are_registered_as_pytest11_entry_points() -> None:
    found = {entry.value for entry in entry_points(group="pytest11")}
    assert {"payrouter.testing.pytest_plugin", "payrouter_lab.testing"} <= found


async def test_simulated_router_fails_over_and_its_books_show_one_charge(
    payrouter_simulated: SimulatedProviders,
) -> None:
    """The wallet is down: the card takes the payment, charged once, and events are kept."""
    payrouter_simulated["wallet"].default = Behavior.refuse_connection()
    request = _request("order-1", WalletSource(wallet="paypal"), CardSource(token="pm_x"))
    async with payrouter_simulated.router() as router:
        result = await router.pay(request)
    assert (result.status, result.provider) == (PaymentStatus.SUCCEEDED, "card_a")
    assert len(payrouter_simulated["card_a"].charges("order-1")) == 1
    assert payrouter_simulated["wallet"].charges("order-1") == []
    assert any(isinstance(event, FailedOver) for event in payrouter_simulated.events)


def test_simulated_sync_router_for_synchronous_code(
    payrouter_simulated: SimulatedProviders,
) -> None:
    payrouter_simulated["card_a"].default = Behavior.unavailable()
    router = payrouter_simulated.sync_router("card_a", "card_b")
    try:
        assert router.pay(_request("order-2")).provider == "card_b"
    finally:
        router.close()


@pytest.mark.slow
async def test_sandbox_fixture_takes_every_documented_test_credential(
    payrouter_sandbox: SandboxControl, payrouter_sandbox_env: object, tmp_path: Path
) -> None:
    """Approve, decline, 3-D Secure, wallet approval and bank SCA, as TEST_CREDENTIALS says."""
    assert {"card approved", "card declined", "card 3-D Secure", "bank transfer with SCA"} <= set(
        TEST_CREDENTIALS
    )
    config = payrouter_sandbox.config_for(
        ROOT / "examples/fastapi_checkout/payrouter.yaml", tmp_path
    )
    cases = {
        "ok": (CardSource(token="pm_card_visa"), PaymentStatus.SUCCEEDED),
        "declined": (CardSource(token="pm_card_visa_chargeDeclined"), PaymentStatus.DECLINED),
        "3ds": (CardSource(token="pm_card_threeDSecure2Required"), PaymentStatus.REQUIRES_ACTION),
        "wallet": (WalletSource(wallet="paypal"), PaymentStatus.REQUIRES_ACTION),
        "bank": (
            BankTransferSource(iban="DE89370400440532013000"),
            PaymentStatus.REQUIRES_ACTION,
        ),
    }
    async with Router.from_config(config, hooks=()) as router:
        for order, (source, expected) in cases.items():
            result = await router.pay(_request(order, source))
            assert result.status is expected, (order, result)
    assert set(payrouter_sandbox.books("stripe")["orders"]) == {"ok"}


@pytest.mark.slow
async def test_sandbox_faults_books_and_reset(
    payrouter_sandbox: SandboxControl, payrouter_sandbox_env: object, tmp_path: Path
) -> None:
    """A down Stripe sends the card to Adyen; clear and reset restore a clean sandbox."""
    config = payrouter_sandbox.config_for(
        ROOT / "examples/fastapi_checkout/payrouter.yaml", tmp_path
    )
    stored = payrouter_sandbox.credential("adyen", customer="shopper-1")
    card = CardSource(tokens={"stripe": SecretStr("pm_card_visa"), "adyen": SecretStr(stored)})
    payrouter_sandbox.fault("stripe", "down")
    assert [fault["spec"]["kind"] for fault in payrouter_sandbox.faults("stripe")] == ["down"]
    async with Router.from_config(config, hooks=()) as router:
        assert (await router.pay(_request("f-1", card))).provider == "adyen"
        payrouter_sandbox.clear_faults("stripe")
        assert (await router.pay(_request("f-2", card))).provider == "stripe"
    assert set(payrouter_sandbox.books("adyen")["orders"]) == {"f-1"}
    payrouter_sandbox.reset()
    assert payrouter_sandbox.books("adyen")["orders"] == {}


def test_a_fault_the_sandbox_refuses_says_why(payrouter_sandbox: SandboxControl) -> None:
    with pytest.raises(ValueError, match="busy") as refused:
        payrouter_sandbox.fault("stripe", "bussy", probability=1.8)
    assert "probability" in str(refused.value)


def test_the_testing_guide_documents_the_whole_admin_api_and_every_credential() -> None:
    """Every admin route and method, every fault field and kind, every test credential."""
    import re

    from payrouter_lab.sandbox import FaultKind, FaultSpec

    guide = (ROOT / "docs/guides/testing.md").read_text()
    server = (ROOT / "lab/payrouter_lab/sandbox/_server.py").read_text()
    routes = [
        (path, method)
        for path, methods in re.findall(
            r'Route\("(/_admin[^"]*)", self\.\w+, methods=\[([^]]+)\]', server
        )
        for method in re.findall(r'"(\w+)"', methods)
    ]
    assert len(routes) == 10
    for path, method in routes:
        assert f"`{method} {path}`" in guide, f"{method} {path} is not documented"
    for name in FaultSpec.model_fields:
        assert f"`{name}`" in guide, f"fault field {name} is not documented"
    for kind in FaultKind:
        assert f"`{kind.value}`" in guide, f"fault kind {kind.value} is not documented"
    for path in TEST_CREDENTIALS:
        assert f"| {path} |" in guide, f"credential {path!r} is not in the guide's table"


def test_a_sandbox_that_cannot_start_says_so_and_leaves_nothing_open() -> None:
    """Its port taken: an error at once, and no event loop left for the next test to trip on."""
    import gc
    import socket
    import warnings

    from payrouter_lab.testing import running_sandbox

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(RuntimeError, match="did not start"), running_sandbox(port):
            pass
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        gc.collect()
    assert not [w for w in caught if issubclass(w.category, ResourceWarning)]
