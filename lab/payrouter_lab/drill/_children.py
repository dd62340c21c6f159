"""The drill's child processes (the stand-ins, the customers' browsers): reading a child's
first line, and stopping it.

Each child prints one line when it is ready and ends when its stdin closes.
"""

from __future__ import annotations

import asyncio

__all__ = ["first_line", "stop"]

_START_SECONDS = 60.0
"""How long a child may take to import and start (a loaded machine is slow)."""
_STOP_SECONDS = 10.0


async def first_line(child: asyncio.subprocess.Process) -> bytes:
    """The child's first line of output; empty if it ended before writing one."""
    assert child.stdout is not None
    async with asyncio.timeout(_START_SECONDS):
        return await child.stdout.readline()


async def stop(child: asyncio.subprocess.Process) -> None:
    """Close the child's stdin, its signal to finish, and wait for it; kill it if it has not
    ended within `_STOP_SECONDS`."""
    assert child.stdin is not None
    child.stdin.close()
    try:
        async with asyncio.timeout(_STOP_SECONDS):
            await child.wait()
    except TimeoutError:
        child.kill()
        await child.wait()
