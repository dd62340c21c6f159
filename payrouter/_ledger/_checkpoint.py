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

Durability is unchanged: a commit is durable once it is in the WAL (under `NORMAL`, against a
crash of the process; under `FULL`, against a power cut too), checkpointed or not. If this
thread falls behind, the WAL only grows; SQLite reads it back correctly after any crash.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from pathlib import Path
from typing import Final

__all__ = ["Checkpointer"]

_ROUND_SECONDS: Final = 0.1
"""At 3,000 payments/s about as often as SQLite's own automatic checkpoint (1,000 pages)."""


class Checkpointer:
    """A daemon thread that checkpoints one SQLite file's WAL, round after round."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._run, name="payrouter-ledger-checkpoint", daemon=True
        )
        self.checkpoints = 0
        """Checkpoints run so far (for tests and benchmarks)."""

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
            self._checkpoint(connection)  # what the last commits added, before closing
        finally:
            connection.close()

    def _checkpoint(self, connection: sqlite3.Connection) -> None:
        # A busy or failing checkpoint is retried on the next round: the WAL keeps every
        # commit meanwhile, so there is nothing to lose by waiting.
        with contextlib.suppress(sqlite3.Error):
            connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
            self.checkpoints += 1
