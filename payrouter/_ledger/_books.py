"""The ledger's side of records reconciliation: a period's attempts, and the discrepancies kept.

Statements run through `Ledger.transact`, one transaction each, so a comparison reads one
consistent picture and a rerun's bookkeeping (new, still open, resolved) lands all at once.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from sqlalchemy import Connection, and_, select, update

from .._money import Money
from ._schema import attempts, discrepancies, followups, payments

__all__ = [
    "Discrepancy",
    "DiscrepancyStats",
    "PeriodAttempt",
    "acknowledge",
    "discrepancy_stats",
    "open_discrepancies",
    "period_attempts",
    "save_discrepancies",
]

OPEN: Final = "open"
RESOLVED: Final = "resolved"
ACKNOWLEDGED: Final = "acknowledged"


@dataclass(frozen=True, slots=True)
class PeriodAttempt:
    """One attempt started in the period, with its payment's money as the ledger has it."""

    order_id: str
    provider: str
    reference: str
    provider_reference: str | None
    outcome: str | None
    amount: Money
    method: str
    started_at: float
    final: bool
    """This attempt is the one that took the payment (its payment's provider reference)."""
    authorize_only: bool
    captured: int
    """Minor units captured by succeeded capture follow-ups (authorize-only payments)."""
    refunded: int
    """Minor units refunded by succeeded refund follow-ups."""


@dataclass(frozen=True, slots=True)
class Discrepancy:
    """One difference as stored: plain text on both sides, so any later reader can show it."""

    discrepancy_id: str
    kind: str
    provider: str
    provider_reference: str | None
    order_id: str | None
    reference: str | None
    ledger_side: str | None
    provider_side: str | None
    action: str
    occurred_at: float
    state: str = OPEN
    first_seen: float = 0.0
    last_seen: float = 0.0
    closed_at: float | None = None
    note: str | None = None


@dataclass(frozen=True, slots=True)
class DiscrepancyStats:
    """Open discrepancies: how many, and how long the oldest has been open (seconds)."""

    open: int
    oldest_age_seconds: float
    oldest_first_seen: float | None = None
    """When the oldest open one was first found (epoch seconds); None when none is open."""

    def at(self, now: float) -> DiscrepancyStats:
        """The same count, aged to `now` (a scrape between two reads)."""
        if self.oldest_first_seen is None:
            return self
        age = max(0.0, now - self.oldest_first_seen)
        return DiscrepancyStats(self.open, age, self.oldest_first_seen)


def period_attempts(conn: Connection, since: float, until: float) -> list[PeriodAttempt]:
    """Attempts started in `[since, until]` (epoch seconds), oldest first."""
    rows = conn.execute(
        select(
            attempts.c.order_id,
            attempts.c.provider,
            attempts.c.idempotency_key,
            attempts.c.provider_reference,
            attempts.c.outcome,
            attempts.c.method,
            attempts.c.started_at,
            payments.c.amount_minor,
            payments.c.currency,
            payments.c.provider_reference.label("payment_reference"),
            payments.c.authorize_only,
        )
        .join(payments, payments.c.order_id == attempts.c.order_id)
        .where(attempts.c.started_at >= since, attempts.c.started_at <= until)
        .order_by(attempts.c.started_at, attempts.c.order_id, attempts.c.number)
    ).all()
    moved = _followup_totals(conn, sorted({row.order_id for row in rows}))
    return [
        PeriodAttempt(
            order_id=row.order_id,
            provider=row.provider,
            reference=row.idempotency_key,
            provider_reference=row.provider_reference,
            outcome=row.outcome,
            amount=Money(minor_units=row.amount_minor, currency=row.currency),
            method=row.method,
            started_at=row.started_at,
            final=row.provider_reference is not None
            and row.provider_reference == row.payment_reference,
            authorize_only=bool(row.authorize_only),
            captured=moved[(row.order_id, "capture")],
            refunded=moved[(row.order_id, "refund")],
        )
        for row in rows
    ]


def _followup_totals(
    conn: Connection, order_ids: Sequence[str]
) -> defaultdict[tuple[str, str], int]:
    totals: defaultdict[tuple[str, str], int] = defaultdict(int)
    for start in range(0, len(order_ids), 500):  # bounded IN lists
        chunk = order_ids[start : start + 500]
        for row in conn.execute(
            select(followups.c.order_id, followups.c.kind, followups.c.amount_minor).where(
                followups.c.order_id.in_(chunk),
                followups.c.status == "succeeded",
                followups.c.kind.in_(("capture", "refund")),
            )
        ):
            totals[(row.order_id, row.kind)] += row.amount_minor or 0
    return totals


