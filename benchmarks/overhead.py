"""What payrouter adds to one payment: `router.pay` against a direct adapter call, side by side.

    A  `await adapter.pay(charge, idempotency_key=...)`: a SimulatedAdapter on its in-memory
       httpx transport (SimulatedProvider), nothing else. Its provider replays a request by
       key for 24 hours, as Stripe, Adyen and PayPal do, so `router.pay` takes a card
       payment's path (the request kept sealed for a replay); `--no-replay` measures the path
       of a provider that replays nothing (a Berlin Group bank: the call runs as a task of its
       own that may outlive the deadline, `_paying/_late.py`).
    B  `await router.pay(request)`: a Router over a fresh adapter/provider of the same kind,
       with a durable SQLite ledger file (WAL; synchronous NORMAL unless told otherwise),
       default settings and hooks: claim, write-before-call, breaker, outcome and status writes.
    C  the peer: a fresh adapter of the same kind wrapped the way a merchant hand-rolls it,
       pybreaker + tenacity + try/except (`_peer.py`), no ledger.

Happy path, a unique order id per payment. After a warm-up, batches of A, B and C rotate so
that drift (CPU frequency, page cache, a noisy neighbour) hits all three alike; latencies are
per payment. Throughput is B alone, sequential and with `--concurrency` payments in flight
(asyncio.gather batches), through one process, and C's the same way. Memory: the process's
RSS with `--in-flight` payments in flight at once through one router (each past its ledger
writes, waiting for its provider).

    python benchmarks/overhead.py [--payments N] [--concurrency 1,16,64] [--in-flight 10000]
                                  [--sqlite-synchronous NORMAL|FULL] [--json]

The targets are printed next to the figures, never asserted: timings belong to the machine.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import os
import platform
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from pydantic import SecretStr

import payrouter
from payrouter import (
    AdmissionSettings,
    CardSource,
    Money,
    PaymentRequest,
    PaymentStatus,
    Router,
    RouterSettings,
)
from payrouter._ledger import SqlLedger
from payrouter.provider import Charge, Resolution
from payrouter.testing import SimulatedAdapter, SimulatedProvider

sys.path.insert(0, str(Path(__file__).parent))
from _peer import HandRolled, rss_with_payments_in_flight

TARGET_ADDED_P99_MS: Final = 1.0
TARGET_PAYMENTS_PER_S: Final = 3000.0
_AMOUNT: Final = Money(minor_units=1250, currency="EUR")
_SOURCE: Final = CardSource(token=SecretStr("pm_card_visa"))
_REPLAYING: Final = Resolution(lookup=True, search_lag_seconds=300.0, replay_window_seconds=86400.0)


@dataclass(frozen=True, slots=True)
class Options:
    payments: int
    batch: int
    warmup: int
    concurrency: tuple[int, ...]
    synchronous: str
    in_flight: int
    replay: bool = True


def _percentile(values: Sequence[float], share: float) -> float:
    """Nearest-rank percentile; no interpolation, so p99 is a payment that really happened."""
    ordered = sorted(values)
    rank = max(1, round(share * len(ordered) + 0.5))
    return ordered[min(rank, len(ordered)) - 1]


def _adapter(name: str, replay: bool) -> SimulatedAdapter:
    """A simulated card provider; `replay`: it replays a request by key for 24 hours."""
    if replay:
        return SimulatedAdapter(SimulatedProvider(name), resolution=_REPLAYING)
    return SimulatedAdapter(SimulatedProvider(name))


def _charge(order_id: str) -> Charge:
    return Charge(
        reference=order_id, order_id=order_id, amount=_AMOUNT, source=_SOURCE, customer_country="DE"
    )


def _request(order_id: str) -> PaymentRequest:
    return PaymentRequest(
        order_id=order_id, amount=_AMOUNT, sources=[_SOURCE], customer_country="DE"
    )


async def _direct_batch(adapter: SimulatedAdapter, order_ids: Sequence[str]) -> list[float]:
    """A: one direct adapter call per order; the charge is built before the clock starts."""
    charges = [_charge(order_id) for order_id in order_ids]
    took: list[float] = []
    for charge in charges:
        started = time.perf_counter()
        await adapter.pay(charge, idempotency_key=charge.reference)
        took.append((time.perf_counter() - started) * 1000)
    return took


async def _peer_batch(peer: HandRolled, order_ids: Sequence[str]) -> list[float]:
    """C: one hand-rolled call per order; the charge is built before the clock starts."""
    charges = [_charge(order_id) for order_id in order_ids]
    took: list[float] = []
    for charge in charges:
        started = time.perf_counter()
        reply = await peer.pay(charge)
        took.append((time.perf_counter() - started) * 1000)
        if reply is None:
            raise SystemExit(f"benchmark broken: the peer failed {charge.order_id}")
    return took


async def _peer_throughput(peer: HandRolled, prefix: str, payments: int, width: int) -> float:
    charges = [_charge(f"{prefix}-{index}") for index in range(payments)]
    started = time.perf_counter()
    for first in range(0, payments, width):
        await asyncio.gather(*(peer.pay(charge) for charge in charges[first : first + width]))
    return payments / (time.perf_counter() - started)


async def _routed_batch(router: Router, order_ids: Sequence[str]) -> list[float]:
    """B: one `router.pay` per order; the request is built before the clock starts."""
    requests = [_request(order_id) for order_id in order_ids]
    took: list[float] = []
    for request in requests:
        started = time.perf_counter()
        result = await router.pay(request)
        took.append((time.perf_counter() - started) * 1000)
        if result.status is not PaymentStatus.SUCCEEDED:
            raise SystemExit(f"benchmark broken: {request.order_id} ended {result.status}")
    return took


async def _throughput(router: Router, prefix: str, payments: int, width: int) -> float:
    """Payments per second through `router` with `width` payments in flight at a time."""
    requests = [_request(f"{prefix}-{index}") for index in range(payments)]
    started = time.perf_counter()
    for first in range(0, payments, width):
        await asyncio.gather(*(router.pay(request) for request in requests[first : first + width]))
    return payments / (time.perf_counter() - started)


async def measure(options: Options) -> dict[str, object]:
    """Run A and B alternately, then B's throughput; return every figure in one flat dict."""
    with tempfile.TemporaryDirectory(prefix="payrouter-overhead-") as folder:
        ledger = SqlLedger(
            f"sqlite:///{Path(folder) / 'ledger.db'}", sqlite_synchronous=options.synchronous
        )
        direct = _adapter("card_direct", options.replay)
        routed = _adapter("card_routed", options.replay)
        peer = HandRolled(_adapter("card_peer", options.replay))
        direct_ms: list[float] = []
        routed_ms: list[float] = []
        peer_ms: list[float] = []
        cpu_seconds = [0.0, 0.0, 0.0]  # this process's CPU time per side: load-proof
        load_before = os.getloadavg()
        # Admission may shed down to its floor on a loaded machine; the floor is the widest
        # width measured, so every payment sent is paid (default settings otherwise).
        floor = AdmissionSettings(min_limit=max(options.concurrency))
        settings = RouterSettings(admission=floor)
        async with Router([routed], ledger=ledger, settings=settings) as router:
            warm = [f"warm-{index}" for index in range(options.warmup)]
            await _direct_batch(direct, warm)
            await _routed_batch(router, warm)
            await _peer_batch(peer, warm)
            gc.collect()
            started = time.perf_counter()
            for first in range(0, options.payments, options.batch):
                ids = [f"p-{i}" for i in range(first, min(first + options.batch, options.payments))]
                turn = (first // options.batch) % 3  # rotate which side goes first
                for side in [*range(turn, 3), *range(turn)]:
                    cpu_started = time.process_time()
                    if side == 0:
                        direct_ms += await _direct_batch(direct, ids)
                    elif side == 1:
                        routed_ms += await _routed_batch(router, ids)
                    else:
                        peer_ms += await _peer_batch(peer, ids)
                    cpu_seconds[side] += time.process_time() - cpu_started
            latency_seconds = time.perf_counter() - started
            rates = {
                width: await _throughput(router, f"c{width}", options.payments, width)
                for width in options.concurrency
            }
            peer_rates = {
                width: await _peer_throughput(peer, f"c{width}", options.payments, width)
                for width in options.concurrency
            }
            direct_rate = 1000 / statistics.fmean(direct_ms)
            wal = _wal_figures(ledger, Path(folder) / "ledger.db-wal")
        await direct.aclose()
        with contextlib.closing(sqlite3.connect(Path(folder) / "ledger.db")) as peek:
            (journal_mode,) = peek.execute("PRAGMA journal_mode").fetchone()
        memory = await rss_with_payments_in_flight(
            f"sqlite:///{Path(folder) / 'memory.db'}",
            [_request(f"m-{index}") for index in range(options.in_flight)],
        )
    load_after = os.getloadavg()
    cpu_ms = [seconds * 1000 / options.payments for seconds in cpu_seconds]
    added_mean = statistics.fmean(routed_ms) - statistics.fmean(direct_ms)
    a50, a99 = _percentile(direct_ms, 0.50), _percentile(direct_ms, 0.99)
    b50, b99 = _percentile(routed_ms, 0.50), _percentile(routed_ms, 0.99)
    best_width = max(rates, key=lambda width: rates[width])
    return {
        "payrouter": payrouter.__version__,
        "python": platform.python_version(),
        "platform": platform.platform(terse=True),
        "cpus": os.cpu_count(),
        "sqlite_synchronous": options.synchronous,
        "provider_replays": options.replay,
        "journal_mode": str(journal_mode).upper(),
        "payments": options.payments,
        "batch": options.batch,
        "warmup": options.warmup,
        "direct_p50_ms": a50,
        "direct_p99_ms": a99,
        "direct_mean_ms": statistics.fmean(direct_ms),
        "router_p50_ms": b50,
        "router_p99_ms": b99,
        "router_mean_ms": statistics.fmean(routed_ms),
        "added_latency_p50_ms": b50 - a50,
        "added_latency_p99_ms": b99 - a99,
        "overhead_ratio": statistics.fmean(routed_ms) / statistics.fmean(direct_ms),
        "direct_payments_per_s_sequential": direct_rate,
        "router_only_payments_per_s_ceiling": 1000 / max(added_mean, 1e-6),
        "payments_per_s": rates[best_width],
        "payments_per_s_concurrency": best_width,
        "payments_per_s_sequential": rates.get(1, 1000 / statistics.fmean(routed_ms)),
        "payments_per_s_by_concurrency": {str(width): rate for width, rate in rates.items()},
        "load_average_before": load_before[0],
        "load_average_after": load_after[0],
        "direct_cpu_ms_per_payment": cpu_ms[0],
        "router_cpu_ms_per_payment": cpu_ms[1],
        "peer_cpu_ms_per_payment": cpu_ms[2],
        "added_cpu_ms_per_payment": cpu_ms[1] - cpu_ms[0],
        "overhead_ratio_cpu": cpu_ms[1] / cpu_ms[0],
        "peer": _peer_figures(peer_ms, direct_ms, peer_rates),
        "router_vs_peer_ratio": statistics.fmean(routed_ms) / statistics.fmean(peer_ms),
        "rss_mb_in_flight": memory["rss_mb_in_flight"],
        "rss_mb_before_in_flight": memory["rss_mb_before"],
        "rss_kb_per_payment_in_flight": memory["rss_kb_per_payment_in_flight"],
        "in_flight": options.in_flight,
        "ledger_payments": options.warmup + options.payments * (1 + len(options.concurrency)),
        **wal,
        "latency_phase_seconds": latency_seconds,
        "target_added_latency_p99_ms": TARGET_ADDED_P99_MS,
        "target_payments_per_s": TARGET_PAYMENTS_PER_S,
    }


def _wal_figures(ledger: SqlLedger, wal: Path) -> dict[str, object]:
    """The ledger's WAL file after every payment of the run, before closing (the last
    connection's close empties it), and how often the checkpoint thread started it over."""
    checkpointer = ledger._checkpointer
    return {
        "ledger_wal_mb": wal.stat().st_size / 1e6 if wal.exists() else 0.0,
        "ledger_wal_restarts": None if checkpointer is None else checkpointer.restarts,
    }


def _peer_figures(
    peer_ms: Sequence[float], direct_ms: Sequence[float], rates: dict[int, float]
) -> dict[str, object]:
    """The peer's row, measured beside A and B in the same run."""
    best = max(rates, key=lambda width: rates[width])
    return {
        "name": "pybreaker + tenacity + try/except",
        "p50_ms": _percentile(peer_ms, 0.50),
        "p99_ms": _percentile(peer_ms, 0.99),
        "mean_ms": statistics.fmean(peer_ms),
        "added_latency_p50_ms": _percentile(peer_ms, 0.50) - _percentile(direct_ms, 0.50),
        "added_latency_p99_ms": _percentile(peer_ms, 0.99) - _percentile(direct_ms, 0.99),
        "overhead_ratio": statistics.fmean(peer_ms) / statistics.fmean(direct_ms),
        "payments_per_s": rates[best],
        "payments_per_s_concurrency": best,
        "payments_per_s_by_concurrency": {str(width): rate for width, rate in rates.items()},
    }


def _verdict(met: bool) -> str:
    return "met" if met else "MISSED"


def _print_table(figures: dict[str, object]) -> None:
    def ms(key: str) -> str:
        value = figures[key]
        assert isinstance(value, float)
        return f"{value:8.3f}"

    def rate(value: object) -> str:
        assert isinstance(value, float)
        return f"{value:8,.0f}"

    added_p99, best = figures["added_latency_p99_ms"], figures["payments_per_s"]
    peer = figures["peer"]
    assert isinstance(peer, dict)
    assert isinstance(added_p99, float)
    assert isinstance(best, float)
    print(
        f"payrouter {figures['payrouter']} overhead: {figures['payments']} payments per side, "
        f"batches of {figures['batch']}, warm-up {figures['warmup']}; Python {figures['python']}, "
        f"{figures['cpus']} CPUs, {figures['platform']}"
    )
    print(
        f"ledger: SQLite file, journal_mode={figures['journal_mode']}, "
        f"synchronous={figures['sqlite_synchronous']}; the provider "
        f"{'replays requests by key' if figures['provider_replays'] else 'replays nothing'}; "
        "default RouterSettings and hooks "
        "(admission floor at the widest width); "
        f"load average {figures['load_average_before']:.1f} before, "
        f"{figures['load_average_after']:.1f} after the latency phase"
    )
    rows = [
        ("", "    p50 ms", "    p99 ms", "   mean ms", "target"),
        (
            "A direct adapter.pay",
            ms("direct_p50_ms"),
            ms("direct_p99_ms"),
            ms("direct_mean_ms"),
            "",
        ),
        ("B router.pay", ms("router_p50_ms"), ms("router_p99_ms"), ms("router_mean_ms"), ""),
        (
            "C peer (hand-rolled)",
            f"{peer['p50_ms']:8.3f}",
            f"{peer['p99_ms']:8.3f}",
            f"{peer['mean_ms']:8.3f}",
            "",
        ),
        (
            "added (B - A)",
            ms("added_latency_p50_ms"),
            ms("added_latency_p99_ms"),
            "",
            f"p99 <= {TARGET_ADDED_P99_MS} ms: {_verdict(added_p99 <= TARGET_ADDED_P99_MS)}",
        ),
    ]
    for label, *cells in rows:
        line = f"  {label:<22}" + "".join(f"{cell:>11}" for cell in cells[:3]) + f"   {cells[3]}"
        print(line.rstrip())
    ratio = figures["overhead_ratio"]
    assert isinstance(ratio, float)
    print(f"  overhead ratio (B mean / A mean): {ratio:.2f}x")
    print(
        f"  CPU per payment (this process, unaffected by other processes): A "
        f"{figures['direct_cpu_ms_per_payment']:.3f} ms, "
        f"B {figures['router_cpu_ms_per_payment']:.3f} ms, "
        f"C {figures['peer_cpu_ms_per_payment']:.3f} ms; B / A "
        f"{figures['overhead_ratio_cpu']:.2f}x"
    )
    print(
        f"  peer: C mean / A mean {peer['overhead_ratio']:.2f}x, added p99 "
        f"{peer['added_latency_p99_ms']:.3f} ms; router vs peer (B mean / C mean) "
        f"{figures['router_vs_peer_ratio']:.2f}x"
    )
    print("  throughput, router.pay through one process:")
    by_width = figures["payments_per_s_by_concurrency"]
    assert isinstance(by_width, dict)
    for width, value in by_width.items():
        print(f"    {int(width):>3} in flight   {rate(value)} payments/s")
    print(
        f"    best ({figures['payments_per_s_concurrency']} in flight) {rate(best)} payments/s"
        f"   target >= {TARGET_PAYMENTS_PER_S:,.0f}: {_verdict(best >= TARGET_PAYMENTS_PER_S)}"
    )
    print(f"    sequential       {rate(figures['payments_per_s_sequential'])} payments/s")
    print(
        f"    peer, best ({peer['payments_per_s_concurrency']} in flight) "
        f"{rate(peer['payments_per_s'])} payments/s (no ledger)"
    )
    print(
        f"    (direct adapter, sequential {rate(figures['direct_payments_per_s_sequential'])}"
        " payments/s; the router's own work alone caps one process at "
        f"{rate(figures['router_only_payments_per_s_ceiling']).strip()} payments/s)"
    )
    print(
        "  every payment here is CPU work in this process (in-memory provider, inline SQLite), "
        "so payments in flight overlap no waiting: throughput is 1 / CPU per payment"
    )
    print(
        f"  memory: RSS {figures['rss_mb_in_flight']:.0f} MB with {figures['in_flight']:,} "
        "payments in flight through one router, admission off "
        f"({figures['rss_mb_before_in_flight']:.0f} MB before; "
        f"{figures['rss_kb_per_payment_in_flight']:.1f} KB per payment in flight)"
    )
    print(
        f"  ledger: its WAL file {figures['ledger_wal_mb']:.1f} MB after "
        f"{figures['ledger_payments']:,} payments through the router, started over "
        f"{figures['ledger_wal_restarts']} times by the checkpoint thread"
    )


def _widths(text: str) -> tuple[int, ...]:
    try:
        widths = tuple(int(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError("give widths like 1,16,64") from None
    if not widths or min(widths) < 1:
        raise argparse.ArgumentTypeError("widths must be positive")
    return widths


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--payments", type=int, default=3000, help="per side, and per width")
    parser.add_argument("--batch", type=int, default=100, help="payments per A or B batch")
    parser.add_argument("--warmup", type=int, default=300, help="payments per side, unmeasured")
    parser.add_argument("--concurrency", type=_widths, default=(1, 16, 64))
    parser.add_argument(
        "--in-flight", type=int, default=10_000, help="payments held in flight for the RSS"
    )
    parser.add_argument(
        "--sqlite-synchronous", choices=("NORMAL", "FULL"), default="NORMAL", type=str.upper
    )
    parser.add_argument(
        "--no-replay", action="store_true", help="a provider that replays no request by key"
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object only")
    args = parser.parse_args(argv)
    if args.payments < 1 or args.batch < 1 or args.warmup < 0 or args.in_flight < 1:
        parser.error("--payments, --batch, --in-flight must be positive, --warmup not negative")
    options = Options(
        payments=args.payments,
        batch=args.batch,
        warmup=min(args.warmup, args.payments),
        concurrency=args.concurrency,
        synchronous=args.sqlite_synchronous,
        in_flight=args.in_flight,
        replay=not args.no_replay,
    )
    figures = asyncio.run(measure(options))
    if args.json:
        json.dump(figures, sys.stdout)
        print()
    else:
        _print_table(figures)


if __name__ == "__main__":
    main()
