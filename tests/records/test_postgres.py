"""Discrepancies kept, found again, resolved and acknowledged on PostgreSQL as on SQLite."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import create_engine, text

from payrouter import MismatchKind, Router
from payrouter.testing import SimulatedAdapter, SimulatedProvider
from tests.records.test_every_kind import card


def run_sql(url: str, statement: str) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        assert conn.execute(text(statement)).rowcount >= 1
    engine.dispose()


async def test_discrepancies_live_and_end_on_postgresql(postgres_url: str) -> None:
    since = datetime.now(UTC) - timedelta(minutes=1)
    async with Router(
        [SimulatedAdapter(SimulatedProvider("card"))], ledger=postgres_url, hooks=()
    ) as router:
        await router.pay(card("order-1"))
        await router.pay(card("order-2"))
        run_sql(postgres_url, "UPDATE payrouter_attempts SET outcome = 'failed'")
        until = datetime.now(UTC)
        first = await router.compare_records(since, until)
        again = await router.compare_records(since, until)
        one, two = sorted(d.discrepancy_id for d in await router.discrepancies())
        acknowledged = await router.acknowledge_discrepancy(one, "checked by hand")
        run_sql(postgres_url, "UPDATE payrouter_attempts SET outcome = 'succeeded'")
        fixed = await router.compare_records(since, until)
        stats = await router.discrepancy_stats()

    assert [m.kind for m in first.mismatches] == [MismatchKind.STATUS_DIFFERS] * 2
    assert len(again.mismatches) == 2
    assert two.startswith("status_differs:card:")
    assert acknowledged is not None
    assert fixed.ok
    assert stats.open == 0
