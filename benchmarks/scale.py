"""Payments per second for 1, 2 and 4 worker processes: SQLite vs PostgreSQL, Redis state on/off.

Each worker is a separate process with its own `Router` over an in-memory provider (an adapter
that answers at once, no HTTP), so what is measured is payrouter and its shared stores: the
ledger (claim, write before call, finish) and, with `--redis`, the shared breaker state. The
workers wait on one barrier, then each pays `--payments` unique orders with `--concurrency`
payments in flight; throughput is all payments over the wall time from the barrier to the last
worker's end. Round trips per payment are counted on one happy-path payment, on the wire:
statements, plus BEGIN/COMMIT when the connection is not in autocommit mode (on SQLite, whose
hot path runs on its DBAPI connection: every statement the `sqlite3` module runs, BEGIN and
COMMIT included, in process rather than over a network).

On a loaded machine payments per second say as much about the other processes as about
payrouter, so each row also prints what a payment cost, which the load does not change: the
workers' CPU time per payment (every thread, from the barrier to their end), on PostgreSQL the
transactions the server committed and the WAL flushes it made per payment (`pg_stat_database`,
`pg_stat_wal`; each worker's start, a few transactions, included), and with `--redis` the
commands the Redis server ran per payment (`INFO commandstats`).

A comparison is only as good as its two rows' conditions, so every setup runs `--rounds`
times: in each round PostgreSQL and PostgreSQL + Redis run back to back for each process
count, the one first in one round second in the next, and each ratio (2 processes / 1, Redis
/ none) is taken within a round, then the median over the rounds is printed. Each Redis row
has a key prefix of its own, so no row reads another's shared state. Redis's cost per payment
is judged on more pairs than rows can give: `--cost-pairs` times, in this process, a router
with Redis and one without pay `--payments` orders each in turn, and the median of their CPU
per payment's ratios is printed with its quartiles.

    python benchmarks/scale.py --postgres postgresql+psycopg://u:p@127.0.0.1:5432/db \\
        --redis redis://127.0.0.1:6379/0 [--payments 2000] [--processes 1,2,4] [--rounds 3]
        [--cost-pairs 12] [--quick] [--json] [--no-sqlite]

PostgreSQL runs in a fresh database created per row (the URL's role needs CREATEDB). The
server's durability settings are printed with the figures, because they change them. Targets
are printed next to the figures, never asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import tempfile
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from _scale_report import medians, print_report, verdicts
from _servers import fresh_postgres, postgres_settings, redis_commands, server_counts
from pydantic import SecretStr
from sqlalchemy import event

from payrouter import (
    AdmissionSettings,
    CardSource,
    Money,
    PaymentMethod,
    PaymentRequest,
    PaymentStatus,
    Router,
    RouterSettings,
)
from payrouter._ledger import SqlLedger
from payrouter.provider import Capabilities, Charge, PaymentHandle, ProviderReply, Resolution

_AMOUNT: Final = Money(minor_units=1999, currency="EUR")


class InstantAdapter:
    """A provider that takes every payment at once, in memory: the benchmark's constant."""

    name = "instant"
    capabilities = Capabilities(methods=frozenset({PaymentMethod.CARD}))
    idempotency_key_max_length = 255
    resolution = Resolution(lookup=True)

    async def pay(self, charge: Charge, *, idempotency_key: str) -> ProviderReply:
        return ProviderReply.succeeded(f"ch_{idempotency_key}")

    async def lookup(self, handle: PaymentHandle) -> ProviderReply:
        return ProviderReply.succeeded(f"ch_{handle.reference}")

    async def capture(
        self, handle: PaymentHandle, amount: Money, *, idempotency_key: str
    ) -> ProviderReply:
        return ProviderReply.succeeded(f"cap_{idempotency_key}")

    async def refund(
        self, handle: PaymentHandle, amount: Money, *, idempotency_key: str, reason: str | None
    ) -> ProviderReply:
        return ProviderReply.succeeded(f"re_{idempotency_key}")

    async def void(self, handle: PaymentHandle, *, idempotency_key: str) -> ProviderReply:
        return ProviderReply.succeeded(f"vo_{idempotency_key}")

    async def cancel_mandate(self, mandate_id: str, *, idempotency_key: str) -> ProviderReply:
        return ProviderReply.succeeded(mandate_id)

    async def aclose(self) -> None:
        return None


