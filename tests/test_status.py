"""`payrouter status` and `router.provider_health`: each provider's recent health, from the
ledger, so an operator sees every process's attempts, not only one process's."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from pydantic import SecretStr
from typer.testing import CliRunner

from payrouter import CardSource, Money, PaymentMethod, PaymentRequest, Router
from payrouter._cli._app import app
from payrouter.testing import Behavior, SimulatedAdapter, SimulatedProvider


def request(order_id: str) -> PaymentRequest:
    return PaymentRequest(
        order_id=order_id,
        amount=Money.of("10.00", "EUR"),
        sources=[CardSource(token=SecretStr("pm_card_visa"))],
        customer_country="DE",
    )


async def test_health_counts_each_providers_attempts_by_outcome(tmp_path: Path) -> None:
    flaky, steady = SimulatedProvider("flaky"), SimulatedProvider("steady")
    flaky.script(Behavior.unavailable(), Behavior.succeed(), Behavior.unavailable())
    ledger = f"sqlite:///{tmp_path / 'ledger.db'}"
    adapters = [SimulatedAdapter(flaky), SimulatedAdapter(steady)]
    async with Router(adapters, ledger=ledger, hooks=()) as router:
        for number in range(3):
            await router.pay(request(f"order-{number}"))
        health = {row.provider: row for row in await router.provider_health(minutes=5)}

    assert (health["flaky"].attempts, health["flaky"].succeeded, health["flaky"].failed) == (
        3,
        1,
        2,
    )
    assert health["flaky"].success_rate == 1 / 3
    assert (health["steady"].attempts, health["steady"].success_rate) == (2, 1.0)
    assert health["steady"].method is PaymentMethod.CARD


async def test_attempts_older_than_the_window_are_not_counted(tmp_path: Path) -> None:
    only = SimulatedProvider("only")
    async with Router([SimulatedAdapter(only)], ledger="sqlite://", hooks=()) as router:
        await router.pay(request("order-1"))
        assert [row.attempts for row in await router.provider_health(minutes=5)] == [1]
        assert await router.provider_health(minutes=-1) == []


def test_status_prints_every_provider_and_method_with_its_success_rate(tmp_path: Path) -> None:
    (tmp_path / "payrouter.yaml").write_text(
        "ledger: sqlite:///ledger.db\n"
        "providers:\n"
        "  - {name: card_main, type: simulated, methods: [card]}\n"
        "  - {name: card_backup, type: simulated, methods: [card]}\n"
    )

    async def pay_once() -> None:
        async with Router.from_config(tmp_path / "payrouter.yaml", hooks=()) as router:
            router.adapters[0].provider.default = Behavior.refuse_connection()  # type: ignore[attr-defined]
            await router.pay(request("order-1"))

    asyncio.run(pay_once())
    done = CliRunner().invoke(
        app, ["status", "--config", str(tmp_path / "payrouter.yaml"), "--json"]
    )
    assert done.exit_code == 0, done.output
    rows = {row["provider"]: row for row in json.loads(done.output)["providers"]}
    assert rows["card_main"]["attempts"] == 1
    assert rows["card_main"]["success_rate"] == 0.0
    assert rows["card_backup"]["success_rate"] == 1.0
    assert {row["breaker"] for row in rows.values()} == {"closed"}
