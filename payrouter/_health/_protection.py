"""Protection at peak: per-provider rate limits and bulkheads, a global retry budget, and the
success-rate windows routing reads.

- A token bucket per provider matches its published quota; a 429 halves the bucket's rate and
  each quiet second gives a tenth back (additive increase, multiplicative decrease, as TCP
  does), so a throttling provider is asked less before it has to say so again.
- A bulkhead caps the calls in flight per provider, so one slow provider cannot hold every
  connection and task of the process.
- The retry budget lets retries be at most `ratio` of first attempts over a sliding window
  (plus a small floor), as service meshes' retry budgets do: a provider's bad minute cannot
  become a retry storm.

None of these waits: a provider without a token or a free slot is skipped like an open
breaker (nothing is sent, no ledger row), and when every eligible provider is skipped for
capacity, `pay` raises `CapacityExhaustedError` at once instead of queueing. With shared
state (Redis) the buckets, the budget and the windows are shared by every worker process;
without it, or while Redis is unreachable, each process keeps its own. Written by hand: the
libraries for these (aiolimiter, limits) have no AIMD, no retry budget, and no fallback from
Redis to process-local state.
"""

from __future__ import annotations

import time
from collections import defaultdict, deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .._models import PaymentMethod
from .._settings import RetryBudgetSettings

if TYPE_CHECKING:
    from ._shared import SharedState

__all__ = ["Protection", "ProviderLimits", "Slot"]

_DECREASE: float = 0.5
_RECOVERY_PER_SECOND: float = 0.1  # of the configured rate
_FLOOR: float = 0.05  # of the configured rate: never below, so the provider can recover


@dataclass(frozen=True, slots=True)
class ProviderLimits:
    """A provider's published quota and how many calls may be in flight to it at once."""

    rate_per_second: float | None = None
    burst: int | None = None
    max_concurrent: int | None = None


@dataclass(slots=True)
class _Bucket:
    """A token bucket whose rate follows AIMD on 429s."""

    rate: float
    burst: float
    tokens: float
    current: float
    updated: float
    last_throttle: float = 0.0

    def take(self, now: float) -> bool:
        quiet = now - max(self.last_throttle, self.updated)
        if quiet > 0 and self.current < self.rate:
            self.current = min(self.rate, self.current + self.rate * _RECOVERY_PER_SECOND * quiet)
        self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.current)
        self.updated = now
        if self.tokens < 1.0:
            return False
        self.tokens -= 1.0
        return True

    def throttled(self, now: float) -> None:
        self.current = max(self.rate * _FLOOR, self.current * _DECREASE)
        self.tokens = min(self.tokens, 0.0)
        self.last_throttle = now


@dataclass(slots=True)
class _Counts:
    """Per-second buckets over a sliding window: (second, first attempts, retries)."""

    window: float
    seconds: deque[list[float]] = field(default_factory=deque)

    def add(self, now: float, attempts: int = 0, retries: int = 0) -> None:
        second = float(int(now))
        if not self.seconds or self.seconds[-1][0] != second:
            self.seconds.append([second, 0.0, 0.0])
        self.seconds[-1][1] += attempts
        self.seconds[-1][2] += retries
        self._trim(now)

    def totals(self, now: float) -> tuple[float, float]:
        self._trim(now)
        return sum(s[1] for s in self.seconds), sum(s[2] for s in self.seconds)

    def _trim(self, now: float) -> None:
        while self.seconds and self.seconds[0][0] <= now - self.window:
            self.seconds.popleft()


@dataclass(frozen=True, slots=True)
class Slot:
    """A provider's bulkhead slot, held for the length of one attempt."""

    provider: str


