"""A caller giving up on a ledger write and the write's commit race: one of them wins, never both.

Work done before a provider call (the claim, attempt 1's row) is bounded by the payment's
deadline: past it, the caller hears `LedgerUnavailableError`, whose promise is that no provider
was called and nothing holds the order. If the write committed anyway, an attempt row would
stand that a takeover or reconcile later sends, for a payment its caller was told never began.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time

import pytest

from payrouter import LedgerUnavailableError
from payrouter._ledger._runner import AbandonedError, LedgerRunner, payment_deadline
from payrouter._ledger._writer import Writer


def _runner() -> LedgerRunner:
    return LedgerRunner(
        0, "ledger", writer=lambda on_thread: Writer(contextlib.nullcontext, on_thread)
    )


async def _past(deadline: float) -> None:
    """Return once the loop has run every timer due at `deadline` (ours is due later)."""
    await asyncio.sleep(max(0.0, deadline - time.monotonic()) + 0.01)


async def test_a_write_whose_commit_began_before_the_deadline_answers_its_caller() -> None:
    runner = _runner()
    committing, release = threading.Event(), threading.Event()
    committed: list[str] = []

    def claim() -> str:
        runner.refuse_if_abandoned()  # the last look before the commit
        committing.set()
        release.wait()  # the commit takes its time (a WAL flush, a busy disk)
        committed.append("claim")
        return "claimed"

    deadline = time.monotonic() + 0.05
    with payment_deadline(deadline):
        task = asyncio.create_task(runner.run(claim, before_call=True))
    await asyncio.to_thread(committing.wait)
    await _past(deadline)  # the caller's deadline fired while the commit was under way
    release.set()
    assert await task == "claimed", "the caller hears what was committed, not 'unavailable'"
    assert committed == ["claim"]
    await runner.call(lambda: None)
    runner.shutdown()


async def test_a_write_given_up_before_its_commit_is_rolled_back_and_never_committed() -> None:
    runner = _runner()
    started, release = threading.Event(), threading.Event()
    committed: list[str] = []
    refused: list[type[BaseException]] = []

    def claim() -> str:
        started.set()
        release.wait()  # the statement waits (a lock held elsewhere) past the deadline
        try:
            runner.refuse_if_abandoned()
        except AbandonedError as error:
            refused.append(type(error))
            raise
        committed.append("claim")
        return "claimed"

    deadline = time.monotonic() + 0.05
    with payment_deadline(deadline):
        task = asyncio.create_task(runner.run(claim, before_call=True))
    await asyncio.to_thread(started.wait)
    await _past(deadline)
    release.set()
    with pytest.raises(LedgerUnavailableError, match="no provider was called"):
        await task
    await runner.call(lambda: None)  # the writer has finished the abandoned job
    assert committed == [], "a caller told 'no provider was called' left nothing behind"
    assert refused == [AbandonedError]
    runner.shutdown()
