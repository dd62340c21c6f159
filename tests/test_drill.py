"""The drill: every built-in scenario runs (short), and its figures come from the books."""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from payrouter import ConfigurationError, Money, PaymentResult, PaymentStatus
from payrouter._cli._app import app
from payrouter_lab.drill import Scenario, builtin_scenarios, load_scenario, run_drill
from payrouter_lab.drill._customers import Approvals
from payrouter_lab.drill._figures import PaymentRecord, StrategyRun, strategy_figures

pytestmark = pytest.mark.slow

_CAUSES = {
    "promotion-day",
    "provider-down",
    "busy-at-peak",
    "maintenance",
    "network-instability",
    "gateway-fault",
    "frozen-accounts",
    "region-restricted",
    "insufficient-funds",
    "login-failure",
    "paid-not-arrived",
}


def test_every_cause_the_field_knows_has_a_built_in_scenario() -> None:
    """Outages, throttling, maintenance, flaky networks, declines, login and settlement."""
    assert set(builtin_scenarios()) == _CAUSES


def shortened(name: str) -> Scenario:
    """A built-in scenario squeezed into 1.5 s at 30 payments/s, faults scaled alike."""
    full = builtin_scenarios()[name]
    scale = 1.5 / full.duration_seconds
    return full.model_copy(
        update={
            "duration_seconds": 1.5,
            "rate_per_second": 30.0,
            "faults": [
                fault.model_copy(
                    update={
                        "start": fault.start * scale,
                        "end": fault.end * scale if fault.end is not None else None,
                    }
                )
                for fault in full.faults
            ],
        }
    )


async def test_a_second_drill_in_the_same_folder_pays_every_order_again(tmp_path: Path) -> None:
    """The ledger of an earlier run must not answer this run's order ids from its records."""
    first = await run_drill(shortened("provider-down"), tmp_path)
    second = await run_drill(shortened("provider-down"), tmp_path)
    for outcome in (first, second):
        router = outcome.report["strategies"][0]  # type: ignore[index]
        assert router["attempts_per_payment"] >= 1.0, router


@pytest.mark.parametrize("name", sorted(_CAUSES))
async def test_built_in_scenario_runs_short_with_no_double_charge_and_no_lost_record(
    name: str, tmp_path: Path
) -> None:
    """Each scenario, shortened, runs all three strategies; payrouter never double-charges."""
    short = shortened(name)
    outcome = await run_drill(short, tmp_path)
    strategies = outcome.report["strategies"]
    assert isinstance(strategies, list)
    names = [strategy["name"] for strategy in strategies]
    assert names == ["payrouter", "single provider + tenacity", "try/except chain"]
    router = strategies[0]
    assert router["payments"] > 0
    assert router["double_charges"] == 0, router
    assert router["records_lost"] == 0, router
    differences = outcome.report["records_check"]["differences"]  # type: ignore[index]
    assert "fee_differs" not in differences, "the scenario's fees are the stand-ins' prices"
    for strategy in strategies:
        assert strategy["payments"] == router["payments"], "same traffic for every strategy"


async def test_same_seed_gives_the_same_customers_and_fault_timeline(tmp_path: Path) -> None:
    """Determinism: the traffic and the phases depend on the seed alone."""
    from payrouter_lab.drill._traffic import arrivals

    scenario = load_scenario("promotion-day")
    first, second = arrivals(scenario), arrivals(scenario)
    assert [(a.at, a.request) for a in first] == [(a.at, a.request) for a in second]
    other = arrivals(scenario.model_copy(update={"seed": scenario.seed + 1}))
    assert [a.request.amount for a in other] != [a.request.amount for a in first]


def test_scenario_file_errors_name_the_field(tmp_path: Path) -> None:
    """A bad scenario says which field is wrong and why."""
    bad = yaml.safe_load(
        Path(__file__)
        .parent.parent.joinpath("lab/payrouter_lab/drill/scenarios/provider-down.yaml")
        .read_text()
    )
    bad["faults"][0]["provider"] = "nobody"
    bad["rate_per_second"] = -1
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(bad))
    with pytest.raises(ConfigurationError) as caught:
        load_scenario(path)
    assert "rate_per_second" in str(caught.value)


def test_unknown_scenario_name_lists_the_built_in_ones() -> None:
    """A typo in a scenario name lists what exists."""
    with pytest.raises(ConfigurationError, match="promotion-day"):
        load_scenario("promotion-dya")


