"""Group commit on SQLite: work queued together shares one commit, and one job's failure or
abandonment never costs another job its write."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import Connection

from payrouter import LedgerUnavailableError, Money
from payrouter._ledger import SqlLedger, payment_deadline
from payrouter._ledger._claims import claim_values
from payrouter._ledger._schema import payments
from tests.ledger_jobs import open_ledger, order_ids, queued, writer_held

AMOUNT = Money.of("10.00", "EUR")


def _insert(order_id: str) -> dict[str, object]:
    return claim_values(order_id, "fp", AMOUNT, "test", time.time() + 60, False, time.time())


@pytest.fixture
async def ledger(tmp_path: Path) -> AsyncIterator[SqlLedger]:
    async with open_ledger(f"sqlite:///{tmp_path / 'ledger.db'}") as opened:
        yield opened


async def test_work_queued_together_is_committed_once(ledger: SqlLedger) -> None:
    """Claims queued while the writer was busy are written by one commit, and each is new."""
    runner = ledger._runner
    assert runner is not None
    assert runner._writer is not None
    async with writer_held(ledger):
        tasks = await queued(*(ledger.claim(f"o-{n}", "fp", AMOUNT, "t", 60) for n in range(5)))
    claims = await asyncio.gather(*tasks)
    assert {claim.kind.value for claim in claims} == {"new"}
    assert runner._writer.batches == 1
    assert await ledger.transact(order_ids) == {f"o-{n}" for n in range(5)}


async def test_a_failing_job_does_not_undo_the_others_in_its_batch(ledger: SqlLedger) -> None:
    """The batch is rolled back and its jobs run again alone: the good ones commit."""

    def write_then_fail(conn: Connection) -> None:
        conn.execute(payments.insert(), _insert("bad"))
        raise ValueError("this job fails after writing")

    async with writer_held(ledger):
        good, bad, other = await queued(
            ledger.transact(lambda conn: conn.execute(payments.insert(), _insert("good"))),
            ledger.transact(write_then_fail),
            ledger.transact(lambda conn: conn.execute(payments.insert(), _insert("other"))),
        )
    await good
    await other
    with pytest.raises(ValueError, match="fails after writing"):
        await bad
    assert await ledger.transact(order_ids) == {"good", "other"}


async def test_an_abandoned_claim_in_a_batch_is_rolled_back_alone(ledger: SqlLedger) -> None:
    """A claim whose payment gave up waiting is not committed; its batch-mate is."""
    async with writer_held(ledger):
        with payment_deadline(time.monotonic() + 0.05):
            late = asyncio.ensure_future(ledger.claim("late", "fp", AMOUNT, "t", 60))
        (kept,) = await queued(ledger.claim("kept", "fp", AMOUNT, "t", 60))
        with pytest.raises(LedgerUnavailableError):
            await late  # its deadline passes while the writer is held
    await kept
    assert await ledger.transact(order_ids) == {"kept"}
