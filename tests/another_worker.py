"""Another worker committing in the middle of one of the ledger's reads: what a snapshot is for.

The ledger reads a payment's row and then its attempts. `settles_between_the_reads` lets
another connection commit the payment as succeeded, attempt and status together, right
after the row was read and before the attempts are, so a test can see whether both came
from one commit.
"""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, closing
from typing import Any

from sqlalchemy import Connection, event, text

from payrouter._ledger import SqlLedger

_SETTLE = [
    "UPDATE payrouter_payments SET status = 'succeeded' WHERE order_id = :o",
    "UPDATE payrouter_attempts SET outcome = 'succeeded' WHERE order_id = :o",
]


@asynccontextmanager
async def settles_between_the_reads(ledger: SqlLedger, order_id: str) -> AsyncIterator[list[bool]]:
    """Once the payment's row has been read and before its attempts are, another connection
    commits the payment as succeeded, attempt and status together."""
    settled: list[bool] = []
    if ledger.url.startswith("sqlite"):
        path = ledger.url.removeprefix("sqlite:///")

        def before_each(statement: str) -> None:  # SQLite traces a statement as it starts
            if (
                settled
                or not statement.startswith("SELECT")
                or "payrouter_attempts" not in statement
            ):
                return
            settled.append(True)
            with closing(sqlite3.connect(path)) as other:
                for sql in _SETTLE:
                    other.execute(sql, {"o": order_id})
                other.commit()

        await ledger.transact(lambda conn: _dbapi(conn).set_trace_callback(before_each))
        try:
            yield settled
        finally:
            await ledger.transact(lambda conn: _dbapi(conn).set_trace_callback(None))
        return

    engine = ledger._engine
    assert engine is not None

    def after_each(_conn: Any, _cursor: object, statement: str, *_: object) -> None:
        if settled or not statement.lstrip().startswith("SELECT"):
            return
        if "FROM payrouter_payments" not in statement:
            return
        settled.append(True)
        with engine.begin() as other:
            for sql in _SETTLE:
                other.execute(text(sql), {"o": order_id})

    event.listen(engine, "after_cursor_execute", after_each)
    try:
        yield settled
    finally:
        event.remove(engine, "after_cursor_execute", after_each)


def _dbapi(conn: Connection) -> sqlite3.Connection:
    dbapi = conn.connection.dbapi_connection
    assert isinstance(dbapi, sqlite3.Connection)
    return dbapi
