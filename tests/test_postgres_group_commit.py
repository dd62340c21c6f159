"""Group commit on PostgreSQL: the pay path's writes queued together go to the server in one
pipeline with one COMMIT, and one job's failure or abandonment never costs another its write."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import create_engine, select, text

from payrouter import LedgerUnavailableError, Money, PaymentMethod, PaymentStatus
from payrouter._ledger import (
    AttemptOutcome,
    AttemptRow,
    LeaseLostError,
    PaymentUpdate,
    SqlLedger,
    held_by,
    payment_deadline,
)
from payrouter._ledger._schema import attempts
from payrouter.provider import FailureKind, ProviderReply
from tests.ledger_jobs import open_ledger, order_ids, queued, writer_held

pytestmark = pytest.mark.peer("postgres")

AMOUNT = Money.of("10.00", "EUR")


def _attempt(order_id: str, number: int = 1) -> AttemptRow:
    return AttemptRow(order_id, number, "card", PaymentMethod.CARD, f"k-{order_id}-{number}", None)


def _commits(url: str) -> int:
    """Transactions committed in the test's database so far, as the server counts them."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT pg_stat_clear_snapshot()"))
            query = "SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()"
            return int(conn.execute(text(query)).scalar_one())
    finally:
        engine.dispose()


@pytest.fixture
async def ledger(postgres_url: str) -> AsyncIterator[SqlLedger]:
    async with open_ledger(postgres_url) as opened:
        yield opened


async def test_a_whole_payment_of_each_of_many_in_flight_shares_commits(ledger: SqlLedger) -> None:
    """Five payments' claims, attempt rows and outcomes queued together: three batches,
    each one pipeline with one COMMIT, and every payment's rows are there."""
    runner = ledger._runner
    assert runner is not None
    orders = [f"o-{n}" for n in range(5)]
    async with writer_held(ledger):
        claims = await queued(*(ledger.claim(o, "fp", AMOUNT, f"w-{o}", 60) for o in orders))
    assert {claim.kind.value for claim in await asyncio.gather(*claims)} == {"new"}

    async def attempt(order_id: str) -> None:
        with held_by(f"w-{order_id}"):
            await ledger.record_attempt(_attempt(order_id))

    async with writer_held(ledger):
        rows = await queued(*(attempt(o) for o in orders))
    await asyncio.gather(*rows)

    async def finish(order_id: str) -> PaymentStatus:
        outcome = AttemptOutcome.of(
            ProviderReply.succeeded(f"ch_{order_id}"), tries=1, latency_ms=1.0
        )
        update = PaymentUpdate(PaymentStatus.SUCCEEDED, provider="card")
        with held_by(f"w-{order_id}"):
            result = await ledger.finish_attempt(order_id, 1, outcome, update)
        assert result is not None
        return result.status

    async with writer_held(ledger):
        finishes = await queued(*(finish(o) for o in orders))
    assert set(await asyncio.gather(*finishes)) == {PaymentStatus.SUCCEEDED}
    assert runner.batches == 3
    for order_id in orders:
        paid = await ledger.get(order_id)
        assert paid is not None
        assert [a.outcome for a in paid.attempts] == ["succeeded"]


async def test_claims_with_their_first_attempt_share_a_batch(ledger: SqlLedger) -> None:
    """Each new order's claim writes its attempt 1 in the same statement; an order id found
    taken writes none, and its caller is told so."""
    await ledger.claim("taken", "fp", AMOUNT, "other-worker", 60)
    orders = ["o-1", "o-2", "taken"]
    async with writer_held(ledger):
        claims = await queued(
            *(ledger.claim(o, "fp", AMOUNT, "w", 60, first_attempt=_attempt(o)) for o in orders)
        )
    answers = [(c.kind.value, c.attempt_recorded) for c in await asyncio.gather(*claims)]
    assert answers == [("new", True), ("new", True), ("existing", False)]
    written = await ledger.transact(
        lambda conn: sorted(conn.execute(select(attempts.c.order_id, attempts.c.number)).all())
    )
    assert [tuple(row) for row in written] == [("o-1", 1), ("o-2", 1)]
    assert ledger._runner is not None
    assert ledger._runner.batches == 1


