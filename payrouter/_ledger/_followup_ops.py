"""The follow-up outbox's named ledger operations, each one transaction.

The follow-up feature (`payrouter._followups`) calls these and never holds a database
connection; the statements live in `_outbox`, beside the tables they write. This module is
imported by the feature, not by `payrouter._ledger` itself, so the ledger package does not
depend on the follow-up models at import time.
"""

from __future__ import annotations

from .._followups._model import FollowUp, FollowUpStatus, OutboxStats
from .._models import PaymentMethod
from .._taxonomy import FailureKind
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


async def record_for_payment(ledger: Ledger, order_id: str, draft: Draft) -> tuple[FollowUp, bool]:
    """Check the money rules against the payment's follow-ups and record this one `queued`
    (or return the one an equal merchant key already recorded); True when it is new."""
    return await ledger.transact(lambda conn: _outbox.record_for_payment(conn, order_id, draft))


async def record_for_mandate(
    ledger: Ledger, provider: str, mandate_id: str, method: PaymentMethod, draft: Draft
) -> tuple[FollowUp, bool]:
    """Record a mandate's cancellation `queued` at its provider; True when it is new."""
    return await ledger.transact(
        lambda conn: _outbox.record_for_mandate(conn, provider, mandate_id, method, draft)
    )


async def lease(ledger: Ledger, followup_id: str, owner: str, seconds: float) -> FollowUp | None:
    """Take one queued follow-up for sending; None when someone else holds it."""
    return await ledger.transact(lambda conn: _outbox.lease(conn, followup_id, owner, seconds))


async def lease_due(
    ledger: Ledger, owner: str, seconds: float, limit: int, providers: frozenset[str]
) -> list[FollowUp]:
    """Take up to `limit` follow-ups that are due, oldest first, at `providers` only."""
    return await ledger.transact(
        lambda conn: _outbox.lease_due(conn, owner, seconds, limit, providers)
    )


async def finish(
    ledger: Ledger,
    followup_id: str,
    status: FollowUpStatus,
    *,
    tries: int,
    failure_kind: FailureKind | None = None,
    provider_code: str | None = None,
    provider_reference: str | None = None,
    message: str | None = None,
    next_try_at: float | None = None,
) -> FollowUp:
    """Write what the provider answered to a follow-up."""
    return await ledger.transact(
        lambda conn: _outbox.finish(
            conn,
            followup_id,
            status,
            tries=tries,
            failure_kind=failure_kind,
            provider_code=provider_code,
            provider_reference=provider_reference,
            message=message,
            next_try_at=next_try_at,
        )
    )


async def followups_of(ledger: Ledger, order_id: str) -> list[FollowUp]:
    """A payment's follow-ups, oldest first."""
    return await ledger.transact(lambda conn: _outbox.followups_of(conn, order_id))


async def stats(ledger: Ledger) -> OutboxStats:
    """The outbox's depth, oldest age and refusals."""
    return await ledger.transact(_outbox.stats)
