"""Admission: may this process start one more payment now, or is it too slow to pay it in time?

On a promotion day the merchant's own servers are busy too. A process that takes every payment
it is handed, while its event loop lags, sends requests late and reads their answers late; its
deadlines then fire after the request left, and a payment that could have been refused cleanly
becomes an unknown outcome, money in limbo. So a payment is admitted only while the process
keeps up, and is refused at the door (`CapacityExhaustedError`: nothing written, nothing sent)
when it does not.

The limit on payments in flight is adaptive, as Netflix's concurrency-limits `AIMDLimit`: each
sample of how late the process runs either backs the limit off multiplicatively (late: above
`target_lag_seconds`, at most once per probe interval) or, while the limit is actually being
used, adds one (on time). Two
signals feed it, both measures of "can this process call providers in time":

- event-loop lag: a probe task sleeps `probe_interval_seconds` and measures how much later
  than asked it woke (CPU-bound neighbours, a blocking call, too much work of our own);
- send delay: the time from admitting a payment to sending its first provider call (the claim,
  the attempt row, and every wait for the loop in between).

No fixed number is right for every machine, and this one is not a number but a feedback loop;
the floor `min_limit` keeps a trickle of payments going so the signal never starves.

Lateness alone over-sheds on a busy machine: CPU-bound neighbours make the loop late whatever
the router does, every sample is then late, and the limit falls to its floor while the process
could still pay far more than that in time. So the limit never backs off below what the
process has just shown it can serve within a payment's time before its first call (Little's
law): the payments it finished over the last second, times `budget_seconds` (half of the
deadline's part before the send budget). A payment admitted within that is sent in time by the
throughput the process actually has; only what is beyond it is shed. Written by
hand: the installable AIMD limiters are young single-author packages without a lag signal or an
injectable clock, and the loop is some forty lines.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from .._settings import AdmissionSettings

__all__ = ["Admission", "AdmissionState", "watch_lag"]

_WINDOW_SECONDS = 1.0


@dataclass(frozen=True, slots=True)
class AdmissionState:
    """What admission looks like now in this process (metrics, `router.admission_state()`)."""

    limit: int
    in_flight: int
    shed: int
    lag_ms: float


class Admission:
    """The adaptive limit on payments in flight in one process, and its shed count."""

    def __init__(
        self,
        params: AdmissionSettings,
        *,
        clock: Callable[[], float] = time.monotonic,
        budget_seconds: float = 0.0,
    ) -> None:
        self._params = params
        self._clock = clock
        self._budget = budget_seconds
        self._finished: deque[float] = deque()  # when recent payments finished (1 s window)
        self._limit = float(min(max(params.initial_limit, params.min_limit), params.max_limit))
        self._in_flight = 0
        self._shed = 0
        self._unflushed = 0
        self._lag = 0.0
        self._backed_off_at = -math.inf

    @property
    def limit(self) -> int:
        return int(self._limit)

    def admit(self) -> float | None:
        """Count one more payment in flight and return when it was admitted; None: shed it."""
        if self._params.enabled and self._in_flight >= int(self._limit):
            self._shed += 1
            self._unflushed += 1
            return None
        self._in_flight += 1
        return self._clock()

    def release(self) -> None:
        """A payment admitted earlier has finished, whatever its result."""
        self._in_flight = max(0, self._in_flight - 1)
        if self._budget > 0:
            self._finished.append(self._clock())
            self._forget_old()

    def _forget_old(self) -> None:
        window_start = self._clock() - _WINDOW_SECONDS
        while self._finished and self._finished[0] < window_start:
            self._finished.popleft()

    def served_floor(self) -> float:
        """The payments this process can have in flight and still send in time, by what it
        finished over the last second: never back off below it (or `min_limit`)."""
        self._forget_old()
        per_second = len(self._finished) / _WINDOW_SECONDS
        return max(float(self._params.min_limit), per_second * self._budget)

    def sent(self, admitted_at: float) -> None:
        """The payment admitted at `admitted_at` sends its first provider call now."""
        self.observe(self._clock() - admitted_at)

    def observe_lag(self, lag_seconds: float) -> None:
        """One event-loop lag sample from the probe (or any other measure of lateness)."""
        self._lag = max(0.0, lag_seconds)
        self.observe(self._lag)

    def observe(self, late_seconds: float) -> None:
        """AIMD on one sample: back off when late, grow by one while the limit is in use.

        One stall makes many payments late at once; like TCP's once per round trip, the limit
        backs off at most once per probe interval, so a burst of late samples from the same
        stall counts once, and a stall that lasts keeps backing it off every interval.
        """
        params = self._params
        if late_seconds > params.target_lag_seconds:
            now = self._clock()
            if now - self._backed_off_at >= params.probe_interval_seconds:
                self._backed_off_at = now
                self._limit = max(self.served_floor(), self._limit * params.backoff)
                self._limit = min(self._limit, float(params.max_limit))
        elif self._in_flight * 2 >= self._limit:
            self._limit = min(float(params.max_limit), self._limit + 1.0)

    def take_unflushed(self) -> int:
        """Payments shed since the last call, for the ledger's shared count."""
        count, self._unflushed = self._unflushed, 0
        return count

    def put_back(self, count: int) -> None:
        """A flush of `count` failed: keep them for the next one."""
        self._unflushed += count

    def state(self) -> AdmissionState:
        return AdmissionState(self.limit, self._in_flight, self._shed, self._lag * 1000.0)


async def watch_lag(
    admission: Admission,
    interval: float,
    *,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    every_round: Callable[[], Awaitable[None]] | None = None,
) -> None:
    """Measure the event loop's lag forever: ask to sleep `interval`, see how late we woke.

    `every_round` runs after each sample (the router flushes its shed count with it). Runs
    until cancelled; `clock` and `sleep` are injectable, so tests decide what lag is seen.
    """
    while True:
        asked = clock()
        await sleep(interval)
        admission.observe_lag(clock() - asked - interval)
        if every_round is not None:
            await every_round()
