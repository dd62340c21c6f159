"""On SQLite the pay path's writes run on the event loop when that needs no lock wait.

A write taken to the ledger's thread and its answer brought back wake two threads; the
claim, attempt and outcome therefore run on the loop, one batch per turn of the loop, with
SQLite told to refuse rather than wait for a lock. Whatever cannot be done that way (a lock
held elsewhere, a failing job, a ledger that flushes each commit to disk) goes to the thread,
where it runs as it always has: nothing done on the loop is kept unless all of it committed.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from payrouter import LedgerUnavailableError, Money, PaymentMethod, PaymentStatus
from payrouter._ledger import (
    AttemptRow,
    ClaimKind,
    LeaseLostError,
    PaymentUpdate,
    SqlLedger,
    held_by,
    payment_deadline,
)
from payrouter._ledger._schema import payments
from tests.ledger_jobs import open_ledger, order_ids

AMOUNT = Money.of("10.00", "EUR")


def _row(order_id: str) -> AttemptRow:
    return AttemptRow(order_id, 1, "card_a", PaymentMethod.CARD, f"payrouter:{order_id}:1")


def _threads_writing(ledger: SqlLedger, seen: list[str]) -> None:
    """Note the thread each INSERT or UPDATE runs on (SQLite calls the trace on it)."""
    dbapi = ledger._dbapi
    assert dbapi is not None

    def trace(sql: str) -> None:
        if sql.lstrip().startswith(("INSERT", "UPDATE")):
            seen.append(threading.current_thread().name)

    dbapi.set_trace_callback(trace)


@pytest.fixture
async def ledger(tmp_path: Path) -> AsyncIterator[SqlLedger]:
    async with open_ledger(f"sqlite:///{tmp_path / 'ledger.db'}") as opened:
        yield opened


async def test_a_claim_on_a_free_ledger_is_written_on_the_event_loop(ledger: SqlLedger) -> None:
    """No lock held elsewhere: the claim with attempt 1 is committed without a thread hop."""
    seen: list[str] = []
    _threads_writing(ledger, seen)
    first = _row("order-1")
    claim = await ledger.claim("order-1", "fp", AMOUNT, "w#1", 60.0, first_attempt=first)
    assert claim.kind is ClaimKind.NEW
    assert seen == [threading.current_thread().name] * 2
    assert await ledger.transact(order_ids) == {"order-1"}


def _hold_the_write_lock(path: Path) -> sqlite3.Connection:
    """Another connection to the ledger's file, holding its write lock until rolled back."""
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    return holder


def _set_once_on_the_thread(ledger: SqlLedger, verb: str) -> asyncio.Event:
    """An event set when a statement starting with `verb` runs off the event loop's thread."""
    dbapi = ledger._dbapi
    assert dbapi is not None
    loop, on_thread = asyncio.get_running_loop(), asyncio.Event()
    loop_thread = threading.current_thread()

    def trace(sql: str) -> None:
        if sql.lstrip().startswith(verb) and threading.current_thread() is not loop_thread:
            loop.call_soon_threadsafe(on_thread.set)

    dbapi.set_trace_callback(trace)
    return on_thread


async def test_claims_queued_in_one_turn_share_one_commit_on_the_loop(ledger: SqlLedger) -> None:
    """Payments in flight together are one batch on the loop, as they are on the thread."""
    runner = ledger._runner
    assert runner is not None
    before = runner.batches
    claims = await asyncio.gather(
        *(ledger.claim(f"o-{n}", "fp", AMOUNT, "w#1", 60.0) for n in range(5))
    )
    assert {claim.kind for claim in claims} == {ClaimKind.NEW}
    assert runner.batches == before + 1
    assert await ledger.transact(order_ids) == {f"o-{n}" for n in range(5)}


async def test_a_locked_ledger_sends_the_claim_to_the_thread_to_wait(
    ledger: SqlLedger, tmp_path: Path
) -> None:
    """Another connection holds the write lock: the loop does not wait for it; the thread
    does, and the claim is written there once the lock is released."""
    holder = _hold_the_write_lock(tmp_path / "ledger.db")
    on_thread = _set_once_on_the_thread(ledger, "INSERT")
    claiming = asyncio.ensure_future(ledger.claim("order-1", "fp", AMOUNT, "w#1", 60.0))
    await on_thread.wait()  # the loop is free while the claim waits there for the lock
    assert not claiming.done()
    holder.execute("ROLLBACK")
    holder.close()
    assert (await claiming).kind is ClaimKind.NEW
    assert await ledger.transact(order_ids) == {"order-1"}


