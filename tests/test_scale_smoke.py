"""The scale benchmark runs end to end and prints its figures; timings are never asserted.

With the test servers it covers SQLite, PostgreSQL and PostgreSQL + Redis; the happy path's
round trips on PostgreSQL are a count, not a timing, so that one is pinned.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).parents[1] / "benchmarks" / "scale.py"


@pytest.mark.slow
@pytest.mark.peer("postgres")
def test_scale_benchmark_reports_every_setup(postgres_url: str, redis_url: str) -> None:
    done = subprocess.run(
        [
            sys.executable,
            str(SCRIPT),
            "--quick",
            "--json",
            "--postgres",
            postgres_url,
            "--redis",
            redis_url,
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    setups = {(row["setup"], row["processes"]) for row in report["rows"]}
    assert setups == {
        (setup, processes)
        for setup in ("SQLite", "PostgreSQL", "PostgreSQL + Redis")
        for processes in (1, 2)
    }
    assert all(row["payments_per_s"] > 0 for row in report["rows"])
    assert report["round_trips"]["PostgreSQL"] == 2
