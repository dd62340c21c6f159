"""What the ledger says about each provider's recent health, for `payrouter status`.

Every process writes its attempts to the same ledger, so this view is shared by all of them
(unlike breakers, which live in each process unless shared state is configured).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from sqlalchemy import Connection, bindparam, func, select

from .._models import PaymentMethod
from .._taxonomy import Outcome
from ._schema import attempts

__all__ = ["ProviderHealth", "provider_health"]

_SUCCESSFUL: Final = (
    Outcome.SUCCEEDED,
    Outcome.PARTIALLY_AUTHORISED,
    Outcome.PENDING,
    Outcome.REQUIRES_ACTION,
)
_COUNTS: Final = (
    select(attempts.c.provider, attempts.c.method, attempts.c.outcome, func.count())
    .where(attempts.c.started_at >= bindparam("since"))
    .group_by(attempts.c.provider, attempts.c.method, attempts.c.outcome)
)


@dataclass(frozen=True, slots=True)
class ProviderHealth:
    """Attempts at one provider for one method since a point in time, by outcome."""

    provider: str
    method: PaymentMethod
    attempts: int
    succeeded: int
    """Accepted: succeeded, pending or handed to the customer to approve."""
    failed: int
    unknown: int
    in_flight: int

    @property
    def success_rate(self) -> float | None:
        """Accepted share of the attempts that have an answer; None without any."""
        answered = self.attempts - self.in_flight
        return self.succeeded / answered if answered else None


def provider_health(conn: Connection, since: float) -> list[ProviderHealth]:
    """One row per (provider, method) with attempts started at or after `since` (epoch s)."""
    totals: dict[tuple[str, str], dict[str, int]] = {}
    for provider, method, outcome, count in conn.execute(_COUNTS, {"since": since}):
        row = totals.setdefault(
            (provider, method), {"succeeded": 0, "failed": 0, "unknown": 0, "in_flight": 0}
        )
        if outcome is None:
            row["in_flight"] += count
        elif Outcome(outcome) in _SUCCESSFUL:
            row["succeeded"] += count
        elif Outcome(outcome) is Outcome.UNKNOWN:
            row["unknown"] += count
        else:
            row["failed"] += count
    return [
        ProviderHealth(provider, PaymentMethod(method), sum(row.values()), **row)
        for (provider, method), row in sorted(totals.items())
    ]
