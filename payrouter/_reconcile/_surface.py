"""The router's records surface: compare the ledger with the providers' records, and the
discrepancies that stay open until resolved or acknowledged.

A mixin of `Router`, kept apart because it is one job (do the books agree?) with its own
docstrings, while `_router.py` holds the payment surface.
"""

from __future__ import annotations

import time
from collections.abc import Collection, Mapping, Sequence
from datetime import datetime

from .._adapter import Adapter
from .._ledger import Ledger
from .._ledger._books import Discrepancy, DiscrepancyStats
from .._paying._fees import FeeRule
from ._records import RecordsReport, compare_records

__all__ = ["RecordsMethods"]


class RecordsMethods:
    """Records reconciliation: nothing here changes a payment; differences are kept in the
    ledger (`payrouter records open`, `payrouter records ack`) and counted in the metrics."""

    _ledger: Ledger
    _by_name: Mapping[str, Adapter]
    _fees: Mapping[str, Sequence[FeeRule]]
    _discrepancies: DiscrepancyStats

    def _require_open(self) -> None:  # pragma: no cover - Router's own replaces it
        raise NotImplementedError

    async def compare_records(
        self,
        since: datetime,
        until: datetime,
        *,
        keep: bool = True,
        providers: Collection[str] | None = None,
    ) -> RecordsReport:
        """Compare the ledger's attempts in `[since, until]` with the providers' own records.

        Reports payments missing at a provider or in the ledger, differing amounts,
        currencies, statuses, captured and refunded totals, and fees other than the fee
        rules say. With `keep`, what was found is stored as open discrepancies and the ones
        no longer found are resolved; payments are never changed. `providers` limits the
        comparison to those named.
        """
        self._require_open()
        report = await compare_records(
            self._ledger, self._by_name, since, until, self._fees, keep=keep, providers=providers
        )
        await self.discrepancy_stats()
        return report

    async def discrepancies(self) -> list[Discrepancy]:
        """Differences records reconciliation found that are still open, oldest first."""
        self._require_open()
        return await self._ledger.open_discrepancies()

    async def acknowledge_discrepancy(self, discrepancy_id: str, note: str) -> Discrepancy | None:
        """Close an open discrepancy by a person's decision (`note` says why); None when no
        open discrepancy has that id."""
        self._require_open()
        now = time.time()
        return await self._ledger.acknowledge_discrepancy(discrepancy_id, note, now)

    async def discrepancy_stats(self) -> DiscrepancyStats:
        """How many discrepancies are open and how old the oldest is (metrics, status)."""
        self._require_open()
        now = time.time()
        self._discrepancies = await self._ledger.discrepancy_stats(now)
        return self._discrepancies

    def open_discrepancy_stats(self) -> DiscrepancyStats:
        """Open discrepancies as this router last read them (after each comparison or
        `discrepancy_stats`), aged to now: for a Prometheus scrape, which cannot await."""
        return self._discrepancies.at(time.time())
