"""Rule 5: one breaker per (provider, method), opened only by failures showing ill health."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence

import pytest
from pydantic import SecretStr

from payrouter import (
    AllProvidersUnavailableError,
    BreakerSettings,
    CardSource,
    Money,
    PaymentMethod,
    PaymentRequest,
    PaymentSource,
    PaymentStatus,
    RetrySettings,
    Router,
    RouterSettings,
    WalletSource,
)
from payrouter._health._breakers import BreakerBoard, BreakerOpen, ProviderFault
from payrouter.instrumentation import BreakerStateChanged, CandidateSkipped, Event
from payrouter.provider import FailureKind, ProviderReply
from payrouter.testing import Behavior, SimulatedAdapter, SimulatedProvider

CARD = PaymentMethod.CARD
WALLET = PaymentMethod.WALLET


def provider(name: str) -> SimulatedAdapter:
    return SimulatedAdapter(SimulatedProvider(name))


def request(order_id: str, source: PaymentSource | None = None) -> PaymentRequest:
    return PaymentRequest(
        order_id=order_id,
        amount=Money.of("10.00", "EUR"),
        sources=[source or CardSource(token=SecretStr("pm_card_visa"))],
        customer_country="DE",
    )


def router(
    adapters: Sequence[SimulatedAdapter],
    events: list[Event],
    *,
    fail_max: int = 3,
    reset_timeout: float = 30.0,
) -> Router:
    settings = RouterSettings(
        retry=RetrySettings(max_tries=1),
        breaker=BreakerSettings(fail_max=fail_max, reset_timeout_seconds=reset_timeout),
    )
    return Router(adapters, ledger="sqlite://", hooks=[events.append], settings=settings)


def changes(events: list[Event]) -> list[tuple[str, PaymentMethod, str, str]]:
    return [
        (e.provider, e.method, e.old_state, e.new_state)
        for e in events
        if isinstance(e, BreakerStateChanged)
    ]


@pytest.mark.parametrize(
    "sick",
    [
        Behavior.overloaded,
        Behavior.unavailable,
        Behavior.rate_limited,
        Behavior.refuse_connection,
    ],
    ids=["busy", "down", "rate-limited", "connection-refused"],
)
async def test_repeated_health_failures_open_the_breaker_and_later_payments_skip_it(
    sick: Callable[[], Behavior],
) -> None:
    """fail_max busy/down failures open the breaker; the next payment goes elsewhere uncalled."""
    first, second = provider("card_a"), provider("card_b")
    first.provider.default = sick()
    events: list[Event] = []
    async with router([first, second], events, fail_max=3) as payments:
        for number in range(3):
            result = await payments.pay(request(f"order-{number}"))
            assert result.provider == "card_b"
        assert first.provider.calls == 3
        assert payments.breaker_states()[("card_a", CARD)] == "open"
        result = await payments.pay(request("order-after"))
        assert result.status is PaymentStatus.SUCCEEDED
        assert result.provider == "card_b"
        assert first.provider.calls == 3
        assert [a.provider for a in result.attempts] == ["card_b"]
        assert first.provider.charges() == []
    skipped = [e for e in events if isinstance(e, CandidateSkipped)]
    assert [(e.order_id, e.provider, e.method, e.reason) for e in skipped] == [
        ("order-after", "card_a", CARD, "breaker_open")
    ]
    assert changes(events) == [("card_a", CARD, "closed", "open")]


async def test_breaker_counts_failures_in_a_row_only() -> None:
    """A success in between resets the count: two busy, one success, two busy keeps it closed."""
    first, second = provider("card_a"), provider("card_b")
    busy = Behavior.overloaded()
    first.provider.script(busy, busy, Behavior.succeed(), busy, busy)
    events: list[Event] = []
    async with router([first, second], events, fail_max=3) as payments:
        for number in range(5):
            await payments.pay(request(f"order-{number}"))
        assert payments.breaker_states()[("card_a", CARD)] == "closed"
        assert first.provider.calls == 5
    assert changes(events) == []


@pytest.mark.parametrize(
    "kind",
    [FailureKind.INSUFFICIENT_FUNDS, FailureKind.SUSPECTED_FRAUD, FailureKind.CARD_DECLINED],
    ids=str,
)
async def test_hard_declines_never_open_a_breaker(kind: FailureKind) -> None:
    """A customer's declined card says nothing about the provider: ten declines, still closed."""
    first = provider("card_a")
    first.provider.default = Behavior.decline_with(kind)
    events: list[Event] = []
    async with router([first], events, fail_max=2) as payments:
        for number in range(10):
            result = await payments.pay(request(f"order-{number}"))
            assert result.status is PaymentStatus.DECLINED
        assert first.provider.calls == 10
        assert payments.breaker_states().get(("card_a", CARD), "closed") == "closed"
    assert changes(events) == []


