"""Many processes, one truth: the ledger on real PostgreSQL.

Four worker processes submit the same orders at the same instant: the providers' books show
exactly one charge per order, and every caller receives that one result. The happy path costs
two database round trips.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from pydantic import SecretStr
from sqlalchemy import event

from payrouter import (
    CardSource,
    IdempotencyConflictError,
    Money,
    PaymentRequest,
    PaymentStatus,
    Router,
)
from payrouter._ledger import SqlLedger
from payrouter._ledger._sealing import new_key
from payrouter.provider import Outcome
from payrouter.testing import Behavior, SimulatedAdapter, SimulatedProvider
from payrouter_adapters.stripe import StripeAdapter
from tests.another_worker import settles_between_the_reads
from tests.test_next_action import SECRET, challenged_at_stripe, challenged_card

pytestmark = pytest.mark.peer("postgres")

WORKER = Path(__file__).with_name("shared_worker.py")


def request(order_id: str, amount: str = "10.00") -> PaymentRequest:
    return PaymentRequest(
        order_id=order_id,
        amount=Money.of(amount, "EUR"),
        sources=[CardSource(token=SecretStr("pm_card_visa"))],
        customer_country="DE",
    )


class RoundTrips:
    """Counts what goes over the wire: statements, and BEGIN/COMMIT outside autocommit."""

    def __init__(self, ledger: SqlLedger) -> None:
        self.count = 0
        engine = ledger._engine  # the test watches the real engine
        assert engine is not None
        event.listen(engine, "before_cursor_execute", self._statement)
        event.listen(engine, "begin", self._transaction)
        event.listen(engine, "commit", self._transaction)

    def _statement(self, *_: object) -> None:
        self.count += 1

    def _transaction(self, conn: object) -> None:
        if not conn.connection.driver_connection.autocommit:  # type: ignore[attr-defined]
            self.count += 1


async def test_the_happy_path_costs_two_round_trips(postgres_url: str) -> None:
    ledger = SqlLedger(postgres_url)
    provider = SimulatedProvider("card")
    async with Router([SimulatedAdapter(provider)], ledger=ledger, hooks=()) as router:
        await router.pay(request("warm-up"))  # the pool's first connection
        trips = RoundTrips(ledger)
        result = await router.pay(request("order-1"))
    assert result.status is PaymentStatus.SUCCEEDED
    assert [a.outcome for a in result.attempts] == ["succeeded"]
    assert trips.count == 2  # claim with attempt 1, finish attempt and payment together


async def test_the_rules_hold_on_postgres(postgres_url: str) -> None:
    """Failover, a duplicate answered from the ledger, a conflicting reuse refused."""
    down, up = SimulatedProvider("card_a"), SimulatedProvider("card_b")
    down.default = Behavior.refuse_connection()
    adapters = [SimulatedAdapter(down), SimulatedAdapter(up)]
    async with Router(adapters, ledger=postgres_url, hooks=()) as router:
        first = await router.pay(request("order-1"))
        again = await router.pay(request("order-1"))
        with pytest.raises(IdempotencyConflictError):
            await router.pay(request("order-1", amount="99.00"))
        charged = len(up.charges("order-1"))
    assert charged == 1
    assert (first.status, first.provider) == (PaymentStatus.SUCCEEDED, "card_b")
    assert again == first
    assert [a.provider for a in first.attempts] == ["card_a", "card_b"]


async def test_concurrent_duplicates_in_one_process_charge_once(postgres_url: str) -> None:
    provider = SimulatedProvider("card")
    provider.default = Behavior.succeed(delay=0.05)
    async with Router([SimulatedAdapter(provider)], ledger=postgres_url, hooks=()) as router:
        results = await asyncio.gather(*(router.pay(request("order-1")) for _ in range(20)))
        (charge,) = provider.charges("order-1")
    assert {result.provider_reference for result in results} == {charge.provider_reference}


@pytest.mark.slow
def test_four_processes_submitting_the_same_orders_at_once_charge_each_order_once(
    postgres_url: str, tmp_path: Path
) -> None:
    orders, workers = 40, 4
    books = tmp_path / "books.db"
    asyncio.run(_create_tables(postgres_url))
    start_at = time.time() + 3.0  # after every worker has imported and connected
    outputs = [tmp_path / f"worker-{number}.json" for number in range(workers)]
    processes = [
        subprocess.Popen(
            [
                sys.executable,
                str(WORKER),
                postgres_url,
                str(books),
                str(orders),
                str(start_at),
                str(out),
            ]
        )
        for out in outputs
    ]
    for process in processes:
        assert process.wait(timeout=120) == 0
    answers = [json.loads(out.read_text()) for out in outputs]
    provider = SimulatedProvider("card", books_path=books)
    for number in range(orders):
        order_id = f"flash-{number}"
        (charge,) = provider.charges(order_id)  # exactly one charge in the books
        seen = {tuple(answer[order_id]) for answer in answers}
        assert seen == {("succeeded", charge.provider_reference)}, (order_id, seen)


async def _create_tables(url: str) -> None:
    ledger = SqlLedger(url)
    await ledger.open()
    await ledger.close()


async def test_an_action_and_its_client_secret_are_kept_on_postgres(postgres_url: str) -> None:
    """The one-statement finish writes the action; a second pay reads it back whole."""
    stripe = challenged_at_stripe(StripeAdapter)
    ledger = SqlLedger(postgres_url, keys=[new_key()])  # Stripe's requests are kept sealed
    async with Router([stripe], ledger=ledger, hooks=()) as router:
        paid = await router.pay(challenged_card("pg-3ds"))
        again = await router.pay(challenged_card("pg-3ds"))
    assert paid.status is again.status is PaymentStatus.REQUIRES_ACTION
    assert again.action is not None
    assert again.action.client_secret is not None
    assert again.action.client_secret.get_secret_value() == SECRET
    assert again.action == paid.action


async def test_a_read_sees_the_payment_and_its_attempts_as_of_one_commit(
    postgres_url: str,
) -> None:
    """Another worker may commit between the read's two statements: the payment and its
    attempts still come from the same commit (REPEATABLE READ; READ COMMITTED mixed them)."""
    card = SimulatedProvider("card")
    card.default = Behavior.requires_action()
    ledger = SqlLedger(postgres_url)
    order_id = f"pg-snapshot-{time.time_ns()}"
    async with Router([SimulatedAdapter(card)], ledger=ledger, hooks=()) as router:
        await router.pay(request(order_id))
        async with settles_between_the_reads(ledger, order_id) as settled:
            read = await router.lookup(order_id)
        after = await router.lookup(order_id)

    assert settled == [True]
    assert read is not None
    assert read.status is PaymentStatus.REQUIRES_ACTION
    assert [attempt.outcome for attempt in read.attempts] == [Outcome.REQUIRES_ACTION]
    assert after is not None
    assert after.status is PaymentStatus.SUCCEEDED
