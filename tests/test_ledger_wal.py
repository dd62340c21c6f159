"""The ledger's WAL is started over once it is long, not left to grow under steady traffic.

SQLite writes from the WAL's start again only when a writer begins after a checkpoint copied
everything. The ledger's checkpoints run on a thread of their own, racing the commits made
meanwhile, so under steady traffic a passive checkpoint alone never leaves that moment: the
WAL grew by every commit's pages (214 MB after 10 s at 500 payments/s). A round that finds the
WAL long pauses this process's writes and starts it over.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from pydantic import SecretStr

from payrouter import CardSource, Money, PaymentRequest, Router
from payrouter._ledger import SqlLedger, _checkpoint
from payrouter._ledger._checkpoint import Checkpointer
from payrouter.testing import SimulatedAdapter, SimulatedProvider

_FRAMES = 64  # a short WAL for the test: a few dozen transactions write more pages
_PAYMENT = PaymentRequest(
    order_id="order",
    amount=Money.of("10.00", "EUR"),
    customer_country="DE",
    sources=[CardSource(token=SecretStr("pm_card_visa"))],
)


def _long_wal(path: Path) -> sqlite3.Connection:
    """A WAL file holding more than `_FRAMES` frames, with automatic checkpoints off, as the
    ledger's own connection leaves it; the writing connection, still open."""
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA wal_autocheckpoint=0")
    db.execute("CREATE TABLE t (n INTEGER PRIMARY KEY, body TEXT)")
    for n in range(200):
        db.execute("INSERT INTO t VALUES (?, ?)", (n, "x" * 2000))
    return db


def _frames_in_wal(path: Path) -> int:
    """Frames the WAL holds now, as a checkpoint reports them."""
    with contextlib.closing(sqlite3.connect(path, isolation_level=None)) as peek:
        ((_, frames, _),) = peek.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
    return int(frames)


class _Pauses:
    """Stands for the ledger's writer: records each pause, and grants it or not. A granted
    pause first lets the batch in flight finish (`finish`), as the writer's lock does."""

    def __init__(self, granted: bool, finish: Callable[[], object] = lambda: None) -> None:
        self.granted = granted
        self.finish = finish
        self.asked: list[float] = []

    @contextlib.contextmanager
    def __call__(self, wait: float) -> Iterator[bool]:
        self.asked.append(wait)
        if self.granted:
            self.finish()
        yield self.granted


@pytest.fixture
def short_wal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_checkpoint, "RESTART_FRAMES", _FRAMES)


@pytest.mark.usefixtures("short_wal")
def test_a_round_that_finds_the_wal_long_starts_it_over_while_writes_are_paused(
    tmp_path: Path,
) -> None:
    """Under steady traffic a transaction is in flight whenever a round runs: it began
    before the passive checkpoint copied everything and commits after, so the next one
    begins with the WAL not all copied, and SQLite does not start it over. A round that
    pauses the writes (the batch in flight finishing first) and checkpoints again does."""
    path = tmp_path / "l.db"
    writer = _long_wal(path)
    writer.execute("BEGIN")
    writer.execute("INSERT INTO t VALUES (500, 'in flight')")
    pauses = _Pauses(granted=True, finish=lambda: writer.execute("COMMIT"))
    checkpointer = Checkpointer(path, pauses)
    with contextlib.closing(sqlite3.connect(path, timeout=0, isolation_level=None)) as own:
        checkpointer._checkpoint(own)
    if writer.in_transaction:  # not paused: it commits after the round, as it would
        writer.execute("COMMIT")
    writer.execute("INSERT INTO t VALUES (1000, 'after')")

    assert len(pauses.asked) == 1
    assert checkpointer.restarts == 1
    assert _frames_in_wal(path) <= 2  # the one transaction since, not the 200 before it
    writer.close()


@pytest.mark.usefixtures("short_wal")
def test_a_round_that_cannot_pause_the_writes_leaves_the_wal_to_the_next_one(
    tmp_path: Path,
) -> None:
    """A batch that held on past the wait: the passive checkpoint still copied everything,
    and nothing was forced while this process's writes ran."""
    path = tmp_path / "l.db"
    writer = _long_wal(path)
    frames_before = _frames_in_wal(path)
    checkpointer = Checkpointer(path, _Pauses(granted=False))
    with contextlib.closing(sqlite3.connect(path, timeout=0, isolation_level=None)) as own:
        checkpointer._checkpoint(own)

    assert checkpointer.restarts == 0
    assert _frames_in_wal(path) == frames_before
    writer.close()


def test_a_short_wal_is_only_copied(tmp_path: Path) -> None:
    """Below `RESTART_FRAMES` a round never pauses the writes."""
    path = tmp_path / "l.db"
    writer = _long_wal(path)
    pauses = _Pauses(granted=True)
    checkpointer = Checkpointer(path, pauses)
    with contextlib.closing(sqlite3.connect(path, timeout=0, isolation_level=None)) as own:
        checkpointer._checkpoint(own)

    assert pauses.asked == []
    assert checkpointer.checkpoints == 1
    writer.close()


@pytest.mark.usefixtures("short_wal")
def test_the_round_at_close_copies_without_asking_for_a_pause(tmp_path: Path) -> None:
    """The last round runs as the ledger closes, from the writer's own batch, which holds
    the writes a pause waits for: asking would hold the close up for a round, then be
    refused. It copies what it can; closing the last connection removes the WAL."""
    path = tmp_path / "l.db"
    writer = _long_wal(path)
    pauses = _Pauses(granted=False)
    checkpointer = Checkpointer(path, pauses)
    with contextlib.closing(sqlite3.connect(path, timeout=0, isolation_level=None)) as own:
        checkpointer._checkpoint(own, closing=True)
    writer.close()

    assert pauses.asked == []
    assert checkpointer.checkpoints == 1
    assert not path.with_name("l.db-wal").exists()


async def test_a_pause_asked_for_by_a_running_batch_gives_up_after_its_wait(
    tmp_path: Path,
) -> None:
    """Closing the ledger stops the checkpoint thread from a batch of the writer's own; a
    round wanting a pause then must not wait for that batch, which waits for the round."""
    ledger = SqlLedger(f"sqlite:///{tmp_path / 'l.db'}")
    await ledger.open()
    try:

        def ask(wait: float) -> bool:
            with ledger._require_runner().paused_writes(wait) as paused:
                return paused

        from_a_batch = await ledger.transact(lambda _conn: ask(0.05))
        from_elsewhere = await asyncio.to_thread(ask, 30.0)  # no batch running: granted
    finally:
        await ledger.close()

    assert from_a_batch is False
    assert from_elsewhere is True


@pytest.mark.usefixtures("short_wal")
async def test_payments_written_while_the_wal_is_started_over_are_all_there(
    tmp_path: Path,
) -> None:
    """A short WAL makes the checkpoint thread start it over between payments; every payment
    is read back from the file afterwards, by a ledger opened anew."""
    url = f"sqlite:///{tmp_path / 'l.db'}"
    adapter = SimulatedAdapter(SimulatedProvider("card"))
    async with Router([adapter], ledger=SqlLedger(url), hooks=()) as router:
        paid = [
            await router.pay(_PAYMENT.model_copy(update={"order_id": f"order-{index}"}))
            for index in range(60)
        ]
    again = SqlLedger(url)
    await again.open()
    try:
        read = [await again.get(payment.order_id) for payment in paid]
    finally:
        await again.close()

    assert read == paid