@pytest.mark.parametrize(
    "behavior",
    [Behavior.maintenance, Behavior.credentials_rejected],
    ids=["maintenance", "credentials"],
)
async def test_maintenance_and_rejected_credentials_do_not_count(
    behavior: Callable[[], Behavior],
) -> None:
    """Scheduled maintenance and our own config faults do not open the provider's breaker."""
    first, second = provider("card_a"), provider("card_b")
    first.provider.default = behavior()
    events: list[Event] = []
    async with router([first, second], events, fail_max=2) as payments:
        for number in range(6):
            result = await payments.pay(request(f"order-{number}"))
            assert result.provider == "card_b"
        assert first.provider.calls == 6
        assert payments.breaker_states().get(("card_a", CARD), "closed") == "closed"
    assert changes(events) == []
    assert not any(isinstance(e, CandidateSkipped) for e in events)


async def test_breaker_is_per_provider_and_method() -> None:
    """An open card breaker at a provider leaves its wallet payments and other providers alone."""
    first, second = provider("psp_a"), provider("psp_b")
    first.provider.behave = lambda call: Behavior.overloaded() if call["method"] == "card" else None
    events: list[Event] = []
    async with router([first, second], events, fail_max=2) as payments:
        for number in range(2):
            await payments.pay(request(f"card-{number}"))
        assert payments.breaker_states()[("psp_a", CARD)] == "open"
        calls = first.provider.calls
        result = await payments.pay(request("wallet-1", WalletSource(wallet="paypal")))
        assert (result.status, result.provider, result.method) == (
            PaymentStatus.SUCCEEDED,
            "psp_a",
            WALLET,
        )
        assert first.provider.calls == calls + 1
        assert len(first.provider.charges("wallet-1")) == 1
        assert payments.breaker_states().get(("psp_b", CARD), "closed") == "closed"
    assert changes(events) == [("psp_a", CARD, "closed", "open")]


async def test_after_reset_timeout_a_trial_call_is_admitted_and_closes_the_breaker() -> None:
    """Once reset_timeout passed, one trial goes through; its success closes the breaker."""
    first, second = provider("card_a"), provider("card_b")
    first.provider.script(Behavior.unavailable(), Behavior.unavailable())
    events: list[Event] = []
    async with router([first, second], events, fail_max=2, reset_timeout=0.01) as payments:
        for number in range(2):
            await payments.pay(request(f"order-{number}"))
        assert payments.breaker_states()[("card_a", CARD)] == "open"
        # pybreaker keeps its own wall clock, so the (tiny) reset timeout must really pass.
        await asyncio.sleep(0.05)
        result = await payments.pay(request("trial"))
        assert result.provider == "card_a"
        assert first.provider.calls == 3
        assert len(first.provider.charges("trial")) == 1
        assert payments.breaker_states()[("card_a", CARD)] == "closed"
    assert changes(events) == [
        ("card_a", CARD, "closed", "open"),
        ("card_a", CARD, "open", "half-open"),
        ("card_a", CARD, "half-open", "closed"),
    ]


