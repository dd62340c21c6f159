"""`SyncRouter`: the async router driven from synchronous code (Django views, scripts).

It shares the async core, never a copy of it: every call is the same coroutine, run on a
private event loop in a background thread, so it also works where a loop is already running.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine, Mapping
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Self, TypeVar

from ._errors import RouterClosedError
from ._followups import FollowUp, OutboxStats
from ._models import Mandate, PaymentMethod, PaymentRequest, PaymentResult
from ._money import Money
from ._reconcile._payments import ReconcileReport
from ._reconcile._records import RecordsReport
from ._router import Router

__all__ = ["SyncRouter"]

T = TypeVar("T")


class SyncRouter:
    """Blocking twin of `Router`: `with SyncRouter(router) as payments: payments.pay(request)`."""

    def __init__(self, router: Router) -> None:
        self.router = router
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="payrouter-sync", daemon=True
        )
        self._thread.start()
        self._run(router.open())

    @classmethod
    def from_config(cls, path: str | Path) -> SyncRouter:
        """Build from a YAML or TOML config file, like `Router.from_config`."""
        return cls(Router.from_config(path))

    def _run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        if self._loop.is_closed():
            coroutine.close()
            raise RouterClosedError("this SyncRouter is closed: create a new one")
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result()

    def run_coroutine(self, coroutine: Coroutine[Any, Any, T]) -> T:
        """Run one of the router's coroutines on this facade's loop and wait for it (what
        payrouter's own synchronous entry points, such as the Django webhook view, use)."""
        return self._run(coroutine)

    def pay(self, request: PaymentRequest) -> PaymentResult:
        """See `Router.pay`."""
        return self._run(self.router.pay(request))

    def lookup(self, order_id: str) -> PaymentResult | None:
        """See `Router.lookup`."""
        return self._run(self.router.lookup(order_id))

    def refresh(
        self, order_id: str, *, details: Mapping[str, str] | None = None
    ) -> PaymentResult | None:
        """See `Router.refresh`."""
        return self._run(self.router.refresh(order_id, details=details))

    def reconcile(self, *, limit: int = 1000) -> ReconcileReport:
        """See `Router.reconcile`."""
        return self._run(self.router.reconcile(limit=limit))

    def capture(
        self, payment: PaymentResult | str, amount: Money | None = None, *, key: str | None = None
    ) -> FollowUp:
        """See `Router.capture`."""
        return self._run(self.router.capture(payment, amount, key=key))

    def refund(
        self,
        payment: PaymentResult | str,
        amount: Money | None = None,
        *,
        reason: str | None = None,
        key: str | None = None,
    ) -> FollowUp:
        """See `Router.refund`."""
        return self._run(self.router.refund(payment, amount, reason=reason, key=key))

    def void(self, payment: PaymentResult | str, *, key: str | None = None) -> FollowUp:
        """See `Router.void`."""
        return self._run(self.router.void(payment, key=key))

    def cancel_mandate(self, mandate: Mandate, *, key: str | None = None) -> FollowUp:
        """See `Router.cancel_mandate`."""
        return self._run(self.router.cancel_mandate(mandate, key=key))

    def followups(self, payment: PaymentResult | str) -> list[FollowUp]:
        """See `Router.followups`."""
        return self._run(self.router.followups(payment))

    def process_outbox(self, *, limit: int | None = None) -> list[FollowUp]:
        """See `Router.process_outbox`."""
        return self._run(self.router.process_outbox(limit=limit))

    def read_outbox_stats(self) -> OutboxStats:
        """See `Router.read_outbox_stats`."""
        return self._run(self.router.read_outbox_stats())

    def compare_records(
        self, since: datetime, until: datetime, *, keep: bool = True
    ) -> RecordsReport:
        """See `Router.compare_records`."""
        return self._run(self.router.compare_records(since, until, keep=keep))

    def available_methods(
        self, country: str, currency: str, amount: Money
    ) -> tuple[PaymentMethod, ...]:
        """See `Router.available_methods`."""
        return self.router.available_methods(country, currency, amount)

    def healthy_methods(self, request: PaymentRequest) -> tuple[PaymentMethod, ...]:
        """See `Router.healthy_methods`."""
        return self.router.healthy_methods(request)

    def close(self) -> None:
        """Close the router and stop the background loop."""
        if self._loop.is_running():
            self._run(self.router.close())
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join()
            self._loop.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()
