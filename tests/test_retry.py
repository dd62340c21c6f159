"""Retries of one attempt: no waits in testing mode, bounded exponential backoff otherwise,
never more than max_tries, never a try that would start past the deadline."""

from __future__ import annotations

import types
from collections.abc import Sequence

import pytest
from pydantic import SecretStr

import payrouter._paying._retry
from payrouter import CardSource, Money, PaymentRequest, RetrySettings, Router, RouterSettings
from payrouter._paying._retry import RetryableReply, retrying, wait_seconds
from payrouter.instrumentation import Event, RetryScheduled
from payrouter.provider import FailureKind, ProviderReply
from payrouter.testing import Behavior, SimulatedAdapter, SimulatedProvider, set_testing

_NO_JITTER = RetrySettings(
    max_tries=10, initial_wait_seconds=0.1, max_wait_seconds=1.0, jitter_seconds=0.0
)


def request(order_id: str = "order-1") -> PaymentRequest:
    return PaymentRequest(
        order_id=order_id,
        amount=Money.of("10.00", "EUR"),
        sources=[CardSource(token=SecretStr("pm_card_visa"))],
        customer_country="DE",
    )


class SleepRecorder:
    """Replaces asyncio.sleep for the router: records each wait, waits for nothing."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


def router(
    adapters: Sequence[SimulatedAdapter],
    settings: RouterSettings,
    sleep: SleepRecorder,
    events: list[Event] | None = None,
) -> Router:
    hooks = () if events is None else [events.append]
    return Router(adapters, ledger="sqlite://", settings=settings, hooks=hooks, sleep=sleep)


# -- wait_seconds --------------------------------------------------------------------------


@pytest.mark.parametrize("retry_after", [None, 0.5, 30.0])
def test_wait_is_zero_in_testing_mode(retry_after: float | None) -> None:
    """Testing mode (on for every test here) removes every backoff wait."""
    for try_number in range(1, 6):
        assert wait_seconds(try_number, RetrySettings(), retry_after) == 0.0


def test_wait_grows_exponentially_outside_testing_mode() -> None:
    """Each wait doubles the previous one: 0.1, 0.2, 0.4, 0.8 seconds."""
    with set_testing(False):
        waits = [wait_seconds(n, _NO_JITTER, None) for n in range(1, 5)]
    assert waits == pytest.approx([0.1, 0.2, 0.4, 0.8])


def test_wait_is_capped_at_max_wait() -> None:
    """However many tries, a wait never exceeds max_wait."""
    with set_testing(False):
        assert wait_seconds(20, _NO_JITTER, None) == 1.0


@pytest.mark.parametrize(("retry_after", "expected"), [(0.3, 0.3), (0.0, 0.0), (60.0, 1.0)])
def test_retry_after_is_honoured_but_capped_at_max_wait(
    retry_after: float, expected: float
) -> None:
    """The provider's Retry-After wins over backoff, but a long one is cut to max_wait."""
    with set_testing(False):
        assert wait_seconds(1, _NO_JITTER, retry_after) == expected


def test_jitter_is_added_and_bounded() -> None:
    """Jitter spreads waits over [exponential, exponential + jitter], never beyond."""
    policy = RetrySettings(
        max_tries=10, initial_wait_seconds=0.1, max_wait_seconds=10.0, jitter_seconds=0.05
    )
    with set_testing(False):
        waits = [wait_seconds(2, policy, None) for _ in range(200)]
    assert all(0.2 <= wait <= 0.25 for wait in waits)
    assert len(set(waits)) > 1


# -- the retry loop ------------------------------------------------------------------------


class FakeClock:
    """A monotonic clock that moves only when the loop sleeps."""

    def __init__(self) -> None:
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds


async def _run_loop(policy: RetrySettings, clock: FakeClock, deadline: float) -> list[float]:
    """Run a retry loop whose every try is busy; return the clock at the start of each try."""
    starts: list[float] = []
    busy = ProviderReply.failed(FailureKind.BUSY)

    async def always_busy() -> None:
        async for loop_try in retrying(policy, deadline, lambda *_: None, clock.sleep):
            with loop_try:
                starts.append(clock.now)
                raise RetryableReply(busy)

    with pytest.raises(RetryableReply):
        await always_busy()
    return starts


