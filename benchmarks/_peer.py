"""The overhead benchmark's peer and its memory probe.

The peer is the same adapter wrapped the way a merchant hand-rolls resilience around one
provider SDK: a pybreaker circuit breaker, tenacity retries with backoff, and try/except
around it all. It is what payrouter replaces, so its cost is the fair comparison: the
router's ratio against it says what the ledger, the taxonomy and failover cost on top.

The memory probe holds `count` payments in flight at once (their provider call waits on a
gate), reads this process's resident set size, then lets them finish.
"""

from __future__ import annotations

import asyncio
import gc
import resource
from collections.abc import Sequence
from pathlib import Path

import httpx
import pybreaker
from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_attempt, wait_exponential

from payrouter import (
    AdmissionSettings,
    OutboxSettings,
    PaymentRequest,
    PaymentStatus,
    Router,
    RouterSettings,
)
from payrouter.provider import Charge, FailureKind, Outcome, ProviderReply
from payrouter.testing import SimulatedAdapter, SimulatedProvider

__all__ = ["HandRolled", "rss_with_payments_in_flight"]

_RETRYABLE = frozenset(
    {
        FailureKind.BUSY,
        FailureKind.RATE_LIMITED,
        FailureKind.PROVIDER_DOWN,
        FailureKind.NETWORK_BEFORE_SEND,
    }
)


class _TryAgain(Exception):  # noqa: N818 - tenacity's signal, not an error
    pass


class HandRolled:
    """C: `adapter.pay` behind pybreaker, inside tenacity retries, inside try/except."""

    def __init__(self, adapter: SimulatedAdapter) -> None:
        self._adapter = adapter
        self._breaker = pybreaker.CircuitBreaker(fail_max=5, reset_timeout=30)

    async def pay(self, charge: Charge) -> ProviderReply | None:
        retrying = AsyncRetrying(
            stop=stop_after_attempt(3),
            wait=wait_exponential(multiplier=0.05, max=1.0),
            retry=retry_if_exception_type((httpx.HTTPError, _TryAgain)),
            reraise=True,
        )
        try:
            async for attempt in retrying:
                with attempt, self._breaker.calling():
                    reply = await self._adapter.pay(charge, idempotency_key=charge.reference)
                    if reply.outcome is Outcome.FAILED and reply.failure_kind in _RETRYABLE:
                        raise _TryAgain
                    return reply
        except (pybreaker.CircuitBreakerError, httpx.HTTPError, _TryAgain):
            return None
        return None


class _Gated(SimulatedAdapter):
    """A simulated provider whose calls wait until the gate opens."""

    def __init__(self, provider: SimulatedProvider) -> None:
        super().__init__(provider)
        self.gate = asyncio.Event()
        self.waiting = 0

    async def pay(self, charge: Charge, *, idempotency_key: str) -> ProviderReply:
        self.waiting += 1
        await self.gate.wait()
        return await super().pay(charge, idempotency_key=idempotency_key)


def _rss_mb() -> float:
    """Resident set size now (Linux /proc), else the peak from getrusage."""
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def rss_with_payments_in_flight(
    ledger_url: str, requests: Sequence[PaymentRequest]
) -> dict[str, float]:
    """RSS before, and with every request in flight at once (each past its ledger writes,
    waiting on its provider call). Admission is off here: starting 10,000 payments in one
    go makes the event loop lag, and the adaptive limit would rightly shed some of them."""
    adapter = _Gated(SimulatedProvider("card_memory"))
    count = len(requests)
    settings = RouterSettings(  # held at the gate as long as it takes to start them all
        admission=AdmissionSettings(enabled=False),
        deadline_seconds=3600.0,
        lease_seconds=7200.0,
        outbox=OutboxSettings(lease_seconds=7200.0),
    )
    async with Router([adapter], ledger=ledger_url, settings=settings, hooks=()) as router:
        gc.collect()
        before = _rss_mb()
        tasks = [asyncio.create_task(router.pay(request)) for request in requests]
        while adapter.waiting < count:
            await asyncio.sleep(0.01)
            if any(task.done() for task in tasks):
                raise SystemExit("benchmark broken: a payment finished before the gate opened")
        gc.collect()
        during = _rss_mb()
        adapter.gate.set()
        results = await asyncio.gather(*tasks)
    if any(result.status is not PaymentStatus.SUCCEEDED for result in results):
        raise SystemExit("benchmark broken: a payment held in flight did not succeed")
    return {
        "in_flight": float(count),
        "rss_mb_before": before,
        "rss_mb_in_flight": during,
        "rss_kb_per_payment_in_flight": (during - before) * 1024 / count,
    }