async def test_batched_writes_cost_one_commit_each_batch(
    ledger: SqlLedger, postgres_url: str
) -> None:
    """The server counts one committed transaction for eight claims sent together."""
    async with writer_held(ledger):
        before = _commits(postgres_url)
        claims = await queued(*(ledger.claim(f"o-{n}", "fp", AMOUNT, "w", 60) for n in range(8)))
    await asyncio.gather(*claims)
    assert _commits(postgres_url) - before == 1
    assert await ledger.transact(order_ids) == {f"o-{n}" for n in range(8)}


async def test_a_failing_statement_does_not_undo_the_others_in_its_batch(
    ledger: SqlLedger,
) -> None:
    """A second attempt row under a number already taken fails the batch on the server: it
    is rolled back and each job runs again alone, so the claims around it commit."""
    await ledger.claim("paid", "fp", AMOUNT, "w", 60)
    with held_by("w"):
        await ledger.record_attempt(_attempt("paid"))
    async with writer_held(ledger):
        with held_by("w"):
            good, duplicate, other = await queued(
                ledger.claim("good", "fp", AMOUNT, "w", 60),
                ledger.record_attempt(_attempt("paid")),
                ledger.claim("other", "fp", AMOUNT, "w", 60),
            )
    assert (await good).kind.value == "new"
    assert (await other).kind.value == "new"
    with pytest.raises(LedgerUnavailableError):
        await duplicate
    assert await ledger.transact(order_ids) == {"paid", "good", "other"}
    count = await ledger.transact(lambda conn: len(conn.execute(select(attempts)).all()))
    assert count == 1


async def test_a_fenced_write_in_a_batch_still_refuses_a_worker_that_lost_its_lease(
    ledger: SqlLedger,
) -> None:
    """Sent in a batch, an attempt row for a payment another worker holds is not written and
    its caller hears LeaseLostError; its batch-mate's claim commits."""
    await ledger.claim("taken", "fp", AMOUNT, "the-taker", 60)
    async with writer_held(ledger):
        with held_by("stalled-worker"):
            stale, fresh = await queued(
                ledger.record_attempt(_attempt("taken")),
                ledger.claim("fresh", "fp", AMOUNT, "w", 60),
            )
    with pytest.raises(LeaseLostError):
        await stale
    assert (await fresh).kind.value == "new"
    count = await ledger.transact(lambda conn: len(conn.execute(select(attempts)).all()))
    assert count == 0


async def test_an_abandoned_claim_in_a_batch_is_never_sent(ledger: SqlLedger) -> None:
    """A claim whose payment gave up waiting before its batch went out is not written, so a
    retry of the order is not refused as in progress; its batch-mate is written."""
    async with writer_held(ledger):
        with payment_deadline(time.monotonic() + 0.05):
            late = asyncio.ensure_future(ledger.claim("late", "fp", AMOUNT, "t", 60))
        (kept,) = await queued(ledger.claim("kept", "fp", AMOUNT, "t", 60))
        with pytest.raises(LedgerUnavailableError):
            await late  # its deadline passes while the writer is held
    await kept
    assert await ledger.transact(order_ids) == {"kept"}
    assert (await ledger.claim("late", "fp", AMOUNT, "t", 60)).kind.value == "new"


async def test_a_failover_outcome_in_a_batch_is_written_without_the_payments(
    ledger: SqlLedger,
) -> None:
    """Attempt 1's outcome, written alone as the payment goes on to its next candidate,
    shares a batch with another payment's claim; the payment is still processing."""
    await ledger.claim("moving-on", "fp", AMOUNT, "w", 60, first_attempt=_attempt("moving-on"))
    unavailable = ProviderReply.failed(FailureKind.PROVIDER_DOWN, provider_code="503")
    outcome = AttemptOutcome.of(unavailable, tries=1, latency_ms=1.0)
    async with writer_held(ledger):
        with held_by("w"):
            written, claimed = await queued(
                ledger.finish_attempt("moving-on", 1, outcome),
                ledger.claim("next", "fp", AMOUNT, "w", 60),
            )
    assert await written is None
    assert (await claimed).kind.value == "new"
    assert ledger._runner is not None
    assert ledger._runner.batches == 1
    payment = await ledger.get("moving-on")
    assert payment is not None
    assert payment.status is PaymentStatus.PROCESSING
    assert [(a.outcome, a.failure_kind) for a in payment.attempts] == [
        ("failed", FailureKind.PROVIDER_DOWN)
    ]
