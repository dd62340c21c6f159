"""Which payments reconciliation may take, and taking one: the lease statements.

A payment is open for reconciliation when it is `pending` or `requires_action`, or still
`processing` past its lease (its worker died). Acquiring sets our lease in one conditional
UPDATE, so two reconcilers never work on one payment at once.
"""

from __future__ import annotations

import time
from typing import Final

from sqlalchemy import Connection, bindparam, or_, select, update

from .._models import PaymentStatus
from ._schema import payments

__all__ = ["acquire", "lease_values", "unresolved"]

_UNRESOLVED_STATUSES: Final = (PaymentStatus.PENDING, PaymentStatus.REQUIRES_ACTION)


_ACQUIRE: Final = (
    update(payments)
    .where(
        payments.c.order_id == bindparam("wanted"),
        payments.c.status.in_(
            [PaymentStatus.PROCESSING.value, *(s.value for s in _UNRESOLVED_STATUSES)]
        ),
        or_(payments.c.lease_until.is_(None), payments.c.lease_until < bindparam("now")),
    )
    .values(owner=bindparam("taker"), lease_until=bindparam("until"))
    .returning(payments.c.order_id)
)
"""Built once: a return page takes the lease on every `Router.refresh`, and building the
statement cost more than SQLite's work on it."""


def lease_values(order_id: str, owner: str, lease_seconds: float) -> dict[str, object]:
    """The values `acquire` takes the payment with, for `lease_seconds` from now."""
    now = time.time()
    return {"wanted": order_id, "now": now, "taker": owner, "until": now + lease_seconds}


def acquire(conn: Connection, values: dict[str, object]) -> bool:
    """Take the payment (`lease_values`) unless a live lease holds it."""
    return conn.execute(_ACQUIRE, values).first() is not None


def unresolved(conn: Connection, limit: int) -> list[str]:
    """Open payments, least recently touched first."""
    now = time.time()
    rows = conn.execute(
        select(payments.c.order_id)
        .where(
            or_(
                payments.c.status.in_([s.value for s in _UNRESOLVED_STATUSES]),
                (payments.c.status == PaymentStatus.PROCESSING.value)
                & (payments.c.lease_until < now),
            )
        )
        .order_by(payments.c.updated_at)
        .limit(limit)
    )
    return [row.order_id for row in rows]