def _request(order_id: str) -> PaymentRequest:
    return PaymentRequest(
        order_id=order_id,
        amount=_AMOUNT,
        sources=[CardSource(token=SecretStr("pm_card_visa"))],
        customer_country="DE",
    )


@dataclass(frozen=True, slots=True)
class Setup:
    label: str
    ledger: str
    state: str | None


async def _pay_many(
    setup: Setup, worker: int, payments: int, concurrency: int, barrier: Any
) -> tuple[float, float, int]:
    """When this worker ended, its CPU seconds, and how many of its payments did not
    succeed (a row whose payments were refused or failed measured another path)."""
    # Admission may shed down to its floor on a loaded machine; the floor is the benchmark's
    # own width, so every payment it sends is paid and the rate counts them all.
    settings = RouterSettings(admission=AdmissionSettings(min_limit=concurrency))
    router = Router(
        [InstantAdapter()], ledger=setup.ledger, hooks=(), state=setup.state, settings=settings
    )
    async with router:
        await router.pay(_request(f"warm-{worker}-{uuid.uuid4().hex[:8]}"))
        # Every worker connected and warm: start together. Waited for on a thread, so the
        # router's background tasks (the lag probe, the Redis sync) keep running meanwhile,
        # as in a live server, instead of all firing late at once when the barrier opens.
        await asyncio.to_thread(barrier.wait)
        cpu = time.process_time()
        gate = asyncio.Semaphore(concurrency)
        run = uuid.uuid4().hex[:8]

        async def one(number: int) -> bool:
            async with gate:
                paid = await router.pay(_request(f"w{worker}-{run}-n{number}"))
                return paid.status is PaymentStatus.SUCCEEDED

        succeeded = await asyncio.gather(*(one(number) for number in range(payments)))
        return time.time(), time.process_time() - cpu, succeeded.count(False)


def _worker(
    setup: Setup, worker: int, payments: int, concurrency: int, barrier: Any, out: Any
) -> None:
    out.put(asyncio.run(_pay_many(setup, worker, payments, concurrency, barrier)))


def throughput(
    setup: Setup, processes: int, payments: int, concurrency: int
) -> tuple[float, float, int]:
    """Payments per second of `processes` workers paying `payments` orders each, together,
    the workers' CPU milliseconds per payment, and the payments that did not succeed."""
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(processes + 1)
    out = context.Queue()
    workers = [
        context.Process(target=_worker, args=(setup, n, payments, concurrency, barrier, out))
        for n in range(processes)
    ]
    for process in workers:
        process.start()
    barrier.wait(timeout=120)
    started = time.time()
    ends, cpus, unpaid = zip(*(out.get(timeout=600) for _ in workers), strict=True)
    for process in workers:
        process.join(timeout=60)
        if process.exitcode != 0:
            raise RuntimeError(f"a worker exited with {process.exitcode}")
    total = processes * payments
    return total / (max(ends) - started), 1000 * sum(cpus) / total, sum(unpaid)


