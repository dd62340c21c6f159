"""The scale benchmark runs end to end and prints its figures; timings are never asserted.

With the test servers it covers SQLite, PostgreSQL and PostgreSQL + Redis; the happy path's
round trips on PostgreSQL are a count, not a timing, so that one is pinned. So is how the rows
are run, which decides what the Redis comparisons mean: in every round PostgreSQL and
PostgreSQL + Redis run back to back, the first of them alternating from round to round.
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
            "--rounds",
            "2",
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
    assert [row["not_succeeded"] for row in report["rows"]] == [0] * len(report["rows"])
    assert report["round_trips"]["PostgreSQL"] == 2
    ran = [(row["round"], row["setup"], row["processes"]) for row in report["rows"]]
    assert ran == [
        (0, "SQLite", 1),
        (0, "PostgreSQL", 1),
        (0, "PostgreSQL + Redis", 1),
        (0, "SQLite", 2),
        (0, "PostgreSQL", 2),
        (0, "PostgreSQL + Redis", 2),
        (1, "SQLite", 1),
        (1, "PostgreSQL + Redis", 1),
        (1, "PostgreSQL", 1),
        (1, "SQLite", 2),
        (1, "PostgreSQL + Redis", 2),
        (1, "PostgreSQL", 2),
    ]
    redis_rows = [row for row in report["rows"] if row["setup"] == "PostgreSQL + Redis"]
    assert all("redis_commands_per_payment" in row for row in redis_rows)
    assert {(row["setup"], row["processes"]) for row in report["medians"]} == setups
    assert len(report["redis_cost_pairs"]) == 2
