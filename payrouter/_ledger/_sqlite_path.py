"""A payment's hot statements on SQLite, as plain SQL on the DBAPI connection.

The claim, the attempt written before the call and the outcome written after it run on every
payment; a return page (`Router.refresh`) reads the payment, takes its lease and writes its
status. Through SQLAlchemy's `Connection.execute` each statement costs about three to four
times what SQLite itself spends on it (parameter processing, result set-up, transaction
bookkeeping), so on SQLite these go straight to the `sqlite3` connection SQLAlchemy opened,
as fixed SQL text: `sqlite3` keeps each text's prepared statement in its cache, so every
payment reuses a compiled statement. Results are built from the rows the writes return
(`RETURNING`). Everything else (conflicts, retakes, reconcile's scans) stays on SQLAlchemy
Core, and PostgreSQL runs all of it there; tests hold both paths to the same results.

These functions run inside a transaction the caller commits (`transaction`).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any, Final

from .._models import PaymentStatus
from ._fence import LeaseLostError
from ._records import PaymentUpdate
from ._rows import payment_values
from ._runner import LedgerRunner

__all__ = [
    "acquire",
    "finish",
    "finish_attempt",
    "finish_payment",
    "insert_attempt",
    "insert_claim",
    "other_attempts",
    "read",
    "transaction",
]

_CLAIM: Final = """
    INSERT INTO payrouter_payments (order_id, fingerprint, status, amount_minor, currency,
        authorize_only, owner, lease_until, created_at, updated_at)
    VALUES (:order_id, :fingerprint, :status, :amount_minor, :currency,
        :authorize_only, :owner, :lease_until, :created_at, :updated_at)
    ON CONFLICT (order_id) DO NOTHING
    RETURNING order_id
"""
_ATTEMPT: Final = """
    INSERT INTO payrouter_attempts (order_id, number, provider, method, idempotency_key,
        request, tries, started_at)
    SELECT :order_id, :number, :provider, :method, :idempotency_key, :request, :tries,
        :started_at
    WHERE :holder IS NULL OR EXISTS (SELECT 1 FROM payrouter_payments
        WHERE order_id = :order_id AND owner = :holder AND status = 'processing')
"""
_FINISH_ATTEMPT: Final = """
    UPDATE payrouter_attempts SET
        outcome = :outcome, failure_kind = :failure_kind, provider_code = :provider_code,
        provider_reference = :provider_reference, action_url = :action_url, tries = :tries,
        latency_ms = :latency_ms, decline = :decline, advice = :advice,
        advice_code = :advice_code, authorised_minor = :authorised_minor,
        next_action = :next_action,
        finished_at = :finished_at
    WHERE order_id = :key_order_id AND number = :key_number
    RETURNING *
"""
_FINISH_PAYMENT: Final = """
    UPDATE payrouter_payments SET
        status = :status, provider = :provider, method = :method,
        provider_reference = :provider_reference, action_url = :action_url,
        failure_kind = :failure_kind, decline_reason = :decline_reason,
        updated_at = :updated_at,
        owner = CASE WHEN :keep_lease THEN owner END,
        lease_until = CASE WHEN :keep_lease THEN lease_until END
    WHERE order_id = :key_order_id AND (:holder IS NULL OR owner = :holder)
    RETURNING *
"""
_ACQUIRE: Final = """
    UPDATE payrouter_payments SET owner = :taker, lease_until = :until
    WHERE order_id = :wanted AND status IN ('processing', 'pending', 'requires_action')
        AND (lease_until IS NULL OR lease_until < :now)
    RETURNING order_id
"""
_PAYMENT: Final = "SELECT * FROM payrouter_payments WHERE order_id = :order_id"
_ATTEMPTS: Final = "SELECT * FROM payrouter_attempts WHERE order_id = :order_id ORDER BY number"
_OTHER_ATTEMPTS: Final = """
    SELECT * FROM payrouter_attempts WHERE order_id = :order_id AND number <> :number
    ORDER BY number
"""


def insert_claim(db: sqlite3.Connection, values: Mapping[str, Any]) -> bool:
    """Insert the payment's row; False when the order id is already there."""
    return bool(db.execute(_CLAIM, values).fetchall())


def insert_attempt(db: sqlite3.Connection, values: Mapping[str, Any]) -> None:
    """Write an attempt before its call (its outcome columns stay NULL), only while its
    payment is held by `values["holder"]` when one is given (`_fence`)."""
    if db.execute(_ATTEMPT, values).rowcount != 1:
        raise LeaseLostError(f"order {values['order_id']!r} is held by another worker now")


