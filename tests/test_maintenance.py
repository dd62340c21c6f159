"""Announced maintenance windows: traffic drains before a window opens and returns after it,
so a known window never fails a customer's payment, and the checkout hides what is closed."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pydantic import SecretStr, ValidationError
from typer.testing import CliRunner

from payrouter import (
    CardSource,
    ConfigurationError,
    MaintenanceWindow,
    Money,
    PaymentMethod,
    PaymentRequest,
    PaymentStatus,
    Router,
)
from payrouter._cli._app import app
from payrouter.instrumentation import CandidateSkipped, Event
from payrouter.provider import Capabilities
from payrouter.testing import Behavior, SimulatedAdapter, SimulatedProvider

NOW = datetime.now(UTC)


def request(order_id: str) -> PaymentRequest:
    return PaymentRequest(
        order_id=order_id,
        amount=Money.of("10.00", "EUR"),
        sources=[CardSource(token=SecretStr("pm_card_visa"))],
        customer_country="DE",
    )


def window(starts_in: float, lasts: float) -> MaintenanceWindow:
    start = datetime.now(UTC) + timedelta(seconds=starts_in)
    return MaintenanceWindow(start=start, end=start + timedelta(seconds=lasts))


async def test_a_provider_in_its_window_is_never_called_and_nothing_fails() -> None:
    card_a, card_b = SimulatedProvider("card_a"), SimulatedProvider("card_b")
    card_a.default = Behavior.maintenance()  # what it would answer if asked
    events: list[Event] = []
    adapters = [SimulatedAdapter(card_a), SimulatedAdapter(card_b)]
    windows = {"card_a": [window(-10, 3600)]}
    async with Router(
        adapters, ledger="sqlite://", hooks=[events.append], maintenance=windows
    ) as r:
        results = [await r.pay(request(f"order-{n}")) for n in range(3)]
    assert {(res.status, res.provider) for res in results} == {(PaymentStatus.SUCCEEDED, "card_b")}
    assert card_a.calls == 0
    assert {e.reason for e in events if isinstance(e, CandidateSkipped)} == {"maintenance"}


async def test_the_checkout_hides_a_method_whose_only_provider_is_in_maintenance() -> None:
    cards_only = Capabilities(methods=frozenset({PaymentMethod.CARD}))
    adapter = SimulatedAdapter(SimulatedProvider("card_a"), capabilities=cards_only)
    windows = {"card_a": [window(-10, 3600)]}
    async with Router([adapter], ledger="sqlite://", hooks=(), maintenance=windows) as r:
        assert r.healthy_methods(request("order-1")) == ()


async def test_traffic_drains_before_the_window_and_returns_after_it() -> None:
    card_a, card_b = SimulatedProvider("card_a"), SimulatedProvider("card_b")
    adapters = [SimulatedAdapter(card_a), SimulatedAdapter(card_b)]
    soon = {"card_a": [window(30, 60)]}  # opens in 30 s; the default drain is 60 s
    async with Router(adapters, ledger="sqlite://", hooks=(), maintenance=soon) as r:
        draining = await r.pay(request("order-1"))
        r.announce_maintenance("card_b", NOW - timedelta(hours=2), NOW - timedelta(hours=1))
        over = r.next_maintenance("card_b")
    assert draining.provider == "card_b"
    assert over is None  # a past window is not "next"

    later = {"card_a": [window(3600, 60)]}
    adapters = [SimulatedAdapter(SimulatedProvider("card_a")), SimulatedAdapter(card_b)]
    async with Router(adapters, ledger="sqlite://", hooks=(), maintenance=later) as r:
        before = await r.pay(request("order-2"))
    assert before.provider == "card_a"  # an hour ahead: nothing drains yet


def test_a_window_must_name_its_zone_and_end_after_it_starts() -> None:
    with pytest.raises(ValidationError, match="timezone"):
        MaintenanceWindow(start=datetime(2026, 11, 27, 2), end=datetime(2026, 11, 27, 3))
    with pytest.raises(ValidationError, match="end must be after start"):
        MaintenanceWindow(start=NOW, end=NOW)


def test_windows_come_from_config_and_status_shows_the_next_one(tmp_path: Path) -> None:
    (tmp_path / "payrouter.yaml").write_text(
        "ledger: sqlite:///ledger.db\n"
        "providers:\n"
        "  - name: card_a\n    type: simulated\n    methods: [card]\n"
        "    maintenance:\n      - {start: '2099-11-27T02:00:00Z', end: '2099-11-27T03:30:00Z'}\n"
        "  - {name: card_b, type: simulated, methods: [card]}\n"
    )
    done = CliRunner().invoke(
        app, ["status", "--config", str(tmp_path / "payrouter.yaml"), "--json"]
    )
    assert done.exit_code == 0, done.output
    rows = {row["provider"]: row for row in json.loads(done.output)["providers"]}
    assert rows["card_a"]["next_maintenance"] == "2099-11-27 02:00 to 2099-11-27 03:30"
    assert rows["card_b"]["next_maintenance"] is None


def test_a_window_without_a_zone_in_config_names_the_field(tmp_path: Path) -> None:
    path = tmp_path / "payrouter.yaml"
    path.write_text(
        "providers:\n  - name: card_a\n    type: simulated\n    methods: [card]\n"
        "    maintenance: [{start: '2099-11-27T02:00:00', end: '2099-11-27T03:00:00'}]\n"
    )
    with pytest.raises(ConfigurationError, match=r"providers\.0\.maintenance\.0\.start"):
        Router.from_config(path)


async def test_available_methods_hide_a_wallet_that_is_down_or_closed() -> None:
    """What the checkout renders: methods some provider can take now, for this customer."""
    wallet_only = Capabilities(methods=frozenset({PaymentMethod.WALLET}))
    eur_cards = Capabilities(methods=frozenset({PaymentMethod.CARD}), currencies=frozenset({"EUR"}))
    wallet = SimulatedAdapter(SimulatedProvider("wallet"), capabilities=wallet_only)
    card = SimulatedAdapter(SimulatedProvider("card"), capabilities=eur_cards)
    async with Router([wallet, card], ledger="sqlite://", hooks=()) as r:
        ten_euros = Money.of("10.00", "EUR")
        assert r.available_methods("DE", "EUR", ten_euros) == (
            PaymentMethod.WALLET,
            PaymentMethod.CARD,
        )
        assert r.available_methods("US", "USD", Money.of("10.00", "USD")) == (PaymentMethod.WALLET,)
        r.announce_maintenance("wallet", NOW - timedelta(minutes=1), NOW + timedelta(hours=1))
        assert r.available_methods("DE", "EUR", ten_euros) == (PaymentMethod.CARD,)
        with pytest.raises(ValueError, match="one currency"):
            r.available_methods("DE", "USD", ten_euros)
