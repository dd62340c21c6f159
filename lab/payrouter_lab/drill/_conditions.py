"""The conditions a drill ran under: how busy the machine's CPUs were while it ran.

A drill's timings (timeouts, Retry-After waits, latency tails) are only as good as the machine:
on saturated CPUs the event loop answers late, calls time out that would not, and the figures
describe the machine rather than the strategies. So the report states what the CPUs did during
the run and warns when they were saturated, instead of leaving a reader to trust the numbers.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["Conditions", "watch_conditions"]

_PROC_STAT = Path("/proc/stat")
SATURATED_BUSY_SHARE = 0.90
"""Machine-wide CPU busy share over the run at or above which timings are not trusted."""
SATURATED_OWN_SHARE = 0.95
"""The drill's own share of one core at or above which its event loop was the bottleneck."""


def _cpu_ticks() -> tuple[int, int] | None:
    """(busy, total) jiffies across all CPUs since boot, where /proc/stat exists."""
    try:
        first = _PROC_STAT.read_text().split("\n", 1)[0].split()
    except OSError:
        return None
    ticks = [int(part) for part in first[1:]]
    idle = ticks[3] + (ticks[4] if len(ticks) > 4 else 0)  # idle + iowait
    return sum(ticks) - idle, sum(ticks)


@dataclass(slots=True)
class Conditions:
    """CPU figures gathered while the drill ran; `summary()` is the report's `conditions`."""

    cpus: int = field(default_factory=lambda: os.cpu_count() or 1)
    started_ticks: tuple[int, int] | None = None
    ended_ticks: tuple[int, int] | None = None
    started_process: float = 0.0
    ended_process: float = 0.0
    started_wall: float = 0.0
    ended_wall: float = 0.0
    load_averages: list[float] = field(default_factory=list)
    pressure_processes: int = 0
    """CPU-bound neighbour processes the drill ran beside (`--pressure`)."""
    order: tuple[str, ...] = ()
    """The strategies in the order they ran, one at a time."""
    turns: dict[str, tuple[_Mark, _Mark]] = field(default_factory=dict)
    """Each strategy's start and end: they run one after another, so each meets the
    machine's other load as it is at its turn, and the report says what that was."""

    @contextlib.contextmanager
    def during(self, strategy: str) -> Iterator[None]:
        """Measure the machine while `strategy` runs (its turn)."""
        start = _Mark.now(len(self.load_averages))
        try:
            yield
        finally:
            self.turns[strategy] = (start, _Mark.now(len(self.load_averages)))

    def by_strategy(self) -> dict[str, dict[str, float | None]]:
        """Per strategy, over its own turn: CPU busy share, load average peak, the drill's
        share of one core, and its wall clock."""
        figures: dict[str, dict[str, float | None]] = {}
        for name, (start, end) in self.turns.items():
            loads = self.load_averages[start.loads : end.loads + 1]
            busy, own = _shares(start, end)
            figures[name] = {
                "cpu_busy_percent": None if busy is None else round(busy * 100, 1),
                "load_average_peak": round(max(loads), 2) if loads else None,
                "drill_cpu_percent_of_one_core": None if own is None else round(own * 100, 1),
                "wall_seconds": round(end.wall - start.wall, 2),
            }
        return figures

    def summary(self) -> dict[str, object]:
        """Busy share, peak load, the drill's own CPU, and a warning when saturated."""
        busy: float | None = None
        if self.started_ticks and self.ended_ticks:
            spent = self.ended_ticks[1] - self.started_ticks[1]
            if spent > 0:
                busy = (self.ended_ticks[0] - self.started_ticks[0]) / spent
        wall = self.ended_wall - self.started_wall
        own = (self.ended_process - self.started_process) / wall if wall > 0 else None
        peak_load = max(self.load_averages, default=None)
        reasons = []
        if busy is not None and busy >= SATURATED_BUSY_SHARE:
            reasons.append(f"the CPUs were {busy * 100:.0f} % busy")
        if peak_load is not None and peak_load > self.cpus:
            reasons.append(f"the load average reached {peak_load:.1f} on {self.cpus} cores")
        if own is not None and own >= SATURATED_OWN_SHARE:
            reasons.append(f"the drill itself used {own * 100:.0f} % of a core")
        warning = None
        if reasons:
            warning = (
                "The machine was saturated during this run ("
                + "; ".join(reasons)
                + "): timeouts, retries and latencies are not reliable. "
                "Run the drill again on an idle machine before trusting these figures."
            )
        turns = self.by_strategy()
        return {
            "cpus": self.cpus,
            "pressure_processes": self.pressure_processes,
            "strategies_ran": "one at a time, each alone on the event loop, in this order: "
            + ", ".join(_turn(name, turns.get(name)) for name in self.order),
            "by_strategy": turns,
            "cpu_busy_percent": None if busy is None else round(busy * 100, 1),
            "load_average_peak": None if peak_load is None else round(peak_load, 2),
            "drill_cpu_percent_of_one_core": None if own is None else round(own * 100, 1),
            "saturated": bool(reasons),
            "warning": warning,
        }


@dataclass(frozen=True, slots=True)
class _Mark:
    """The machine's counters at one instant, and how many load samples were taken by then."""

    ticks: tuple[int, int] | None
    process: float
    wall: float
    loads: int

    @classmethod
    def now(cls, loads: int) -> _Mark:
        return cls(_cpu_ticks(), time.process_time(), time.perf_counter(), loads)


def _shares(start: _Mark, end: _Mark) -> tuple[float | None, float | None]:
    """Machine-wide CPU busy share, and the drill's share of one core, between two marks."""
    busy = None
    if start.ticks and end.ticks and end.ticks[1] > start.ticks[1]:
        busy = (end.ticks[0] - start.ticks[0]) / (end.ticks[1] - start.ticks[1])
    wall = end.wall - start.wall
    return busy, (end.process - start.process) / wall if wall > 0 else None


def _turn(name: str, figures: dict[str, float | None] | None) -> str:
    """`payrouter (load average peak 8.1, CPUs 100.0 % busy, the drill at 30.5 % of a core)`."""
    if not figures:
        return name
    return (
        f"{name} (load average peak {figures['load_average_peak']}, CPUs "
        f"{figures['cpu_busy_percent']} % busy, the drill at "
        f"{figures['drill_cpu_percent_of_one_core']} % of one core)"
    )


def _load_average() -> float | None:
    try:
        return os.getloadavg()[0]
    except OSError:
        return None


@contextlib.asynccontextmanager
async def watch_conditions(interval_seconds: float = 1.0) -> AsyncIterator[Conditions]:
    """Measure the machine's CPU from entry to exit, sampling the load average as it runs."""
    conditions = Conditions(
        started_ticks=_cpu_ticks(),
        started_process=time.process_time(),
        started_wall=time.perf_counter(),
    )

    async def sample() -> None:
        while True:
            load = _load_average()
            if load is not None:
                conditions.load_averages.append(load)
            await asyncio.sleep(interval_seconds)

    sampler = asyncio.create_task(sample())
    try:
        yield conditions
    finally:
        sampler.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await sampler
        conditions.ended_ticks = _cpu_ticks()
        conditions.ended_process = time.process_time()
        conditions.ended_wall = time.perf_counter()
        load = _load_average()
        if load is not None:
            conditions.load_averages.append(load)
