"""The ledger's schema comes from Alembic migrations, on SQLite and PostgreSQL alike, and the
migrations build exactly what the code's table definitions describe."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine

from payrouter._ledger import SqlLedger
from payrouter._ledger._migrate import SHIPPED_HEADS, current_revisions, head_revisions
from payrouter._ledger._schema import metadata


def _differences(url: str) -> list[object]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(
                conn, opts={"version_table": "payrouter_alembic_version"}
            )
            diffs: list[object] = compare_metadata(context, metadata)
            assert current_revisions(conn) == head_revisions()
            return diffs
    finally:
        engine.dispose()


async def _open_and_close(url: str) -> None:
    ledger = SqlLedger(url)
    await ledger.open()
    await ledger.close()


async def test_sqlite_is_migrated_to_exactly_the_schema_the_code_describes(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    await _open_and_close(url)
    await _open_and_close(url)  # a second open finds it at head and changes nothing
    assert _differences(url) == []


@pytest.mark.peer("postgres")
async def test_postgres_is_migrated_to_exactly_the_schema_the_code_describes(
    postgres_url: str,
) -> None:
    await _open_and_close(postgres_url)
    assert _differences(postgres_url) == []


@pytest.mark.peer("postgres")
async def test_many_workers_opening_a_new_database_at_once_migrate_it_once(
    postgres_url: str,
) -> None:
    """Eight routers starting together on an empty database: one migrates, the rest wait."""
    await asyncio.gather(*(_open_and_close(postgres_url) for _ in range(8)))
    assert _differences(postgres_url) == []


def test_the_heads_a_ledger_is_checked_against_are_the_shipped_scripts_heads() -> None:
    """A new migration script must update `SHIPPED_HEADS`, or an open would skip it."""
    assert set(SHIPPED_HEADS) == head_revisions()


def test_a_process_opening_a_ledger_already_at_head_never_imports_alembic(tmp_path: Path) -> None:
    """Alembic is for migrating; a process paying on a migrated ledger keeps it out of memory
    (its objects would lengthen every full pass of the garbage collector)."""
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    asyncio.run(_open_and_close(url))  # migrated here, in the test's process
    probe = textwrap.dedent(
        f"""
        import asyncio, sys
        from payrouter._ledger import SqlLedger

        async def main():
            ledger = SqlLedger({url!r})
            await ledger.open()
            assert await ledger.get("no-such-order") is None
            await ledger.close()

        asyncio.run(main())
        print(sorted(name for name in sys.modules if name.split(".")[0] in ("alembic", "mako")))
        """
    )
    ran = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120
    )
    assert ran.stdout.strip() == "[]"
