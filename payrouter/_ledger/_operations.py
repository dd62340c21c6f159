"""Named ledger operations for reconciliation, records reconciliation, provider health and
admission, so those features ask the ledger for what they need ("the attempts of a period",
"save what a comparison found") and never hold a database connection themselves. Each is one
transaction.

`SqlLedger` inherits them; the statements live in `_books`, `_sheds`, `_leases` and `_stats`,
beside the tables.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol, TypeVar

from sqlalchemy import Connection

from . import _books, _reattempts, _sheds
from ._amount_discrepancy import AmountDifference, record_difference
from ._books import Discrepancy, DiscrepancyStats, PeriodAttempt
from ._late_reference import note_late_reference
from ._leases import unresolved
from ._stats import ProviderHealth, provider_health

__all__ = ["BooksOperations"]

T = TypeVar("T")


class _Transacting(Protocol):
    async def transact(self: _Transacting, work: Callable[[Connection], T]) -> T: ...


class BooksOperations:
    """Reconciliation's, records reconciliation's, provider health's and admission's
    operations, mixed into a ledger class that runs work in one transaction (`transact`)."""

    async def unresolved(self: _Transacting, limit: int) -> list[str]:
        """Up to `limit` payments reconcile should look at (`_leases.unresolved`)."""
        return await self.transact(lambda conn: unresolved(conn, limit))

    async def provider_health(self: _Transacting, since: float) -> list[ProviderHealth]:
        """Each provider's attempts and outcomes since `since` (epoch seconds)."""
        return await self.transact(lambda conn: provider_health(conn, since))

    async def record_amount_difference(self: _Transacting, difference: AmountDifference) -> bool:
        """Keep a provider's other amount (a pay answer, replay or lookup) as an open
        discrepancy; False when one with its id was already known."""
        return await self.transact(lambda conn: record_difference(conn, difference))

    async def period_attempts(
        self: _Transacting, since: float, until: float
    ) -> list[PeriodAttempt]:
        """Attempts started in `[since, until]` (epoch seconds), with their payment's money."""
        return await self.transact(lambda conn: _books.period_attempts(conn, since, until))

    async def save_discrepancies(
        self: _Transacting,
        found: Sequence[Discrepancy],
        providers: Sequence[str],
        since: float,
        until: float,
        now: float,
    ) -> list[Discrepancy]:
        """Record what a comparison of `providers` over `[since, until]` found, and resolve
        the open ones it no longer finds, in one transaction."""
        return await self.transact(
            lambda conn: _books.save_discrepancies(conn, found, providers, since, until, now)
        )

    async def open_discrepancies(self: _Transacting) -> list[Discrepancy]:
        """Open discrepancies, oldest first."""
        return await self.transact(_books.open_discrepancies)

    async def acknowledge_discrepancy(
        self: _Transacting, discrepancy_id: str, note: str, now: float
    ) -> Discrepancy | None:
        """Close an open discrepancy by a person's decision; None when none is open by that id."""
        return await self.transact(lambda conn: _books.acknowledge(conn, discrepancy_id, note, now))

    async def discrepancy_stats(self: _Transacting, now: float) -> DiscrepancyStats:
        """How many discrepancies are open, and the age of the oldest at `now`."""
        return await self.transact(lambda conn: _books.discrepancy_stats(conn, now))

    async def record_sheds(self: _Transacting, owner: str, at: float, count: int) -> None:
        """Add `count` payments `owner` shed at admission up to `at` (epoch seconds)."""
        await self.transact(lambda conn: _sheds.record_sheds(conn, owner, at, count))

    async def shed_count(self: _Transacting, since: float) -> int:
        """Payments every process shed at admission since `since` (epoch seconds)."""
        return await self.transact(lambda conn: _sheds.shed_since(conn, since))

    async def claim_reattempt(
        self: _Transacting,
        card: str,
        order_id: str,
        providers: tuple[str, str],
        *,
        since: float,
        limit: int,
        now: float,
    ) -> bool:
        """Record a reattempt of `card` (its hash) for `order_id` from one provider to
        another, unless `limit` reattempts of it fall in `[since, now]`; True when recorded."""
        from_provider, to_provider = providers
        return await self.transact(
            lambda conn: _reattempts.claim_reattempt(
                conn,
                card=card,
                order_id=order_id,
                from_provider=from_provider,
                to_provider=to_provider,
                now=now,
                since=since,
                limit=limit,
            )
        )

    async def card_reattempts(self: _Transacting, card: str, since: float) -> int:
        """Reattempts of `card` (its hash) recorded since `since` (epoch seconds)."""
        return await self.transact(lambda conn: _reattempts.reattempts_since(conn, card, since))

    async def note_late_reference(
        self: _Transacting, order_id: str, number: int, reference: str
    ) -> bool | None:
        """The provider's reference from an answer that came after the payment's deadline,
        for attempt `number` if it is still unknown without one (`_late_reference`)."""
        return await self.transact(
            lambda conn: note_late_reference(conn, order_id, number, reference)
        )