class Protection:
    """The rate limits, bulkheads, retry budget and success windows of one router."""

    def __init__(
        self,
        limits: Mapping[str, ProviderLimits],
        budget: RetryBudgetSettings,
        *,
        success_window_seconds: float = 60.0,
        min_samples: int = 20,
        shared: SharedState | None = None,
    ) -> None:
        now = time.monotonic()
        self._limits = dict(limits)
        self._buckets = {
            name: _Bucket(rate, burst, burst, rate, now)
            for name, limit in limits.items()
            if (rate := limit.rate_per_second) is not None
            for burst in [float(limit.burst or max(1, int(rate)))]
        }
        self._in_flight: dict[str, int] = defaultdict(int)
        self._budget = budget
        self._budget_counts = _Counts(budget.window_seconds)
        self._success: dict[tuple[str, PaymentMethod], _Counts] = {}
        self._success_window = success_window_seconds
        self._min_samples = min_samples
        self._shared = shared

    # -- rate limits and bulkheads ---------------------------------------------------------

    def takes_tokens(self, provider: str) -> bool:
        """True when a call to `provider` spends a rate-limit token, which is never given back
        (a bulkhead place is: `leave`)."""
        return provider in self._buckets

    async def enter(self, provider: str) -> Slot | str:
        """A slot for one attempt at `provider`, or why not: "bulkhead_full"/"rate_limited"."""
        limit = self._limits.get(provider)
        if limit is None:
            return Slot(provider)
        if limit.max_concurrent is not None and self._in_flight[provider] >= limit.max_concurrent:
            return "bulkhead_full"
        if not await self._take_token(provider, limit):
            return "rate_limited"
        self._in_flight[provider] += 1
        return Slot(provider)

    def leave(self, slot: Slot) -> None:
        if slot.provider in self._limits:
            self._in_flight[slot.provider] = max(0, self._in_flight[slot.provider] - 1)

    async def _take_token(self, provider: str, limit: ProviderLimits) -> bool:
        bucket = self._buckets.get(provider)
        if bucket is None:
            return True
        if self._shared is not None:
            shared = await self._shared.take_token(provider, bucket.rate, bucket.burst)
            if shared is not None:
                return shared  # Redis answered for every worker; else fall back to our own
        return bucket.take(time.monotonic())

    def throttled(self, provider: str) -> None:
        """The provider answered 429: slow down (and tell the other workers)."""
        bucket = self._buckets.get(provider)
        if bucket is not None:
            bucket.throttled(time.monotonic())
            if self._shared is not None:
                self._shared.throttled(provider, bucket.rate * _FLOOR)

    def all_tokens(self) -> dict[str, float]:
        """Tokens left per rate-limited provider, in this process (for metrics)."""
        return {name: bucket.tokens for name, bucket in self._buckets.items()}

    def tokens(self, provider: str) -> float | None:
        """Tokens left in the provider's bucket in this process (for metrics)."""
        bucket = self._buckets.get(provider)
        return None if bucket is None else bucket.tokens

    # -- the retry budget ------------------------------------------------------------------

    def first_attempt(self) -> None:
        self._budget_counts.add(time.time(), attempts=1)
        if self._shared is not None:
            self._shared.count("attempts")

    def allow_retry(self) -> bool:
        """Spend one retry if the budget has one left; False means: do not retry."""
        now = time.time()
        attempts, retries = self._budget_counts.totals(now)
        if self._shared is not None and (seen := self._shared.budget_totals()) is not None:
            attempts, retries = max(attempts, seen[0]), max(retries, seen[1])
        budget = self._budget
        allowed = budget.ratio * attempts + budget.min_per_second * budget.window_seconds
        if retries + 1 > allowed:
            return False
        self._budget_counts.add(now, retries=1)
        if self._shared is not None:
            self._shared.count("retries")
        return True

    def retry_budget_left(self) -> float:
        attempts, retries = self._budget_counts.totals(time.time())
        budget = self._budget
        return budget.ratio * attempts + budget.min_per_second * budget.window_seconds - retries

    # -- success windows -------------------------------------------------------------------

    def record(self, provider: str, method: PaymentMethod, healthy: bool) -> None:
        """One attempt's health: succeeded or refused for the customer's reasons, or not."""
        key = (provider, method)
        counts = self._success.get(key)
        if counts is None:
            counts = self._success[key] = _Counts(self._success_window)
        counts.add(time.time(), attempts=1, retries=int(healthy))  # (total, healthy)
        if self._shared is not None:
            self._shared.record_health(provider, method, healthy)

    def success_rate(self, provider: str, method: PaymentMethod) -> float | None:
        """Healthy share of recent attempts at `provider` for `method`; None if too few."""
        total, healthy = 0.0, 0.0
        counts = self._success.get((provider, method))
        if counts is not None:
            total, healthy = counts.totals(time.time())
        if self._shared is not None and (seen := self._shared.health_totals(provider, method)):
            total, healthy = max(total, seen[0]), max(healthy, seen[1])
        return None if total < self._min_samples else healthy / total
