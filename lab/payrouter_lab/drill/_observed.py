"""What the drill reads from payrouter's events while it pays: per payment, and breakers."""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable

from payrouter import PaymentMethod, PaymentStatus
from payrouter.instrumentation import (
    AttemptFinished,
    AttemptStarted,
    BreakerStateChanged,
    CandidateSkipped,
    Event,
    FailedOver,
    PaymentShed,
    RetryScheduled,
    RoutePlanned,
)

from ._card_failovers import card_failover
from ._figures import PaymentRecord
from ._traffic import Arrival

__all__ = ["Observed"]


class Observed:
    """What the drill reads from the router's events for each payment, and breaker changes."""

    def __init__(self, on_breaker: Callable[[dict[str, object]], None]) -> None:
        self.attempts: dict[str, list[tuple[str, str]]] = defaultdict(list)
        self.skips: dict[str, int] = defaultdict(int)
        self.retried: set[str] = set()
        self.shed: set[str] = set()
        self.call_started: dict[str, float] = {}
        self.breaker_events: list[dict[str, object]] = []
        self.card_route: dict[str, list[str]] = {}
        """Card providers in each payment's route: each holds a credential for its card."""
        self.card_excluded: dict[str, dict[str, str]] = {}
        """Card providers left out of each payment's route, and why."""
        self.card_left: dict[str, set[str]] = defaultdict(set)
        """Card providers the router moved on from or skipped, per payment."""
        self.clock_zero = time.monotonic()
        self._on_breaker = on_breaker

    def collect(self, event: Event) -> None:
        if isinstance(event, AttemptFinished):
            self.attempts[event.order_id].append((event.provider, event.outcome.value))
        elif isinstance(event, AttemptStarted):
            self.call_started[event.order_id] = time.perf_counter()  # the last attempt's wins
        elif isinstance(event, RetryScheduled):
            self.retried.add(event.order_id)
        elif isinstance(event, PaymentShed):
            self.shed.add(event.order_id)
        elif isinstance(event, CandidateSkipped):
            if event.reason == "breaker_open":
                self.skips[event.order_id] += 1
            if event.method is PaymentMethod.CARD:
                self.card_left[event.order_id].add(event.provider)
        elif isinstance(event, FailedOver) and event.method is PaymentMethod.CARD:
            self.card_left[event.order_id].add(event.from_provider)
        elif isinstance(event, RoutePlanned) and event.order_id not in self.card_route:
            self._route(event)
        elif isinstance(event, BreakerStateChanged):
            change: dict[str, object] = {
                "t": round(time.monotonic() - self.clock_zero, 3),
                "provider": event.provider,
                "method": event.method.value,
                "from": event.old_state,
                "to": event.new_state,
            }
            self.breaker_events.append(change)
            self._on_breaker(change)

    def record(
        self,
        arrival: Arrival,
        sent: float,
        status: PaymentStatus,
        method: PaymentMethod | None,
        taken_by: str | None,
    ) -> PaymentRecord:
        """The payment's record, once the router answered: `sent` is when it was asked (a
        `perf_counter` reading), `taken_by` the card provider that took it, if one did."""
        order_id = arrival.request.order_id
        started = self.call_started.get(order_id)
        return PaymentRecord(
            order_id=order_id,
            sent_at=arrival.at,
            latency_ms=(time.perf_counter() - sent) * 1000,
            status=status,
            attempts=self.attempts[order_id],
            method=method.value if method else arrival.request.sources[0].method.value,
            breaker_skips=self.skips[order_id],
            retried=order_id in self.retried,
            before_call_ms=None if started is None else (started - sent) * 1000,
            amount_minor=arrival.request.amount.minor_units,
            shed=order_id in self.shed,
            card_failover=card_failover(
                self.card_left.get(order_id, set()),
                self.card_route.get(order_id, []),
                self.card_excluded.get(order_id, {}),
                taken_by,
            ),
        )

    def _route(self, event: RoutePlanned) -> None:
        """Entries read `card_a/card fee=39` and `card_b: no credential for card_b in card #1`."""
        route = [entry.split()[0] for entry in event.route]
        self.card_route[event.order_id] = [
            entry.split("/")[0] for entry in route if entry.endswith("/card")
        ]
        excluded = (entry.partition(": ") for entry in event.excluded)
        self.card_excluded[event.order_id] = {
            provider: why for provider, _, why in excluded if " card #" in why
        }
