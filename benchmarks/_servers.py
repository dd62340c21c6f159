"""What `scale.py` reads from its servers: fresh PostgreSQL databases, the server's own
counts of commits and WAL flushes, its durability settings, and the commands Redis ran."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Final

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

__all__ = ["fresh_postgres", "postgres_settings", "redis_commands", "server_counts"]


@contextmanager
def fresh_postgres(url: str) -> Iterator[str]:
    """A new database on the server of `url`, dropped afterwards."""
    server = make_url(url)
    name = f"payrouter_scale_{uuid.uuid4().hex[:10]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


_COMMITS: Final = text(
    "SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()"
)


def server_counts(url: str) -> tuple[int, int | None]:
    """Transactions committed in `url`'s database, and WAL flushes on its server (None
    before PostgreSQL 14), once the counts stop moving: a backend reports its counts when it
    goes idle or exits, shortly after its client is gone."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            seen: tuple[int, int | None] | None = None
            for _ in range(20):
                conn.execute(text("SELECT pg_stat_clear_snapshot()"))
                commits = conn.execute(_COMMITS).scalar_one()
                flushes = None
                version = conn.dialect.server_version_info
                if version is not None and version >= (14,):
                    flushes = conn.execute(text("SELECT wal_sync FROM pg_stat_wal")).scalar_one()
                now = (int(commits), None if flushes is None else int(flushes))
                if now == seen:
                    return now
                seen = now
                time.sleep(0.25)
            assert seen is not None
            return seen
    finally:
        engine.dispose()


def postgres_settings(url: str) -> dict[str, str]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return {
                name: str(conn.execute(text(f"SHOW {name}")).scalar_one())
                for name in ("fsync", "synchronous_commit", "max_connections")
            }
    finally:
        engine.dispose()


_REDIS: dict[str, Any] = {}


def redis_commands(url: str) -> int:
    """Commands the Redis server has run since it started (`INFO commandstats`), the `INFO`
    calls that read them left out: the difference over a row is what its workers sent, as
    long as nothing else uses the server meanwhile. One connection, kept: a new one would
    add its own handshake commands to every count."""
    import redis

    client = _REDIS.get(url)
    if client is None:
        client = _REDIS[url] = redis.Redis.from_url(url)
    stats = client.info("commandstats")
    return sum(int(entry["calls"]) for name, entry in stats.items() if name != "cmdstat_info")
