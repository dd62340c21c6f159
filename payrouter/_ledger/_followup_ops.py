"""The follow-up outbox's named ledger operations, each one transaction.

The follow-up feature (`payrouter._followups`) calls these and never holds a database
connection; the statements live in `_outbox`, beside the tables they write, and each
operation here is its statement run by `_operation` in one transaction, with the statement's
own signature and docstring. This module is imported by the feature, not by
`payrouter._ledger` itself, so the ledger package does not depend on the follow-up models at
import time.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Concatenate, ParamSpec, TypeVar

from sqlalchemy import Connection

from . import _outbox
from ._outbox import Draft
from ._records import Ledger

__all__ = [
    "Draft",
    "finish",
    "followups_of",
    "lease",
    "lease_due",
    "record_for_mandate",
    "record_for_payment",
    "stats",
]

P = ParamSpec("P")
T = TypeVar("T")


def _operation(
    statement: Callable[Concatenate[Connection, P], T],
) -> Callable[Concatenate[Ledger, P], Awaitable[T]]:
    """`statement(conn, ...)` as `await operation(ledger, ...)`: one ledger transaction."""

    async def operation(ledger: Ledger, /, *args: P.args, **kwargs: P.kwargs) -> T:
        return await ledger.transact(lambda conn: statement(conn, *args, **kwargs))

    operation.__name__ = operation.__qualname__ = statement.__name__
    operation.__doc__ = statement.__doc__
    return operation


record_for_payment = _operation(_outbox.record_for_payment)
record_for_mandate = _operation(_outbox.record_for_mandate)
lease = _operation(_outbox.lease)
lease_due = _operation(_outbox.lease_due)
finish = _operation(_outbox.finish)
followups_of = _operation(_outbox.followups_of)
stats = _operation(_outbox.stats)
