"""The ledger's hot path on SQLite: checkpoints off the payment's commit, results built from
the rows the writes return, and the same records as the general path."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path

from pydantic import SecretStr
from sqlalchemy import create_engine

from payrouter import CardSource, Money, PaymentRequest, PaymentStatus, Router, set_testing
from payrouter._ledger import SqlLedger, _sqlite_path
from payrouter._ledger._claims import read_rows
from payrouter._ledger._leases import acquire, lease_values
from payrouter._ledger._rows import payment_result
from payrouter.provider import DeclineType, FailureKind
from payrouter.testing import Behavior, SimulatedAdapter, SimulatedProvider


def _request(order_id: str) -> PaymentRequest:
    return PaymentRequest(
        order_id=order_id,
        amount=Money.of("10.00", "EUR"),
        sources=[CardSource(token=SecretStr("pm_card_visa"))],
        customer_country="DE",
    )


def _rows_in_database_file(path: Path) -> int:
    """Payments in the database file itself, ignoring the WAL: only checkpoints put them there."""
    uri = f"file:{path}?immutable=1"
    with contextlib.closing(sqlite3.connect(uri, uri=True)) as peek:
        try:
            (count,) = peek.execute("SELECT count(*) FROM payrouter_payments").fetchone()
        except sqlite3.DatabaseError:  # the file's pages are still only in the WAL
            return 0
    return int(count)


def _wait_for_rows(path: Path, count: int) -> None:
    while _rows_in_database_file(path) < count:
        time.sleep(0.05)


async def test_the_ledger_connection_leaves_wal_checkpoints_to_its_own_thread(
    tmp_path: Path,
) -> None:
    """No payment's commit runs a checkpoint; the ledger's thread copies the WAL back."""
    path = tmp_path / "ledger.db"
    ledger = SqlLedger(f"sqlite:///{path}")
    adapter = SimulatedAdapter(SimulatedProvider("card"))
    async with Router([adapter], ledger=ledger, hooks=()) as router:
        assert ledger._dbapi is not None
        (automatic,) = ledger._dbapi.execute("PRAGMA wal_autocheckpoint").fetchone()
        assert automatic == 0
        for index in range(50):
            await router.pay(_request(f"order-{index}"))
        await asyncio.to_thread(_wait_for_rows, path, 50)  # the checkpoint thread's next round


def _read_through_sqlalchemy(ledger: SqlLedger, order_id: str) -> object:
    """The payment as the general path (PostgreSQL's) reads it, on SQLAlchemy Core."""
    with ledger._transaction() as conn:
        rows = read_rows(conn, order_id)
        assert rows is not None
        return payment_result(*rows, secrets=ledger.sealing.open_secret)


async def test_results_from_returned_rows_match_what_the_ledger_reads_back(
    tmp_path: Path,
) -> None:
    """A result built from the rows the writes returned equals the payment read back,
    for a first attempt, a later one after a failover, and a decline."""
    first, second = SimulatedProvider("card_a"), SimulatedProvider("card_b")
    adapters = [SimulatedAdapter(first), SimulatedAdapter(second)]
    with set_testing(True):
        async with Router(adapters, ledger=f"sqlite:///{tmp_path / 'l.db'}", hooks=()) as router:
            one = await router.pay(_request("order-1"))
            first.default = Behavior.refuse_connection()
            two = await router.pay(_request("order-2"))
            second.default = Behavior.decline_with(FailureKind.INSUFFICIENT_FUNDS)
            three = await router.pay(_request("order-3"))
            assert one.status is PaymentStatus.SUCCEEDED
            assert [a.number for a in two.attempts] == [1, 2]
            assert one == await router.lookup("order-1")
            assert two == await router.lookup("order-2")
            assert three.status is PaymentStatus.DECLINED
            assert three.attempts[-1].decline is DeclineType.HARD  # the decline's columns too
            assert three == await router.lookup("order-3")


async def test_sqlites_plain_reads_match_what_sqlalchemy_reads(tmp_path: Path) -> None:
    """SQLite's reads and status writes on the DBAPI connection (`_sqlite_path`) give the
    payment the general path reads: several attempts, a decline, an action awaiting the
    customer, a status written by reconcile, and an order never paid."""
    first, second = SimulatedProvider("card_a"), SimulatedProvider("card_b")
    ledger = SqlLedger(f"sqlite:///{tmp_path / 'l.db'}")
    with set_testing(True):
        async with Router(
            [SimulatedAdapter(first), SimulatedAdapter(second)], ledger=ledger
        ) as router:
            await router.pay(_request("paid"))
            first.default = Behavior.refuse_connection()
            await router.pay(_request("failed-over"))
            second.default = Behavior.decline_with(FailureKind.INSUFFICIENT_FUNDS)
            await router.pay(_request("declined"))
            second.default = Behavior.requires_action()
            waiting = await router.pay(_request("waiting"))
            assert waiting.status is PaymentStatus.REQUIRES_ACTION
            second.default = Behavior.requires_action()
            await router.pay(_request("approved"))
            approved = await router.lookup("approved")
            assert approved is not None
            assert approved.provider_reference is not None
            second.settle(approved.provider_reference)
            refreshed = await router.refresh("approved")  # written by reconcile's status write
            assert refreshed is not None
            assert refreshed.status is PaymentStatus.SUCCEEDED
            for order_id in ("paid", "failed-over", "declined", "waiting", "approved"):
                read = await router.lookup(order_id)
                assert read is not None
                assert read == _read_through_sqlalchemy(ledger, order_id)
            assert refreshed == _read_through_sqlalchemy(ledger, "approved")
            assert await router.lookup("never-paid") is None


async def test_sqlites_plain_lease_takes_and_refuses_what_the_general_path_does(
    tmp_path: Path,
) -> None:
    """The return page's lease on SQLite (`_sqlite_path.acquire`) takes an open payment or
    one whose worker's lease ran out, and refuses a live lease or a finished payment, exactly
    as the general path's statement does, on the same rows."""
    path = tmp_path / "l.db"
    card = SimulatedProvider("card")
    async with Router([SimulatedAdapter(card)], ledger=f"sqlite:///{path}", hooks=()) as router:
        await router.pay(_request("finished"))
        card.default = Behavior.requires_action()
        await router.pay(_request("open"))
        await router.pay(_request("leased"))
        await router.pay(_request("orphaned"))
    with contextlib.closing(sqlite3.connect(path)) as db:
        db.execute("UPDATE payrouter_payments SET lease_until = 1e12 WHERE order_id = 'leased'")
        db.execute(
            "UPDATE payrouter_payments SET status = 'processing', lease_until = 1 "
            "WHERE order_id = 'orphaned'"
        )
        db.commit()
    engine = create_engine(f"sqlite:///{path}")
    taken = {}
    try:
        for order_id in ("finished", "open", "leased", "orphaned", "never-paid"):
            values = lease_values(order_id, "reconciler", 30.0)
            with engine.connect() as conn:
                general = acquire(conn, values)
                conn.rollback()
            with contextlib.closing(sqlite3.connect(path)) as db:
                plain = _sqlite_path.acquire(db, values)
                db.rollback()
            assert plain == general, order_id
            taken[order_id] = plain
    finally:
        engine.dispose()
    assert taken == {
        "finished": False,
        "open": True,
        "leased": False,
        "orphaned": True,
        "never-paid": False,
    }


class _WriterBetweenStatements:
    """A DBAPI connection that lets another process's commit land after its first SELECT."""

    def __init__(self, db: sqlite3.Connection, commit_between: Callable[[], None]) -> None:
        self._db = db
        self._commit_between = commit_between
        self._selects = 0

    @property
    def in_transaction(self) -> bool:
        return self._db.in_transaction

    def execute(self, sql: str, values: object = ()) -> sqlite3.Cursor:
        cursor = self._db.execute(sql, values)  # type: ignore[arg-type]
        if sql.lstrip().startswith("SELECT"):
            self._selects += 1
            if self._selects == 1:
                self._commit_between()
        return cursor


async def test_a_plain_read_sees_the_payment_and_its_attempts_as_of_one_commit(
    tmp_path: Path,
) -> None:
    """Another process (a reconciler, another worker) may commit between the read's two
    SELECTs: the payment and its attempts still come from the same commit."""
    path = tmp_path / "l.db"
    card = SimulatedProvider("card")
    card.default = Behavior.requires_action()
    async with Router([SimulatedAdapter(card)], ledger=f"sqlite:///{path}", hooks=()) as router:
        await router.pay(_request("order-1"))

    def another_process_settles_it() -> None:
        with contextlib.closing(sqlite3.connect(path)) as other:
            other.execute("UPDATE payrouter_payments SET status = 'succeeded'")
            other.execute("UPDATE payrouter_attempts SET outcome = 'succeeded'")
            other.commit()

    with contextlib.closing(sqlite3.connect(path)) as db:
        reading = _WriterBetweenStatements(db, another_process_settles_it)
        rows = _sqlite_path.read(reading, "order-1")  # type: ignore[arg-type]
        db.rollback()
    assert rows is not None
    payment, attempts = rows
    assert payment["status"] == "requires_action"
    assert [attempt["outcome"] for attempt in attempts] == ["requires_action"]
