"""Where and for how long ledger work runs: never waiting on the event loop, bounded by the payment.

Statements run on the ledger's own threads, so a database that stalls (a SQLite file
another process holds a write lock on, a slow network round trip) never stalls the event loop
and the other payments on it. SQLite has one writer thread, whose writes are serial anyway,
with group commit (`_writer`); the pay path's writes (`here` work) it runs on the event loop
instead when SQLite can do them without waiting for a lock, and on the thread otherwise. A
network database has one thread per pooled connection and, for the pay path's own writes
(claim, attempt row, outcome: `hot` work), a writer thread of its own with group commit on
one connection, so payments in flight share a commit (one WAL flush) instead of each paying
for three.

A payment bounds its ledger work by its deadline (`payment_deadline`), carried in a context
variable so every ledger call made on its behalf sees it without widening each signature:

- work **before** a provider is called (the claim, an attempt's row) waits at most until the
  deadline, then raises `LedgerUnavailableError`: no provider was called. A claim still
  waiting for SQLite's lock when the payment gave up is abandoned: its transaction rolls back
  instead of committing, so the customer's retry is not refused as "in progress". Giving up
  and committing race for one slot (`_writer.Abandon`): once the commit has begun the caller
  waits for it, so a caller told "no provider was called" never leaves a row behind. On a
  network database a statement sent in autocommit is committed by the sending, so such a
  statement, once sent, is waited for past the deadline.
- work **after** a call (its outcome) gets `RECORD_GRACE_SECONDS` more even past the
  deadline, and is never abandoned: the provider may have charged, and a late record is
  better than none. The payer reports a failure there as `OutcomeNotRecordedError`.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, contextmanager, nullcontext
from contextvars import ContextVar
from typing import Final, TypeVar

from .._errors import LedgerUnavailableError
from ._writer import Abandon, Job, Writer

__all__ = ["RECORD_GRACE_SECONDS", "AbandonedError", "LedgerRunner", "payment_deadline"]

T = TypeVar("T")

RECORD_GRACE_SECONDS: Final = 5.0
_DEADLINE: ContextVar[float | None] = ContextVar("payrouter_ledger_deadline", default=None)


@contextmanager
def payment_deadline(deadline: float) -> Iterator[None]:
    """Bound the ledger work done inside the block by `deadline` (a `time.monotonic()` value)."""
    token = _DEADLINE.set(deadline)
    try:
        yield
    finally:
        _DEADLINE.reset(token)


class AbandonedError(Exception):
    """Raised on the ledger's thread to roll back work whose caller gave up waiting."""


