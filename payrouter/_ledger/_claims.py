"""The claim on an order id when its row is already there: conflict, wait, or retake.

The happy path (a new order id) is one `INSERT ... ON CONFLICT DO NOTHING RETURNING` in
`SqlLedger`; this is what follows when that insert found a row. On PostgreSQL each statement
commits on its own, so another worker may act between them: every write re-checks its
condition in its `WHERE` clause, and a payment is read with its attempts as of one commit.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final

from sqlalchemy import Connection, Row, bindparam, func, select, update

from .._models import PaymentResult, PaymentStatus
from .._money import Money
from ._records import Claim, ClaimKind
from ._rows import payment_result
from ._schema import attempts, payments
from ._sealed_actions import SecretOpener

__all__ = ["PaymentRows", "claim_values", "load", "read_rows", "retake", "settle_existing"]

_SELECT_PAYMENT: Final = select(payments).where(payments.c.order_id == bindparam("order_id"))
_SELECT_ATTEMPTS: Final = (
    select(attempts).where(attempts.c.order_id == bindparam("order_id")).order_by(attempts.c.number)
)


def claim_values(
    order_id: str,
    fingerprint: str,
    amount: Money,
    owner: str,
    lease_until: float,
    authorize_only: bool,
    now: float,
) -> dict[str, Any]:
    """The new payment row a claim inserts."""
    return {
        "order_id": order_id,
        "fingerprint": fingerprint,
        "status": PaymentStatus.PROCESSING.value,
        "amount_minor": amount.minor_units,
        "currency": amount.currency,
        "authorize_only": authorize_only,
        "owner": owner,
        "lease_until": lease_until,
        "created_at": now,
        "updated_at": now,
    }


_RETAKE_ROUNDS: Final = 3
"""How often a claim reads the row again after another worker retook it first."""

PaymentRows = tuple[Mapping[Any, Any], Sequence[Mapping[Any, Any]]]
"""A payment's row and its attempts' rows, in number order, read as of one commit."""


def settle_existing(
    read: Callable[[], PaymentRows],
    retake: Callable[[], int | None],
    fingerprint: str,
    secrets: SecretOpener | None,
) -> Claim:
    """The order id's row exists: a conflict, someone else's payment, or a failed one to
    retake. `fingerprint` is the claim's; `read` reads the row and its attempts as of one
    commit; `retake` holds a failed payment again (`retake` below, with the claim's values).

    The answer to a duplicate request is the payment as one commit left it: read in two
    statements outside one snapshot, a payment's old status could come back beside its
    attempt's new outcome (another worker finishing it in between).

    A failed payment charged nothing, so it is retaken even with other details (a customer id
    a provider required, another card): the new fingerprint and amount replace the old.

    When another worker retakes it between our read and our retake (PostgreSQL commits each
    statement on its own), the row is read again: the `failed` we read is no longer true, and
    answering with it would tell the caller "failed" while the other worker's charge is in
    flight. What the row says now (held, or failed again) is the answer.
    """
    for _ in range(_RETAKE_ROUNDS):
        row, attempt_rows = read()
        if row["status"] != PaymentStatus.FAILED:
            if row["fingerprint"] != fingerprint:
                return Claim(ClaimKind.CONFLICT)
            payment = payment_result(row, attempt_rows, secrets=secrets)
            return Claim(ClaimKind.EXISTING, payment=payment)
        next_attempt = retake()
        if next_attempt is not None:
            return Claim(ClaimKind.RETAKEN, next_attempt=next_attempt)
    row, attempt_rows = read()  # as it is now
    if row["fingerprint"] != fingerprint and row["status"] != PaymentStatus.FAILED:
        return Claim(ClaimKind.CONFLICT)
    return Claim(ClaimKind.EXISTING, payment=payment_result(row, attempt_rows, secrets=secrets))


def retake(conn: Connection, claimed: dict[str, Any]) -> int | None:
    """Hold a failed payment again, with the new claim's details (`claim_values`); the number
    its next attempt takes, or None when it is no longer failed (another worker retook it
    first)."""
    retaken = conn.execute(
        update(payments)
        .where(
            payments.c.order_id == claimed["order_id"],
            payments.c.status == PaymentStatus.FAILED,
        )
        .values(
            fingerprint=claimed["fingerprint"],
            amount_minor=claimed["amount_minor"],
            currency=claimed["currency"],
            authorize_only=claimed["authorize_only"],
            status=PaymentStatus.PROCESSING.value,
            owner=claimed["owner"],
            lease_until=claimed["lease_until"],
            updated_at=claimed["updated_at"],
            provider=None,
            method=None,
            provider_reference=None,
            action_url=None,
            failure_kind=None,
            decline_reason=None,
        )
        .returning(payments.c.order_id)
    )
    if retaken.first() is None:
        return None
    last = conn.execute(
        select(func.coalesce(func.max(attempts.c.number), 0)).where(
            attempts.c.order_id == claimed["order_id"]
        )
    ).scalar_one()
    return int(last) + 1


def read_rows(conn: Connection, order_id: str) -> PaymentRows | None:
    """The payment's row and its attempts on a Core connection; as of one commit when `conn`
    is in a snapshot (`SqlConnections._snapshot`). None when there is no such order."""
    row = conn.execute(_SELECT_PAYMENT, {"order_id": order_id}).one_or_none()
    return None if row is None else (row._mapping, _attempt_rows(conn, order_id))


def load(conn: Connection, row: Row[Any], secrets: SecretOpener | None) -> PaymentResult:
    """A payment row with its attempts, read now, as the public result (`secrets` opens the
    client secrets kept sealed in actions)."""
    return payment_result(row._mapping, _attempt_rows(conn, row.order_id), secrets=secrets)


def _attempt_rows(conn: Connection, order_id: str) -> list[Mapping[Any, Any]]:
    """The payment's attempts, in number order."""
    return [attempt._mapping for attempt in conn.execute(_SELECT_ATTEMPTS, {"order_id": order_id})]
