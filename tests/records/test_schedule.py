"""Records reconciliation on a schedule: each provider over its own report window, late
records said so, and `payrouter worker --records-every` running it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

from typer.testing import CliRunner

from payrouter import RecordsReport, Router, SyncRouter
from payrouter._cli._app import app
from payrouter._reconcile._schedule import RecordsSchedule, report_window
from payrouter.provider import ProviderRecord, RecordsNotReadyError, RecordsSource
from payrouter.testing import SimulatedAdapter, SimulatedProvider
from tests.records.kit import plant_payment


class DailyReport(SimulatedAdapter):
    """A provider publishing a daily report the morning after, not published yet today."""

    records_delay = timedelta(hours=30)

    async def list_payments(
        self, since: datetime, until: datetime
    ) -> AsyncIterator[ProviderRecord]:
        raise RecordsNotReadyError(self.name, f"no report for {until:%Y-%m-%d} yet")
        yield  # an async generator, as a records source is


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_each_provider_is_compared_over_the_window_its_delay_allows() -> None:
    now = datetime(2026, 12, 6, 12, tzinfo=UTC)
    daily = DailyReport(SimulatedProvider("daily"))
    assert isinstance(daily, RecordsSource)
    instant = SimulatedAdapter(SimulatedProvider("card"))

    assert report_window(daily, now, timedelta(days=1)) == (
        datetime(2026, 12, 4, 6, tzinfo=UTC),
        datetime(2026, 12, 5, 6, tzinfo=UTC),
    )
    assert report_window(instant, now, timedelta(hours=1)) == (now - timedelta(hours=1), now)


async def test_a_schedule_runs_when_due_and_says_which_records_are_late(tmp_path: Path) -> None:
    clock = Clock(1_796_000_000.0)
    schedule = RecordsSchedule(3600, timedelta(days=1), clock=clock)
    daily = DailyReport(SimulatedProvider("daily"))
    card = SimulatedAdapter(SimulatedProvider("card"))
    asked: list[tuple[datetime, datetime, Sequence[str]]] = []
    async with Router([card, daily], ledger=f"sqlite:///{tmp_path / 'l.db'}", hooks=()) as router:

        async def compare(since: datetime, until: datetime, names: Sequence[str]) -> RecordsReport:
            asked.append((since, until, names))
            return await router.compare_records(since, until, providers=names)

        first_due = schedule.due()
        runs = await schedule.run({a.name: a for a in router.adapters}, compare)
        clock.now += 1800
        half_way = schedule.due()
        clock.now += 1800
        again = schedule.due()

    assert (first_due, half_way, again) == (True, False, True)
    by_name = {run.provider: run for run in runs}
    assert by_name["card"].late is None
    report_day = datetime.fromtimestamp(1_796_000_000.0, UTC) - timedelta(hours=30)
    assert by_name["daily"].late == f"no report for {report_day:%Y-%m-%d} yet"
    assert "LATE" in by_name["daily"].summary()
    assert [names for _, _, names in asked] == [("card",), ("daily",)]
    assert asked[1][1] == report_day


def test_the_worker_compares_records_on_its_schedule(tmp_path: Path) -> None:
    config = tmp_path / "payrouter.yaml"
    database = tmp_path / "ledger.db"
    config.write_text(
        f"ledger: sqlite:///{database}\n"
        "providers:\n"
        "  - {name: card, type: simulated, methods: [card]}\n"
    )
    SyncRouter(Router.from_config(config, hooks=())).close()  # creates the ledger's tables
    plant_payment(
        database, "order-ghost", "card", "sim_never_made", at=datetime.now(UTC).timestamp() - 60
    )

    done = CliRunner().invoke(
        app, ["worker", "--config", str(config), "--once", "--records-every", "3600"]
    )
    quiet = CliRunner().invoke(app, ["worker", "--config", str(config), "--once"])

    assert done.exit_code == 0, done.output
    assert "records card" in done.output
    assert "1 differ" in done.output
    assert "records: 1 open discrepancies" in done.output
    assert "records card" not in quiet.output