def finish_attempt(
    db: sqlite3.Connection, attempt: Mapping[str, Any], payment: Mapping[str, Any] | None
) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """Write an attempt's outcome and, given `payment`, the payment's status; return both
    rows as they now stand (`payment` None: the payment's row is not touched)."""
    finished = _rows(db.execute(_FINISH_ATTEMPT, attempt))
    if not finished:
        raise LookupError(f"no attempt {attempt['key_number']} of {attempt['key_order_id']!r}")
    if payment is None:
        return finished[0], None
    return finished[0], _write_status(db, payment)


def _write_status(db: sqlite3.Connection, payment: Mapping[str, Any]) -> dict[str, Any]:
    """Write the payment's status, fenced by `payment["holder"]` when given (`_fence`); its
    row as it now stands."""
    paid = _rows(db.execute(_FINISH_PAYMENT, payment))
    if not paid and payment["holder"] is not None:
        raise LeaseLostError(f"order {payment['key_order_id']!r} is held by another worker now")
    if not paid:
        raise LookupError(f"no payment {payment['key_order_id']!r} to finish")
    return paid[0]


@contextmanager
def transaction(db: sqlite3.Connection, runner: LedgerRunner) -> Iterator[sqlite3.Connection]:
    """One transaction on SQLite's DBAPI connection, for these statements; rolled back if it
    fails or its caller gave up waiting, and left to the batch inside the writer's shared one."""
    if runner.grouped:
        yield db
        return
    try:
        yield db
        runner.refuse_if_abandoned()
    except BaseException:
        db.rollback()
        raise
    db.commit()


def finish(
    db: sqlite3.Connection,
    attempt: Mapping[str, Any],
    payment: PaymentUpdate | None,
    now: float,
) -> tuple[dict[str, Any], list[dict[str, Any]]] | None:
    """The outcome and, given `payment`, the payment's status: the payment's row and its
    attempts in number order (None without `payment`). Attempt 1, a payment's only attempt on
    the happy path, needs nothing read back."""
    order_id, number = str(attempt["key_order_id"]), int(str(attempt["key_number"]))
    changed = None
    if payment is not None:
        changed = payment_values(payment, now) | {
            "key_order_id": order_id,
            "keep_lease": payment.status is PaymentStatus.PROCESSING,
            "holder": attempt["holder"],
        }
    finished, paid = finish_attempt(db, attempt, changed)
    if paid is None:
        return None
    others = [] if number == 1 else other_attempts(db, order_id, number)
    return paid, sorted([finished, *others], key=lambda row: int(row["number"]))


def acquire(db: sqlite3.Connection, values: Mapping[str, Any]) -> bool:
    """`_leases.acquire`'s lease, as fixed SQL: a return page takes one on every refresh."""
    return bool(db.execute(_ACQUIRE, values).fetchall())


def read(
    db: sqlite3.Connection, order_id: str
) -> tuple[dict[str, Any], list[dict[str, Any]]] | None:
    """The payment's row and its attempts in number order; None when there is no such order.

    Both are read in one transaction, so they agree even while another process writes: the
    driver begins one by itself only before a write, and two SELECTs outside one may see two
    different commits (a payment's old status with its attempt's new outcome)."""
    if not db.in_transaction:
        db.execute("BEGIN")  # committed or rolled back with the caller's (`transaction`)
    found = _rows(db.execute(_PAYMENT, {"order_id": order_id}))
    if not found:
        return None
    return found[0], _attempts(db, order_id)


def finish_payment(
    db: sqlite3.Connection, payment: Mapping[str, Any]
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Write the payment's status (`_write_status`); its row as it now stands, with its
    attempts in number order."""
    return _write_status(db, payment), _attempts(db, str(payment["key_order_id"]))


def _attempts(db: sqlite3.Connection, order_id: str) -> list[dict[str, Any]]:
    """The payment's attempts, in number order."""
    return _rows(db.execute(_ATTEMPTS, {"order_id": order_id}))


def other_attempts(db: sqlite3.Connection, order_id: str, number: int) -> list[dict[str, Any]]:
    """The payment's attempts other than `number`, in number order."""
    return _rows(db.execute(_OTHER_ATTEMPTS, {"order_id": order_id, "number": number}))


def _rows(cursor: sqlite3.Cursor) -> list[dict[str, Any]]:
    names = [column[0] for column in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
