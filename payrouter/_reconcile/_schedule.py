"""Records reconciliation on a schedule: each provider's report window, compared when due.

A provider's records of a moment are complete only `records_delay` later (Stripe at once,
PayPal within three hours, Adyen's daily report the next morning). So each run compares, for
each provider, the `span` that ends `records_delay` ago: the latest period its report should
fully cover. Records still not ready for that period are late, and said so, because by the
provider's own documented delay they should be there.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from .._adapter import Adapter
from ._records import RecordsReport, RecordsSource

__all__ = ["RecordsRun", "RecordsSchedule", "report_window"]

Compare = Callable[[datetime, datetime, Sequence[str]], Awaitable[RecordsReport]]


def report_window(adapter: Adapter, now: datetime, span: timedelta) -> tuple[datetime, datetime]:
    """The latest `span` the provider's records should fully cover at `now`."""
    delay = adapter.records_delay if isinstance(adapter, RecordsSource) else timedelta(0)
    until = now - delay
    return until - span, until


@dataclass(frozen=True, slots=True)
class RecordsRun:
    """One provider's scheduled comparison."""

    provider: str
    since: datetime
    until: datetime
    report: RecordsReport

    @property
    def late(self) -> str | None:
        """Why the provider's records are late, if they are."""
        return self.report.late.get(self.provider)

    def summary(self) -> str:
        """One line for the worker's output."""
        period = f"{self.since:%Y-%m-%d %H:%M}..{self.until:%Y-%m-%d %H:%M} UTC"
        if self.late is not None:
            return f"records {self.provider} {period}: LATE, {self.late}"
        failed = self.report.failed.get(self.provider)
        if failed is not None:
            return f"records {self.provider} {period}: NOT READ, {failed}"
        differ = len(self.report.mismatches)
        return f"records {self.provider} {period}: {self.report.compared} compared, {differ} differ"


class RecordsSchedule:
    """Compares every `every` seconds, each provider over its own report window."""

    def __init__(
        self, every: float, span: timedelta, clock: Callable[[], float] = time.time
    ) -> None:
        if every <= 0 or span <= timedelta(0):
            raise ValueError("records schedule: every and span must be positive")
        self.every = every
        self.span = span
        self._clock = clock
        self._next = 0.0

    def due(self) -> bool:
        """Whether a run is due now (the first one is due at once)."""
        return self._clock() >= self._next

    async def run(self, adapters: Mapping[str, Adapter], compare: Compare) -> list[RecordsRun]:
        """One comparison per provider over its window; the next run is `every` from now."""
        now = self._clock()
        self._next = now + self.every
        moment = datetime.fromtimestamp(now, UTC)
        runs = []
        for name, adapter in sorted(adapters.items()):
            since, until = report_window(adapter, moment, self.span)
            runs.append(RecordsRun(name, since, until, await compare(since, until, (name,))))
        return runs
