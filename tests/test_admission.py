"""Overload is shed at admission, not timed out: a payment this process cannot pay in time is
refused with `CapacityExhaustedError` before the ledger or any provider sees it, and the
adaptive limit follows how late the process runs. Clocks and lag are injected; nothing here
depends on how fast the machine is."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry, generate_latest
from pydantic import SecretStr
from typer.testing import CliRunner

from payrouter import (
    AdmissionSettings,
    AllProvidersUnavailableError,
    CapacityExhaustedError,
    CardSource,
    Money,
    PaymentRequest,
    PaymentStatus,
    Router,
    RouterSettings,
)
from payrouter._cli._app import app
from payrouter._health._admission import Admission, watch_lag
from payrouter.instrumentation import Event, PaymentShed, PrometheusHook, RoutePlanned
from payrouter.provider import Charge, ProviderReply
from payrouter.testing import SimulatedAdapter, SimulatedProvider, set_testing


def request(order_id: str) -> PaymentRequest:
    return PaymentRequest(
        order_id=order_id,
        amount=Money.of("10.00", "EUR"),
        sources=[CardSource(token=SecretStr("pm_card_visa"))],
        customer_country="DE",
    )


class GatedAdapter(SimulatedAdapter):
    """A simulated provider whose calls wait for the test to open the gate."""

    def __init__(self, provider: SimulatedProvider) -> None:
        super().__init__(provider)
        self.gate = asyncio.Event()
        self.entered = asyncio.Event()

    async def pay(self, charge: Charge, *, idempotency_key: str) -> ProviderReply:
        self.entered.set()
        await self.gate.wait()
        return await super().pay(charge, idempotency_key=idempotency_key)


def one_at_a_time() -> RouterSettings:
    return RouterSettings(admission=AdmissionSettings(initial_limit=1, min_limit=1, max_limit=1))


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_late_process_backs_its_limit_off_and_a_punctual_one_grows_it_again() -> None:
    """AIMD: a late sample multiplies the limit by `backoff`, at most once per probe interval
    and never below the floor; on-time samples add one while half the limit is in use."""
    clock = Clock()
    settings = AdmissionSettings(initial_limit=100, min_limit=10, backoff=0.5)
    admission = Admission(settings, clock=clock)
    admission.observe_lag(0.5)
    admission.observe_lag(0.5)  # the same stall, seen again in the same interval
    assert admission.limit == 50
    for _ in range(10):
        clock.now += settings.probe_interval_seconds
        admission.observe_lag(0.5)
    assert admission.limit == 10
    for _ in range(5):
        assert admission.admit() is not None
    admission.observe_lag(0.0)
    assert admission.limit == 11
    admission.release()
    admission.observe_lag(0.0)  # 4 of 11 in use: not at half, the limit stays
    assert admission.limit == 11


def test_a_late_machine_never_backs_the_limit_off_below_what_it_just_served() -> None:
    """CPU-bound neighbours make every lag sample late whatever the router does; the limit
    then stops at what the process finished over the last second times the time a payment
    has before its first call (Little's law), not at `min_limit`. Once it stops finishing
    payments, the floor goes back to `min_limit`."""
    clock = Clock()
    settings = AdmissionSettings(initial_limit=400, min_limit=2, backoff=0.5)
    admission = Admission(settings, clock=clock, budget_seconds=2.0)
    for _ in range(60):  # 60 payments finished just now: 60 within the last second
        assert admission.admit() is not None
        admission.release()
    for _ in range(8):  # a late sample every probe interval, within that second
        clock.now += settings.probe_interval_seconds
        admission.observe_lag(1.0)
    assert admission.limit == 120  # 60 per second x 2 s
    clock.now += 5.0  # nothing finished since
    for _ in range(20):
        clock.now += settings.probe_interval_seconds
        admission.observe_lag(1.0)
    assert admission.limit == settings.min_limit


def test_over_the_limit_admit_sheds_and_counts_until_a_payment_finishes() -> None:
    admission = Admission(AdmissionSettings(initial_limit=2, min_limit=1, max_limit=2))
    assert admission.admit() is not None
    assert admission.admit() is not None
    assert admission.admit() is None
    admission.release()
    assert admission.admit() is not None
    assert (admission.state().shed, admission.take_unflushed(), admission.take_unflushed()) == (
        1,
        1,
        0,
    )


def test_a_late_first_send_backs_the_limit_off() -> None:
    """The delay from admission to the first provider call is the second signal."""
    clock = Clock()
    admission = Admission(AdmissionSettings(initial_limit=100, backoff=0.5), clock=clock)
    admitted = admission.admit()
    assert admitted is not None
    clock.now = 0.05
    admission.sent(admitted)
    assert admission.limit == 100
    clock.now = 1.0
    admission.sent(admitted)
    assert admission.limit == 50


def test_admission_off_admits_every_payment() -> None:
    admission = Admission(AdmissionSettings(enabled=False, initial_limit=1, min_limit=1))
    assert all(admission.admit() is not None for _ in range(5))


async def test_the_lag_probe_reports_how_much_later_than_asked_the_loop_woke() -> None:
    clock = Clock()
    admission = Admission(AdmissionSettings(initial_limit=100, backoff=0.5), clock=clock)
    rounds: list[float] = []

    async def late_sleep(seconds: float) -> None:
        clock.now += seconds + 0.4  # the loop wakes 0.4 s late

    async def after_each() -> None:
        rounds.append(admission.state().lag_ms)
        if len(rounds) == 2:
            raise asyncio.CancelledError

    with pytest.raises(asyncio.CancelledError):
        await watch_lag(admission, 0.05, clock=clock, sleep=late_sleep, every_round=after_each)
    assert rounds == [pytest.approx(400.0), pytest.approx(400.0)]
    assert admission.limit == 25


async def test_a_payment_over_the_limit_is_shed_before_the_ledger_or_a_provider_sees_it(
    tmp_path: Path,
) -> None:
    provider = SimulatedProvider("card")
    adapter = GatedAdapter(provider)
    events: list[Event] = []
    ledger = f"sqlite:///{tmp_path / 'ledger.db'}"
    async with Router(
        [adapter], ledger=ledger, settings=one_at_a_time(), hooks=[events.append]
    ) as router:
        first = asyncio.create_task(router.pay(request("order-1")))
        await adapter.entered.wait()
        with pytest.raises(CapacityExhaustedError) as refused:
            await router.pay(request("order-2"))
        assert await router.lookup("order-2") is None
        adapter.gate.set()
        assert (await first).status is PaymentStatus.SUCCEEDED
        again = await router.pay(request("order-2"))  # the same order id, once there is room
        charged = [len(provider.charges(order)) for order in ("order-1", "order-2")]

    assert refused.value.order_id == "order-2"
    assert refused.value.attempts == ()
    assert again.status is PaymentStatus.SUCCEEDED
    assert charged == [1, 1]
    shed = [event for event in events if isinstance(event, PaymentShed)]
    assert [(e.order_id, e.limit, e.in_flight) for e in shed] == [("order-2", 1, 1)]


async def shed_two(ledger: str, metrics: PrometheusHook) -> str:
    """Hold one payment in flight at a limit of one, shed two more; return the scrape."""
    adapter = GatedAdapter(SimulatedProvider("card"))
    async with Router([adapter], ledger=ledger, settings=one_at_a_time(), hooks=[metrics]) as r:
        metrics.watch(r)
        first = asyncio.create_task(r.pay(request("order-1")))
        await adapter.entered.wait()
        for number in (2, 3):
            with pytest.raises(CapacityExhaustedError):
                await r.pay(request(f"order-{number}"))
        scrape = generate_latest(metrics.registry).decode()
        adapter.gate.set()
        await first
    return scrape


async def test_sheds_reach_the_ledger_for_every_process_and_the_metrics(tmp_path: Path) -> None:
    ledger = f"sqlite:///{tmp_path / 'ledger.db'}"
    scrape = await shed_two(ledger, PrometheusHook(CollectorRegistry()))
    # closing flushed this process's count to the ledger, where another process reads it
    async with Router([SimulatedAdapter(SimulatedProvider("card"))], ledger=ledger) as other:
        assert await other.shed_count(minutes=5) == 2
        assert await other.shed_count(minutes=-1) == 0
    assert "payrouter_payments_shed_total 2.0" in scrape
    assert "payrouter_admission_limit 1.0" in scrape
    assert "payrouter_admission_in_flight 1.0" in scrape


def test_status_shows_the_payments_shed_at_admission(tmp_path: Path) -> None:
    config = tmp_path / "payrouter.yaml"
    config.write_text(
        "ledger: sqlite:///ledger.db\n"
        "providers:\n"
        "  - {name: card, type: simulated, methods: [card]}\n"
    )
    asyncio.run(
        shed_two(f"sqlite:///{tmp_path / 'ledger.db'}", PrometheusHook(CollectorRegistry()))
    )
    result = CliRunner().invoke(app, ["status", "--config", str(config), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["admission"] == {"shed": 2}
    table = CliRunner().invoke(app, ["status", "--config", str(config)])
    assert "2 payments shed at admission" in table.output


async def test_under_the_testing_switch_a_late_machine_does_not_move_the_limit() -> None:
    """Tests must not depend on the machine's speed: with `set_testing(True)` (conftest) the
    limit ignores lateness; without it, every payment here is "late" and backs it off."""
    late = RouterSettings(
        admission=AdmissionSettings(initial_limit=3, min_limit=1, target_lag_seconds=1e-9)
    )
    adapters = [SimulatedAdapter(SimulatedProvider("card"))]
    async with Router(adapters, ledger="sqlite://", settings=late, hooks=()) as router:
        for number in range(3):
            await router.pay(request(f"order-{number}"))
        assert router.admission_state()["limit"] == 3
    with set_testing(False):
        adapters = [SimulatedAdapter(SimulatedProvider("card"))]
        async with Router(adapters, ledger="sqlite://", settings=late, hooks=()) as router:
            await router.pay(request("order-late"))
            assert router.admission_state()["limit"] < 3


async def test_a_payment_out_of_time_before_its_first_call_backs_the_limit_off() -> None:
    """A payment whose deadline ran out before anything was sent gives no send-delay sample
    of its own, yet it is the latest one there is: admission counts it as late. The stall is
    a hook that blocks the event loop past the deadline, between the claim and the call."""
    stalled = RouterSettings(
        deadline_seconds=0.05,
        admission=AdmissionSettings(  # no lag probe sample within the test: only the payment
            initial_limit=10, min_limit=1, target_lag_seconds=0.01, probe_interval_seconds=3600
        ),
    )

    def stall(event: Event) -> None:
        if isinstance(event, RoutePlanned):
            time.sleep(0.1)  # the loop is blocked, as a CPU-starved process's would be

    with set_testing(False):
        adapters = [SimulatedAdapter(SimulatedProvider("card"))]
        async with Router(adapters, ledger="sqlite://", settings=stalled, hooks=[stall]) as r:
            with pytest.raises(AllProvidersUnavailableError) as refused:
                await r.pay(request("order-late"))
            assert refused.value.attempts == ()
            assert r.admission_state()["limit"] == 9


async def test_a_call_is_not_sent_without_its_send_budget_left_before_the_deadline() -> None:
    """A payment that spent most of its deadline waiting (for the loop, the ledger) is not
    sent with the little time left, to be cut off after sending and left unknown: nothing is
    sent, no money moves, and it fails cleanly. The wait is a hook blocking the loop longer
    than the deadline allows, so a slower machine only makes it wait longer."""
    settings = RouterSettings(deadline_seconds=4.0, min_send_seconds=3.5)

    def stall(event: Event) -> None:
        if isinstance(event, RoutePlanned):
            time.sleep(0.6)  # leaves less than 3.5 s of the 4 s deadline

    provider = SimulatedProvider("card")
    async with Router(
        [SimulatedAdapter(provider)], ledger="sqlite://", settings=settings, hooks=[stall]
    ) as router:
        with pytest.raises(AllProvidersUnavailableError) as refused:
            await router.pay(request("order-waited"))
        assert refused.value.attempts == ()
        assert provider.calls == 0
        failed = await router.lookup("order-waited")
        assert failed is not None
        assert failed.status is PaymentStatus.FAILED


def test_the_send_budget_is_a_quarter_of_the_deadline_unless_set() -> None:
    assert RouterSettings(deadline_seconds=20).send_budget_seconds == 5.0
    assert RouterSettings(deadline_seconds=20, min_send_seconds=1).send_budget_seconds == 1.0
    with pytest.raises(ValueError, match="min_send_seconds must be less than deadline_seconds"):
        RouterSettings(deadline_seconds=2, min_send_seconds=2)
