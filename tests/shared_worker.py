"""A worker process of a flash-sale backend: pays a list of orders, all at once, and reports.

Run as `python tests/shared_worker.py <ledger URL> <books.db> <orders> <start at> <out.json>`.
Several of these start together on the same orders (the same customers double-clicking
across machines); each waits until the wall-clock `start at`, pays every order concurrently,
and writes what each `pay` returned, so the parent can compare callers and the books.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path

from pydantic import SecretStr

from payrouter import CardSource, Money, PaymentError, PaymentRequest, Router, RouterSettings
from payrouter.testing import Behavior, SimulatedAdapter, SimulatedProvider


def order_request(order_id: str) -> PaymentRequest:
    return PaymentRequest(
        order_id=order_id,
        amount=Money.of("19.99", "EUR"),
        sources=[CardSource(token=SecretStr("pm_card_visa"))],
        customer_country="DE",
    )


async def _main(
    ledger: str, books: Path, orders: int, start_at: float
) -> dict[str, list[str | None]]:
    provider = SimulatedProvider("card", books_path=books)
    provider.default = Behavior.succeed(delay=0.02)  # a real provider's call takes a while
    settings = RouterSettings(in_progress_wait_seconds=30)
    async with Router(
        [SimulatedAdapter(provider)], ledger=ledger, settings=settings, hooks=()
    ) as r:
        await asyncio.sleep(max(0.0, start_at - time.time()))

        async def pay(order_id: str) -> list[str | None]:
            try:
                result = await r.pay(order_request(order_id))
            except PaymentError as error:
                return ["error", type(error).__name__]
            return [result.status.value, result.provider_reference]

        names = [f"flash-{number}" for number in range(orders)]
        results = await asyncio.gather(*(pay(name) for name in names))
    return dict(zip(names, results, strict=True))


if __name__ == "__main__":
    if len(sys.argv) != 6:
        raise SystemExit("usage: shared_worker.py <ledger URL> <books.db> <orders> <start> <out>")
    answers = asyncio.run(
        _main(sys.argv[1], Path(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]))
    )
    Path(sys.argv[5]).write_text(json.dumps(answers))
