"""Properties under random faults: whatever providers do, one order is charged at most once,
and after reconcile the ledger and the providers' books tell the same story."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Sequence

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import SecretStr

from payrouter import (
    CardSource,
    Money,
    PaymentMethod,
    PaymentRequest,
    PaymentResult,
    PaymentStatus,
    PayrouterError,
    Router,
    RouterSettings,
    WalletSource,
)
from payrouter.provider import Capabilities, FailureKind, Outcome, Resolution
from payrouter.testing import Behavior, SimulatedAdapter, SimulatedProvider

_PROFILE = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    derandomize=True,
)

# Every behaviour of the simulated provider except hang_after_charging (it blocks the thread).
_BEHAVIORS: tuple[Behavior, ...] = (
    Behavior.succeed(),
    Behavior.decline_with(FailureKind.INSUFFICIENT_FUNDS),
    Behavior.decline_with(FailureKind.ACCOUNT_FROZEN),
    Behavior.decline_with(FailureKind.CARD_DECLINED),
    Behavior.rate_limited(retry_after=1.0),
    Behavior.overloaded(),
    Behavior.unavailable(),
    Behavior.maintenance(),
    Behavior.refuse_connection(),
    Behavior.timeout_after_charging(),
    Behavior.timeout_before_charging(),
    Behavior.error_after_charging(),
    Behavior.requires_action(),
    Behavior.pending(),
    Behavior.credentials_rejected(),
    Behavior.invalid(),
)
_CARD = CardSource(token=SecretStr("pm_card_visa"))
_WALLET = WalletSource(wallet="paypal")
_SOURCE_CHOICES = ((_CARD,), (_WALLET,), (_CARD, _WALLET), (_WALLET, _CARD))
_METHOD_CHOICES = (
    frozenset({PaymentMethod.CARD}),
    frozenset({PaymentMethod.WALLET}),
    frozenset({PaymentMethod.CARD, PaymentMethod.WALLET}),
)
_ORDER_IDS = tuple(f"order-{n}" for n in range(5))


@dataclasses.dataclass(frozen=True)
class ProviderPlan:
    methods: frozenset[PaymentMethod]
    script: tuple[Behavior, ...]
    default: Behavior


@dataclasses.dataclass(frozen=True)
class Scenario:
    providers: tuple[ProviderPlan, ...]
    sources: dict[str, tuple[CardSource | WalletSource, ...]]
    payments: tuple[str, ...]
    fallback_on_decline: bool


behaviors = st.sampled_from(_BEHAVIORS)
provider_plans = st.builds(
    ProviderPlan,
    methods=st.sampled_from(_METHOD_CHOICES),
    script=st.lists(behaviors, max_size=8).map(tuple),
    default=behaviors,
)
scenarios = st.builds(
    Scenario,
    providers=st.lists(provider_plans, min_size=2, max_size=3).map(tuple),
    sources=st.fixed_dictionaries(
        {order_id: st.sampled_from(_SOURCE_CHOICES) for order_id in _ORDER_IDS}
    ),
    payments=st.lists(st.sampled_from(_ORDER_IDS), min_size=1, max_size=10).map(tuple),
    fallback_on_decline=st.booleans(),
)


def test_behaviour_list_covers_every_action_but_hanging() -> None:
    """The property tests draw from every simulated behaviour except hang_after_charging."""
    actions = {behavior.action for behavior in _BEHAVIORS}
    every = set(type(Behavior.succeed().action))
    assert every - actions == {Behavior.hang_after_charging().action}


def _request(order_id: str, scenario: Scenario) -> PaymentRequest:
    return PaymentRequest(
        order_id=order_id,
        amount=Money.of("25.00", "EUR"),
        sources=scenario.sources[order_id],
        customer_country="DE",
    )


def _adapters(scenario: Scenario) -> list[SimulatedAdapter]:
    adapters = []
    for number, plan in enumerate(scenario.providers):
        provider = SimulatedProvider(f"sim_{number}")
        provider.script(*plan.script)
        provider.default = plan.default
        adapters.append(
            SimulatedAdapter(
                provider,
                capabilities=Capabilities(methods=plan.methods),
                resolution=Resolution(lookup=True, search_lag_seconds=0),
            )
        )
    return adapters


async def _check(
    payments: Router, adapters: Sequence[SimulatedAdapter], outcomes: Sequence[object]
) -> None:
    for outcome in outcomes:
        assert isinstance(outcome, PaymentResult | PayrouterError), repr(outcome)
    await payments.reconcile()
    by_name = {adapter.name: adapter for adapter in adapters}
    for order_id in _ORDER_IDS:
        charges = [
            (adapter.name, charge)
            for adapter in adapters
            for charge in adapter.provider.charges(order_id)
        ]
        assert len(charges) <= 1, f"{order_id} charged {len(charges)} times: {charges}"
        stored = await payments.lookup(order_id)
        if stored is None:
            assert charges == []
            continue
        for attempt in stored.attempts:
            assert attempt.outcome not in (None, Outcome.UNKNOWN), (order_id, attempt)
        if stored.status is PaymentStatus.SUCCEEDED:
            assert stored.provider is not None
            taken = by_name[stored.provider].provider.charges(order_id)
            assert [c.provider_reference for c in taken] == [stored.provider_reference]
        if stored.status in (PaymentStatus.FAILED, PaymentStatus.DECLINED):
            assert charges == [], f"{order_id} is {stored.status} but was charged: {charges}"
        for name, charge in charges:
            assert stored.status in (PaymentStatus.SUCCEEDED, PaymentStatus.PENDING), (
                order_id,
                stored.status,
            )
            assert (stored.provider, stored.provider_reference) == (
                name,
                charge.provider_reference,
            )


async def _run(scenario: Scenario, *, concurrently: bool) -> None:
    adapters = _adapters(scenario)
    router_settings = RouterSettings(
        lookup_tries=1,
        fallback_on_decline=scenario.fallback_on_decline,
    )
    async with Router(adapters, ledger="sqlite://", hooks=(), settings=router_settings) as payments:
        requests = [_request(order_id, scenario) for order_id in scenario.payments]
        if concurrently:
            outcomes: list[object] = list(
                await asyncio.gather(
                    *(payments.pay(request) for request in requests), return_exceptions=True
                )
            )
        else:
            outcomes = []
            for request in requests:
                try:
                    outcomes.append(await payments.pay(request))
                except PayrouterError as error:
                    outcomes.append(error)
        await _check(payments, adapters, outcomes)


@_PROFILE
@given(scenario=scenarios)
def test_sequential_payments_under_random_faults_keep_books_and_ledger_consistent(
    scenario: Scenario,
) -> None:
    """Paid one after another, any fault mix charges each order at most once, all recorded."""
    asyncio.run(_run(scenario, concurrently=False))


@_PROFILE
@given(scenario=scenarios)
def test_concurrent_payments_under_random_faults_keep_books_and_ledger_consistent(
    scenario: Scenario,
) -> None:
    """Paid all at once, duplicates included, any fault mix charges each order at most once."""
    asyncio.run(_run(scenario, concurrently=True))
