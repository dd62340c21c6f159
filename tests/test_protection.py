"""Protection at peak: rate limits, bulkheads and the retry budget keep a throttling provider's
bad minute from becoming a retry storm, and fail fast when nothing has capacity."""

from __future__ import annotations

import asyncio

import pytest
from pydantic import SecretStr

from payrouter import (
    AllProvidersUnavailableError,
    BreakerSettings,
    CapacityExhaustedError,
    CardSource,
    Money,
    PaymentRequest,
    PaymentStatus,
    ProviderLimits,
    RetryBudgetSettings,
    RetrySettings,
    Router,
    RouterSettings,
)
from payrouter._health._protection import _Bucket
from payrouter.instrumentation import CandidateSkipped, Event
from payrouter.testing import Behavior, SimulatedAdapter, SimulatedProvider


def request(order_id: str) -> PaymentRequest:
    return PaymentRequest(
        order_id=order_id,
        amount=Money.of("10.00", "EUR"),
        sources=[CardSource(token=SecretStr("pm_card_visa"))],
        customer_country="DE",
    )


def pair() -> tuple[SimulatedProvider, SimulatedProvider]:
    return SimulatedProvider("card_a"), SimulatedProvider("card_b")


async def test_a_provider_at_its_rate_limit_is_skipped_not_called() -> None:
    card_a, card_b = pair()
    events: list[Event] = []
    limits = {"card_a": ProviderLimits(rate_per_second=0.001, burst=2)}
    adapters = [SimulatedAdapter(card_a), SimulatedAdapter(card_b)]
    async with Router(adapters, ledger="sqlite://", hooks=[events.append], limits=limits) as r:
        results = [await r.pay(request(f"order-{n}")) for n in range(3)]
    assert [result.provider for result in results] == ["card_a", "card_a", "card_b"]
    assert card_a.calls == 2
    skips = [e for e in events if isinstance(e, CandidateSkipped)]
    assert [(e.order_id, e.reason) for e in skips] == [("order-2", "rate_limited")]


async def test_a_repeated_order_id_spends_no_rate_limit_token() -> None:
    """The claim comes before the token: a double click on a paid order answers with its
    result and leaves the token for the next customer's payment."""
    card_a, _ = pair()
    limits = {"card_a": ProviderLimits(rate_per_second=0.001, burst=2)}
    async with Router([SimulatedAdapter(card_a)], ledger="sqlite://", hooks=(), limits=limits) as r:
        paid = await r.pay(request("order-1"))
        assert await r.pay(request("order-1")) == paid  # answered from the ledger
        other = await r.pay(request("order-2"))
    assert other.status is PaymentStatus.SUCCEEDED
    assert card_a.calls == 2


async def test_a_repeated_order_id_tells_of_no_skip() -> None:
    """Skips are events of a payment this call pays: a second call for a paid order id whose
    provider is now at capacity answers with the result, and no skip is told for it."""
    card_a, _ = pair()
    events: list[Event] = []
    limits = {"card_a": ProviderLimits(rate_per_second=0.001, burst=1)}
    adapters = [SimulatedAdapter(card_a)]
    async with Router(adapters, ledger="sqlite://", hooks=[events.append], limits=limits) as r:
        paid = await r.pay(request("order-1"))
        assert await r.pay(request("order-1")) == paid
    assert [e for e in events if isinstance(e, CandidateSkipped)] == []


async def test_when_every_provider_is_at_capacity_pay_fails_fast_with_a_typed_error() -> None:
    card_a, _ = pair()
    limits = {"card_a": ProviderLimits(rate_per_second=0.001, burst=1)}
    async with Router([SimulatedAdapter(card_a)], ledger="sqlite://", hooks=(), limits=limits) as r:
        await r.pay(request("order-1"))
        # A token comes back only after 1,000 s: a router that queued would hit this timeout.
        with pytest.raises(CapacityExhaustedError) as refused:
            await asyncio.wait_for(r.pay(request("order-2")), timeout=60)
    assert refused.value.attempts == ()
    assert card_a.calls == 1


