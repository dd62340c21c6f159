"""Schema migrations with Alembic, applied by `SqlLedger.open()` to SQLite and PostgreSQL alike.

The migration scripts ship inside the package, so a merchant runs no migration tool by hand:
opening the ledger brings its tables to the newest revision. Concurrent openers are safe on
PostgreSQL (a transaction-scoped advisory lock serializes them); on SQLite the database's own
write lock does.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, text

__all__ = ["current_revisions", "head_revisions", "upgrade"]

_SCRIPTS = Path(__file__).with_name("migrations")
_VERSION_TABLE = "payrouter_alembic_version"
_LOCK_KEY = 0x70617972  # "payr": one advisory lock id for payrouter's migrations


def _config(connection: Connection) -> Config:
    config = Config()
    config.set_main_option("script_location", str(_SCRIPTS))
    config.attributes["connection"] = connection
    return config


def upgrade(connection: Connection) -> None:
    """Bring the ledger's tables to every head revision, inside the caller's transaction."""
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})
    command.upgrade(_config(connection), "heads")


def head_revisions() -> set[str]:
    """The revisions the shipped scripts end at."""
    config = Config()
    config.set_main_option("script_location", str(_SCRIPTS))
    return set(ScriptDirectory.from_config(config).get_heads())


def current_revisions(connection: Connection) -> set[str]:
    """The revisions this database is at."""
    context = MigrationContext.configure(connection, opts={"version_table": _VERSION_TABLE})
    return set(context.get_current_heads())
