"""Announced maintenance windows: traffic drains from a provider before its window opens and
returns when it closes, so a known window never fails a customer's payment.

A provider inside `[start - drain, end)` is skipped before any call, like an open breaker
(nothing sent, no ledger row) but without counting against its health; the checkout's
`healthy_methods` leaves it out too.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Self

from pydantic import AwareDatetime, BaseModel, ConfigDict, model_validator

__all__ = ["MaintenanceSchedule", "MaintenanceWindow"]


class MaintenanceWindow(BaseModel):
    """One announced window, in absolute time (write it with a zone: `2026-11-27T02:00Z`)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    start: AwareDatetime
    end: AwareDatetime

    @model_validator(mode="after")
    def _ends_after_it_starts(self) -> Self:
        if self.end <= self.start:
            raise ValueError("end must be after start")
        return self


class MaintenanceSchedule:
    """Every provider's windows, and the lead time traffic drains before each one."""

    def __init__(
        self, windows: Mapping[str, Sequence[MaintenanceWindow]], drain_seconds: float
    ) -> None:
        self._windows = {
            name: sorted(found, key=lambda w: w.start) for name, found in windows.items()
        }
        self._drain = timedelta(seconds=drain_seconds)

    def announce(self, provider: str, window: MaintenanceWindow) -> None:
        """Add a window at run time (a provider's status page announced one)."""
        self._windows.setdefault(provider, []).append(window)
        self._windows[provider].sort(key=lambda w: w.start)

    def draining(self, provider: str, now: datetime | None = None) -> bool:
        """True from `drain_seconds` before a window opens until it closes."""
        windows = self._windows.get(provider)
        if not windows:  # the usual case: nothing announced, no clock read
            return False
        moment = now or datetime.now(UTC)
        return any(window.start - self._drain <= moment < window.end for window in windows)

    def next_window(self, provider: str, now: datetime | None = None) -> MaintenanceWindow | None:
        """The current or next window of `provider`, if any is announced."""
        moment = now or datetime.now(UTC)
        upcoming = [w for w in self._windows.get(provider, ()) if w.end > moment]
        return upcoming[0] if upcoming else None
