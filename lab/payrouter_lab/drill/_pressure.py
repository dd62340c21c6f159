"""CPU pressure for a drill: N neighbour processes that burn a core each for its length.

A promotion day loads the merchant's own servers too, and the drill's figures mean little if
they only hold on an idle machine. `--pressure N` starts N processes that spin in a pure
Python loop (nothing else: no I/O, no memory growth) for as long as the drill's process lives,
and stops each one by its own PID when the drill ends, so every strategy runs under the same
neighbours for its whole length.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections.abc import Iterator

__all__ = ["MAX_PRESSURE", "cpu_pressure"]

MAX_PRESSURE = 32
# Spins while its parent lives: a drill killed outright (SIGKILL) runs no cleanup, and its
# neighbours, reparented, then stop on their own instead of burning the cores for ever.
# The parent's PID comes as an argument: read in the child, it could already be init's.
_SPIN = (
    "import os, sys\n"
    "while os.getppid() == int(sys.argv[1]):\n"
    "    for _ in range(100_000):\n"
    "        pass\n"
)


@contextlib.contextmanager
def cpu_pressure(processes: int) -> Iterator[list[int]]:
    """Run `processes` CPU-bound neighbours for the block; yields their PIDs."""
    if not 0 <= processes <= MAX_PRESSURE:
        raise ValueError(f"pressure must be between 0 and {MAX_PRESSURE} processes")
    neighbours = [
        subprocess.Popen(  # noqa: S603 - this interpreter and a fixed loop, no input
            [sys.executable, "-c", _SPIN, str(os.getpid())],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(processes)
    ]
    try:
        yield [neighbour.pid for neighbour in neighbours]
    finally:
        for neighbour in neighbours:
            neighbour.terminate()
        for neighbour in neighbours:
            try:
                neighbour.wait(timeout=5)
            except subprocess.TimeoutExpired:
                neighbour.kill()
                neighbour.wait()
