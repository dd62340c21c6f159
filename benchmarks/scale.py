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
workers' CPU time per payment (every thread, from the barrier to their end) and, on
PostgreSQL, the transactions the server committed and the WAL flushes it made per payment
(`pg_stat_database`, `pg_stat_wal`; each worker's start, a few transactions, included).

    python benchmarks/scale.py --postgres postgresql+psycopg://u:p@127.0.0.1:5432/db \\
        --redis redis://127.0.0.1:6379/0 [--payments 1500] [--processes 1,2,4] [--quick] [--json]
        [--no-sqlite]

PostgreSQL runs in a fresh database created per configuration (the URL's role needs
CREATEDB). The server's durability settings are printed with the figures, because they change
them. Targets are printed next to the figures, never asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from pydantic import SecretStr
from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import make_url

from payrouter import (
    AdmissionSettings,
    CardSource,
    Money,
    PaymentMethod,
    PaymentRequest,
    Router,
    RouterSettings,
)
from payrouter._ledger import SqlLedger
from payrouter.provider import Capabilities, Charge, PaymentHandle, ProviderReply, Resolution

TARGET_TWO_PROCESS_SPEEDUP: Final = 1.8
TARGET_ROUND_TRIPS: Final = 3
TARGET_REDIS_COST: Final = 0.10
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
) -> tuple[float, float]:
    # Admission may shed down to its floor on a loaded machine; the floor is the benchmark's
    # own width, so every payment it sends is paid and the rate counts them all.
    settings = RouterSettings(admission=AdmissionSettings(min_limit=concurrency))
    router = Router(
        [InstantAdapter()], ledger=setup.ledger, hooks=(), state=setup.state, settings=settings
    )
    async with router:
        await router.pay(_request(f"warm-{worker}-{uuid.uuid4().hex[:8]}"))
        barrier.wait()  # every worker connected and warm: start together
        cpu = time.process_time()
        gate = asyncio.Semaphore(concurrency)
        run = uuid.uuid4().hex[:8]

        async def one(number: int) -> None:
            async with gate:
                await router.pay(_request(f"w{worker}-{run}-n{number}"))

        await asyncio.gather(*(one(number) for number in range(payments)))
        return time.time(), time.process_time() - cpu


def _worker(
    setup: Setup, worker: int, payments: int, concurrency: int, barrier: Any, out: Any
) -> None:
    out.put(asyncio.run(_pay_many(setup, worker, payments, concurrency, barrier)))


def throughput(
    setup: Setup, processes: int, payments: int, concurrency: int
) -> tuple[float, float]:
    """Payments per second of `processes` workers paying `payments` orders each, together,
    and the workers' CPU milliseconds per payment."""
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
    ends, cpus = zip(*(out.get(timeout=600) for _ in workers), strict=True)
    for process in workers:
        process.join(timeout=60)
        if process.exitcode != 0:
            raise RuntimeError(f"a worker exited with {process.exitcode}")
    total = processes * payments
    return total / (max(ends) - started), 1000 * sum(cpus) / total


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


@contextmanager
def fresh_postgres(url: str) -> Iterator[str]:
    """A new database on the server of `url`, dropped afterwards."""
    server = make_url(url)
    name = f"payrouter_scale_{uuid.uuid4().hex[:10]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


_COMMITS: Final = text(
    "SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()"
)


