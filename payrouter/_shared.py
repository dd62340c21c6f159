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
from collections.abc import Callable, Sequence
from typing import Final
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from redis.asyncio import Redis
from redis.exceptions import RedisError

from ._hooks import Hook, SharedStateChanged, emit
from ._models import PaymentMethod

__all__ = ["SharedBreakers"]

_LOG: Final = logging.getLogger("payrouter")
BreakerKey = tuple[str, PaymentMethod]


class SharedBreakers:
    """The shared "open until" of every breaker, cached in memory and synced with Redis."""

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
        self._redis = Redis.from_url(
            url, socket_timeout=timeout_seconds, socket_connect_timeout=timeout_seconds
        )
        self._hooks = hooks
        self._prefix = prefix
        self._sync_seconds = sync_seconds
        self._open_until: dict[BreakerKey, float] = {}
        self._known: set[BreakerKey] = set()
        self._writes: set[asyncio.Task[None]] = set()
        self._task: asyncio.Task[None] | None = None
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
        while True:
            await asyncio.sleep(self._sync_seconds)
            await self._sync()

    async def _sync(self) -> None:
        keys = sorted(self._known, key=lambda key: (key[0], key[1].value))
        if not keys:
            return
        try:
            values = await self._redis.mget([self._key(key) for key in keys])
        except (RedisError, OSError) as error:
            self._mark(available=False, reason=f"cannot read shared breakers: {error}")
            return
        self._mark(available=True, reason="read succeeded")
        now = time.time()
        for key, value in zip(keys, values, strict=True):
            if value is None:
                continue
            until = float(value)
            if until > self._open_until.get(key, 0.0):
                self._open_until[key] = until
                if until > now:
                    self.on_opened(key)

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
