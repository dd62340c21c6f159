"""What shared state in Redis adds to one payment: `router.pay` with state in-process vs Redis.

Two routers over the same kind of simulated card provider and their own SQLite ledger files
(WAL), one with `state=None` and one with `state=<redis url>`; batches alternate so drift
hits both alike. Prints the median and p99 per payment of each and the ratio of medians.

    python benchmarks/state_cost.py [--redis redis://127.0.0.1:6390/0] [--payments 2000]

The target (Redis adds at most 10 %) is printed next to the figures, never asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path
from typing import Final

from pydantic import SecretStr

from payrouter import CardSource, Money, PaymentRequest, PaymentStatus, Router
from payrouter._ledger import SqlLedger
from payrouter.testing import SimulatedAdapter, SimulatedProvider

TARGET_RATIO: Final = 1.10
_AMOUNT: Final = Money(minor_units=1250, currency="EUR")
_SOURCE: Final = CardSource(token=SecretStr("pm_card_visa"))


def _request(order_id: str) -> PaymentRequest:
    return PaymentRequest(
        order_id=order_id, amount=_AMOUNT, sources=[_SOURCE], customer_country="DE"
    )


async def _batch(router: Router, prefix: str, first: int, size: int) -> list[float]:
    """Sequential payments, so each figure is one payment's own latency."""
    times: list[float] = []
    for index in range(first, first + size):
        started = time.perf_counter()
        result = await router.pay(_request(f"{prefix}-{index}"))
        times.append(time.perf_counter() - started)
        if result.status is not PaymentStatus.SUCCEEDED:
            raise RuntimeError(f"benchmark payment did not succeed: {result.status}")
    return times


def _p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.99 * len(ordered)))]


async def measure(redis_url: str, payments: int, batch: int) -> None:
    """Alternate batches of the two routers after a warm-up; print both and the ratio."""
    with tempfile.TemporaryDirectory(prefix="payrouter-state-cost-") as folder:
        local_ledger = SqlLedger(f"sqlite:///{Path(folder) / 'local.db'}")
        redis_ledger = SqlLedger(f"sqlite:///{Path(folder) / 'redis.db'}")
        local_adapter = SimulatedAdapter(SimulatedProvider("card_local"))
        redis_adapter = SimulatedAdapter(SimulatedProvider("card_redis"))
        async with (
            Router([local_adapter], ledger=local_ledger) as local,
            Router([redis_adapter], ledger=redis_ledger, state=redis_url) as shared,
        ):
            await _batch(local, "warm-l", 0, 50)
            await _batch(shared, "warm-r", 0, 50)
            local_s: list[float] = []
            redis_s: list[float] = []
            for first in range(0, payments, batch):
                local_s += await _batch(local, "l", first, batch)
                redis_s += await _batch(shared, "r", first, batch)
    local_ms = statistics.median(local_s) * 1000
    redis_ms = statistics.median(redis_s) * 1000
    print(f"payments per backend: {len(local_s)} (sequential, alternating batches of {batch})")
    print(f"in-process state: median {local_ms:.3f} ms  p99 {_p99(local_s) * 1000:.3f} ms")
    print(f"redis state:      median {redis_ms:.3f} ms  p99 {_p99(redis_s) * 1000:.3f} ms")
    print(f"ratio redis/in-process (median): {redis_ms / local_ms:.3f}  (target <= {TARGET_RATIO})")


def main() -> None:
    """Parse the two options and run the measurement."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--redis", default="redis://127.0.0.1:6390/0")
    parser.add_argument("--payments", type=int, default=2000)
    parser.add_argument("--batch", type=int, default=100)
    args = parser.parse_args()
    asyncio.run(measure(args.redis, args.payments, args.batch))


if __name__ == "__main__":
    main()
