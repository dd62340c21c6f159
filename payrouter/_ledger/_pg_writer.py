"""PostgreSQL's group commit in one round trip: the payments in flight share a pipeline.

With fsync on, every commit waits for its WAL flush, milliseconds on most disks; in autocommit
mode each payment pays three of them (claim, attempt row, outcome), and the server wakes a
backend for every statement. So the pay path's statements that queue up together while the
writer is busy go to the server in one psycopg pipeline with one COMMIT behind them: one
network round trip and one WAL flush for the whole batch, and every caller hears back only
after that commit (write before call holds, as with SQLite's writer, `_writer`).

A job that can join a batch carries a `Step`: its statement, its values, and `then`, which
makes the job's answer from the rows the statement returned, as the job would have alone
(a claim that found the order id's row settles it with statements of its own, in autocommit
on a pooled connection, as before; a fenced write that changed nothing raises
`LeaseLostError`). A batch is all or nothing: when any statement in it fails (a constraint, a
row lock held elsewhere past `lock_timeout`, a lost connection), the server skips the rest and
the COMMIT, the batch is rolled back, and each job runs again alone. A job whose caller gave
up waiting (`abandoned`) before it was sent is not sent at all: its caller was told that no
provider was called, and a claim written anyway would hold the order id against the customer's
retry until its lease ran out. A job without a step runs alone.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final, Generic, TypeVar

from sqlalchemy import Connection, Engine, PoolProxiedConnection, TextClause
from sqlalchemy.dialects.postgresql.psycopg import PGDialect_psycopg

from ._runner import AbandonedError
from ._writer import Job, Writer

if TYPE_CHECKING:  # psycopg is the `postgres` extra: imported where a PostgreSQL ledger runs
    import psycopg

__all__ = [
    "LOCK_TIMEOUT_MS",
    "PipelineConnection",
    "PipelineWriter",
    "Step",
    "pyformat",
    "run_alone",
]

LOCK_TIMEOUT_MS: Final = 250
"""How long a statement in a batch waits for a row lock another transaction holds (a worker
claiming the same order id, a takeover). Past it the batch rolls back and each of its jobs
runs again alone, in autocommit on a pooled connection, which waits for the lock as long as
it is held: two workers' batches waiting on each other's rows (a deadlock, which the server
breaks only after `deadlock_timeout`) cost at most this long."""

T = TypeVar("T")

_DIALECT: Final = PGDialect_psycopg()  # type: ignore[no-untyped-call]


def run_alone(statement: Callable[[], AbstractContextManager[Connection]], step: Step[T]) -> T:
    """A step not sent in a batch: its statement on `statement()`'s connection (autocommit),
    then its answer, made once that connection is back in its pool."""
    with statement() as conn:
        result = conn.exec_driver_sql(step.sql, dict(step.values))
        rows = result.all() if result.returns_rows else []
    return step.then(rows)


class PipelineConnection:
    """The writer's own connection from the engine's pool, with the batches' lock timeout,
    and a new one after the server dropped it. Used on the writer's thread only."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._proxied = self._open()

    def _open(self) -> PoolProxiedConnection:
        proxied = self._engine.raw_connection()
        cursor = proxied.cursor()
        cursor.execute(f"SET lock_timeout = '{LOCK_TIMEOUT_MS}ms'")
        cursor.close()
        proxied.commit()  # a session setting: it outlives this transaction
        return proxied

    def get(self) -> psycopg.Connection[Any]:
        import psycopg

        db = self._proxied.driver_connection
        assert isinstance(db, psycopg.Connection)
        if db.broken:
            self._proxied.invalidate()
            self._proxied = self._open()
            return self.get()
        return db

    def close(self) -> None:
        """Close it for good: its pool may be disposed of already (the ledger closed)."""
        self._proxied.detach()
        self._proxied.close()


def pyformat(statement: TextClause) -> str:
    """A statement's SQL with psycopg's `%(name)s` placeholders, compiled once at import."""
    return str(statement.compile(dialect=_DIALECT))


@dataclass(frozen=True, slots=True)
class Step(Generic[T]):
    """One pay-path statement a batch can pipeline, and what its rows mean."""

    sql: str
    values: Mapping[str, Any]
    then: Callable[[Sequence[Sequence[Any]]], T]


class PipelineWriter(Writer):
    """The writer thread for a network database: batches of steps, one pipeline each, on a
    connection of its own from `engine()`'s pool, opened at its first batch."""

    def __init__(
        self, engine: Callable[[], Engine], on_thread: Callable[[Job | None, bool], None]
    ) -> None:
        self._engine = engine
        self._own: PipelineConnection | None = None
        super().__init__(contextlib.nullcontext, on_thread)

    def _connection(self) -> psycopg.Connection[Any]:
        if self._own is None:
            self._own = PipelineConnection(self._engine())
        return self._own.get()

    def shutdown(self) -> None:
        super().shutdown()
        if self._own is not None:
            self._own.close()
            self._own = None

    def _together(self, batch: list[Job]) -> bool:
        """Pipeline the batch's steps; every other job, and every job of a batch that was
        rolled back, runs alone. Always True: no job is left for the caller to run."""
        piped = [j for j in batch if isinstance(j.step, Step) and j.abandoned.commit()]
        rows = self._pipelined(piped) if len(piped) > 1 else None
        if rows is not None:
            self.batches += 1
            for job, returned in zip(piped, rows, strict=True):
                self._then(job, returned)
        for job in batch:
            if rows is None or job not in piped:
                self._alone(job)
        return True

    def _alone(self, job: Job) -> None:
        if isinstance(job.step, Step) and not job.abandoned.commit():
            job.outcome = (False, AbandonedError())  # nobody waits for it: never sent
            return
        super()._alone(job)

    def _pipelined(self, jobs: list[Job]) -> list[list[Any]] | None:
        """Send the steps and a COMMIT in one pipeline; their rows, or None if rolled back."""
        import psycopg

        try:
            db = self._connection()
        except Exception:  # closed, or cannot connect again: each job alone says why
            return None
        try:
            with db.pipeline():
                cursors = [db.execute(_step(job).sql, _step(job).values) for job in jobs]
                db.commit()
            return [cursor.fetchall() if cursor.description else [] for cursor in cursors]
        except (psycopg.Error, OSError):
            with contextlib.suppress(psycopg.Error, OSError):
                db.rollback()
            return None

    def _then(self, job: Job, rows: Sequence[Sequence[Any]]) -> None:
        """The job's answer from its committed rows (`then` may raise, or run statements
        of its own, alone)."""
        self._on_thread(job, False)
        try:
            job.outcome = (True, _step(job).then(rows))
        except BaseException as error:  # handed to the caller, whatever it is
            job.outcome = (False, error)
        finally:
            self._on_thread(None, False)


def _step(job: Job) -> Step[Any]:
    assert isinstance(job.step, Step)
    return job.step