def test_cli_drill_writes_json_and_html_report(tmp_path: Path) -> None:
    """`payrouter drill FILE --report DIR --pressure 1` prints the tables, states the
    conditions, and writes both report files."""
    scenario = yaml.safe_load(
        Path(__file__)
        .parent.parent.joinpath("lab/payrouter_lab/drill/scenarios/provider-down.yaml")
        .read_text()
    )
    scenario |= {"duration_seconds": 1.0, "rate_per_second": 20}
    scenario["faults"] = [{"provider": "card_a", "kind": "down", "start": 0.2, "end": 0.8}]
    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump(scenario))
    report = tmp_path / "report"
    result = CliRunner().invoke(
        app, ["drill", str(path), "--report", str(report), "--pressure", "1"]
    )
    assert "double charges" in result.output
    assert "1 CPU-bound neighbour processes" in result.output
    document = json.loads((report / "report.json").read_text())
    missed = [target["name"] for target in document["targets"] if not target["met"]]
    assert result.exit_code == (1 if missed else 0), result.output
    assert document["scenario"]["name"] == "provider-down"
    assert (report / "report.html").read_text().startswith("<!DOCTYPE html>")
    assert (report / "payrouter.yaml").is_file(), "the router ran from a merchant-style config"
    assert document["conditions"]["pressure_processes"] == 1


async def test_customers_sent_to_approve_act_and_the_return_page_settles_their_payment(
    tmp_path: Path,
) -> None:
    """Played customers approve or abandon; an approving one's payment is asked for again
    (router.refresh) and ends paid where the provider can say so (the bank's SCA)."""
    scenario = shortened("promotion-day").model_copy(
        update={"approvals": Approvals(approve_share=0.8, think_seconds=0.05)}
    )
    outcome = await run_drill(scenario, tmp_path)
    strategies: list[dict[str, Any]] = outcome.report["strategies"]  # type: ignore[assignment]
    router, *baselines = strategies
    customers = router["customers"]
    assert customers["approved"] + customers["abandoned"] > 0
    assert customers["approved"] > customers["abandoned"]
    assert 0 < customers["approved_and_paid"] <= customers["approved"]
    assert all(baseline["customers"] is None for baseline in baselines)


def test_success_of_possible_counts_only_possible_payments_above_the_line() -> None:
    # One possible payment failed; one sent while every provider was blocked was served
    # later. The served impossible one must not make up for the failed possible one.
    def record(order: str, status: PaymentStatus, possible: bool) -> PaymentRecord:
        return PaymentRecord(order, 0.0, 1.0, status, [("card_a", "succeeded")], possible=possible)

    records = [
        record("paid", PaymentStatus.SUCCEEDED, possible=True),
        record("lost-chance", PaymentStatus.FAILED, possible=True),
        record("waited-out-the-outage", PaymentStatus.SUCCEEDED, possible=False),
    ]
    figures = strategy_figures(StrategyRun("payrouter", records, {}), 1.0, None)

    assert figures["success_of_possible"] == 0.5


def test_a_payment_served_after_the_checkouts_deadline_is_not_served_in_time() -> None:
    """A strategy with no deadline of its own that pays a customer after the checkout gave up
    (the scenario's deadline) is counted as served late, not as a success of the possible."""

    def record(order: str, latency_ms: float) -> PaymentRecord:
        return PaymentRecord(order, 0.0, latency_ms, PaymentStatus.SUCCEEDED, possible=True)

    records = [record("in-time", 4_999.0), record("after-two-minutes", 120_000.0)]
    figures = strategy_figures(StrategyRun("try/except chain", records, {}), 1.0, None, 5.0)

    assert figures["success_of_possible"] == 0.5
    assert figures["served_late"] == 1
    assert figures["succeeded"] == 2  # what the books saw is still reported as it was


