"""The router's own Python work per payment, apart from its ledger and its provider.

`router.pay` through a Router whose ledger answers at once from memory (no database, no
thread) and whose one adapter answers at once (no HTTP): what is left is what the router
itself does per payment (admission, the route plan and credentials, routing, the breaker,
the deadline, events, the decision, keys, the fingerprint, the coroutines in between).
`benchmarks/overhead.py` measures the whole payment; this isolates the part the ledger and
the provider call do not explain, so a change to it shows above the noise of a loaded machine.

    python benchmarks/router_work.py [--payments N] [--rounds R] [--json]

Prints the CPU time per payment (this process, best and median of the rounds) and the load
average; never asserts a figure.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Final

from pydantic import SecretStr

from payrouter import (
    AdmissionSettings,
    CardSource,
    Money,
    PaymentMethod,
    PaymentRequest,
    PaymentResult,
    Router,
    RouterSettings,
)
from payrouter._ledger import AttemptOutcome, AttemptRow, Claim, ClaimKind, PaymentUpdate
from payrouter.provider import Capabilities, Charge, PaymentHandle, ProviderReply, Resolution

_AMOUNT: Final = Money(minor_units=1250, currency="EUR")
_SOURCE: Final = CardSource(token=SecretStr("pm_card_visa"))
_REPLY: Final = ProviderReply.succeeded("ref_1", amount=_AMOUNT)
_NOW: Final = datetime.now(UTC)


class InstantLedger:
    """Claims every order as new and writes nothing: the router's side of each call only."""

    async def open(self) -> None:
        return None

    async def close(self) -> None:
        return None

    async def claim(
        self,
        order_id: str,
        fingerprint: str,
        amount: Money,
        owner: str,
        lease_seconds: float,
        *,
        authorize_only: bool = False,
        first_attempt: AttemptRow | None = None,
    ) -> Claim:
        return Claim(ClaimKind.NEW, attempt_recorded=first_attempt is not None)

    async def record_attempt(self, row: AttemptRow) -> None:
        return None

    async def finish_attempt(
        self,
        order_id: str,
        number: int,
        outcome: AttemptOutcome,
        *,
        payment: PaymentUpdate | None = None,
    ) -> PaymentResult:
        assert payment is not None
        return PaymentResult.model_construct(
            order_id=order_id,
            status=payment.status,
            amount=_AMOUNT,
            provider=payment.provider,
            created_at=_NOW,
            updated_at=_NOW,
        )

    async def record_sheds(self, owner: str, at: float, count: int) -> None:
        return None


class InstantAdapter:
    """Takes every charge at once, without HTTP."""

    name = "card"
    idempotency_key_max_length = 255
    capabilities = Capabilities(methods=frozenset(PaymentMethod))
    resolution = Resolution(lookup=True, search_lag_seconds=300.0)

    async def pay(self, charge: Charge, *, idempotency_key: str) -> ProviderReply:
        return _REPLY

    async def lookup(self, handle: PaymentHandle) -> ProviderReply:
        return _REPLY

    async def capture(
        self, handle: PaymentHandle, amount: Money, *, idempotency_key: str
    ) -> ProviderReply:
        return _REPLY

    async def refund(
        self, handle: PaymentHandle, amount: Money, *, idempotency_key: str, reason: str | None
    ) -> ProviderReply:
        return _REPLY

    async def void(self, handle: PaymentHandle, *, idempotency_key: str) -> ProviderReply:
        return _REPLY

    async def cancel_mandate(self, mandate_id: str, *, idempotency_key: str) -> ProviderReply:
        return _REPLY

    async def aclose(self) -> None:
        return None


def _request(order_id: str) -> PaymentRequest:
    return PaymentRequest(
        order_id=order_id, amount=_AMOUNT, sources=[_SOURCE], customer_country="DE"
    )


async def measure(payments: int, rounds: int) -> dict[str, object]:
    """CPU microseconds per `router.pay`, per round, after a warm-up round."""
    settings = RouterSettings(admission=AdmissionSettings(min_limit=64))
    ledger = InstantLedger()
    per_round: list[float] = []
    async with Router([InstantAdapter()], ledger=ledger, settings=settings) as router:  # type: ignore[list-item]
        for round_number in range(rounds + 1):
            requests = [_request(f"r{round_number}-{index}") for index in range(payments)]
            started = time.process_time()
            for request in requests:
                await router.pay(request)
            if round_number > 0:  # the first round warms up
                per_round.append((time.process_time() - started) * 1e6 / payments)
    return {
        "payments_per_round": payments,
        "rounds": rounds,
        "router_cpu_us_per_payment_best": min(per_round),
        "router_cpu_us_per_payment_median": statistics.median(per_round),
        "load_average": os.getloadavg()[0],
    }


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--payments", type=int, default=3000, help="per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", action="store_true", help="print one JSON object only")
    args = parser.parse_args(argv)
    if args.payments < 1 or args.rounds < 1:
        parser.error("--payments and --rounds must be positive")
    figures = asyncio.run(measure(args.payments, args.rounds))
    if args.json:
        print(json.dumps(figures))
        return
    print(
        f"the router's own work: {figures['router_cpu_us_per_payment_best']:.1f} us CPU per "
        f"payment (best of {args.rounds} rounds of {args.payments}; median "
        f"{figures['router_cpu_us_per_payment_median']:.1f} us), load average "
        f"{figures['load_average']:.1f}"
    )


if __name__ == "__main__":
    main()