class LedgerRunner:
    """The ledger's threads, and the rules for how long a caller waits for them.

    Given `writer`, one writer thread runs work with group commit (`_writer`: SQLite's, work
    queued together shares one transaction; `_pg_writer`: a network database's, steps
    queued together share one pipeline and one commit). Given `threads`, a pool of that many
    runs each piece on its own. SQLite has only the writer (0 threads); a network database
    has both, and only its `hot` work goes to the writer.
    """

    def __init__(
        self,
        threads: int,
        where: str,
        *,
        writer: Callable[[Callable[[Job | None, bool], None]], Writer] | None = None,
    ) -> None:
        self._where = where
        self._local = threading.local()
        self._writer = None if writer is None else writer(self._running)
        self._executor = (
            None
            if threads == 0
            else ThreadPoolExecutor(threads, thread_name_prefix="payrouter-ledger")
        )

    def _running(self, job: Job | None, grouped: bool) -> None:
        """On the writer's thread: which job runs now, and whether in a shared transaction."""
        self._local.abandoned = None if job is None else job.abandoned
        self._local.grouped = grouped

    @property
    def grouped(self) -> bool:
        """True on the writer's thread while a batch's shared transaction is open: the work
        must neither begin nor commit a transaction of its own."""
        return bool(getattr(self._local, "grouped", False))

    def paused_writes(self, wait: float) -> AbstractContextManager[bool]:
        """Hold every batch back until this exits (`Writer.paused`): True once they are held,
        False if that took longer than `wait` seconds; without a writer, nothing to hold."""
        return nullcontext(True) if self._writer is None else self._writer.paused(wait)

    @property
    def batches(self) -> int:
        """Batches the writer committed together (for tests and benchmarks); 0 without one."""
        return 0 if self._writer is None else self._writer.batches

    def _submit(
        self,
        work: Callable[[], T],
        groupable: bool,
        hot: bool,
        step: object = None,
        here: bool = False,
    ) -> tuple[asyncio.Future[T], Abandon, Job | None]:
        """Queue `work`; the future answers after it committed, the flag abandons it. The
        writer takes `hot` work, and all work when there is no pool; `here` work it may run
        on the event loop when that needs no wait (`Writer.submit_here`), and then the job
        is returned too."""
        loop = asyncio.get_running_loop()
        if self._writer is not None and (hot or self._executor is None):
            job = Job(work, loop, loop.create_future(), groupable=groupable, step=step)
            if here and self._writer.submit_here(job):
                return job.future, job.abandoned, job
            self._writer.submit(job)
            return job.future, job.abandoned, None
        abandoned = Abandon()

        def job_on_pool() -> T:
            self._local.abandoned = abandoned
            try:
                return work()
            finally:
                self._local.abandoned = None

        return loop.run_in_executor(self._executor, job_on_pool), abandoned, None

    async def run(
        self,
        work: Callable[[], T],
        *,
        before_call: bool = False,
        hot: bool = False,
        step: object = None,
        here: bool = False,
    ) -> T:
        """Run `work` on a ledger thread; `before_call` marks work a provider call waits on,
        `hot` the pay path's writes, which may share a commit with other payments', `step`
        the same work as a statement a pipelining writer may send with others', and `here`
        work the writer may run on the event loop when no lock wait is needed (`_writer`).

        The wait is bounded by a timer on the loop that cancels the future, not by
        `asyncio.timeout` (whose task bookkeeping cost as much again on every ledger call).
        Work queued to run on the loop needs no timer (nothing can run while it does, and it
        runs on the loop's next turn), so its timer is armed only if it goes to the thread.
        """
        deadline = _DEADLINE.get()
        if before_call and deadline is not None and time.monotonic() >= deadline:
            raise self._late(before_call)  # not even started: nothing to abandon or undo
        future, abandoned, on_loop = self._submit(work, True, hot, step, here)
        if deadline is None:
            return await future
        until = deadline if before_call else max(deadline, time.monotonic() + RECORD_GRACE_SECONDS)
        expired = False

        def expire() -> None:
            nonlocal expired
            if before_call and not abandoned.set():
                return  # its commit began first: wait for it, as for any answer
            expired = future.cancel()  # False once answered: the answer stands

        loop = asyncio.get_running_loop()
        timers: list[asyncio.TimerHandle] = []

        def arm() -> None:
            timers.append(loop.call_at(loop.time() + max(0.0, until - time.monotonic()), expire))

        if on_loop is None:
            arm()
        else:
            on_loop.handed = arm  # called if it goes to the thread after all
        try:
            return await future
        except BaseException:
            if before_call:  # out of time, or the caller was cancelled: nothing will be sent
                abandoned.set()
            if expired:
                raise self._late(before_call) from None
            raise
        finally:
            for timer in timers:
                timer.cancel()

    def _late(self, before_call: bool) -> LedgerUnavailableError:
        return LedgerUnavailableError(
            f"the {self._where} did not answer within the payment's deadline"
            + (
                ": no provider was called. Another process may hold a long write lock on it, "
                "or the database is overloaded"
                if before_call
                else ""
            )
        )

    def refuse_if_abandoned(self) -> None:
        """Called on the ledger's thread just before a commit: roll back if nobody waits,
        else mark the commit begun, so the caller waits for it instead of giving up (`Abandon`).
        In a shared transaction the writer checks every job of the batch before its commit."""
        if self.grouped:
            return
        abandoned: Abandon | None = getattr(self._local, "abandoned", None)
        if abandoned is not None and not abandoned.commit():
            raise AbandonedError

    async def call(self, work: Callable[[], T]) -> T:
        """Run `work` on a ledger thread, alone and with no bound (opening and closing); on
        the writer's thread when there is one, so it runs after the work queued there."""
        future, _, _ = self._submit(work, groupable=False, hot=True)
        return await future

    def shutdown(self) -> None:
        """Stop the threads. Call it after a last `call`: the work queued before it is done,
        so the threads are idle and joining them is immediate."""
        if self._writer is not None:
            self._writer.shutdown()
        if self._executor is not None:
            self._executor.shutdown(wait=True)