async def test_pressure_runs_neighbours_for_the_drill_and_the_report_states_the_conditions(
    tmp_path: Path,
) -> None:
    """`pressure=1`: one CPU-bound neighbour for the drill's length, every strategy run at
    once under it, and the report says so; the neighbour is gone afterwards."""
    from payrouter_lab.drill._pressure import cpu_pressure

    with cpu_pressure(1) as pids:
        assert len(pids) == 1
        # alive: running, sleeping, or still loading from disk (D) on a busy machine
        assert _state(pids[0]) not in ("gone", "Z", "X")
    assert _state(pids[0]) == "gone"
    outcome = await run_drill(shortened("provider-down"), tmp_path, pressure=1)
    conditions = outcome.report["conditions"]
    assert isinstance(conditions, dict)
    assert conditions["pressure_processes"] == 1
    assert conditions["strategies_ran"].startswith("one at a time, each alone on the event loop")
    # Each strategy's turn is measured on its own: they meet the machine one after another.
    turns = conditions["by_strategy"]
    assert sorted(turns) == sorted(s["name"] for s in outcome.report["strategies"])  # type: ignore[union-attr]
    for name, turn in turns.items():
        assert turn["wall_seconds"] > 0, name
        assert f"{name} (load average peak" in conditions["strategies_ran"]
    strategies = outcome.report["strategies"]
    assert isinstance(strategies, list)
    assert [strategy["shed_at_admission"] for strategy in strategies[1:]] == [0, 0]


def test_pressure_neighbours_end_when_the_drill_is_killed() -> None:
    """A drill killed outright (SIGKILL, an out-of-memory kill) runs no cleanup; its
    neighbours notice their parent is gone and stop, instead of burning the cores for ever."""
    import signal
    import subprocess
    import sys

    script = (
        "from payrouter_lab.drill._pressure import cpu_pressure\n"
        "import sys, time\n"
        "with cpu_pressure(1) as pids:\n"
        "    print(pids[0], flush=True)\n"
        "    time.sleep(600)\n"
    )
    with subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, text=True
    ) as drill:
        assert drill.stdout is not None
        neighbour = int(drill.stdout.readline())
        drill.send_signal(signal.SIGKILL)
    give_up = time.monotonic() + 60  # a generous bound on a loaded machine, not a timing
    while _state(neighbour) not in ("gone", "Z", "X") and time.monotonic() < give_up:
        time.sleep(0.05)
    assert _state(neighbour) in ("gone", "Z", "X")


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2]
    except OSError:
        return "gone"


