"""The simulated provider's own records: what it took, carried out, and answered.

SQLite in memory, or a file shared across processes, so the books outlive a worker that a
crash test kills in the middle of a payment or a refund.
"""

from __future__ import annotations

import sqlite3
import threading
import weakref
from dataclasses import dataclass
from pathlib import Path

from .._ledger._wal import switch_to_wal

__all__ = ["BookEntry", "Books", "FollowUpEntry"]

_LOCK_WAIT_SECONDS = 30.0
"""How long a write, or the switch of a new file to WAL, waits for another process's lock."""


@dataclass(frozen=True, slots=True)
class FollowUpEntry:
    """A capture, refund, void or mandate cancellation the provider carried out."""

    idempotency_key: str
    subject: str
    """The payment's provider reference, or the mandate id."""
    operation: str
    amount_minor: int | None
    status: str


@dataclass(frozen=True, slots=True)
class BookEntry:
    """Money the provider actually took (or is settling)."""

    provider_reference: str
    reference: str
    order_id: str
    amount_minor: int
    currency: str
    status: str


_SCHEMA = """
CREATE TABLE IF NOT EXISTS charges (
    provider_reference TEXT PRIMARY KEY, reference TEXT UNIQUE NOT NULL, order_id TEXT NOT NULL,
    amount_minor INTEGER NOT NULL, currency TEXT NOT NULL, status TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS followups (
    idempotency_key TEXT PRIMARY KEY, subject TEXT NOT NULL, operation TEXT NOT NULL,
    amount_minor INTEGER, status TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS replies (
    idempotency_key TEXT PRIMARY KEY, fingerprint TEXT NOT NULL, status INTEGER NOT NULL,
    body TEXT NOT NULL);
"""


class Books:
    """The provider's own records in SQLite: in memory, or a file shared across processes."""

    def __init__(self, path: Path | None) -> None:
        self._lock = threading.Lock()
        self._db = sqlite3.connect(
            str(path) if path else ":memory:",
            check_same_thread=False,
            timeout=_LOCK_WAIT_SECONDS,
            isolation_level=None,
        )
        # A provider dropped without `close()` (a router that failed to start, a test that
        # never opened one) still closes its database when collected, not in a GC warning.
        weakref.finalize(self, self._db.close)
        if path:  # a file several processes' stand-ins open at once
            switch_to_wal(self._db, _LOCK_WAIT_SECONDS)
        self._db.executescript(_SCHEMA)

    def query(self, sql: str, *args: object) -> list[tuple[object, ...]]:
        with self._lock:
            return self._db.execute(sql, args).fetchall()

    def write(self, *statements: tuple[str, tuple[object, ...]]) -> None:
        """Run `statements` in one transaction: a provider's operation and its stored reply
        are one write, so a crash never leaves an operation no replay can answer."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                for sql, args in statements:
                    self._db.execute(sql, args)
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def close(self) -> None:
        with self._lock:
            self._db.close()
