"""How `scale.py` sums up its rows: medians over the rounds, ratios taken within a round,
and the figures printed beside their targets (printed, never asserted)."""

from __future__ import annotations

import os
import statistics
from collections.abc import Mapping
from typing import Any, Final

__all__ = ["medians", "print_report", "verdicts"]

TARGET_TWO_PROCESS_SPEEDUP: Final = 1.8
TARGET_ROUND_TRIPS: Final = 3
TARGET_REDIS_COST: Final = 0.10

_FIGURES: Final = (
    "payments_per_s",
    "cpu_ms_per_payment",
    "commits_per_payment",
    "wal_flushes_per_payment",
    "redis_commands_per_payment",
)


def medians(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per setup and process count: the median of each figure over the rounds, and the
    slowest and fastest round's payments/s."""
    keys = list(dict.fromkeys((row["setup"], row["processes"]) for row in rows))
    summary = []
    for setup, processes in keys:
        mine = [row for row in rows if (row["setup"], row["processes"]) == (setup, processes)]
        line: dict[str, Any] = {"setup": setup, "processes": processes}
        for figure in _FIGURES:
            values = [row[figure] for row in mine if figure in row]
            if values:
                line[figure] = round(statistics.median(values), 3)
        line["payments_per_s_range"] = [
            min(row["payments_per_s"] for row in mine),
            max(row["payments_per_s"] for row in mine),
        ]
        summary.append(line)
    return summary


def _paired(
    rows: list[dict[str, Any]], figure: str, top: tuple[str, int], bottom: tuple[str, int]
) -> float | None:
    """The median over the rounds of `top`'s figure over `bottom`'s, each taken in one round."""
    found = {(row["round"], row["setup"], row["processes"]): row[figure] for row in rows}
    ratios = [
        found[(number, *top)] / found[(number, *bottom)]
        for number in sorted({row["round"] for row in rows})
        if (number, *top) in found and found.get((number, *bottom))
    ]
    return round(statistics.median(ratios), 3) if ratios else None


def verdicts(
    rows: list[dict[str, Any]], trips: Mapping[str, int], pairs: list[float]
) -> dict[str, Any]:
    plain, redis = "PostgreSQL", "PostgreSQL + Redis"
    cpu_ratio = _paired(rows, "cpu_ms_per_payment", (redis, 1), (plain, 1))
    rate_ratio = _paired(rows, "payments_per_s", (plain, 1), (redis, 1))
    quartiles = statistics.quantiles(pairs, n=4) if len(pairs) > 1 else []
    return {
        "speedup_2_processes_pg": _paired(rows, "payments_per_s", (plain, 2), (plain, 1)),
        "speedup_2_processes_pg_redis": _paired(rows, "payments_per_s", (redis, 2), (redis, 1)),
        # What a payment costs a worker with Redis state over without it: CPU time, which
        # other processes on the machine change far less than payments/s, from many pairs in
        # one process; then the same from the 1-process rows (a few pairs, each process new).
        "redis_cost": round(statistics.median(pairs) - 1, 3) if pairs else None,
        "redis_cost_quartiles": [round(q - 1, 3) for q in quartiles],
        "redis_cost_rows": None if cpu_ratio is None else round(cpu_ratio - 1, 3),
        "redis_cost_by_rate": None if rate_ratio is None else round(rate_ratio - 1, 3),
        "round_trips_pg": trips.get("PostgreSQL"),
    }


def print_report(report: Mapping[str, Any]) -> None:
    print(
        f"payments per worker {report['payments_per_process']}, "
        f"{report['concurrency']} in flight per worker, in-memory provider, "
        f"{report['rounds']} rounds (medians; payments/s of the slowest and fastest round)"
    )
    if report["postgres_settings"]:
        print(f"PostgreSQL settings: {report['postgres_settings']}")
    print(
        f"load average {report['load_average_before']:.1f} before, "
        f"{report['load_average_after']:.1f} after, on {os.cpu_count()} CPUs"
    )
    print(
        f"{'setup':<20}{'procs':>6}{'payments/s':>12}{'range':>17}{'CPU ms/pay':>11}"
        f"{'commits/pay':>12}{'WAL flushes/pay':>16}{'Redis cmds/pay':>15}"
    )
    for row in report["medians"]:
        low, high = row["payments_per_s_range"]
        print(
            f"{row['setup']:<20}{row['processes']:>6}{row['payments_per_s']:>12,.1f}"
            f"{f'{low:,.0f}-{high:,.0f}':>17}{row['cpu_ms_per_payment']:>11.3f}"
            + "".join(
                f"{row.get(figure, '-'):>{width}}"
                for figure, width in (
                    ("commits_per_payment", 12),
                    ("wal_flushes_per_payment", 16),
                    ("redis_commands_per_payment", 15),
                )
            )
        )
    unpaid = sum(row["not_succeeded"] for row in report["rows"])
    print(f"payments that did not succeed: {unpaid} (a row with any measured another path)")
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
    quartiles = report["redis_cost_quartiles"]
    _target(
        f"Redis state's cost per payment (worker CPU, {len(report['redis_cost_pairs'])} "
        f"alternating pairs in one process; quartiles {quartiles})",
        report["redis_cost"],
        f"<= {TARGET_REDIS_COST:.0%}",
        lambda v: v <= TARGET_REDIS_COST,
    )
    print(
        f"  the same from the 1-process rows: worker CPU {report['redis_cost_rows']}, "
        f"payments/s {report['redis_cost_by_rate']} (the machine's load included)"
    )


def _target(name: str, value: float | None, wanted: str, met: Any) -> None:
    verdict = "n/a (no server given)" if value is None else ("met" if met(value) else "MISSED")
    print(f"  {name}: {value} (target {wanted}): {verdict}")
