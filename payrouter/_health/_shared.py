"""Breaker state shared by every worker process through Redis, off the payment's hot path.

When one worker's breaker for a provider opens, it writes "open until T" to Redis; every
worker reads all breakers' shared state in one `MGET` per `sync_seconds` on a background
task, and refuses the provider until T. So a provider that went down for one worker is
avoided by all within one breaker window (plus one sync interval), and a payment never waits
on Redis: its breakers are checked in memory.

Why not pybreaker's `CircuitRedisStorage`: it uses the synchronous redis client and reads
and writes Redis inside every call, so each payment would block the event loop on several
round trips, and an unreachable Redis would stall every payment for its socket timeout. Here
a Redis outage only stops the sharing: the process keeps its own breakers, says so once
(a `SharedStateChanged` event and a log record), and resumes sharing when Redis answers.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import Counter
from collections.abc import Callable, Coroutine, Sequence
from typing import Any, Final
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from redis.asyncio import BlockingConnectionPool, Redis
from redis.exceptions import RedisError

from .._models import PaymentMethod
from ..instrumentation._events import Hook, SharedStateChanged, emit

__all__ = ["SharedBreakers", "SharedState"]

_LOG: Final = logging.getLogger("payrouter")
BreakerKey = tuple[str, PaymentMethod]

# A token bucket in one atomic step: refill by the current rate since the last take, recover
# the rate by a tenth of the quota per quiet second (it was halved on a 429), take one token.
_BUCKET_SCRIPT: Final = """
local rate, burst, now = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'updated', 'current')
local tokens = tonumber(state[1]) or burst
local updated = tonumber(state[2]) or now
local current = tonumber(state[3]) or rate
local quiet = math.max(0, now - updated)
current = math.min(rate, current + rate * 0.1 * quiet)
tokens = math.min(burst, tokens + quiet * current)
local taken = 0
if tokens >= 1 then tokens = tokens - 1; taken = 1 end
redis.call('HSET', KEYS[1], 'tokens', tokens, 'updated', now, 'current', current)
redis.call('EXPIRE', KEYS[1], 3600)
return taken
"""


class SharedState:
    """What every worker shares through Redis: breakers' "open until", token buckets, the
    retry budget's and the success windows' counts. Reads are cached and synced in the
    background; only a token is taken from Redis on the hot path (it must be exact)."""

    def __init__(
        self,
        url: str,
        *,
        hooks: Sequence[Hook],
        prefix: str = "payrouter:",
        sync_seconds: float = 0.1,
        timeout_seconds: float = 0.25,
    ) -> None:
        url, prefix = _prefix_from(url, prefix)
        # A blocking pool: at peak the background count writes wait briefly for one of its
        # connections instead of failing with "Too many connections" (redis-py's default pool
        # refuses past 100), which would wrongly mark Redis unreachable.
        pool = BlockingConnectionPool.from_url(
            url,
            max_connections=64,
            timeout=timeout_seconds,
            socket_timeout=timeout_seconds,
            socket_connect_timeout=timeout_seconds,
        )
        self._redis = Redis.from_pool(pool)
        self._hooks = hooks
        self._prefix = prefix
        self._sync_seconds = sync_seconds
        self._open_until: dict[BreakerKey, float] = {}
        self._take = self._redis.register_script(_BUCKET_SCRIPT)
        self._budget_window = 10
        self._budget: tuple[float, float] | None = None
        self._health: dict[BreakerKey, tuple[float, float]] = {}
        self._health_window = 60
        self._known: set[BreakerKey] = set()
        self._writes: set[asyncio.Task[None]] = set()
        self._unsent: Counter[str] = Counter()
        self._ttls: dict[str, int] = {}
        self._task: asyncio.Task[None] | None = None
        self._closing = False
        self._available = True
        self.on_opened: Callable[[BreakerKey], None] = lambda key: None
        """Told when another worker's breaker opened, so waiting retries can give up."""

    def _key(self, key: BreakerKey) -> str:
        return f"{self._prefix}breaker:{key[0]}:{key[1].value}"

    async def start(self) -> None:
        """Begin syncing in the background; the first sync happens before this returns."""
        await self._sync()
        self._task = asyncio.create_task(self._sync_forever(), name="payrouter-shared-breakers")

    async def close(self) -> None:
        self._closing = True
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._writes:
            await asyncio.gather(*self._writes, return_exceptions=True)
        await self._redis.aclose()

    def watch(self, key: BreakerKey) -> None:
        """Include this breaker in the syncs (the router registers each one it may use)."""
        self._known.add(key)

    def is_open(self, key: BreakerKey) -> bool:
        """True while some worker's breaker for `key` is open, as of the last sync."""
        return time.time() < self._open_until.get(key, 0.0)

    def opened(self, key: BreakerKey, seconds: float) -> None:
        """This worker's breaker opened: tell the others (in the background, never waited on)."""
        until = time.time() + seconds
        self._open_until[key] = max(self._open_until.get(key, 0.0), until)
        task = asyncio.get_running_loop().create_task(self._publish(key, until, seconds))
        self._writes.add(task)
        task.add_done_callback(self._writes.discard)

    async def _publish(self, key: BreakerKey, until: float, seconds: float) -> None:
        try:
            await self._redis.set(self._key(key), repr(until), px=max(1, int(seconds * 1000)))
            self._mark(available=True, reason="write succeeded")
        except (RedisError, OSError) as error:
            self._mark(available=False, reason=f"cannot share a breaker opening: {error}")

    async def _sync_forever(self) -> None:
        # A flag as well as the cancellation: on Python 3.11, a cancel that lands while a
        # Redis call's own timeout fires can be turned into that TimeoutError (which `_sync`
        # handles as "Redis unreachable"), and a loop relying on the cancel alone would run on
        # and hang `close()`. Seen in the tests; the flag ends it at the next turn.
        while not self._closing:
            await asyncio.sleep(self._sync_seconds)
            if not self._closing:
                await self._sync()

    async def _sync(self) -> None:
        keys = sorted(self._known, key=lambda key: (key[0], key[1].value))
        now = int(time.time())
        budget_keys = [
            self._count_key(kind, second)
            for second in range(now - self._budget_window + 1, now + 1)
            for kind in ("attempts", "retries")
        ]
        windows = range(now // 10 - self._health_window // 10 + 1, now // 10 + 1)
        health_keys = [
            self._health_key(key, kind, window)
            for key in keys
            for window in windows
            for kind in ("total", "healthy")
        ]
        # This worker's counts since the last sync, and their keys' lifetimes: both taken
        # whole, so a long-running process keeps nothing for a key once it was sent.
        unsent, self._unsent = self._unsent, Counter()
        ttls, self._ttls = self._ttls, {}
        try:
            async with self._redis.pipeline(transaction=False) as pipe:
                for counted, amount in unsent.items():
                    pipe.incrby(counted, amount)
                    pipe.expire(counted, ttls.get(counted, 120))
                pipe.mget([self._key(key) for key in keys] + budget_keys + health_keys)
                values = (await pipe.execute())[-1]
        except (RedisError, OSError) as error:
            self._unsent.update(unsent)  # keep them for the next sync
            self._ttls.update(ttls)
            self._mark(available=False, reason=f"cannot sync shared state: {error}")
            return
        self._mark(available=True, reason="read succeeded")
        counts = [float(value or 0) for value in values[len(keys) :]]
        budget, health = counts[: len(budget_keys)], counts[len(budget_keys) :]
        self._budget = (sum(budget[0::2]), sum(budget[1::2]))
        per_key = 2 * len(windows)
        for index, key in enumerate(keys):
            mine = health[index * per_key : (index + 1) * per_key]
            self._health[key] = (sum(mine[0::2]), sum(mine[1::2]))
        values = values[: len(keys)]
        moment = time.time()
        for key, value in zip(keys, values, strict=True):
            if value is None:
                continue
            until = float(value)
            if until > self._open_until.get(key, 0.0):
                self._open_until[key] = until
                if until > moment:
                    self.on_opened(key)

    # -- rate limits, retry budget, success windows ------------------------------------------

    async def take_token(self, provider: str, rate: float, burst: float) -> bool | None:
        """Take one token from the provider's bucket shared by every worker; None when Redis
        cannot answer (the caller then uses its own bucket)."""
        try:
            taken = await self._take(
                keys=[f"{self._prefix}bucket:{provider}"], args=[rate, burst, time.time()]
            )
        except (RedisError, OSError) as error:
            self._mark(available=False, reason=f"cannot take a shared token: {error}")
            return None
        self._mark(available=True, reason="token taken")
        return bool(taken)

    def throttled(self, provider: str, floor: float) -> None:
        """Halve the shared bucket's rate (never below `floor`)."""
        self._background(self._halve(provider, floor))

    async def _halve(self, provider: str, floor: float) -> None:
        key = f"{self._prefix}bucket:{provider}"
        current = await self._redis.hget(key, "current")
        if current is not None:
            await self._redis.hset(key, mapping={"current": max(floor, float(current) / 2)})

    def count(self, kind: str) -> None:
        """One more first attempt or retry, for every worker's budget (sent with the next
        sync, added up: one pipelined write per sync, however many payments)."""
        key = self._count_key(kind, int(time.time()))
        self._unsent[key] += 1
        self._ttls[key] = self._budget_window + 5

    def budget_totals(self) -> tuple[float, float] | None:
        """(first attempts, retries) of every worker over the budget window, as last synced."""
        return self._budget if self._available else None

    def record_health(self, provider: str, method: PaymentMethod, healthy: bool) -> None:
        window = int(time.time()) // 10
        key = (provider, method)
        self.watch(key)
        for kind in ("total", "healthy") if healthy else ("total",):
            counted = self._health_key(key, kind, window)
            self._unsent[counted] += 1
            self._ttls[counted] = self._health_window + 20

    def health_totals(self, provider: str, method: PaymentMethod) -> tuple[float, float] | None:
        """(attempts, healthy attempts) of every worker over the window, as last synced."""
        return self._health.get((provider, method)) if self._available else None

    def _count_key(self, kind: str, second: int) -> str:
        return f"{self._prefix}budget:{kind}:{second}"

    def _health_key(self, key: BreakerKey, kind: str, window: int) -> str:
        return f"{self._prefix}health:{key[0]}:{key[1].value}:{kind}:{window}"

    def _background(self, work: Coroutine[Any, Any, None]) -> None:
        async def guarded() -> None:
            try:
                await work
            except (RedisError, OSError) as error:
                self._mark(available=False, reason=f"cannot write shared state: {error}")

        task = asyncio.get_running_loop().create_task(guarded())
        self._writes.add(task)
        task.add_done_callback(self._writes.discard)

    def _mark(self, *, available: bool, reason: str) -> None:
        """Say once when sharing stops, and once when it resumes."""
        if available == self._available:
            return
        self._available = available
        if not available:
            _LOG.warning("shared state unavailable, using this process's own: %s", reason)
        emit(self._hooks, SharedStateChanged(available, reason))


def _prefix_from(url: str, default: str) -> tuple[str, str]:
    """`redis://host/0?prefix=shop-eu:` puts this deployment's keys under their own prefix
    (one Redis serving several shops or environments); the parameter is ours, not Redis's."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    prefixes = [value for name, value in query if name == "prefix"]
    rest = urlencode([(name, value) for name, value in query if name != "prefix"])
    return urlunsplit(parts._replace(query=rest)), (prefixes[-1] if prefixes else default)


# The name this class had before it shared more than breakers; kept so modules still
# importing it keep type-checking until they move to SharedState.
SharedBreakers = SharedState
