"""The router's health surface: what a checkout page may offer now, and what operators read.

A mixin of `Router`, kept apart because it is one job (how healthy are the providers and
this process?) that never moves money, while `_router.py` holds the payment surface.
"""

from __future__ import annotations

import time
from datetime import datetime

from .._adapter import Adapter
from .._errors import PayrouterError
from .._ledger import Ledger, ProviderHealth
from .._models import PaymentMethod
from .._money import Money
from ._admission import Admission
from ._breakers import BreakerBoard
from ._maintenance import MaintenanceSchedule, MaintenanceWindow
from ._protection import Protection

__all__ = ["HealthMethods"]

_SHED_FLUSH_SECONDS = 5.0


class HealthMethods:
    """Read-only views of breakers, limits, maintenance windows and admission (and one
    write: a maintenance window the provider announced at run time)."""

    _ledger: Ledger
    _adapters: tuple[Adapter, ...]
    _board: BreakerBoard
    _protection: Protection
    _maintenance: MaintenanceSchedule
    _admission: Admission
    _owner: str
    _sheds_flushed_at: float

    def _require_open(self) -> None:  # pragma: no cover - Router's own replaces it
        raise NotImplementedError

    async def _flush_sheds_when_due(self) -> None:
        if time.monotonic() - self._sheds_flushed_at >= _SHED_FLUSH_SECONDS:
            await self._flush_sheds()

    async def _flush_sheds(self) -> None:
        """Write this process's new shed count to the ledger, for every process's status.
        A ledger that cannot be written keeps the count for the next flush."""
        self._sheds_flushed_at = time.monotonic()
        count = self._admission.take_unflushed()
        if not count:
            return
        try:
            await self._ledger.record_sheds(self._owner, time.time(), count)
        except PayrouterError:
            self._admission.put_back(count)

    def available_methods(
        self, country: str, currency: str, amount: Money
    ) -> tuple[PaymentMethod, ...]:
        """The methods a checkout page should offer right now: at least one provider can
        legally and technically take them and is neither in maintenance nor behind an open
        breaker. Hide a wallet that is down before the customer picks it."""
        if amount.currency != currency:
            raise ValueError(f"amount is in {amount.currency}, not {currency}: pass one currency")
        methods: dict[PaymentMethod, None] = {}
        for adapter in self._adapters:
            for method in sorted(adapter.capabilities.methods):
                if not adapter.capabilities.accepts(method, amount, country):
                    continue
                if self._maintenance.draining(adapter.name) or self._board.is_open(
                    adapter.name, method
                ):
                    continue
                methods[method] = None
        return tuple(methods)

    async def provider_health(self, *, minutes: float = 15.0) -> list[ProviderHealth]:
        """Attempts and success rate per (provider, method) over the last `minutes`, from
        the ledger: every process's attempts, not only this one's."""
        self._require_open()
        return await self._ledger.provider_health(time.time() - minutes * 60)

    def success_rate(self, provider: str, method: PaymentMethod) -> float | None:
        """Healthy share of recent attempts at `provider` for `method` (every worker's, with
        shared state); None until there are enough of them to say."""
        return self._protection.success_rate(provider, method)

    def announce_maintenance(self, provider: str, start: datetime, end: datetime) -> None:
        """A provider announced a window at run time: drain before it, return after."""
        self._maintenance.announce(provider, MaintenanceWindow(start=start, end=end))

    def next_maintenance(self, provider: str) -> MaintenanceWindow | None:
        """The provider's current or next announced window, if any."""
        return self._maintenance.next_window(provider)

    def rate_limit_tokens(self) -> dict[str, float]:
        """Tokens left in each rate-limited provider's bucket in this process (metrics)."""
        return self._protection.all_tokens()

    def admission_state(self) -> dict[str, float]:
        """This process's admission: its adaptive `limit`, payments `in_flight`, payments
        `shed` since it started, and the event loop's last measured `lag_ms` (metrics)."""
        state = self._admission.state()
        return {
            "limit": float(state.limit),
            "in_flight": float(state.in_flight),
            "shed": float(state.shed),
            "lag_ms": state.lag_ms,
        }

    async def shed_count(self, *, minutes: float = 15.0) -> int:
        """Payments every process refused at admission over the last `minutes`, from the
        ledger (each process writes its count every few seconds while shedding, and on close).
        """
        self._require_open()
        since = time.time() - minutes * 60
        return await self._ledger.shed_count(since)

    def retry_budget_left(self) -> float:
        """Retries this process may still spend in the current window."""
        return self._protection.retry_budget_left()

    def breaker_states(self) -> dict[tuple[str, PaymentMethod], str]:
        """The state of every breaker used so far, keyed by (provider, method)."""
        return self._board.states()
