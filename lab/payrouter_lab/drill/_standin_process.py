"""The drill's provider stand-ins, served from a process of their own, as real providers are.

Served on the drill's own event loop, the stand-ins' work (HTTP parsing, fault dice, books)
ran in the strategies' process and was billed to whichever strategy was paying: at a
promotion's rate the loop spent as much on playing the providers as on paying them, and its
lag became the strategy's read timeouts. A merchant's checkout never hosts its providers, so
the drill starts one child process that serves every stand-in set (`payrouter_lab.sandbox
.serve`, one per provider and strategy) and talks to them only over HTTP, as it did before:
the admin API arms faults and reads the books. The child lives as long as its stdin is open,
and also stops when its parent is gone (a drill killed outright runs no cleanup).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sys
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from ._children import first_line, stop

__all__ = ["StandinAddress", "standins_in_a_process"]

_PARENT_CHECK_SECONDS = 1.0


@dataclass(frozen=True, slots=True)
class StandinAddress:
    """Where one sandbox (one stand-in per provider type) listens, and its admin API."""

    urls: dict[str, str]
    admin_url: str


@contextlib.asynccontextmanager
async def standins_in_a_process(
    seeds: Sequence[int], log: Path
) -> AsyncIterator[list[StandinAddress]]:
    """Serve one sandbox per seed from a child process for the block; its output goes to
    `log`. Yields the sandboxes' addresses in the order of `seeds`."""
    with log.open("ab") as output:
        child = await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            f"import sys; from {__name__} import main; main(sys.argv[1:])",
            str(os.getpid()),
            *(str(seed) for seed in seeds),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=output,
        )
    try:
        line = await first_line(child)
        if not line:
            raise RuntimeError(f"the stand-ins' process ended before it listened: see {log}")
        yield [StandinAddress(**address) for address in json.loads(line)]
    finally:
        await stop(child)


async def _serve(parent: int, seeds: Sequence[int]) -> None:
    from ..sandbox import serve

    async with contextlib.AsyncExitStack() as stack:
        sandboxes = [await stack.enter_async_context(serve(seed=seed)) for seed in seeds]
        addresses = [{"urls": dict(s.urls), "admin_url": s.admin_url} for s in sandboxes]
        sys.stdout.write(json.dumps(addresses) + "\n")
        sys.stdout.flush()
        loop = asyncio.get_running_loop()
        stdin_closed = loop.run_in_executor(None, sys.stdin.buffer.read)
        while os.getppid() == parent:
            done, _ = await asyncio.wait({stdin_closed}, timeout=_PARENT_CHECK_SECONDS)
            if done:
                return


def main(argv: Sequence[str]) -> None:
    """The child: `main([PARENT_PID, SEED, ...])`."""
    parent, *seeds = (int(value) for value in argv)
    asyncio.run(_serve(parent, seeds))
    os._exit(0)  # the stdin reader thread may still block on a parent that is gone
