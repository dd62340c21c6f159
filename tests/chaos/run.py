"""The chaos run's conductor: starts the workers, closes providers in turn, kills one worker.

Every provider's faults are armed at the start, each for a few requests (`plan.FAULT_HITS`),
so traffic walks it through every mode. `down` windows and the kill follow progress (answers
received), never the clock, so a loaded machine changes how long a run takes but not what it
exercises, and the kill lands while the victim has payments in flight.
"""

from __future__ import annotations

import asyncio
import json
import signal
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from payrouter_lab.testing import SandboxControl
from tests.chaos.plan import (
    AFTER_INCIDENT_FAULTS,
    PROVIDERS,
    Order,
    provider_faults,
    write_plan,
)

ROOT = Path(__file__).resolve().parents[2]
VICTIM = 0
"""The worker that is SIGKILLed."""
DOWN_EVERY = 24
"""Answers between the starts of two `down` windows; provider k % 4 goes down in window k."""
DOWN_FOR = 6
"""Answers a `down` window lasts."""


@dataclass
class Run:
    """What the conductor saw: every answer, the kill, and which faults were hit how often."""

    answers: list[dict[str, Any]] = field(default_factory=list)
    started: dict[int, set[str]] = field(default_factory=dict)
    """Per worker, the orders it started calling a provider for."""
    answered: dict[int, set[str]] = field(default_factory=dict)
    down_windows: int = 0
    hits: Counter[str] = field(default_factory=Counter)
    killed_at: float | None = None
    in_flight_at_kill: int = 0
    exit_codes: dict[int, int | None] = field(default_factory=dict)


def fault_label(spec: dict[str, Any]) -> str:
    """A fault as the figures name it: kind, plus status, `processed` or `abort`."""
    label = str(spec["kind"])
    if "status" in spec:
        label += f" {spec['status']}"
    if spec.get("processed"):
        label += " after processing"
    if spec.get("abort"):
        label += " (answer lost)"
    elif spec["kind"] == "success_after_timeout":
        label += " (answer late)"
    return label


class Conductor:
    """Runs the workers of one chaos run against one sandbox and one config."""

    def __init__(self, sandbox: SandboxControl, config: Path, folder: Path) -> None:
        self.sandbox = sandbox
        self.config = config
        self.folder = folder
        self.run = Run()
        self._processes: dict[int, asyncio.subprocess.Process] = {}
        self._kill_after = 0

    def arm(self) -> None:
        """Every provider's faults, each for a few requests; standing ones for the run."""
        for index, provider in enumerate(PROVIDERS):
            for spec in provider_faults(index):
                self.sandbox.fault(provider, **spec)

    def _down(self, provider: str) -> None:
        self.sandbox.fault(provider, "down")
        self.run.down_windows += 1

    def _up(self, provider: str) -> None:
        """End a `down` window: clear the provider's faults and arm again what each had left
        to play (the admin API clears a provider's faults all at once)."""
        left = []
        for fault in self.sandbox.faults(provider):
            spec = fault["spec"]
            self.run.hits[fault_label(spec)] += fault["hits"]
            if spec["kind"] == "down":
                continue
            if "count" not in spec:
                left.append(spec)
            elif spec["count"] > fault["hits"]:
                left.append({**spec, "count": spec["count"] - fault["hits"]})
        self.sandbox.clear_faults(provider)
        for spec in left:
            self.sandbox.fault(provider, **spec)

    def calm(self) -> None:
        """After the run: only what outlasts the incident stays (transfers settle later;
        Stripe's search has caught up)."""
        for provider in PROVIDERS:
            for fault in self.sandbox.faults(provider):
                self.run.hits[fault_label(fault["spec"])] += fault["hits"]
            self.sandbox.clear_faults(provider)
            for spec in AFTER_INCIDENT_FAULTS.get(provider, ()):
                self.sandbox.fault(provider, **spec)

    async def pay(self, given: list[list[Order]]) -> Run:
        """Start every worker at once, cycle the faults, kill the victim, wait for the rest."""
        self._kill_after = max(1, len(given[VICTIM]) // 3)
        self.arm()
        for number, mine in enumerate(given):
            plan = self.folder / f"plan-{number}.json"
            write_plan(plan, mine)
            stderr = (self.folder / f"worker-{number}.stderr").open("w")
            # The victim SIGKILLs itself once it has answered a third of its plan with payments
            # in flight: decided by its own progress, so on an idle machine, where it outruns
            # the reading of its lines here, it cannot finish before the kill.
            die_after = [str(self._kill_after)] if number == VICTIM else []
            self._processes[number] = await asyncio.create_subprocess_exec(
                *(sys.executable, "-m", "tests.chaos.worker", str(self.config), str(plan)),
                *die_after,
                cwd=ROOT,
                stdout=asyncio.subprocess.PIPE,
                stderr=stderr,
            )
            stderr.close()
        try:
            await asyncio.gather(*(self._follow(n, p) for n, p in self._processes.items()))
        finally:
            for process in self._processes.values():
                if process.returncode is None:
                    process.kill()
                    await process.wait()
        self.calm()
        return self.run

    async def _follow(self, number: int, process: asyncio.subprocess.Process) -> None:
        """Read one worker's lines to its end; advance phases and kill on the way."""
        assert process.stdout is not None
        started = self.run.started.setdefault(number, set())
        answered = self.run.answered.setdefault(number, set())
        async for raw in process.stdout:
            line = json.loads(raw)
            if "started" in line:
                started.add(line["started"])
            elif "order" in line:
                answered.add(line["order"])
                self.run.answers.append({**line, "worker": number})
                self._progress()
        self.run.exit_codes[number] = await process.wait()
        if number == VICTIM and process.returncode == -signal.SIGKILL:
            self.run.killed_at = time.monotonic()
            self.run.in_flight_at_kill = len(self._in_flight())

    def _progress(self) -> None:
        """Open and close the `down` windows as answers come in."""
        total = len(self.run.answers)
        window, into = divmod(total, DOWN_EVERY)
        provider = PROVIDERS[window % len(PROVIDERS)]
        if into == DOWN_EVERY - DOWN_FOR:
            self._down(provider)
        elif into == 0 and window > 0:
            self._up(PROVIDERS[(window - 1) % len(PROVIDERS)])

    def _in_flight(self) -> set[str]:
        return self.run.started[VICTIM] - self.run.answered[VICTIM]
