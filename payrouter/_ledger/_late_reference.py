"""The provider's reference for an attempt whose answer came after its payment's deadline.

Only an attempt still `unknown` without a reference takes it: one that reconcile or a webhook
has settled since, or whose reference is known, is left as it is. An attempt whose outcome is
not written yet is reported as such, so the caller writes once it is.
"""

from __future__ import annotations

from sqlalchemy import Connection, select, update

from ._schema import attempts

__all__ = ["note_late_reference"]


def note_late_reference(
    conn: Connection, order_id: str, number: int, reference: str
) -> bool | None:
    """Write `reference` to the unknown attempt; None while its outcome is not written yet,
    False when it needs none (settled, or its reference is known)."""
    this = (attempts.c.order_id == order_id) & (attempts.c.number == number)
    written = conn.execute(
        update(attempts)
        .where(this, attempts.c.outcome == "unknown", attempts.c.provider_reference.is_(None))
        .values(provider_reference=reference)
    )
    if written.rowcount:
        return True
    outcome = conn.execute(select(attempts.c.outcome).where(this)).scalar_one_or_none()
    return None if outcome is None else False