def server_counts(url: str) -> tuple[int, int | None]:
    """Transactions committed in `url`'s database, and WAL flushes on its server (None
    before PostgreSQL 14), once the counts stop moving: a backend reports its counts when it
    goes idle or exits, shortly after its client is gone."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            seen: tuple[int, int | None] | None = None
            for _ in range(20):
                conn.execute(text("SELECT pg_stat_clear_snapshot()"))
                commits = conn.execute(_COMMITS).scalar_one()
                flushes = None
                if conn.dialect.server_version_info >= (14,):
                    flushes = conn.execute(text("SELECT wal_sync FROM pg_stat_wal")).scalar_one()
                now = (int(commits), None if flushes is None else int(flushes))
                if now == seen:
                    return now
                seen = now
                time.sleep(0.25)
            assert seen is not None
            return seen
    finally:
        engine.dispose()


def postgres_settings(url: str) -> dict[str, str]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return {
                name: str(conn.execute(text(f"SHOW {name}")).scalar_one())
                for name in ("fsync", "synchronous_commit", "max_connections")
            }
    finally:
        engine.dispose()


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", default=os.environ.get("PAYROUTER_TEST_POSTGRES_URL"))
    parser.add_argument("--redis", default=os.environ.get("PAYROUTER_TEST_REDIS_URL"))
    parser.add_argument("--payments", type=int, default=1500, help="per worker process")
    parser.add_argument("--processes", default="1,2,4")
    parser.add_argument("--concurrency", type=int, default=16, help="in flight per process")
    parser.add_argument("--quick", action="store_true", help="tiny run, for the smoke test")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--no-sqlite", action="store_true", help="PostgreSQL setups only")
    options = parser.parse_args(argv)
    payments = 40 if options.quick else options.payments
    counts = [1, 2] if options.quick else [int(n) for n in options.processes.split(",")]
    rows: list[dict[str, Any]] = []
    trips: dict[str, int] = {}
    settings: Mapping[str, str] = {}
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as folder:
        setups = [Setup("SQLite", f"sqlite:///{Path(folder) / 'ledger.db'}", None)]
        if not options.no_sqlite:
            trips["SQLite"] = round_trips(f"sqlite:///{Path(folder) / 'rt.db'}")
            for processes in counts:
                rows.append(_row(setups[0], processes, payments, options.concurrency))
        if options.postgres:
            settings = postgres_settings(options.postgres)
            with fresh_postgres(options.postgres) as url:
                trips["PostgreSQL"] = round_trips(url)
            states: list[tuple[str, str | None]] = [("PostgreSQL", None)]
            if options.redis:
                prefix = f"scale-{uuid.uuid4().hex[:8]}:"
                states.append(("PostgreSQL + Redis", f"{options.redis}?prefix={prefix}"))
            for label, state in states:
                for processes in counts:
                    with fresh_postgres(options.postgres) as url:
                        rows.append(
                            _row(Setup(label, url, state), processes, payments, options.concurrency)
                        )
    report = {
        "payments_per_process": payments,
        "concurrency": options.concurrency,
        "postgres_settings": dict(settings),
        "load_average_before": load_before,
        "load_average_after": os.getloadavg()[0],
        "round_trips": trips,
        "rows": rows,
        **_verdicts(rows, trips),
    }
    if options.json:
        print(json.dumps(report))
    else:
        _print(report)


def _row(setup: Setup, processes: int, payments: int, concurrency: int) -> dict[str, Any]:
    postgres = setup.ledger.startswith("postgresql")
    before = server_counts(setup.ledger) if postgres else None
    rate, cpu_ms = throughput(setup, processes, payments, concurrency)
    row: dict[str, Any] = {
        "setup": setup.label,
        "processes": processes,
        "payments_per_s": round(rate, 1),
        "cpu_ms_per_payment": round(cpu_ms, 3),
    }
    if before is not None:
        after, paid = server_counts(setup.ledger), processes * (payments + 1)  # + warm-ups
        row["commits_per_payment"] = round((after[0] - before[0]) / paid, 3)
        if after[1] is not None and before[1] is not None:
            row["wal_flushes_per_payment"] = round((after[1] - before[1]) / paid, 3)
    return row


def _rate(rows: list[dict[str, Any]], setup: str, processes: int) -> float | None:
    for row in rows:
        if row["setup"] == setup and row["processes"] == processes:
            return float(row["payments_per_s"])
    return None


def _verdicts(rows: list[dict[str, Any]], trips: Mapping[str, int]) -> dict[str, Any]:
    one, two = _rate(rows, "PostgreSQL + Redis", 1), _rate(rows, "PostgreSQL + Redis", 2)
    plain, plain_two = _rate(rows, "PostgreSQL", 1), _rate(rows, "PostgreSQL", 2)
    return {
        "speedup_2_processes_pg": None
        if not (plain and plain_two)
        else round(plain_two / plain, 2),
        "speedup_2_processes_pg_redis": None if not (one and two) else round(two / one, 2),
        "redis_cost": None if not (one and plain) else round(plain / one - 1, 3),
        "round_trips_pg": trips.get("PostgreSQL"),
    }


def _print(report: Mapping[str, Any]) -> None:
    print(
        f"payments per worker {report['payments_per_process']}, "
        f"{report['concurrency']} in flight per worker, in-memory provider"
    )
    if report["postgres_settings"]:
        print(f"PostgreSQL settings: {report['postgres_settings']}")
    print(
        f"load average {report['load_average_before']:.1f} before, "
        f"{report['load_average_after']:.1f} after, on {os.cpu_count()} CPUs"
    )
    print(
        f"{'setup':<22}{'processes':>10}{'payments/s':>12}{'CPU ms/pay':>12}"
        f"{'commits/pay':>13}{'WAL flushes/pay':>17}"
    )
    for row in report["rows"]:
        commits, flushes = row.get("commits_per_payment"), row.get("wal_flushes_per_payment")
        print(
            f"{row['setup']:<22}{row['processes']:>10}{row['payments_per_s']:>12,.1f}"
            f"{row['cpu_ms_per_payment']:>12.3f}{'-' if commits is None else commits:>13}"
            f"{'-' if flushes is None else flushes:>17}"
        )
    print(f"round trips per payment (happy path): {dict(report['round_trips'])}")
    _target(
        "PostgreSQL round trips",
        report["round_trips_pg"],
        f"<= {TARGET_ROUND_TRIPS}",
        lambda v: v <= TARGET_ROUND_TRIPS,
    )
    _target(
        "PostgreSQL, 2 processes / 1",
        report["speedup_2_processes_pg"],
        f">= {TARGET_TWO_PROCESS_SPEEDUP}x",
        lambda v: v >= TARGET_TWO_PROCESS_SPEEDUP,
    )
    _target(
        "PostgreSQL + Redis, 2 processes / 1",
        report["speedup_2_processes_pg_redis"],
        f">= {TARGET_TWO_PROCESS_SPEEDUP}x",
        lambda v: v >= TARGET_TWO_PROCESS_SPEEDUP,
    )
    _target(
        "Redis state's cost per payment (1 process)",
        report["redis_cost"],
        f"<= {TARGET_REDIS_COST:.0%}",
        lambda v: v <= TARGET_REDIS_COST,
    )


def _target(name: str, value: float | None, wanted: str, met: Any) -> None:
    verdict = "n/a (no server given)" if value is None else ("met" if met(value) else "MISSED")
    print(f"  {name}: {value} (target {wanted}): {verdict}")


if __name__ == "__main__":
    sys.exit(main())
