"""Payments shed at admission, counted per process in the ledger so `payrouter status` sees
every process's, not only its own. A process writes one row per flush (every few seconds
while it sheds, never on the payment path); rows older than a week are pruned as it goes.
"""

from __future__ import annotations

from typing import Final

from sqlalchemy import Connection, bindparam, delete, func, insert, select

from ._schema import admission_sheds

__all__ = ["record_sheds", "shed_since"]

_KEEP_SECONDS: Final = 7 * 24 * 3600.0
_INSERT: Final = insert(admission_sheds)
_PRUNE: Final = delete(admission_sheds).where(admission_sheds.c.flushed_at < bindparam("before"))
_TOTAL: Final = select(func.coalesce(func.sum(admission_sheds.c.count), 0)).where(
    admission_sheds.c.flushed_at >= bindparam("since")
)


def record_sheds(conn: Connection, owner: str, at: float, count: int) -> None:
    """Add `count` payments this `owner` shed up to `at` (epoch seconds)."""
    conn.execute(_INSERT, {"flushed_at": at, "owner": owner, "count": count})
    conn.execute(_PRUNE, {"before": at - _KEEP_SECONDS})


def shed_since(conn: Connection, since: float) -> int:
    """Payments every process shed and flushed at or after `since` (epoch seconds)."""
    return int(conn.execute(_TOTAL, {"since": since}).scalar_one())
