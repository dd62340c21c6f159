"""Routing decides before the call: merchant rules exclude providers (with the reason), and
each method's strategy orders the rest, never across the customer's sources."""

from __future__ import annotations

import random
from collections import Counter
from decimal import Decimal
from pathlib import Path

import pytest
from pydantic import SecretStr

from payrouter import (
    CardSource,
    FeeRule,
    Money,
    NoEligibleProviderError,
    PaymentMethod,
    PaymentRequest,
    ProviderRouting,
    Router,
    RoutingPolicy,
    Strategy,
    StrategyName,
    WalletSource,
)
from payrouter.instrumentation import Event, RoutePlanned
from payrouter.testing import Behavior, SimulatedAdapter, SimulatedProvider

CARD = PaymentMethod.CARD


def card(
    order_id: str, *, network: str | None = "visa", tags: set[str] | None = None
) -> PaymentRequest:
    return PaymentRequest(
        order_id=order_id,
        amount=Money.of("100.00", "EUR"),
        sources=[CardSource(token=SecretStr("pm_card_visa"), network=network)],
        customer_country="DE",
        tags=frozenset(tags or ()),
    )


def adapters(*names: str) -> list[SimulatedAdapter]:
    return [SimulatedAdapter(SimulatedProvider(name)) for name in names]


def taken_by(all_adapters: list[SimulatedAdapter]) -> Counter[str]:
    return Counter(adapter.name for adapter in all_adapters for _ in adapter.provider.charges())


async def test_a_provider_is_never_tried_for_a_network_or_tag_it_must_not_take() -> None:
    all_ = adapters("amex_only", "b2b", "anyone")
    policy = RoutingPolicy(
        providers={
            "amex_only": ProviderRouting(networks=frozenset({"amex"})),
            "b2b": ProviderRouting(requires_tags=frozenset({"b2b"})),
            "anyone": ProviderRouting(excludes_tags=frozenset({"high_risk"})),
        }
    )
    events: list[Event] = []
    async with Router(all_, ledger="sqlite://", hooks=(events.append,), routing=policy) as r:
        visa = await r.pay(card("o-visa"))
        business = await r.pay(card("o-b2b", tags={"b2b"}))
        amex = await r.pay(card("o-amex", network="amex"))
        with pytest.raises(NoEligibleProviderError):
            await r.pay(card("o-risky", tags={"high_risk"}))
        calls = {a.name: a.provider.calls for a in all_}

    assert (visa.provider, business.provider, amex.provider) == ("anyone", "b2b", "amex_only")
    assert calls == {"amex_only": 1, "b2b": 1, "anyone": 1}  # nobody excluded was ever called
    planned = {e.order_id: e for e in events if isinstance(e, RoutePlanned)}
    assert planned["o-visa"].excluded == (
        "amex_only: card network visa not in ['amex']",
        "b2b: payment lacks required tags ['b2b']",
    )
    assert planned["o-risky"].route == ()


async def test_lowest_cost_tries_the_cheapest_provider_first_and_says_so() -> None:
    all_ = adapters("dear", "cheap", "unknown")
    cheap = all_[1]
    policy = RoutingPolicy(
        providers={
            "dear": ProviderRouting(fees=(FeeRule(percent=Decimal("2.9"), fixed_minor=30),)),
            "cheap": ProviderRouting(
                fees=(FeeRule(method=CARD, percent=Decimal("1.4"), fixed_minor=25),)
            ),
        },
        strategies={CARD: Strategy(strategy=StrategyName.LOWEST_COST)},
    )
    events: list[Event] = []
    async with Router(all_, ledger="sqlite://", hooks=(events.append,), routing=policy) as r:
        first = await r.pay(card("o-1"))
        cheap.provider.default = Behavior.unavailable()
        second = await r.pay(card("o-2"))

    assert (first.provider, second.provider) == ("cheap", "dear")
    (plan, _) = [e for e in events if isinstance(e, RoutePlanned)]
    assert plan.route == ("cheap/card fee=165", "dear/card fee=320", "unknown/card")
    assert plan.strategies == ("card: lowest_cost",)


async def test_success_rate_prefers_the_healthy_provider_and_explores_a_little() -> None:
    all_ = adapters("flaky", "steady")
    flaky = all_[0]
    flaky.provider.behave = lambda call: Behavior.unavailable()  # fails, is failed over
    policy = RoutingPolicy(
        strategies={CARD: Strategy(strategy=StrategyName.SUCCESS_RATE, exploration=0.1)},
        rng=random.Random(4),
    )
    async with Router(all_, ledger="sqlite://", hooks=(), routing=policy) as r:
        for number in range(200):
            await r.pay(card(f"o-{number}"))
        first_tries = flaky.provider.calls
        taken = taken_by(all_)

    # Once flaky's window shows it failing, it is tried first only when explored (~10 %).
    assert 5 <= first_tries <= 45
    assert taken == Counter({"steady": 200})


async def test_a_weighted_split_lands_near_its_weights() -> None:
    all_ = adapters("a", "b")
    policy = RoutingPolicy(
        strategies={CARD: Strategy(strategy=StrategyName.WEIGHTED, weights={"a": 80, "b": 20})},
        rng=random.Random(7),
    )
    async with Router(all_, ledger="sqlite://", hooks=(), routing=policy) as r:
        for number in range(1000):
            await r.pay(card(f"o-{number}"))
        split = taken_by(all_)

    assert 740 <= split["a"] <= 860
    assert split["a"] + split["b"] == 1000


async def test_strategies_reorder_within_a_source_never_across_the_customers_order() -> None:
    all_ = adapters("card_a", "card_b", "wallet")
    policy = RoutingPolicy(
        strategies={CARD: Strategy(strategy=StrategyName.WEIGHTED, weights={"card_b": 1})}
    )
    events: list[Event] = []
    request = PaymentRequest(
        order_id="o-1",
        amount=Money.of("5.00", "EUR"),
        sources=[WalletSource(wallet="paypal"), CardSource(token=SecretStr("pm_card_visa"))],
        customer_country="DE",
    )
    async with Router(all_, ledger="sqlite://", hooks=(events.append,), routing=policy) as r:
        await r.pay(request)

    (plan,) = [e for e in events if isinstance(e, RoutePlanned)]
    assert [entry.split("/")[1] for entry in plan.route][:3] == ["wallet", "wallet", "wallet"]
    cards = [entry for entry in plan.route if entry.endswith("/card")]
    assert cards[0] == "card_b/card"


def test_a_weighted_strategy_needs_a_positive_weight() -> None:
    with pytest.raises(ValueError, match="at least one positive weight"):
        Strategy(strategy=StrategyName.WEIGHTED, weights={"a": 0})


async def test_rules_and_strategies_come_from_the_config_file(tmp_path: Path) -> None:
    config = tmp_path / "payrouter.yaml"
    config.write_text(
        "ledger: sqlite:///ledger.db\n"
        "routing:\n"
        "  card: {strategy: lowest_cost}\n"
        "providers:\n"
        "  - name: dear\n"
        "    type: simulated\n"
        "    methods: [card]\n"
        "    fees: [{percent: '2.9', fixed_minor: 30}]\n"
        "  - name: cheap\n"
        "    type: simulated\n"
        "    methods: [card]\n"
        "    networks: [visa, mastercard]\n"
        "    fees: [{method: card, currency: EUR, percent: '1.4', fixed_minor: 25}]\n"
    )
    async with Router.from_config(config, hooks=()) as r:
        visa = await r.pay(card("o-visa"))
        amex = await r.pay(card("o-amex", network="amex"))

    assert (visa.provider, amex.provider) == ("cheap", "dear")