async def test_a_payment_the_ledger_could_not_record_in_time_counts_as_failed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On an overloaded machine the ledger may not answer within a payment's deadline
    (`LedgerUnavailableError`, no provider called): the drill records that payment as failed
    and finishes, instead of losing the whole run to one exception."""
    from payrouter import LedgerUnavailableError, PaymentRequest, Router

    real_pay = Router.pay
    refused: list[str] = []

    async def overloaded_once(self: Router, request: PaymentRequest) -> PaymentResult:
        if not refused:
            refused.append(request.order_id)
            raise LedgerUnavailableError("the ledger did not answer within the deadline")
        return await real_pay(self, request)

    monkeypatch.setattr(Router, "pay", overloaded_once)
    outcome = await run_drill(shortened("provider-down"), tmp_path)
    strategies = outcome.report["strategies"]
    assert isinstance(strategies, list)
    router = strategies[0]
    assert refused
    assert router["payments"] == strategies[1]["payments"]
    assert router["failed"] >= 1


async def test_paid_not_arrived_checks_payrouters_ledger_against_every_providers_records(
    tmp_path: Path,
) -> None:
    """After reconcile, the drill compares payrouter's ledger with each stand-in's records
    (Stripe's lists, PayPal's Transaction Search, Adyen's report, the bank's statement);
    what a stand-in took and never answered for would be listed with its reference."""
    outcome = await run_drill(shortened("paid-not-arrived"), tmp_path)
    check = outcome.report["records_check"]
    assert isinstance(check, dict)
    assert check["compared"] > 0
    assert check["late"] == {}
    assert check["unlisted"] == []  # every provider's records were read
    assert "missing_in_ledger" not in check["differences"], check  # payrouter lost no record
    for found in check["unanswered"]:
        assert found["provider_reference"], found  # the reference the ledger never got


def test_the_strategies_run_one_at_a_time_in_an_order_that_rotates_with_the_seed() -> None:
    from payrouter_lab.drill._engine import STRATEGIES, _order

    orders = {_order(seed) for seed in range(3)}
    assert len(orders) == 3
    assert all(sorted(order) == sorted(STRATEGIES) for order in orders)
    assert {order[0] for order in orders} == set(STRATEGIES)


async def test_the_report_says_why_each_payment_left_pending_after_reconcile(
    tmp_path: Path,
) -> None:
    """Bank transfers the customers approved, which the bank has not settled yet, stay pending
    after reconcile: the report lists each with its provider and reason, as `payrouter
    reconcile` prints it, so a missed target names what to look at."""
    from payrouter_lab.drill._scenario import DrillFault

    scenario = shortened("paid-not-arrived").model_copy(
        update={
            "approvals": Approvals(approve_share=1.0, think_seconds=0.01),
            "faults": [
                DrillFault(provider="bank", kind="pending", settle_after_seconds=3600)  # type: ignore[arg-type]
            ],
        }
    )
    outcome = await run_drill(scenario, tmp_path)
    strategies: list[dict[str, Any]] = outcome.report["strategies"]  # type: ignore[assignment]
    router, *baselines = strategies
    why = router["pending_after_reconcile_why"]
    assert router["pending_after_reconcile"] > 0, router["outcomes"]
    assert len(why) == router["pending_after_reconcile"]
    for left in why:
        assert left["provider"] == "bank", left
        assert left["status"] == "pending"
        assert left["reason"] == "accepted by bank, not settled yet", left
        assert left["next_step"]
    assert all(baseline["pending_after_reconcile_why"] is None for baseline in baselines)


async def test_a_customer_whose_approval_page_does_not_load_gives_up_without_ending_the_run() -> (
    None
):
    """The provider's page fails to load (the connection is refused): that customer abandons,
    and the drill goes on, instead of a task whose error nobody reads (or that sinks the run)."""
    import socket

    from payrouter_lab.drill._browsers import browsers_in_a_process
    from payrouter_lab.drill._customers import Customers

    with socket.socket() as closed:  # a port nothing listens on
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    async with (
        browsers_in_a_process() as browsers,
        Customers(Approvals(approve_share=1.0, think_seconds=0.0), 7, None, browsers) as customers,  # type: ignore[arg-type]
    ):
        customers.sent_to_approve(_needs_approval("order-1", f"http://127.0.0.1:{port}/sca/1"))
        await customers.settle()

    assert customers.decisions == {"order-1": "abandoned"}
    assert customers.after_return == {}


async def test_customers_load_the_providers_pages_from_a_process_of_their_own() -> None:
    """A customer's browser is not the checkout: the page is loaded (the provider sees the
    GET) from another process than the drill's, so its cost is never billed to payrouter."""
    import asyncio
    import os

    from payrouter_lab.drill._browsers import browsers_in_a_process

    asked: list[bytes] = []

    async def provider_page(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        asked.append(await reader.readline())
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 8\r\n\r\napproved")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(provider_page, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server, browsers_in_a_process() as browsers:
        browsers.open_page("order-1", f"http://127.0.0.1:{port}/sca/1", 0.0)
        answer = await anext(aiter(browsers.answers()))

    assert browsers.pid != os.getpid()
    assert (answer.order_id, answer.loaded) == ("order-1", True)
    assert asked == [b"GET /sca/1 HTTP/1.1\r\n"]


async def test_browsers_that_die_with_customers_on_a_page_fail_the_drill_instead_of_hanging() -> (
    None
):
    """The browsers' process is gone while a customer is still on a provider's page: that
    answer will never come, so `settle` says so rather than waiting for ever."""
    import asyncio

    from payrouter_lab.drill._browsers import browsers_in_a_process
    from payrouter_lab.drill._customers import Customers

    asked = asyncio.Event()

    async def page_that_never_loads(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        await reader.readuntil(b"\r\n\r\n")
        asked.set()
        await reader.read()  # never answers; ends when the browser is gone
        writer.close()

    server = await asyncio.start_server(page_that_never_loads, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    approvals = Approvals(approve_share=1.0, think_seconds=0.0)
    async with (
        server,
        browsers_in_a_process(page_timeout_seconds=3600) as browsers,
        Customers(approvals, 7, None, browsers) as customers,  # type: ignore[arg-type]
    ):
        customers.sent_to_approve(_needs_approval("order-1", f"http://127.0.0.1:{port}/sca/1"))
        await asked.wait()  # the customer's browser is on the page
        os.kill(browsers.pid, signal.SIGKILL)
        with pytest.raises(RuntimeError, match="1 customers still on a provider's page"):
            await customers.settle()


def _needs_approval(order_id: str, page: str) -> PaymentResult:
    from datetime import UTC, datetime

    return PaymentResult(
        order_id=order_id,
        status=PaymentStatus.REQUIRES_ACTION,
        amount=Money.of("10.00", "EUR"),
        action_url=page,
        created_at=datetime.now(UTC),
        updated_at=datetime.now(UTC),
    )
