"""Where the ledger lives, and what to say when it cannot be used there.

Two jobs that protect "one order, one charge" from the file system:

- **Identity.** A SQLite connection keeps writing into the file it opened, even after that
  file was deleted or another file was moved over its path: the writes land in a file nobody
  will read again, and after a restart the ledger has forgotten those orders, so a retry
  charges again. The ledger remembers the opened file's (device, inode) and compares it with
  the path's before every statement (a `stat`, about a microsecond), refusing with
  `LedgerUnavailableError` before any provider is called.
- **Honest errors.** Database errors become `LedgerUnavailableError` naming the file (or the
  server, password hidden) and the fix, never a raw SQLAlchemy error.
"""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError, SQLAlchemyError

from .._errors import ConfigurationError, LedgerUnavailableError

__all__ = ["LedgerLocation"]

_IN_MEMORY: Final = (None, "", ":memory:")

# SQLite's own words (sqlite3 error messages) to the operator's fix, first match wins.
_SQLITE_FIXES: Final = (
    (
        "unable to open database file",
        "cannot be opened",
        "check that its directory exists and that this process may create and write files "
        "there (SQLite also writes -wal and -shm files beside it)",
    ),
    (
        "readonly database",
        "is read-only for this process",
        "give this process write permission on the file and its directory",
    ),
    (
        "file is not a database",
        "is not a SQLite database or is corrupt",
        "restore it from a backup, or point `ledger` at the right file",
    ),
    (
        "malformed",
        "is corrupt",
        "restore it from a backup (run `PRAGMA integrity_check` on a copy to see the damage)",
    ),
    (
        "database is locked",
        "is locked by another process",
        "find the process holding a long write transaction on it; payments wait at most "
        "their deadline for the lock",
    ),
    (
        "disk i/o error",
        "could not be read or written (disk I/O error)",
        "check the disk: free space, mount state and kernel log",
    ),
    (
        "database or disk is full",
        "cannot grow: the disk is full",
        "free disk space",
    ),
)


@dataclass(slots=True)
class LedgerLocation:
    """The ledger's file (SQLite) or server (others), for identity checks and error messages."""

    url: str
    path: Path | None = field(init=False)
    """The SQLite file, absolute; None in memory or on a database server."""
    where: str = field(init=False)
    _identity: tuple[int, int] | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        try:
            parsed = make_url(self.url)
        except ArgumentError as error:
            raise ConfigurationError(
                f"ledger: {self.url!r} is not a database URL; use sqlite:///payments.db or "
                "postgresql+psycopg://user@host/db"
            ) from error
        database = parsed.database
        if parsed.get_backend_name() == "sqlite" and database not in _IN_MEMORY:
            assert database is not None
            self.path = Path(database).absolute()
            self.where = f"ledger file {self.path}"
        else:
            self.path = None
            self.where = f"ledger {parsed.render_as_string(hide_password=True)}"

    def remember(self) -> None:
        """Note which file is open, right after opening it."""
        if self.path is not None:
            self._identity = self._stat()

    def forget(self) -> None:
        self._identity = None

    def check(self) -> None:
        """Refuse to go on if the open file is no longer the file at its path.

        Raises:
            LedgerUnavailableError: the file was deleted, or another was put in its place.
        """
        if self._identity is None:
            return
        try:
            now = self._stat()
        except FileNotFoundError:
            now = None
        if now != self._identity:
            raise LedgerUnavailableError(
                f"the {self.where} was deleted or replaced since this process opened it: "
                "no provider was called, so nothing is recorded in a file nobody will read "
                "again; put the original file back (or restore it from a backup) and restart "
                "the process"
            )

    def _stat(self) -> tuple[int, int]:
        assert self.path is not None
        status = os.stat(self.path)
        return status.st_dev, status.st_ino

    def error(
        self, error: SQLAlchemyError | sqlite3.Error | OSError, doing: str
    ) -> LedgerUnavailableError | ConfigurationError:
        """`error`, raised while `doing` (e.g. "opening"), as the error an operator can act on:
        a URL naming no installed driver is a configuration error, the rest the ledger's."""
        if isinstance(error, NoSuchModuleError):
            return ConfigurationError(
                f"ledger: no database driver for {self.url.split(':', 1)[0]!r}; use sqlite:/// "
                "or postgresql+psycopg://"
            )
        reason = str(error.orig) if isinstance(error, DBAPIError) else str(error)
        reason = reason.strip().splitlines()[0] if reason.strip() else type(error).__name__
        if self.path is not None:
            lowered = reason.lower()
            for words, what, fix in _SQLITE_FIXES:
                if words in lowered:
                    return LedgerUnavailableError(
                        f"the {self.where} {what} ({reason}) while {doing}: {fix}"
                    )
            return LedgerUnavailableError(f"the {self.where} failed while {doing}: {reason}")
        return LedgerUnavailableError(
            f"the {self.where} failed while {doing} ({reason}): check that the database server "
            "is running and reachable and that the URL's credentials are right"
        )
