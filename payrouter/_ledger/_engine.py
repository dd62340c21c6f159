"""The ledger's SQLAlchemy engine: SQLite in WAL with a busy timeout, or a pooled server."""

from __future__ import annotations

from typing import Any, Final

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.pool import StaticPool

__all__ = ["BUSY_TIMEOUT_SECONDS", "ledger_engine"]

BUSY_TIMEOUT_SECONDS: Final = 30.0
"""How long a SQLite statement waits for another process's write lock. It runs on the
ledger's thread, and a payment waits for it only until its own deadline (`_runner`)."""


def ledger_engine(url: str, synchronous: str, pool_size: int) -> Engine:
    """An engine for `url`; SQLite connections get WAL, `synchronous` and foreign keys, and
    a file's connections leave WAL checkpoints to the ledger's own thread (`_checkpoint`)."""
    if not url.startswith("sqlite"):
        # No pre-ping: it would add a round trip to every statement. A connection the server
        # dropped fails its statement with LedgerUnavailableError before any provider is
        # called (write before call), and is replaced; recycling retires idle ones.
        return create_engine(url, pool_size=pool_size, pool_recycle=300)
    in_memory = url in ("sqlite://", "sqlite:///:memory:")
    engine = create_engine(
        url,
        connect_args={"timeout": BUSY_TIMEOUT_SECONDS, "check_same_thread": False},
        poolclass=StaticPool if in_memory else None,
    )

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection: Any, _record: object) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA synchronous={synchronous}")
        cursor.execute("PRAGMA foreign_keys=ON")
        if not in_memory:  # the ledger's checkpoint thread does it, off the payment path
            cursor.execute("PRAGMA wal_autocheckpoint=0")
        cursor.close()

    return engine