async def _cpu_per_payment(
    ledger: str, state: str | None, payments: int, concurrency: int
) -> float:
    """CPU milliseconds per payment of `payments` paid through a router opened for them
    (its opening and 50 warm-up payments not counted)."""
    settings = RouterSettings(admission=AdmissionSettings(min_limit=concurrency))
    router = Router([InstantAdapter()], ledger=ledger, hooks=(), state=state, settings=settings)
    async with router:
        run = uuid.uuid4().hex[:8]
        for number in range(50):
            await router.pay(_request(f"warm-{run}-n{number}"))
        gate = asyncio.Semaphore(concurrency)

        async def one(number: int) -> None:
            async with gate:
                await router.pay(_request(f"cost-{run}-n{number}"))

        cpu = time.process_time()
        await asyncio.gather(*(one(number) for number in range(payments)))
        return 1000 * (time.process_time() - cpu) / payments


def redis_cost_pairs(
    postgres: str, redis: str, pairs: int, payments: int, concurrency: int
) -> list[float]:
    """CPU per payment with Redis state over without it, `pairs` times, in this process: a
    router with Redis and one without take turns on one database (which goes first
    alternates), seconds apart, so the machine's drift weighs on both sides of each ratio and
    the median of many is the cost. Each Redis router has a key prefix of its own."""

    async def measure(url: str) -> list[float]:
        ratios = []
        for number in range(pairs):
            states = [None, f"{redis}?prefix=scale-cost-{uuid.uuid4().hex[:8]}:"]
            cost: dict[bool, float] = {}
            for state in states[:: 1 - 2 * (number % 2)]:
                cost[state is not None] = await _cpu_per_payment(url, state, payments, concurrency)
            ratios.append(round(cost[True] / cost[False], 3))
        return ratios

    with fresh_postgres(postgres) as url:
        return asyncio.run(measure(url))


def round_trips(ledger_url: str) -> int:
    """Wire round trips the ledger makes for one happy-path payment (after a warm-up)."""

    async def measure() -> int:
        ledger = SqlLedger(ledger_url)
        async with Router([InstantAdapter()], ledger=ledger, hooks=()) as router:
            await router.pay(_request(f"rt-warm-{uuid.uuid4().hex[:8]}"))
            count = 0

            def statement(*_: object) -> None:
                nonlocal count
                count += 1

            def transaction(conn: Any) -> None:
                nonlocal count
                driver = conn.connection.driver_connection
                if not getattr(driver, "autocommit", False) and ledger_url.startswith("postgres"):
                    count += 1

            engine = ledger._engine
            assert engine is not None
            if ledger._dbapi is not None:  # SQLite: all its one connection runs, hot path too
                ledger._dbapi.set_trace_callback(statement)
            else:
                event.listen(engine, "before_cursor_execute", statement)
                event.listen(engine, "begin", transaction)
                event.listen(engine, "commit", transaction)
            await router.pay(_request(f"rt-{uuid.uuid4().hex[:8]}"))
            return count

    return asyncio.run(measure())


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", default=os.environ.get("PAYROUTER_TEST_POSTGRES_URL"))
    parser.add_argument("--redis", default=os.environ.get("PAYROUTER_TEST_REDIS_URL"))
    parser.add_argument("--payments", type=int, default=2000, help="per worker process")
    parser.add_argument("--processes", default="1,2,4")
    parser.add_argument("--concurrency", type=int, default=16, help="in flight per process")
    parser.add_argument("--rounds", type=int, default=None, help="3, or 1 with --quick")
    parser.add_argument(
        "--cost-pairs", type=int, default=None, help="Redis cost pairs: 12, or 2 with --quick"
    )
    parser.add_argument("--quick", action="store_true", help="tiny run, for the smoke test")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--no-sqlite", action="store_true", help="PostgreSQL setups only")
    options = parser.parse_args(argv)
    payments = 40 if options.quick else options.payments
    counts = [1, 2] if options.quick else [int(n) for n in options.processes.split(",")]
    rounds = options.rounds or (1 if options.quick else 3)
    rows: list[dict[str, Any]] = []
    trips: dict[str, int] = {}
    settings: Mapping[str, str] = {}
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as folder:
        if not options.no_sqlite:
            trips["SQLite"] = round_trips(f"sqlite:///{Path(folder) / 'rt.db'}")
        if options.postgres:
            settings = postgres_settings(options.postgres)
            with fresh_postgres(options.postgres) as url:
                trips["PostgreSQL"] = round_trips(url)
        for number, label, processes in schedule(
            counts,
            rounds,
            sqlite=not options.no_sqlite,
            postgres=bool(options.postgres),
            redis=bool(options.postgres and options.redis),
        ):
            run = Run(number, processes, payments, options.concurrency)
            if label == "SQLite":
                ledger = f"sqlite:///{Path(folder) / f'ledger-{uuid.uuid4().hex[:8]}.db'}"
                rows.append(_row(Setup(label, ledger, None), run, None))
                continue
            state = None
            if label == "PostgreSQL + Redis":  # a prefix of its own: no row sees another's
                state = f"{options.redis}?prefix=scale-{uuid.uuid4().hex[:8]}:"
            with fresh_postgres(options.postgres) as url:
                rows.append(_row(Setup(label, url, state), run, options.redis))
        pairs: list[float] = []
        if options.postgres and options.redis:
            pairs = redis_cost_pairs(
                options.postgres,
                options.redis,
                options.cost_pairs or (2 if options.quick else 12),
                payments,
                options.concurrency,
            )
    report = {
        "payments_per_process": payments,
        "concurrency": options.concurrency,
        "rounds": rounds,
        "postgres_settings": dict(settings),
        "load_average_before": load_before,
        "load_average_after": os.getloadavg()[0],
        "round_trips": trips,
        "rows": rows,
        "medians": medians(rows),
        "redis_cost_pairs": pairs,
        **verdicts(rows, trips, pairs),
    }
    if options.json:
        print(json.dumps(report))
    else:
        print_report(report)


