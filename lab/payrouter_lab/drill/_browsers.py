"""The customers' browsers, in a process of their own, as real customers' browsers are.

A customer who approves opens the provider's page (an HTTP GET). Played on the drill's event
loop, those page loads (connection set-up, HTTP parsing) ran in the checkout's process and
were billed to payrouter, the only strategy that plays customers: under CPU pressure they
took the loop from its payments. A merchant's checkout never loads its customers' pages, so
the drill hands each page to this child, which waits out the customer's think time, loads
the page and answers whether it loaded. The checkout's own part, the return page asking the
provider through `router.refresh`, stays in the drill's process.

The protocol is one JSON object per line: in, `{"order_id", "page", "think_seconds"}`; out,
`{"order_id", "loaded"}`. The child ends when its stdin closes (`_children.stop`), after its
last answer.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx

from ._children import first_line, stop

__all__ = ["Browsers", "PageLoaded", "browsers_in_a_process"]

_PAGE_TIMEOUT_SECONDS = 10.0
_READY = b"ready\n"


@dataclass(frozen=True, slots=True)
class PageLoaded:
    """A browser's answer: whether the customer's page loaded."""

    order_id: str
    loaded: bool


class Browsers:
    """The parent's side: send pages to open, read back whether each loaded."""

    def __init__(self, child: asyncio.subprocess.Process) -> None:
        assert child.stdin is not None
        assert child.stdout is not None
        self._child, self._stdin, self._stdout = child, child.stdin, child.stdout

    @property
    def pid(self) -> int:
        """The browsers' process id (never the drill's own)."""
        return self._child.pid

    def open_page(self, order_id: str, page: str, think_seconds: float) -> None:
        """A customer opens `page` after `think_seconds`; its answer comes from `answers`."""
        line = {"order_id": order_id, "page": page, "think_seconds": think_seconds}
        self._stdin.write(json.dumps(line).encode() + b"\n")

    async def answers(self) -> AsyncIterator[PageLoaded]:
        """Each page's answer as it comes, until the child has answered all and ended."""
        while line := await self._stdout.readline():
            yield PageLoaded(**json.loads(line))


@contextlib.asynccontextmanager
async def browsers_in_a_process(
    page_timeout_seconds: float = _PAGE_TIMEOUT_SECONDS,
) -> AsyncIterator[Browsers]:
    """A browsers' child process for the block, ready to open pages; a page that has not
    loaded after `page_timeout_seconds` did not load."""
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        f"import sys; from {__name__} import main; main(float(sys.argv[1]))",
        str(page_timeout_seconds),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        if await first_line(child) != _READY:
            raise RuntimeError("the customers' browsers process ended before it was ready")
        yield Browsers(child)
    finally:
        await stop(child)


async def _load(client: httpx.AsyncClient, order_id: str, page: str, think: float) -> None:
    await asyncio.sleep(think)
    try:
        await client.get(page)  # the customer approves on the provider's page
        loaded = True
    except httpx.HTTPError:  # the page did not load: nothing approved, they give up
        loaded = False
    sys.stdout.write(json.dumps({"order_id": order_id, "loaded": loaded}) + "\n")
    sys.stdout.flush()


async def _serve(page_timeout_seconds: float) -> None:
    loop = asyncio.get_running_loop()
    pages = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(pages), sys.stdin)
    sys.stdout.buffer.write(_READY)
    sys.stdout.flush()
    async with (
        httpx.AsyncClient(timeout=page_timeout_seconds) as client,
        asyncio.TaskGroup() as tasks,
    ):
        while line := await pages.readline():
            asked = json.loads(line)
            tasks.create_task(
                _load(client, asked["order_id"], asked["page"], asked["think_seconds"])
            )


def main(page_timeout_seconds: float) -> None:
    """The child: open pages read from stdin until it closes."""
    asyncio.run(_serve(page_timeout_seconds))
