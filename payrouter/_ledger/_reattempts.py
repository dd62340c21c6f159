"""Reattempts of soft-declined cards, counted per card so the networks' limits hold.

A reattempt is claimed before it is sent: in one transaction the card's reattempts in the
window are counted and, under the limit, one more is written. PostgreSQL serializes claims
for one card with a transaction-scoped advisory lock on the card's hash (two workers paying
with the same card at once must not both take the last one); SQLite writes one transaction
at a time anyway. Rows older than a year (the longest window allowed) are pruned as it goes.
"""

from __future__ import annotations

from typing import Final

from sqlalchemy import Connection, bindparam, delete, func, insert, select, text

from ._schema import card_reattempts

__all__ = ["claim_reattempt", "reattempts_since"]

_KEEP_SECONDS: Final = 366 * 24 * 3600.0
_COUNT: Final = select(func.count()).where(
    card_reattempts.c.card == bindparam("card"), card_reattempts.c.at >= bindparam("since")
)
_INSERT: Final = insert(card_reattempts)
_PRUNE: Final = delete(card_reattempts).where(card_reattempts.c.at < bindparam("before"))
_LOCK: Final = text("SELECT pg_advisory_xact_lock(:key)")


def reattempts_since(conn: Connection, card: str, since: float) -> int:
    """Reattempts of `card` (its hash) at or after `since` (epoch seconds)."""
    return int(conn.execute(_COUNT, {"card": card, "since": since}).scalar_one())


def claim_reattempt(
    conn: Connection,
    *,
    card: str,
    order_id: str,
    from_provider: str,
    to_provider: str,
    now: float,
    since: float,
    limit: int,
) -> bool:
    """Write one reattempt of `card` for `order_id` unless `limit` are already in the window;
    True when written. A second claim for the same order and card is refused (one per
    payment)."""
    if conn.dialect.name == "postgresql":
        conn.execute(_LOCK, {"key": int(card[:15], 16)})
    if reattempts_since(conn, card, since) >= limit:
        return False
    taken = select(func.count()).where(
        card_reattempts.c.card == card, card_reattempts.c.order_id == order_id
    )
    if conn.execute(taken).scalar_one():
        return False
    conn.execute(
        _INSERT,
        {
            "card": card,
            "order_id": order_id,
            "at": now,
            "from_provider": from_provider[:100],
            "to_provider": to_provider[:100],
        },
    )
    conn.execute(_PRUNE, {"before": now - _KEEP_SECONDS})
    return True
