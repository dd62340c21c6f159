"""Switching a SQLite file to WAL while other processes open it too."""

from __future__ import annotations

import sqlite3

from tenacity import Retrying, retry_if_exception, stop_after_delay, wait_random_exponential

__all__ = ["switch_to_wal"]


def switch_to_wal(dbapi_connection: sqlite3.Connection, busy_timeout: float) -> None:
    """Switch the file to WAL, waiting up to `busy_timeout` for the other openers' locks.

    SQLite runs no busy handler for this one statement: on a file not yet in WAL it takes its
    read lock, then asks for the write lock while holding it, and a refusal there is returned
    at once ("database is locked" in 0 ms, whatever the timeout). Processes opening a fresh
    file together therefore refuse each other, so the switch is retried (tenacity) with
    jittered waits until the same timeout the rest of the opening gets. Once the file is in
    WAL, the switch needs no write lock and the first try succeeds.
    """
    for attempt in Retrying(
        retry=retry_if_exception(_is_busy),
        stop=stop_after_delay(busy_timeout),
        wait=wait_random_exponential(multiplier=0.005, max=0.25),
        reraise=True,
    ):
        with attempt:
            dbapi_connection.execute("PRAGMA journal_mode=WAL")


def _is_busy(error: BaseException) -> bool:
    return (
        isinstance(error, sqlite3.OperationalError)
        and error.sqlite_errorcode & 0xFF == sqlite3.SQLITE_BUSY
    )