async def test_failed_trial_reopens_the_breaker() -> None:
    """A trial that fails again re-opens the breaker and the payment fails over."""
    first, second = provider("card_a"), provider("card_b")
    first.provider.default = Behavior.unavailable()
    events: list[Event] = []
    async with router([first, second], events, fail_max=2, reset_timeout=0.01) as payments:
        for number in range(2):
            await payments.pay(request(f"order-{number}"))
        await asyncio.sleep(0.05)
        result = await payments.pay(request("trial"))
        assert result.provider == "card_b"
        assert first.provider.calls == 3
        assert payments.breaker_states()[("card_a", CARD)] == "open"
    assert changes(events)[-2:] == [
        ("card_a", CARD, "open", "half-open"),
        ("card_a", CARD, "half-open", "open"),
    ]


async def test_when_every_breaker_is_open_each_provider_still_gets_one_call() -> None:
    """A payment is not failed untried: with all breakers open, the router calls each
    eligible provider once past its breaker, in order (a panic threshold, as Envoy has)."""
    only = provider("card_a")
    only.provider.default = Behavior.overloaded()
    events: list[Event] = []
    async with router([only], events, fail_max=2) as payments:
        for number in range(2):
            with pytest.raises(AllProvidersUnavailableError):
                await payments.pay(request(f"order-{number}"))
        assert payments.breaker_states()[("card_a", CARD)] == "open"
        only.provider.default = Behavior.succeed()  # it recovered while its breaker is open
        result = await payments.pay(request("order-after"))
    assert (result.status, result.provider) == (PaymentStatus.SUCCEEDED, "card_a")
    assert only.provider.calls == 3
    skipped = [(e.order_id, e.reason) for e in events if isinstance(e, CandidateSkipped)]
    assert skipped == [("order-after", "breaker_open")]


async def test_the_last_resort_is_not_used_while_another_provider_can_be_tried() -> None:
    first, second = provider("card_a"), provider("card_b")
    first.provider.default = Behavior.unavailable()
    events: list[Event] = []
    async with router([first, second], events, fail_max=1) as payments:
        await payments.pay(request("order-1"))
        second.provider.default = Behavior.decline_with(FailureKind.INSUFFICIENT_FUNDS)
        result = await payments.pay(request("order-2"))
    assert result.status is PaymentStatus.DECLINED
    assert first.provider.calls == 1  # its breaker was open and card_b could be tried


async def test_the_last_resort_can_be_switched_off() -> None:
    only = provider("card_a")
    only.provider.default = Behavior.overloaded()
    settings = RouterSettings(
        retry=RetrySettings(max_tries=1),
        breaker=BreakerSettings(fail_max=1, reset_timeout_seconds=30),
        last_resort_when_all_open=False,
    )
    async with Router([only], ledger="sqlite://", hooks=(), settings=settings) as payments:
        with pytest.raises(AllProvidersUnavailableError):
            await payments.pay(request("order-1"))
        with pytest.raises(AllProvidersUnavailableError) as refused:
            await payments.pay(request("order-2"))
    assert only.provider.calls == 1
    assert refused.value.attempts == ()


def test_the_guard_counts_provider_faults_and_refuses_an_open_breaker_unsent() -> None:
    """Faults raised in the block reach pybreaker; once open, entering raises BreakerOpen."""
    board = BreakerBoard(BreakerSettings(fail_max=2, reset_timeout_seconds=60), hooks=())
    fault = ProviderFault(ProviderReply.failed(FailureKind.PROVIDER_DOWN))
    for _ in range(2):
        with pytest.raises(ProviderFault), board.guard("card_a", CARD):
            raise fault
    assert board.state("card_a", CARD) == "open"
    entered = False
    with pytest.raises(BreakerOpen, match="card_a/card"), board.guard("card_a", CARD):
        entered = True
    assert not entered
    with board.guard("card_b", CARD):  # others untouched, and a clean block counts nothing
        pass
    assert board.state("card_b", CARD) == "closed"
