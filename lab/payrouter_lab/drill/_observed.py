"""What the drill reads from payrouter's events while it pays: per payment, and breakers."""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable

from payrouter.instrumentation import (
    AttemptFinished,
    AttemptStarted,
    BreakerStateChanged,
    CandidateSkipped,
    Event,
    PaymentShed,
    RetryScheduled,
)

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
        elif isinstance(event, CandidateSkipped) and event.reason == "breaker_open":
            self.skips[event.order_id] += 1
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
