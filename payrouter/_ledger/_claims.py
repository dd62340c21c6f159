"""The claim on an order id when its row is already there: conflict, wait, or retake.

The happy path (a new order id) is one `INSERT ... ON CONFLICT DO NOTHING RETURNING` in
`SqlLedger`; this is what follows when that insert found a row. On PostgreSQL each statement
commits on its own, so another worker may act between them: every step re-checks its
condition in its `WHERE` clause.
"""

from __future__ import annotations

from typing import Any, Final

from sqlalchemy import Connection, Row, bindparam, func, select, update

from .._models import PaymentResult, PaymentStatus
from .._money import Money
from ._records import Claim, ClaimKind
from ._rows import payment_result
from ._schema import attempts, payments
from ._sealed_actions import SecretOpener

__all__ = ["claim_values", "load", "settle_existing"]

SELECT_PAYMENT: Final = select(payments).where(payments.c.order_id == bindparam("order_id"))
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


def settle_existing(
    conn: Connection, claimed: dict[str, Any], secrets: SecretOpener | None
) -> Claim:
    """The order id's row exists: a conflict, someone else's payment, or a failed one to
    retake. `claimed` is the row the claim tried to insert (`claim_values`).

    A failed payment charged nothing, so it is retaken even with other details (a customer id
    a provider required, another card): the new fingerprint and amount replace the old.

    When another worker retakes it between our read and our retake (PostgreSQL commits each
    statement on its own), the row is read again: the `failed` we read is no longer true, and
    answering with it would tell the caller "failed" while the other worker's charge is in
    flight. What the row says now (held, or failed again) is the answer.
    """
    order_id, fingerprint = claimed["order_id"], claimed["fingerprint"]
    for _ in range(_RETAKE_ROUNDS):
        row = conn.execute(SELECT_PAYMENT, {"order_id": order_id}).one()
        if row.status != PaymentStatus.FAILED:
            if row.fingerprint != fingerprint:
                return Claim(ClaimKind.CONFLICT)
            return Claim(ClaimKind.EXISTING, payment=load(conn, row, secrets))
        if _retake(conn, claimed):
            last = conn.execute(
                select(func.coalesce(func.max(attempts.c.number), 0)).where(
                    attempts.c.order_id == order_id
                )
            ).scalar_one()
            return Claim(ClaimKind.RETAKEN, next_attempt=int(last) + 1)
    row = conn.execute(SELECT_PAYMENT, {"order_id": order_id}).one()  # as it is now
    if row.fingerprint != fingerprint and row.status != PaymentStatus.FAILED:
        return Claim(ClaimKind.CONFLICT)
    return Claim(ClaimKind.EXISTING, payment=load(conn, row, secrets))


def _retake(conn: Connection, claimed: dict[str, Any]) -> bool:
    """Hold a failed payment again, with the new claim's details; False when it is no longer
    failed (another worker retook it first)."""
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
    return retaken.first() is not None


def load(conn: Connection, row: Row[Any], secrets: SecretOpener | None) -> PaymentResult:
    """A payment row with its attempts, read now, as the public result (`secrets` opens the
    client secrets kept sealed in actions)."""
    attempt_rows = conn.execute(_SELECT_ATTEMPTS, {"order_id": row.order_id}).all()
    return payment_result(
        row._mapping, [attempt._mapping for attempt in attempt_rows], secrets=secrets
    )
