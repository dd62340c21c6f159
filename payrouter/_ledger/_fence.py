"""Only the worker holding a payment's lease writes its attempts and its outcome.

A worker that stalls past its lease (a loaded machine, a long pause) may find that another
worker took the payment over, resolved its open attempt at the provider and settled it.
Without a fence, the stalled worker's late writes would still land: a new attempt (a second
provider call, so a second charge), or `failed` written over a payment the provider took,
which frees the order id for a second charge. So the pay path runs inside `held_by(holder)`,
with the per-claim owner it wrote into the payment's row, and the ledger adds that owner to
the conditions of those writes: a write whose worker no longer holds the payment changes
nothing and raises `LeaseLostError`. Carried in a context variable, like the payment's
deadline (`_runner.payment_deadline`), so reconciliation and webhooks, which hold no such
claim, write as before.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, Final

from sqlalchemy import Connection, Row, String, bindparam, cast, or_, text, update

from ._schema import attempts, payments

__all__ = [
    "FENCED_ATTEMPT",
    "LeaseLostError",
    "current_holder",
    "held_by",
    "insert_attempt",
    "update_payment",
]

_HOLDER: ContextVar[str | None] = ContextVar("payrouter_ledger_holder", default=None)


class LeaseLostError(LookupError):
    """This worker's lease on the payment ended and another worker holds it now: nothing was
    written, and the caller must not call a provider for it."""


@contextmanager
def held_by(holder: str) -> Iterator[None]:
    """Fence the attempt and payment writes inside the block by the payment's `holder`."""
    token = _HOLDER.set(holder)
    try:
        yield
    finally:
        _HOLDER.reset(token)


def current_holder() -> str | None:
    """The owner the pay path claimed the payment as; None outside a pay path."""
    return _HOLDER.get()


# PostgreSQL: the attempt goes in only while its payment is held by `holder`; FOR UPDATE
# makes a takeover running at the same moment wait for this statement, then see the attempt.
FENCED_ATTEMPT: Final = text(
    """
    WITH held AS (
        SELECT order_id FROM payrouter_payments
        WHERE order_id = :order_id AND owner = :holder AND status = 'processing'
        FOR UPDATE
    )
    INSERT INTO payrouter_attempts (order_id, number, provider, method, idempotency_key,
        request, tries, started_at)
    SELECT :order_id, :number, :provider, :method, :idempotency_key, :request, :tries,
        :started_at
    FROM held
    RETURNING number
    """
)


_INSERT_ATTEMPT: Final = attempts.insert()
_HOLDER_PARAM: Final = bindparam("holder", type_=String)
_UPDATE_PAYMENT: Final = (
    update(payments)
    .where(
        payments.c.order_id == bindparam("key_order_id"),
        or_(cast(_HOLDER_PARAM, String).is_(None), payments.c.owner == _HOLDER_PARAM),
    )
    .returning(payments)
)


def insert_attempt(conn: Connection, values: dict[str, Any]) -> None:
    """Write an attempt before its call, fenced by `values["holder"]` when one is given
    (PostgreSQL and other databases; SQLite's hot path has its own statement)."""
    if values["holder"] is None:
        conn.execute(_INSERT_ATTEMPT, values)
    elif conn.execute(FENCED_ATTEMPT, values).first() is None:
        raise LeaseLostError(f"order {values['order_id']!r} is held by another worker now")


def update_payment(conn: Connection, values: dict[str, Any]) -> Row[Any]:
    """Write a payment's new status, fenced by `values["holder"]`; the row as it now is."""
    row = conn.execute(_UPDATE_PAYMENT, values).one_or_none()
    if row is None:
        lost = LeaseLostError if values["holder"] is not None else LookupError
        raise lost(f"order {values['key_order_id']!r}: no payment held by this worker to update")
    return row
