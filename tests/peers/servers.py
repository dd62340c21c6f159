"""Fixtures for the real Redis and PostgreSQL servers the shared-state suites run against.

`.ci/servers start DIR` starts both (CI does this) and prints the two URLs to export:
`PAYROUTER_TEST_REDIS_URL` and `PAYROUTER_TEST_POSTGRES_URL`. Without them these fixtures skip
with the reason, and in CI a skip fails the run. Every test gets its own PostgreSQL database and
its own Redis key prefix, so suites can run side by side on one pair of servers.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ProgrammingError

REDIS_URL_VARIABLE = "PAYROUTER_TEST_REDIS_URL"
POSTGRES_URL_VARIABLE = "PAYROUTER_TEST_POSTGRES_URL"


def _required(variable: str, server: str) -> str:
    url = os.environ.get(variable)
    if not url:
        pytest.skip(f"{server} not configured: run `.ci/servers start DIR` and export {variable}")
    return url


@pytest.fixture
def redis_url() -> str:
    """The test Redis server's URL (a real server; the test must use `redis_prefix` keys)."""
    return _required(REDIS_URL_VARIABLE, "Redis")


@pytest.fixture
def redis_prefix() -> str:
    """A key prefix no other test uses, so tests never see each other's keys."""
    return f"test-{uuid.uuid4().hex[:12]}:"


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """The URL of a fresh, empty PostgreSQL database, dropped after the test."""
    server = make_url(_required(POSTGRES_URL_VARIABLE, "PostgreSQL"))
    name = f"payrouter_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        yield server.set(database=name).render_as_string(hide_password=False)
        _drop(admin, name)
    finally:
        admin.dispose()


def _drop(admin: Engine, name: str) -> None:
    """Drop a test's database. FORCE ends the test's own leftover sessions, but not an
    autovacuum worker the server may have started on the new database (that needs a
    superuser): wait for it to finish and try again; the throwaway server goes at the end."""
    for _ in range(20):
        try:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            return
        except ProgrammingError:
            time.sleep(0.5)