def schedule(
    counts: Sequence[int], rounds: int, *, sqlite: bool, postgres: bool, redis: bool
) -> list[tuple[int, str, int]]:
    """(round, setup, processes) in the order they run. Within a round the two PostgreSQL
    setups run back to back for each process count, and which goes first alternates from
    round to round: a machine that gets busier or quieter during the run weighs on both."""
    order: list[tuple[int, str, int]] = []
    for number in range(rounds):
        for processes in counts:
            if sqlite:
                order.append((number, "SQLite", processes))
            pair = ["PostgreSQL", "PostgreSQL + Redis"] if redis else ["PostgreSQL"]
            if postgres:
                order.extend((number, label, processes) for label in pair[:: 1 - 2 * (number % 2)])
    return order


@dataclass(frozen=True, slots=True)
class Run:
    round: int
    processes: int
    payments: int
    concurrency: int


def _row(setup: Setup, run: Run, redis_url: str | None) -> dict[str, Any]:
    postgres = setup.ledger.startswith("postgresql")
    before = server_counts(setup.ledger) if postgres else None
    sent_before = redis_commands(redis_url) if redis_url else None
    rate, cpu_ms, unpaid = throughput(setup, run.processes, run.payments, run.concurrency)
    row: dict[str, Any] = {
        "round": run.round,
        "setup": setup.label,
        "processes": run.processes,
        "payments_per_s": round(rate, 1),
        "cpu_ms_per_payment": round(cpu_ms, 3),
        "not_succeeded": unpaid,
    }
    paid = run.processes * (run.payments + 1)  # + warm-ups
    if before is not None:
        after = server_counts(setup.ledger)
        row["commits_per_payment"] = round((after[0] - before[0]) / paid, 3)
        if after[1] is not None and before[1] is not None:
            row["wal_flushes_per_payment"] = round((after[1] - before[1]) / paid, 3)
    if redis_url and sent_before is not None:  # the workers' start and first sync included
        row["redis_commands_per_payment"] = round(
            (redis_commands(redis_url) - sent_before) / paid, 3
        )
    return row


if __name__ == "__main__":
    main()
