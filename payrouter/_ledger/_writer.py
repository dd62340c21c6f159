"""SQLite's one writer thread, with group commit: the payments in flight share one commit.

SQLite takes one write transaction at a time, so the ledger gives it one thread. Each commit
costs the same whatever it holds (the WAL frame headers, the lock, the wake-up of the caller),
so when several payments' statements are queued together the thread runs them all in one
transaction and commits once (group commit, as databases do with their own log): with 16
payments in flight, their claims, attempt rows and outcomes cost one commit per batch instead of
one each. Every caller still gets its answer only after the commit that holds its rows, so
"write before call" holds: no provider is called on a row that is not durable yet.

A batch is all or nothing, so one job cannot spoil another's: when a job in a batch fails, or
its caller gave up waiting (`abandoned`), the batch is rolled back and each of its jobs runs
again alone, in its own transaction, as if it had come alone. Jobs are statements and the
values they write, so running one again after a rollback does the same thing.

Answers go back to the event loop in one call per batch, not one per job: waking the loop
from another thread is a system call, and under load each one costs a context switch.

The pay path's writes may skip the thread altogether (`submit_here`). Handing a job to the
thread and its answer back wakes two threads, which cost a sequential payment more than its
statements on a busy machine. So a job marked `here` is queued on the event loop's side, and
once per turn of the loop the jobs queued so far run there as one batch, in one transaction,
with SQLite told not to wait for a lock (`lock_waits(False)`): when the thread is busy, or
another connection holds the write lock, or anything in the batch fails, nothing is kept and
the whole batch goes to the thread as before, where lock waits are allowed. The loop never
waits for a lock, only for SQLite's own work, which under `synchronous=NORMAL` in WAL mode
writes to the WAL without a flush to disk.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any, Final

__all__ = ["Abandon", "Job", "Writer"]

MAX_BATCH: Final = 64
"""At most this many jobs share a commit, so a burst cannot make one transaction huge."""


class Abandon:
    """Whether a job's caller gave up waiting, or its commit began: whichever came first wins.

    The caller may give up (its deadline passed) at the very moment the ledger's thread is
    about to commit. Had both sides only looked at a flag, the caller could be told "the ledger
    did not answer, no provider was called" while the claim and attempt row it gave up on were
    committed anyway, leaving an attempt that a takeover or reconcile would later send. So the
    two sides race for one slot: `set` (the caller) and `commit` (the ledger's thread, just
    before its commit) each put their mark with `dict.setdefault`, which is atomic, and the
    loser learns it lost: a caller that lost waits for the commit's answer; a commit that lost
    rolls back. A `threading.Lock` per job would do the same at several times the cost.
    """

    __slots__ = ("_fate",)

    def __init__(self) -> None:
        self._fate: dict[str, str] = {}

    def set(self) -> bool:
        """Give the job up: True, unless its commit has begun (then the caller must wait)."""
        return self._fate.setdefault("fate", _ABANDONED) is _ABANDONED

    def is_set(self) -> bool:
        return self._fate.get("fate") is _ABANDONED

    def commit(self) -> bool:
        """On the ledger's thread just before the commit: True if it may go ahead (its caller
        can no longer give up), False if the caller gave up first (roll back)."""
        return self._fate.setdefault("fate", _COMMITTING) is _COMMITTING


_ABANDONED: Final = "abandoned"
_COMMITTING: Final = "committing"


@dataclass(slots=True, eq=False)
class Job:
    """One piece of ledger work, the future its caller awaits, and whether it may share."""

    work: Callable[[], Any]
    loop: asyncio.AbstractEventLoop
    future: asyncio.Future[Any]
    abandoned: Abandon = field(default_factory=Abandon)
    groupable: bool = True
    outcome: tuple[bool, Any] = (False, None)  # (succeeded, result or exception)
    step: object = None  # what a pipelining writer sends for it (`_pg_writer.Step`)
    handed: Callable[[], None] | None = None  # called on the loop if it goes to the thread


class Writer:
    """The thread that runs queued jobs in batches, each batch in `transaction()`."""

    def __init__(
        self,
        transaction: Callable[[], AbstractContextManager[object]],
        on_thread: Callable[[Job | None, bool], None],
        *,
        lock_waits: Callable[[bool], None] | None = None,
    ) -> None:
        """`transaction` opens the shared transaction of a batch (committing on a clean
        exit); `on_thread(job, grouped)` is told which job runs now, and whether in a batch;
        `lock_waits(allowed)`, when given, lets the database wait for another connection's
        lock (the thread's work) or makes it refuse at once (the loop's), and lets `here` jobs
        run on the event loop (`submit_here`). It is called before every batch, and changes
        the setting only when it differs, so a run of batches on one side pays for none."""
        self._transaction = transaction
        self._on_thread = on_thread
        self._lock_waits = lock_waits
        self._busy = threading.Lock()  # held while a batch runs, on the thread or the loop
        # Queued on each loop's side for its next `_run_here`; each list is touched only by
        # its own loop's thread.
        self._here: dict[asyncio.AbstractEventLoop, list[Job]] = {}
        self._queue: queue.SimpleQueue[Job | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._serve, name="payrouter-ledger", daemon=True)
        self._thread.start()
        self.batches = 0
        """Batches committed together (for tests and benchmarks)."""

    def submit(self, job: Job) -> None:
        self._queue.put(job)

    @contextlib.contextmanager
    def paused(self, wait: float) -> Iterator[bool]:
        """No batch runs, on the thread or the loop, until this exits: the loop's jobs go to
        the thread, which waits (`_checkpoint` starts SQLite's WAL over in such a pause).
        Yields False, pausing nothing, when a batch held on past `wait` seconds: a bounded
        wait, so that closing the ledger (a batch that stops the checkpoint thread) never
        waits on a pause that waits on it."""
        if not self._busy.acquire(timeout=wait):
            yield False
            return
        try:
            yield True
        finally:
            self._busy.release()

    def submit_here(self, job: Job) -> bool:
        """Queue `job` to run on its event loop at the end of this turn of the loop, in one
        batch with the other jobs queued so far, or on the thread if that cannot be done
        (then `job.handed` is called first). False: this writer runs nothing on the loop,
        and the caller submits the job."""
        if self._lock_waits is None:
            return False
        queued = self._here.setdefault(job.loop, [])
        queued.append(job)
        if len(queued) == 1:
            job.loop.call_soon(self._run_here, job.loop)
        return True

    def _run_here(self, loop: asyncio.AbstractEventLoop) -> None:
        """On `loop`: run the jobs queued there as one batch (or one alone), without waiting
        for any lock; on any failure roll back and hand them all to the thread."""
        jobs = self._here.pop(loop)
        for first in range(0, len(jobs), MAX_BATCH):
            batch = jobs[first : first + MAX_BATCH]
            if self._busy.acquire(blocking=False):  # the thread is idle
                try:
                    done = self._here_once(batch)
                finally:
                    self._busy.release()
                if done:
                    _settle(batch)
                    continue
            for job in batch:
                if job.handed is not None:
                    job.handed()
                self._queue.put(job)

    def _here_once(self, batch: list[Job]) -> bool:
        """Run `batch` now, with no lock wait: True when every job succeeded and is committed."""
        assert self._lock_waits is not None
        try:
            self._lock_waits(False)
        except Exception:  # the database is closed, or refused the setting: the thread says
            return False
        if len(batch) > 1:
            return self._together(batch)
        self._alone(batch[0])
        return batch[0].outcome[0]

    def shutdown(self) -> None:
        """Finish the jobs queued before this call, then stop the thread."""
        self._queue.put(None)
        self._thread.join()

    def _serve(self) -> None:
        held: Job | None = None  # taken from the queue, but not groupable with the batch
        stopping = False
        while not stopping or held is not None:
            first = held if held is not None else self._queue.get()
            held = None
            if first is None:
                return
            batch = [first]
            while first.groupable and len(batch) < MAX_BATCH:
                try:
                    following = self._queue.get_nowait()
                except queue.Empty:
                    break
                if following is None:
                    stopping = True
                    break
                if not following.groupable:
                    held = following
                    break
                batch.append(following)
            with self._busy:
                if self._lock_waits is not None:
                    self._allow_lock_waits()
                if len(batch) == 1 or not self._together(batch):
                    for job in batch:
                        self._alone(job)
            _answer(batch)

    def _allow_lock_waits(self) -> None:
        """On the thread, before a batch: lock waits allowed again (a failure here is left to
        the batch's own statements to report)."""
        assert self._lock_waits is not None
        with contextlib.suppress(Exception):
            self._lock_waits(True)

    def _alone(self, job: Job) -> None:
        self._on_thread(job, False)
        try:
            job.outcome = (True, job.work())
        except BaseException as error:  # handed to the caller, whatever it is
            job.outcome = (False, error)
        finally:
            self._on_thread(None, False)

    def _together(self, batch: list[Job]) -> bool:
        """Run `batch` in one transaction; False (rolled back) if any job failed or was
        abandoned, and then each runs alone."""
        try:
            with self._transaction():
                for job in batch:
                    self._on_thread(job, True)
                    job.outcome = (True, job.work())
                if not all(job.abandoned.commit() for job in batch):
                    raise _RolledBackError
        except BaseException:  # a job failed, was abandoned, or the commit failed
            return False
        finally:
            self._on_thread(None, False)
        self.batches += 1
        return True


class _RolledBackError(Exception):
    """Leaves a batch's transaction without committing it."""


def _answer(batch: list[Job]) -> None:
    """Hand each job's outcome to its event loop: one wake-up per loop for the whole batch."""
    by_loop: dict[asyncio.AbstractEventLoop, list[Job]] = {}
    for job in batch:
        by_loop.setdefault(job.loop, []).append(job)
    for loop, jobs in by_loop.items():
        with contextlib.suppress(RuntimeError):  # that loop is closed: nobody waits any more
            loop.call_soon_threadsafe(_settle, jobs)


def _settle(jobs: list[Job]) -> None:
    for job in jobs:
        if job.future.done():  # its caller stopped waiting (deadline, cancellation)
            continue
        succeeded, value = job.outcome
        if succeeded:
            job.future.set_result(value)
        else:
            job.future.set_exception(value)
