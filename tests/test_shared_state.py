"""Shared breaker state in Redis: a provider one worker finds down is avoided by all, and a
Redis outage never stops payments (each process goes on with its own state, and says so)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from payrouter import (
    BreakerSettings,
    CardSource,
    Money,
    PaymentMethod,
    PaymentRequest,
    PaymentStatus,
    ProviderLimits,
    RetrySettings,
    Router,
    RouterSettings,
)
from payrouter.instrumentation import Event, SharedStateChanged
from payrouter.testing import Behavior, SimulatedAdapter, SimulatedProvider
from tests.peers import free_port

SETTINGS = RouterSettings(
    retry=RetrySettings(max_tries=1),
    breaker=BreakerSettings(fail_max=2, reset_timeout_seconds=30),
    last_resort_when_all_open=False,
)


def request(order_id: str) -> PaymentRequest:
    return PaymentRequest(
        order_id=order_id,
        amount=Money.of("10.00", "EUR"),
        sources=[CardSource(token=SecretStr("pm_card_visa"))],
        customer_country="DE",
    )


def worker(state: str, events: list[Event] | None = None) -> tuple[Router, SimulatedProvider]:
    """One worker process's router: its own breakers, its own view of card_a."""
    card_a, card_b = SimulatedProvider("card_a"), SimulatedProvider("card_b")
    card_a.default = Behavior.unavailable()
    adapters = [SimulatedAdapter(card_a), SimulatedAdapter(card_b)]
    hooks = [] if events is None else [events.append]
    router = Router(adapters, ledger="sqlite://", settings=SETTINGS, hooks=hooks, state=state)
    return router, card_a


@pytest.mark.peer("redis")
async def test_a_provider_one_worker_finds_down_is_avoided_by_the_others(
    redis_url: str, redis_prefix: str
) -> None:
    state = f"{redis_url}?prefix={redis_prefix}"
    first, _ = worker(state)
    second, second_card_a = worker(state)
    async with first, second:
        await second.pay(request("warm-up"))  # second has used card_a: one call
        assert second_card_a.calls == 1
        for number in range(2):  # first sees card_a fail twice: its breaker opens
            await first.pay(request(f"first-{number}"))
        assert first.breaker_states()[("card_a", "card")] == "open"
        await asyncio.sleep(0.3)  # a few sync intervals (0.1 s)
        result = await second.pay(request("second-1"))
    assert (result.status, result.provider) == (PaymentStatus.SUCCEEDED, "card_b")
    assert second_card_a.calls == 1  # card_a was never called again by the second worker
    assert [attempt.provider for attempt in result.attempts] == ["card_b"]


async def test_redis_unreachable_payments_go_on_and_it_is_said_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    events: list[Event] = []
    router, _ = worker(f"redis://127.0.0.1:{free_port()}/0", events)
    with caplog.at_level(logging.WARNING, logger="payrouter"):
        async with router:
            results = [await router.pay(request(f"order-{n}")) for n in range(4)]
            await asyncio.sleep(0.35)  # background syncs keep failing
    assert {result.status for result in results} == {PaymentStatus.SUCCEEDED}
    changes = [event for event in events if isinstance(event, SharedStateChanged)]
    assert [change.available for change in changes] == [False]
    assert len([r for r in caplog.records if "shared state unavailable" in r.message]) == 1
    assert router.breaker_states()[("card_a", "card")] == "open"  # its own breakers still work