async def test_a_failing_write_in_a_batch_on_the_loop_costs_the_others_nothing(
    ledger: SqlLedger,
) -> None:
    """The loop's batch is rolled back and handed to the thread: the good claim commits, the
    attempt of a payment this worker does not hold is refused, and nothing else is kept."""
    with held_by("someone-else"):
        refused = asyncio.ensure_future(ledger.record_attempt(_row("not-held")))
    good = asyncio.ensure_future(ledger.claim("good", "fp", AMOUNT, "w#1", 60.0))
    assert (await good).kind is ClaimKind.NEW
    with pytest.raises(LeaseLostError):
        await refused
    assert await ledger.transact(order_ids) == {"good"}


async def test_a_ledger_that_flushes_every_commit_never_writes_on_the_loop(
    tmp_path: Path,
) -> None:
    """Under synchronous=FULL each commit waits for the disk: that wait stays on the thread."""
    ledger = SqlLedger(f"sqlite:///{tmp_path / 'ledger.db'}", sqlite_synchronous="FULL")
    await ledger.open()
    try:
        seen: list[str] = []
        _threads_writing(ledger, seen)
        await ledger.claim("order-1", "fp", AMOUNT, "w#1", 60.0, first_attempt=_row("order-1"))
        assert seen == ["payrouter-ledger"] * 2
    finally:
        await ledger.close()


async def test_the_thread_waits_for_locks_again_after_the_loop_wrote(ledger: SqlLedger) -> None:
    """After writes on the loop (no lock waits there), work on the thread waits for a lock
    held elsewhere instead of failing at once."""
    await ledger.claim("first", "fp", AMOUNT, "w#1", 60.0)  # on the loop
    path = ledger._location.path
    assert path is not None
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")
    release = threading.Timer(0.2, lambda: holder.execute("ROLLBACK"))
    release.start()
    try:  # with no lock wait it would fail at once: "database is locked"
        await ledger.transact(lambda conn: conn.execute(payments.delete()))
    finally:
        release.join()
        holder.close()
    assert await ledger.transact(order_ids) == set()


async def test_a_claim_sent_to_the_thread_still_gives_up_at_its_deadline(
    ledger: SqlLedger, tmp_path: Path
) -> None:
    """A claim queued for the loop carries no deadline timer; when a held lock sends it to the
    thread, its timer is armed there, and the claim gives up at the payment's deadline."""
    holder = _hold_the_write_lock(tmp_path / "ledger.db")
    try:
        with payment_deadline(time.monotonic() + 0.3):
            claiming = asyncio.ensure_future(ledger.claim("order-1", "fp", AMOUNT, "w#1", 60.0))
        with pytest.raises(LedgerUnavailableError, match="no provider was called"):
            await claiming
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert await ledger.transact(order_ids) == set()


async def test_the_return_pages_ledger_work_runs_on_the_loop_too(ledger: SqlLedger) -> None:
    """`Router.refresh` reads the payment, takes its lease and writes its status: with the
    writer's connection free, all run on the loop, as the pay path's writes do (a hop to the
    thread and back for each cost more than the work)."""
    await ledger.claim("order-1", "fp", AMOUNT, "w#1", 0.0, first_attempt=_row("order-1"))
    dbapi = ledger._dbapi
    assert dbapi is not None
    threads: set[str] = set()
    dbapi.set_trace_callback(lambda sql: threads.add(threading.current_thread().name))

    payment = await ledger.get("order-1")
    taken = await ledger.acquire("order-1", "w#2", 60.0)
    with held_by("w#2"):
        settled = await ledger.finish_payment("order-1", PaymentUpdate(PaymentStatus.FAILED))

    assert payment is not None
    assert taken  # the first holder's lease had run out
    assert settled.status is PaymentStatus.FAILED
    assert threads == {threading.current_thread().name}


async def test_a_return_pages_status_write_on_a_locked_ledger_waits_on_the_thread(
    ledger: SqlLedger, tmp_path: Path
) -> None:
    """The provider answered a `refresh`'s lookup and another connection holds the write
    lock: the status is not refused (SQLITE_BUSY) on the loop, it waits on the thread and is
    written once the lock is released; what the provider said is never lost."""
    await ledger.claim("order-1", "fp", AMOUNT, "w#1", 0.0, first_attempt=_row("order-1"))
    assert await ledger.acquire("order-1", "w#2", 60.0)
    holder = _hold_the_write_lock(tmp_path / "ledger.db")
    on_thread = _set_once_on_the_thread(ledger, "UPDATE")
    with held_by("w#2"):
        settling = asyncio.ensure_future(
            ledger.finish_payment("order-1", PaymentUpdate(PaymentStatus.FAILED))
        )
    await on_thread.wait()  # the loop is free while the write waits there for the lock
    assert not settling.done()
    holder.execute("ROLLBACK")
    holder.close()
    assert (await settling).status is PaymentStatus.FAILED
    payment = await ledger.get("order-1")
    assert payment is not None
    assert payment.status is PaymentStatus.FAILED
