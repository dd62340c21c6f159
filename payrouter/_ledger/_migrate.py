"""Schema migrations with Alembic, applied by `SqlLedger.open()` to SQLite and PostgreSQL alike.

The migration scripts ship inside the package, so a merchant runs no migration tool by hand:
opening the ledger brings its tables to the newest revision. Concurrent openers are safe on
PostgreSQL (a transaction-scoped advisory lock serializes them) and on SQLite, where the whole
upgrade runs in one `BEGIN EXCLUSIVE` transaction: Python's sqlite3 driver would otherwise
commit each CREATE TABLE on its own, and processes opening a fresh file at once would each
find no tables and create them ("table payrouter_payments already exists").
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from sqlalchemy import Connection, create_engine, event, inspect, text
from sqlalchemy.pool import NullPool

from ._wal import switch_to_wal

if TYPE_CHECKING:
    from alembic.config import Config

__all__ = [
    "SHIPPED_HEADS",
    "current_revisions",
    "head_revisions",
    "upgrade",
    "upgrade_sqlite_file",
]

_SCRIPTS = Path(__file__).with_name("migrations")
_VERSION_TABLE = "payrouter_alembic_version"
_LOCK_KEY = 0x70617972  # "payr": one advisory lock id for payrouter's migrations
SHIPPED_HEADS: Final = frozenset({"0010_attempt_actions"})
"""The revisions the shipped scripts end at, as Alembic reads them (a test holds the two
together). A ledger already there is opened without importing Alembic: with Mako it added
about 14,000 objects and 8 MB to every process that pays, for a migration that runs once."""


def _config(connection: Connection | None = None) -> Config:
    """Alembic's configuration for the shipped scripts, migrating over `connection`."""
    from alembic.config import Config  # only to migrate: see SHIPPED_HEADS

    config = Config()
    config.set_main_option("script_location", str(_SCRIPTS))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def upgrade(connection: Connection) -> None:
    """Bring the ledger's tables to every head revision, inside the caller's transaction."""
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})
    if current_revisions(connection) == SHIPPED_HEADS:
        return
    from alembic import command  # only to migrate: see SHIPPED_HEADS

    command.upgrade(_config(connection), "heads")


def upgrade_sqlite_file(url: str, busy_timeout: float) -> None:
    """Upgrade a SQLite file in one exclusive transaction, so concurrent openers take turns.

    The file is switched to WAL first, outside any transaction (the switch is persistent, and
    SQLite cannot make it inside one). A file already at head is left alone without taking the
    exclusive lock; otherwise the revision is checked again under it, so the one opener that
    migrates holds it while the others each hold it only for that check. (Running Alembic's
    upgrade under the lock in every opener made sixteen openers on a busy machine queue past
    the busy timeout.)
    """
    engine = create_engine(url, poolclass=NullPool, connect_args={"timeout": busy_timeout})

    @event.listens_for(engine, "connect")
    def _autocommit_driver(dbapi_connection: Any, _record: object) -> None:
        dbapi_connection.isolation_level = None  # we say when transactions begin
        switch_to_wal(dbapi_connection, busy_timeout)

    try:
        with engine.connect() as conn:  # no BEGIN: a plain read in autocommit
            if current_revisions(conn) == SHIPPED_HEADS:
                return

        @event.listens_for(engine, "begin")
        def _exclusive(conn: Connection) -> None:
            conn.exec_driver_sql("BEGIN EXCLUSIVE")

        with engine.begin() as conn:
            upgrade(conn)  # checks the revision again, now under the lock
    finally:
        engine.dispose()


def head_revisions() -> set[str]:
    """The revisions the shipped scripts end at, as Alembic reads them."""
    from alembic.script import ScriptDirectory

    return set(ScriptDirectory.from_config(_config()).get_heads())


def current_revisions(connection: Connection) -> set[str]:
    """The revisions this database is at (none before its first migration)."""
    if not inspect(connection).has_table(_VERSION_TABLE):
        return set()
    rows = connection.execute(text(f"SELECT version_num FROM {_VERSION_TABLE}"))  # noqa: S608
    return {str(version) for (version,) in rows}