async def test_retry_loop_never_exceeds_max_tries(monkeypatch: pytest.MonkeyPatch) -> None:
    """A provider busy forever is tried max_tries times, no more."""
    clock = FakeClock()
    monkeypatch.setattr(
        payrouter._paying._retry, "time", types.SimpleNamespace(monotonic=clock.monotonic)
    )
    policy = RetrySettings(
        max_tries=4, initial_wait_seconds=0.1, max_wait_seconds=1.0, jitter_seconds=0.0
    )
    starts = await _run_loop(policy, clock, deadline=clock.now + 3600)
    assert len(starts) == 4


async def test_retry_loop_never_starts_a_try_past_the_deadline(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A wait that would end past the deadline is not taken: the loop stops instead."""
    clock = FakeClock()
    monkeypatch.setattr(
        payrouter._paying._retry, "time", types.SimpleNamespace(monotonic=clock.monotonic)
    )
    policy = RetrySettings(
        max_tries=10, initial_wait_seconds=0.4, max_wait_seconds=10.0, jitter_seconds=0.0
    )
    deadline = clock.now + 1.0
    with set_testing(False):
        starts = await _run_loop(policy, clock, deadline)
    assert starts == pytest.approx([1000.0, 1000.4])
    assert all(start < deadline for start in starts)


async def test_router_retries_with_exponential_waits_outside_testing_mode() -> None:
    """Through the router: max_tries calls, exponential waits announced and slept."""
    busy = SimulatedAdapter(SimulatedProvider("card_a"))
    busy.provider.default = Behavior.overloaded()
    spare = SimulatedAdapter(SimulatedProvider("card_b"))
    settings = RouterSettings(
        retry=RetrySettings(
            max_tries=4, initial_wait_seconds=0.1, max_wait_seconds=5.0, jitter_seconds=0.0
        )
    )
    sleep = SleepRecorder()
    events: list[Event] = []
    with set_testing(False):
        async with router([busy, spare], settings, sleep, events) as payments:
            result = await payments.pay(request())
            assert result.provider == "card_b"
            assert busy.provider.calls == 4
    assert sleep.waits == pytest.approx([0.1, 0.2, 0.4])
    announced = [e for e in events if isinstance(e, RetryScheduled)]
    assert [e.try_number for e in announced] == [1, 2, 3]
    assert [e.wait_seconds for e in announced] == pytest.approx([0.1, 0.2, 0.4])


async def test_router_does_not_wait_out_a_retry_after_longer_than_the_deadline() -> None:
    """A Retry-After beyond the payment deadline is not slept: the router fails over at once."""
    throttled = SimulatedAdapter(SimulatedProvider("card_a"))
    throttled.provider.default = Behavior.rate_limited(retry_after=30.0)
    spare = SimulatedAdapter(SimulatedProvider("card_b"))
    settings = RouterSettings(
        deadline_seconds=5.0, retry=RetrySettings(max_tries=5, max_wait_seconds=60.0)
    )
    sleep = SleepRecorder()
    with set_testing(False):
        async with router([throttled, spare], settings, sleep) as payments:
            result = await payments.pay(request())
            assert result.provider == "card_b"
            assert throttled.provider.calls == 1
            assert len(spare.provider.charges("order-1")) == 1
    assert sleep.waits == []


async def test_router_makes_a_single_try_when_max_tries_is_one() -> None:
    """max_tries=1 means no retry at all, even for a retryable kind."""
    busy = SimulatedAdapter(SimulatedProvider("card_a"))
    busy.provider.default = Behavior.overloaded()
    spare = SimulatedAdapter(SimulatedProvider("card_b"))
    settings = RouterSettings(retry=RetrySettings(max_tries=1))
    sleep = SleepRecorder()
    async with router([busy, spare], settings, sleep) as payments:
        await payments.pay(request())
        assert busy.provider.calls == 1
    assert sleep.waits == []
