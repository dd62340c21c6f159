"""Which payments reconciliation may take, and taking one: the lease statements.

A payment is open for reconciliation when it is `pending` or `requires_action`, or still
`processing` past its lease (its worker died). Acquiring sets our lease in one conditional
UPDATE, so two reconcilers never work on one payment at once.
"""

from __future__ import annotations

import time
from typing import Final

from sqlalchemy import Connection, or_, select, update

from .._models import PaymentStatus
from ._schema import payments

__all__ = ["acquire", "unresolved"]

_UNRESOLVED_STATUSES: Final = (PaymentStatus.PENDING, PaymentStatus.REQUIRES_ACTION)


def acquire(conn: Connection, order_id: str, owner: str, lease_seconds: float) -> bool:
    """Take the payment for `lease_seconds` unless a live lease holds it."""
    now = time.time()
    claimable = [PaymentStatus.PROCESSING.value, *(s.value for s in _UNRESOLVED_STATUSES)]
    taken = conn.execute(
        update(payments)
        .where(
            payments.c.order_id == order_id,
            payments.c.status.in_(claimable),
            or_(payments.c.lease_until.is_(None), payments.c.lease_until < now),
        )
        .values(owner=owner, lease_until=now + lease_seconds)
        .returning(payments.c.order_id)
    )
    return taken.first() is not None


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