@pytest.mark.peer("redis")
def test_shared_mode_is_two_urls_in_config(
    redis_url: str, redis_prefix: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "payrouter.yaml"
    config.write_text(
        "ledger: sqlite:///ledger.db\n"
        "state: ${SHARED_STATE_URL}\n"
        "providers:\n  - {name: card, type: simulated, methods: [card]}\n"
    )
    monkeypatch.setenv("SHARED_STATE_URL", f"{redis_url}?prefix={redis_prefix}")
    router = Router.from_config(config, hooks=())

    async def pay() -> PaymentStatus:
        async with router:
            return (await router.pay(request("order-1"))).status

    assert asyncio.run(pay()) is PaymentStatus.SUCCEEDED


@pytest.mark.peer("redis")
async def test_a_providers_rate_limit_is_shared_by_every_worker(
    redis_url: str, redis_prefix: str
) -> None:
    state = f"{redis_url}?prefix={redis_prefix}"
    limits = {"card_a": ProviderLimits(rate_per_second=0.001, burst=3)}
    routers, card_as = [], []
    for _ in range(2):
        card_a, card_b = SimulatedProvider("card_a"), SimulatedProvider("card_b")
        adapters = [SimulatedAdapter(card_a), SimulatedAdapter(card_b)]
        routers.append(Router(adapters, ledger="sqlite://", hooks=(), state=state, limits=limits))
        card_as.append(card_a)
    async with routers[0], routers[1]:
        for number in range(4):
            for index, router in enumerate(routers):
                await router.pay(request(f"order-{index}-{number}"))
    assert sum(card_a.calls for card_a in card_as) == 3  # one bucket for both workers


@pytest.mark.peer("redis")
async def test_success_rates_are_every_workers(redis_url: str, redis_prefix: str) -> None:
    state = f"{redis_url}?prefix={redis_prefix}"
    first, _ = worker(state)
    second, _ = worker(state)
    async with first, second:
        for number in range(25):  # card_a fails, card_b succeeds: the first worker only
            await first.pay(request(f"order-{number}"))
        await asyncio.sleep(0.3)
        seen_by_second = second.success_rate("card_b", PaymentMethod.CARD)
    assert seen_by_second == 1.0


async def test_closing_ends_the_sync_loop_even_when_a_sync_swallows_the_cancel() -> None:
    """On Python 3.11 a cancel landing as a Redis timeout fires can come out as that timeout,
    which a sync handles; closing must still end the loop instead of waiting forever."""
    from payrouter._health._shared import SharedState

    shared = SharedState(f"redis://127.0.0.1:{free_port()}/0", hooks=(), sync_seconds=0.001)
    syncs = 0

    async def swallowing_sync() -> None:
        nonlocal syncs
        syncs += 1
        # The loop spends its time here, so the cancel lands here, and is swallowed: what a
        # cancel turned into a handled TimeoutError looks like to the loop.
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.sleep(0.2)

    shared._sync = swallowing_sync  # type: ignore[method-assign]
    await shared.start()
    await asyncio.sleep(0.5)  # a few rounds

    closing = asyncio.create_task(shared.close())
    done, _ = await asyncio.wait({closing}, timeout=2)

    assert closing in done, "close() is still waiting for the sync loop"
    assert syncs >= 2


def _record_redis_senders(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The name of the asyncio task behind every Redis round trip from now on: one command,
    a script call (`EVALSHA`), or a whole pipeline."""
    from redis.asyncio.client import Pipeline
    from redis.asyncio.client import Redis as AsyncRedis

    senders: list[str] = []
    command, pipeline = AsyncRedis.execute_command, Pipeline.execute

    def sender() -> str:
        task = asyncio.current_task()
        return "" if task is None else task.get_name()

    async def counted_command(self: AsyncRedis, *args: Any, **options: Any) -> Any:
        senders.append(sender())
        return await command(self, *args, **options)

    async def counted_pipeline(self: Pipeline, raise_on_error: bool = True) -> list[Any]:
        senders.append(sender())
        return await pipeline(self, raise_on_error)

    monkeypatch.setattr(AsyncRedis, "execute_command", counted_command)
    monkeypatch.setattr(Pipeline, "execute", counted_pipeline)
    return senders


@pytest.mark.peer("redis")
async def test_a_payment_makes_no_redis_round_trip_on_the_happy_path(
    redis_url: str, redis_prefix: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Breakers, the retry budget's and success windows' counts are read and written by the
    background sync only: a payment that succeeds at its first provider neither sends a Redis
    command nor waits for one, however many it makes (what `benchmarks/scale.py`'s Redis
    rows rest on). A provider with a rate limit is the exception: its token is taken from the
    bucket every worker shares, one round trip per attempt, and this count sees it."""
    senders = _record_redis_senders(monkeypatch)
    plain = Router(
        [SimulatedAdapter(SimulatedProvider("card"))],
        ledger="sqlite://",
        hooks=(),
        state=f"{redis_url}?prefix={redis_prefix}",
    )
    limited = Router(
        [SimulatedAdapter(SimulatedProvider("card"))],
        ledger="sqlite://",
        hooks=(),
        state=f"{redis_url}?prefix={redis_prefix}limited:",
        limits={"card": ProviderLimits(rate_per_second=1000.0, burst=1000)},
    )
    async with plain, limited:
        this_task = asyncio.current_task()
        assert this_task is not None
        before = len(senders)
        results = [await plain.pay(request(f"order-{n}")) for n in range(20)]
        paying = senders[before:]
        await limited.pay(request("limited-warm-up"))  # loads the bucket's script on the server
        before = len(senders)
        limited_results = [await limited.pay(request(f"limited-{n}")) for n in range(5)]
        limited_paying = senders[before:]
    assert {result.status for result in results + limited_results} == {PaymentStatus.SUCCEEDED}
    assert [name for name in paying if name == this_task.get_name()] == []
    assert [name for name in limited_paying if name == this_task.get_name()] == [
        this_task.get_name()
    ] * 5


@pytest.mark.peer("redis")
async def test_counts_sent_to_redis_leave_nothing_behind_in_the_process(
    redis_url: str, redis_prefix: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The retry budget's and success windows' counts go out with each sync under a key per
    second (or per ten): a worker that runs for days must not keep a note per key it ever
    sent, one more each second."""
    from payrouter._health import _shared

    clock = {"now": 1_000_000.0}

    class Clock:
        @staticmethod
        def time() -> float:
            return clock["now"]

    monkeypatch.setattr(_shared, "time", Clock)
    shared = _shared.SharedState(f"{redis_url}?prefix={redis_prefix}", hooks=())
    try:
        for second in range(60):
            clock["now"] = 1_000_000.0 + second
            shared.count("attempts")
            shared.record_health("card", PaymentMethod.CARD, healthy=True)
            await shared._sync()
        assert shared.budget_totals() == (10.0, 0.0)  # the last 10 seconds, from Redis
        assert (len(shared._unsent), len(shared._ttls)) == (0, 0)
    finally:
        await shared.close()
