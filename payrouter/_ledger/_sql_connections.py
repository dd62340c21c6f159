"""The SQL ledger's connections: opening and closing them, and where its work runs.

`SqlLedger` is its operations; this is the plumbing they run on. Work runs on the ledger's own
threads (`_runner`): SQLite on one thread over one connection (its writes are serial anyway),
network databases on one thread per pooled connection, the pay path's writes sharing commits
(`_pg_writer`). On SQLite the pay path's and `Router.refresh`'s statements run on the event
loop when they need no lock wait (`_writer`), as fixed SQL on the DBAPI connection
(`_sqlite_path`); a file another process holds locked sends them to the thread, never
freezing the loop.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from functools import partial
from typing import TypeVar

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

from .._errors import ConfigurationError, LedgerUnavailableError
from . import _sqlite_path
from ._checkpoint import Checkpointer
from ._engine import BUSY_TIMEOUT_SECONDS, ledger_engine
from ._file import LedgerLocation
from ._migrate import upgrade, upgrade_sqlite_file
from ._pg_writer import PipelineWriter, Step, run_alone
from ._runner import LedgerRunner
from ._sealing import RequestSeal
from ._writer import Job, Writer

__all__ = ["SqlConnections"]

T = TypeVar("T")


class SqlConnections:
    """A SQLAlchemy database's connections and the threads that use them (see `SqlLedger`)."""

    def __init__(
        self,
        url: str,
        *,
        sqlite_synchronous: str = "NORMAL",
        pool_size: int = 8,
        keys: Sequence[str] | None = None,
    ) -> None:
        if sqlite_synchronous.upper() not in ("OFF", "NORMAL", "FULL", "EXTRA"):
            raise ValueError("sqlite_synchronous must be one of OFF, NORMAL, FULL, EXTRA")
        self.url = url
        self._synchronous = sqlite_synchronous.upper()
        self._pool_size = pool_size
        self._engine: Engine | None = None
        self._runner: LedgerRunner | None = None
        self._inline: Connection | None = None
        self._checkpointer: Checkpointer | None = None
        self._dbapi: sqlite3.Connection | None = None  # SQLite: the hot path's connection
        self._waits_for_locks = True  # its busy timeout is on (`_lock_waits`)
        self._location = LedgerLocation(url)
        self._is_sqlite = url.startswith("sqlite")
        in_memory = self._is_sqlite and self._location.path is None
        self.sealing = RequestSeal(keys, self._location.path, in_memory=in_memory)

    # -- lifecycle -------------------------------------------------------------------------

    async def open(self) -> None:
        """Connect, set SQLite to WAL, and create the tables if they are missing.

        Raises:
            LedgerUnavailableError: the database cannot be opened or is corrupt; the message
                names the file (or server) and the fix.
            ConfigurationError: the URL names no installed database driver, or the key
                file beside a SQLite ledger cannot be read.
        """
        threads = 0 if self._is_sqlite else self._pool_size
        self._runner = LedgerRunner(threads, self._location.where, writer=self._writer)
        try:
            await self._runner.call(self._connect)
        except (SQLAlchemyError, OSError) as error:
            await self.close()
            raise self._location.error(error, "opening it") from error
        except ConfigurationError:  # its key file cannot be read
            await self.close()
            raise

    def _connect(self) -> None:
        """On the ledger's thread: migrate (SQLite files in their own exclusive transaction),
        then connect; SQLite keeps its one connection and notes which file it opened."""
        if self._location.path is not None:
            upgrade_sqlite_file(self.url, BUSY_TIMEOUT_SECONDS)
        self.sealing.prepare()
        self._engine = ledger_engine(self.url, self._synchronous, self._pool_size)
        if self._is_sqlite:
            self._inline = self._engine.connect()
            dbapi = self._inline.connection.dbapi_connection
            assert isinstance(dbapi, sqlite3.Connection)
            self._dbapi = dbapi
            self._waits_for_locks = True  # as `ledger_engine` connects it
            self._location.remember()
            if self._location.path is not None:
                runner = self._require_runner()
                self._checkpointer = Checkpointer(self._location.path, runner.paused_writes)
                self._checkpointer.start()
        if self._location.path is None:
            with self._engine.begin() as conn:
                upgrade(conn)

    def _writer(self, on_thread: Callable[[Job | None, bool], None]) -> Writer:
        """SQLite's writer (a batch is one transaction), or a server's (one pipeline)."""
        if self._is_sqlite:
            # Under FULL or EXTRA each commit waits for a disk flush: never on the loop.
            waits = self._lock_waits if self._synchronous in ("OFF", "NORMAL") else None
            return Writer(self._batch, on_thread, lock_waits=waits)
        return PipelineWriter(self._require_engine, on_thread)

    def _disconnect(self) -> None:
        self._location.forget()
        if self._checkpointer is not None:
            self._checkpointer.stop()
            self._checkpointer = None
        self._dbapi = None
        if self._inline is not None:
            self._inline.close()
            self._inline = None
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None

    async def close(self) -> None:
        """Close after the work in progress (it runs on the ledger's thread, so it finishes)."""
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.call(self._disconnect)
            runner.shutdown()

    def _require_engine(self) -> Engine:
        if self._engine is None:
            raise LedgerUnavailableError("the ledger is not open")
        return self._engine

    @contextmanager
    def _transaction(self) -> Iterator[Connection]:
        """One transaction: on the inline connection (SQLite; inside the writer's shared
        transaction when it runs a batch) or a pooled one (the rest)."""
        if self._inline is not None:
            if self._require_runner().grouped:
                yield self._inline
                return
            with self._inline.begin():
                yield self._inline
                self._require_runner().refuse_if_abandoned()
        else:
            with self._require_engine().begin() as conn:
                yield conn
                self._require_runner().refuse_if_abandoned()

    @contextmanager
    def _snapshot(self) -> Iterator[Connection]:
        """A server's read transaction that sees one commit throughout: under READ COMMITTED
        each statement sees what was committed when it began, so a payment's row and its
        attempts, read by two statements, could be two commits apart. psycopg sends the level
        with its BEGIN: no round trip added."""
        with (
            self._require_engine().connect() as conn,
            conn.execution_options(isolation_level="REPEATABLE READ").begin(),
        ):
            yield conn

    @contextmanager
    def _statement(self) -> Iterator[Connection]:
        """For work that is one statement: SQLite's inline transaction, or on a network
        database an autocommit connection (no BEGIN or COMMIT round trips; sent is committed)."""
        if self._inline is not None:
            with self._transaction() as conn:
                yield conn
            return
        self._require_runner().refuse_if_abandoned()
        with self._require_engine().connect() as conn:
            yield conn.execution_options(isolation_level="AUTOCOMMIT")

    def _batch(self) -> AbstractContextManager[object]:
        """The writer's shared transaction for a batch of work (group commit, `_writer`)."""
        if self._inline is None:
            raise LedgerUnavailableError("the ledger is not open")
        return self._inline.begin()

    def _lock_waits(self, allowed: bool) -> None:
        """Whether SQLite waits for another connection's lock (up to BUSY_TIMEOUT_SECONDS, on
        the ledger's thread) or refuses at once with SQLITE_BUSY (the pay path's writes run
        on the event loop, `_writer`); a statement only when the setting changes."""
        db = self._dbapi
        if db is None:
            raise LedgerUnavailableError("the ledger is not open")
        if allowed is not self._waits_for_locks:
            timeout = int(BUSY_TIMEOUT_SECONDS * 1000) if allowed else 0
            db.execute(f"PRAGMA busy_timeout = {timeout}")
            self._waits_for_locks = allowed

    def _raw(self) -> AbstractContextManager[sqlite3.Connection]:
        """One transaction on SQLite's DBAPI connection (`_sqlite_path.transaction`)."""
        if self._dbapi is None:
            raise LedgerUnavailableError("the ledger is not open")
        return _sqlite_path.transaction(self._dbapi, self._require_runner())

    def _require_runner(self) -> LedgerRunner:
        if self._runner is None:
            raise LedgerUnavailableError("the ledger is not open")
        return self._runner

    async def _step(self, step: Step[T], *, before_call: bool = False) -> T:
        """A pay-path write on a server: batched with others' (`_pg_writer`), or autocommit."""
        alone = partial(run_alone, self._statement, step)
        return await self._run(alone, before_call=before_call, step=step)

    async def _run(
        self,
        work: Callable[[], T],
        *,
        before_call: bool = False,
        step: Step[T] | None = None,
        here: bool = False,
    ) -> T:
        """Run `work` on the ledger's thread, checking first that the file is still ours.

        `before_call` marks a payment's writes before its provider is called: they wait at
        most until the payment's deadline (see `_runner`). `step`: see `_step`. `here`: the
        pay path's writes on SQLite, which may run on the event loop when they need no lock
        wait (`_writer.Writer.submit_here`).
        """

        def checked() -> T:
            self._location.check()
            return work()

        try:
            return await self._require_runner().run(
                checked, before_call=before_call, hot=step is not None, step=step, here=here
            )
        except (SQLAlchemyError, sqlite3.Error, OSError) as error:
            raise self._location.error(error, "writing or reading it") from error

    async def transact(self, work: Callable[[Connection], T], *, here: bool = False) -> T:
        """Run `work` in one transaction, where the ledger runs its own statements: the
        extension point for the ledger's other tables (the follow-up outbox, webhook events),
        whose statements live beside their own logic, not in this class. `here`: see `_run`."""

        def run() -> T:
            with self._transaction() as conn:
                return work(conn)

        return await self._run(run, here=here)
