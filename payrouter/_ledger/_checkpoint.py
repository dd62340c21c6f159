"""WAL checkpoints on a background thread, so no payment's commit pays for one.

In WAL mode SQLite appends each commit to the `-wal` file and, by default, the commit that
takes the file past 1,000 pages copies them back into the database file (a checkpoint, with
an fsync under `synchronous=NORMAL`) before it returns: every thousandth payment or so waits
for a disk flush that has nothing to do with it. The ledger's connection turns automatic
checkpoints off (`PRAGMA wal_autocheckpoint=0`) and this thread, on a connection of its own,
runs a `PASSIVE` checkpoint every `_ROUND_SECONDS`. A passive checkpoint never waits for a
reader or a writer, so it never delays a payment's commit; what it cannot copy yet it copies on
a later round, and a round with nothing new to copy does no I/O. (The `-wal` file's size says
nothing about what is left to copy: SQLite reuses the file from its start once everything was
copied, without shrinking it.)

Copying is not enough to keep the WAL's size bounded. SQLite writes from the WAL's start again
only when a writer begins after a checkpoint copied everything; a checkpoint on another
connection races the commits made meanwhile, so under steady traffic that moment never comes
and the WAL grows by every commit's pages: measured here, 214 MB after 10 s at 500 payments/s,
and the file keeps its largest size. So once the WAL holds `RESTART_FRAMES` frames, a round
follows its passive checkpoint with a `RESTART` one while this process's ledger writes are
paused (`Writer.paused`): it copies the few frames committed since and starts the WAL over.
Inside the pause no write of ours meets SQLite's lock; the writes that arrive wait for the
pause to end, about as long as the copy. The connection's busy timeout is 0, so another
process's write (several processes may share the file) makes the round give up at once and
try again on the next one.

Durability is unchanged: a commit is durable once it is in the WAL (under `NORMAL`, against a
crash of the process; under `FULL`, against a power cut too), checkpointed or not. If this
thread falls behind, the WAL only grows; SQLite reads it back correctly after any crash.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Final

__all__ = ["RESTART_FRAMES", "Checkpointer"]

_ROUND_SECONDS: Final = 0.1
"""At 3,000 payments/s about as often as SQLite's own automatic checkpoint (1,000 pages)."""

RESTART_FRAMES: Final = 4096
"""WAL frames (pages written: 16 MB at SQLite's 4 KB pages, about 400 payments' commits here)
past which a round starts the WAL over."""


class Checkpointer:
    """A daemon thread that checkpoints one SQLite file's WAL, round after round."""

    def __init__(
        self, path: Path, pause_writes: Callable[[float], AbstractContextManager[bool]]
    ) -> None:
        """`pause_writes(wait)` holds this process's writes to the file back while it is
        entered, once it has them held (True) within `wait` seconds."""
        self._path = path
        self._pause_writes = pause_writes
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._run, name="payrouter-ledger-checkpoint", daemon=True
        )
        self.checkpoints = 0
        """Checkpoints run so far (for tests and benchmarks)."""
        self.restarts = 0
        """Rounds that started the WAL over (for tests and benchmarks)."""

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Stop after the checkpoint in progress, if any (it never waits for a lock)."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()

    def _run(self) -> None:
        connection = sqlite3.connect(self._path, timeout=0, isolation_level=None)
        try:
            while not self._stop.wait(_ROUND_SECONDS):
                self._checkpoint(connection)
            self._checkpoint(connection, closing=True)  # what the last commits added
        finally:
            connection.close()

    def _checkpoint(self, connection: sqlite3.Connection, *, closing: bool = False) -> None:
        """One round: copy what the WAL holds, and start it over once it is `RESTART_FRAMES`
        long.

        `closing`: the round run as the ledger closes, from the writer's own batch, which
        holds the writes a pause would wait for: it only copies (asking for the pause would
        hold the close up for `_ROUND_SECONDS`, then be refused). The WAL's length does not
        matter then: the last connection to close copies the rest and removes the file.

        A busy or failing checkpoint is retried on the next round: the WAL keeps every commit
        meanwhile, so there is nothing to lose by waiting. Each returns (busy, frames in the
        WAL, frames copied); busy is 1 when a lock it needed was taken.
        """
        with contextlib.suppress(sqlite3.Error):
            ((_, frames, _),) = connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
            self.checkpoints += 1
            if closing or frames < RESTART_FRAMES:
                return
            with self._pause_writes(_ROUND_SECONDS) as paused:
                if not paused:  # a batch ran on for the whole round: next round
                    return
                ((busy, _, _),) = connection.execute("PRAGMA wal_checkpoint(RESTART)").fetchall()
            self.restarts += 0 if busy else 1
