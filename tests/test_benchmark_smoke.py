"""The overhead benchmark runs end to end and reports its figures as one JSON object.

Only the shape is checked: timings belong to the machine, so they live in `benchmarks/`.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).parents[1] / "benchmarks" / "overhead.py"
NUMERIC_KEYS = (
    "overhead_ratio",
    "added_latency_p50_ms",
    "added_latency_p99_ms",
    "payments_per_s",
    "payments_per_s_sequential",
    "direct_p50_ms",
    "direct_p99_ms",
    "router_p50_ms",
    "router_p99_ms",
    "router_vs_peer_ratio",
    "rss_mb_in_flight",
    "router_cpu_ms_per_payment",
)
PEER_KEYS = ("p50_ms", "p99_ms", "added_latency_p99_ms", "overhead_ratio", "payments_per_s")


@pytest.mark.slow
def test_overhead_benchmark_prints_one_json_object_with_numeric_figures() -> None:
    """`overhead.py --payments 50 --json` prints one object whose figures are finite numbers,
    the peer's row (pybreaker + tenacity + try/except) and the RSS with payments in flight."""
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--payments", "50", "--in-flight", "100", "--json"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    figures = json.loads(done.stdout)
    assert isinstance(figures, dict)
    for key in NUMERIC_KEYS:
        value = figures[key]
        assert type(value) in (int, float), key
        assert math.isfinite(value), key
    for key in PEER_KEYS:
        value = figures["peer"][key]
        assert type(value) in (int, float), key
        assert math.isfinite(value), key
    assert figures["in_flight"] == 100
    assert figures["payments"] == 50
    assert figures["sqlite_synchronous"] == "NORMAL"
    assert figures["journal_mode"] == "WAL"


@pytest.mark.slow
def test_router_work_benchmark_prints_the_cpu_per_payment_of_the_router_alone() -> None:
    """`router_work.py --json` pays through a router whose ledger and adapter answer at
    once, and prints finite CPU figures per payment."""
    done = subprocess.run(
        [sys.executable, str(SCRIPT.with_name("router_work.py")), "--payments", "50", "--json"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    figures = json.loads(done.stdout)
    for key in ("router_cpu_us_per_payment_best", "router_cpu_us_per_payment_median"):
        assert type(figures[key]) is float, key
        assert math.isfinite(figures[key]), key
        assert figures[key] > 0, key
    assert figures["payments_per_round"] == 50
