"""Helpers for the ledger's writer tests: hold its thread so that work queued meanwhile forms
one batch, queue work without waiting for it, and read back which orders were written."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Awaitable
from contextlib import asynccontextmanager
from typing import TypeVar

from sqlalchemy import Connection, select

from payrouter._ledger import SqlLedger
from payrouter._ledger._schema import payments

T = TypeVar("T")


@asynccontextmanager
async def writer_held(ledger: SqlLedger) -> AsyncIterator[None]:
    """Hold the writer thread on a job of its own, so what is queued meanwhile is one batch."""
    runner = ledger._runner
    assert runner is not None
    started, gate = threading.Event(), threading.Event()

    def hold() -> None:
        started.set()
        gate.wait()

    holding = asyncio.ensure_future(runner.call(hold))
    await asyncio.to_thread(started.wait)
    try:
        yield
    finally:
        gate.set()
        await holding


async def queued(*work: Awaitable[T]) -> list[asyncio.Task[T]]:
    """Start each awaitable as a task and let each one queue its work."""
    tasks = [asyncio.ensure_future(item) for item in work]
    await asyncio.sleep(0)
    return tasks


def order_ids(conn: Connection) -> set[str]:
    """The order ids the ledger holds (run it with `ledger.transact`)."""
    return {str(row) for row in conn.execute(select(payments.c.order_id)).scalars()}


@asynccontextmanager
async def open_ledger(url: str) -> AsyncIterator[SqlLedger]:
    """An open ledger at `url`, closed afterwards."""
    ledger = SqlLedger(url)
    await ledger.open()
    try:
        yield ledger
    finally:
        await ledger.close()