async def test_the_bulkhead_caps_calls_in_flight_per_provider() -> None:
    card_a, card_b = pair()
    card_a.default = Behavior.succeed(delay=2.0)  # held far longer than starting five payments
    limits = {"card_a": ProviderLimits(max_concurrent=2)}
    adapters = [SimulatedAdapter(card_a), SimulatedAdapter(card_b)]
    async with Router(adapters, ledger="sqlite://", hooks=(), limits=limits) as r:
        results = await asyncio.gather(*(r.pay(request(f"order-{n}")) for n in range(5)))
    assert sorted(result.provider or "" for result in results) == ["card_a"] * 2 + ["card_b"] * 3


def test_a_429_halves_the_rate_and_quiet_seconds_give_it_back() -> None:
    bucket = _Bucket(rate=10.0, burst=10.0, tokens=0.0, current=10.0, updated=0.0)
    bucket.throttled(now=0.0)
    assert bucket.current == 5.0
    bucket.throttled(now=0.0)
    assert bucket.current == 2.5
    assert not bucket.take(now=0.1)  # 0.25 tokens after 0.1 s at 2.5/s
    bucket.take(now=5.0)  # five quiet seconds: +10 % of the quota per second
    assert bucket.current == pytest.approx(7.5, abs=0.6)
    bucket.take(now=60.0)
    assert bucket.current == 10.0  # never above the published quota


async def test_an_exhausted_retry_budget_stops_retries_and_the_payment_fails_over() -> None:
    card_a, card_b = pair()
    card_a.default = Behavior.overloaded()
    settings = RouterSettings(
        retry=RetrySettings(max_tries=3),
        retry_budget=RetryBudgetSettings(ratio=0.0, min_per_second=0.0),
    )
    adapters = [SimulatedAdapter(card_a), SimulatedAdapter(card_b)]
    async with Router(adapters, ledger="sqlite://", hooks=(), settings=settings) as r:
        result = await r.pay(request("order-1"))
    assert result.provider == "card_b"
    assert result.attempts[0].tries == 1  # no budget: the busy provider was not asked again
    assert card_a.calls == 1


async def test_ten_times_the_load_on_a_throttling_provider_stays_bounded() -> None:
    """200 payments at once; card_a throttles everything, card_b can take 50 right now.
    Attempts per payment stay bounded and success equals what the healthy provider can take.
    Both buckets refill too slowly to matter, so the bound holds however loaded the machine is."""
    card_a, card_b = pair()
    card_a.default = Behavior.rate_limited(retry_after=0.0)
    limits = {
        "card_a": ProviderLimits(rate_per_second=0.001, burst=20),
        "card_b": ProviderLimits(rate_per_second=0.001, burst=50),
    }
    settings = RouterSettings(
        retry=RetrySettings(max_tries=3),
        breaker=BreakerSettings(fail_max=1000),  # the limits, not the breaker, are on trial
        last_resort_when_all_open=False,
    )
    adapters = [SimulatedAdapter(card_a), SimulatedAdapter(card_b)]
    async with Router(
        adapters, ledger="sqlite://", hooks=(), settings=settings, limits=limits
    ) as r:

        async def pay(number: int) -> PaymentStatus | None:
            try:
                result = await r.pay(request(f"order-{number}"))
            except AllProvidersUnavailableError:  # at capacity or throttled: nothing moved
                return None
            return result.status

        outcomes = await asyncio.gather(*(pay(number) for number in range(200)))
        paid = [await r.lookup(f"order-{number}") for number in range(200)]
    succeeded = [status for status in outcomes if status is PaymentStatus.SUCCEEDED]
    assert len(succeeded) == 50  # all card_b could take; the rest failed fast
    attempts = [len(payment.attempts) for payment in paid if payment is not None]
    assert max(attempts) <= 2
    assert card_a.calls <= 20 + 10 * 5  # its burst, plus the retry budget's floor at most


async def test_tokens_left_are_readable_for_metrics() -> None:
    card_a, _ = pair()
    limits = {"card_a": ProviderLimits(rate_per_second=0.001, burst=3)}
    async with Router([SimulatedAdapter(card_a)], ledger="sqlite://", hooks=(), limits=limits) as r:
        await r.pay(request("order-1"))
        left = r.rate_limit_tokens()
    assert left == {"card_a": pytest.approx(2.0, abs=0.01)}