def save_discrepancies(
    conn: Connection,
    found: Sequence[Discrepancy],
    providers: Sequence[str],
    since: float,
    until: float,
    now: float,
) -> list[Discrepancy]:
    """Record what a comparison of `providers` over `[since, until]` found.

    New differences are inserted open; ones seen before keep their first sighting (and an
    acknowledgement stays); open ones in the compared scope that were not found again are
    resolved. Returns every difference found, as now stored.
    """
    known = {
        row.discrepancy_id: row
        for row in conn.execute(
            select(discrepancies).where(
                discrepancies.c.discrepancy_id.in_([d.discrepancy_id for d in found])
            )
        )
    }
    for row in found:
        earlier = known.get(row.discrepancy_id)
        sides = {"ledger_side": row.ledger_side, "provider_side": row.provider_side}
        if earlier is None:
            conn.execute(
                discrepancies.insert().values(
                    _fields(row) | {"state": OPEN, "first_seen": now, "last_seen": now}
                )
            )
        else:
            reopened = {"state": OPEN, "closed_at": None} if earlier.state == RESOLVED else {}
            conn.execute(
                update(discrepancies)
                .where(discrepancies.c.discrepancy_id == row.discrepancy_id)
                .values(sides | reopened | {"last_seen": now, "action": row.action})
            )
    conn.execute(
        update(discrepancies)
        .where(
            discrepancies.c.state == OPEN,
            discrepancies.c.provider.in_(list(providers)),
            discrepancies.c.occurred_at >= since,
            discrepancies.c.occurred_at <= until,
            discrepancies.c.discrepancy_id.not_in([d.discrepancy_id for d in found]),
        )
        .values(state=RESOLVED, closed_at=now)
    )
    ids = [d.discrepancy_id for d in found]
    stored = {
        row.discrepancy_id: _row(row)
        for row in conn.execute(
            select(discrepancies).where(discrepancies.c.discrepancy_id.in_(ids))
        )
    }
    return [stored[i] for i in ids]


def _fields(row: Discrepancy) -> dict[str, object]:
    return {
        "discrepancy_id": row.discrepancy_id,
        "kind": row.kind,
        "provider": row.provider,
        "provider_reference": row.provider_reference,
        "order_id": row.order_id,
        "reference": row.reference,
        "ledger_side": row.ledger_side,
        "provider_side": row.provider_side,
        "action": row.action,
        "occurred_at": row.occurred_at,
    }


def _row(row: object) -> Discrepancy:
    return Discrepancy(
        **{column.name: getattr(row, column.name) for column in discrepancies.columns}
    )


def open_discrepancies(conn: Connection) -> list[Discrepancy]:
    """Every discrepancy still open, oldest first."""
    rows = conn.execute(
        select(discrepancies)
        .where(discrepancies.c.state == OPEN)
        .order_by(discrepancies.c.first_seen, discrepancies.c.discrepancy_id)
    )
    return [_row(row) for row in rows]


def acknowledge(conn: Connection, discrepancy_id: str, note: str, now: float) -> Discrepancy | None:
    """Close an open discrepancy by a person's word; None when no open one has that id."""
    changed = conn.execute(
        update(discrepancies)
        .where(
            and_(discrepancies.c.discrepancy_id == discrepancy_id, discrepancies.c.state == OPEN)
        )
        .values(state=ACKNOWLEDGED, closed_at=now, note=note[:500])
    ).rowcount
    if not changed:
        return None
    row = conn.execute(
        select(discrepancies).where(discrepancies.c.discrepancy_id == discrepancy_id)
    ).one()
    return _row(row)


def discrepancy_stats(conn: Connection, now: float) -> DiscrepancyStats:
    """How many are open and the age of the oldest (by when it was first seen)."""
    rows = conn.execute(
        select(discrepancies.c.first_seen).where(discrepancies.c.state == OPEN)
    ).all()
    oldest = min((row.first_seen for row in rows), default=None)
    return DiscrepancyStats(len(rows), 0.0, oldest).at(now)
