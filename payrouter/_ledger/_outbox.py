"""The outbox's statements, beside the ledger's tables; `_followup_ops` runs each as one
transaction, so the follow-up feature asks for named operations and holds no connection.

Recording a follow-up first locks its payment's row (an UPDATE that changes nothing: a row
lock on PostgreSQL, the write lock on SQLite), then checks the money rules against every
follow-up already recorded, then inserts it `queued`: two processes refunding one payment
at once are serialized there, and the second is held to what the first left.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, Final

from sqlalchemy import Connection, Row, and_, func, or_, select, update

from .._errors import FollowUpNotAllowedError
from .._followups._model import FollowUp, FollowUpKind, FollowUpStatus, OutboxStats
from .._followups._rules import PaymentBooks, allowed_amount
from .._models import PaymentMethod, PaymentResult, PaymentStatus
from .._money import Money
from .._taxonomy import FailureKind, Outcome
from ._rows import payment_result
from ._schema import attempts, followups, payments, webhook_events

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

_OPEN: Final = (FollowUpStatus.QUEUED.value, FollowUpStatus.SENDING.value)


class Draft:
    """What the caller asks for; the store decides the amount, number and keys."""

    def __init__(
        self,
        kind: FollowUpKind,
        *,
        amount: Money | None = None,
        reason: str | None = None,
        merchant_key: str | None = None,
        key_for: Callable[[int], str],
    ) -> None:
        self.kind = kind
        self.amount = amount
        self.reason = reason
        self.merchant_key = merchant_key
        self.key_for = key_for
        """The provider idempotency key of the n-th follow-up of this kind."""


def record_for_payment(conn: Connection, order_id: str, draft: Draft) -> tuple[FollowUp, bool]:
    """Check the money rules and record the follow-up `queued`; (follow-up, newly recorded).

    Asking again with the same merchant key returns the first one (False), as long as it
    asked for the same thing.
    """
    now = time.time()
    locked = conn.execute(
        update(payments)
        .where(payments.c.order_id == order_id)
        .values(updated_at=payments.c.updated_at)
        .returning(payments)
    ).one_or_none()
    if locked is None:
        raise FollowUpNotAllowedError(
            f"there is no payment {order_id!r} in the ledger: pass the order id the payment "
            "was made with",
            order_id=order_id,
        )
    earlier = followups_of(conn, order_id)
    again = _same_merchant_key(earlier, draft)
    if again is not None:
        return again, False
    attempt_rows = conn.execute(
        select(attempts).where(attempts.c.order_id == order_id).order_by(attempts.c.number)
    ).all()
    rows = [row._mapping for row in attempt_rows]
    payment = payment_result(locked._mapping, rows, secrets=None)  # the books need no action
    books = PaymentBooks(
        payment, bool(locked.authorize_only), earlier, _authorised_part(conn, payment)
    )
    amount = allowed_amount(draft.kind, books, draft.amount)
    assert payment.provider is not None  # a succeeded payment has both
    assert payment.method is not None
    number = 1 + sum(1 for f in earlier if f.kind is draft.kind)
    values = _new_row(
        f"{order_id}/{draft.kind.value}/{number}", draft, payment.provider, payment.method, now
    ) | {
        "order_id": order_id,
        "amount_minor": amount.minor_units if amount else None,
        "currency": amount.currency if amount else None,
        "idempotency_key": draft.key_for(number),
    }
    return _insert(conn, values), True


def record_for_mandate(
    conn: Connection, provider: str, mandate_id: str, method: PaymentMethod, draft: Draft
) -> tuple[FollowUp, bool]:
    """Record a mandate's cancellation, unless one is already under way or confirmed."""
    now = time.time()
    earlier = [
        _follow_up(row)
        for row in conn.execute(
            select(followups)
            .where(
                followups.c.provider == provider,
                followups.c.mandate_id == mandate_id,
                followups.c.kind == draft.kind.value,
            )
            .order_by(followups.c.created_at)
        )
    ]
    standing = [f for f in earlier if f.status.holds_money]
    if standing:
        return standing[-1], False
    number = len(earlier) + 1
    values = _new_row(
        f"{provider}/{mandate_id}/{draft.kind.value}/{number}", draft, provider, method, now
    ) | {"mandate_id": mandate_id, "idempotency_key": draft.key_for(number)}
    return _insert(conn, values), True


def lease(conn: Connection, followup_id: str, owner: str, seconds: float) -> FollowUp | None:
    """Take one follow-up for sending now, if it is queued (or its sender's lease ran out)."""
    now = time.time()
    row = conn.execute(
        update(followups)
        .where(followups.c.followup_id == followup_id, _sendable(now, due_only=False))
        .values(status=FollowUpStatus.SENDING.value, owner=owner, lease_until=now + seconds)
        .returning(followups)
    ).one_or_none()
    return None if row is None else _follow_up(row)


def lease_due(
    conn: Connection, owner: str, seconds: float, limit: int, providers: frozenset[str]
) -> list[FollowUp]:
    """Take up to `limit` follow-ups that are due, oldest first, for the given providers.

    The condition is checked again by the UPDATE itself, so two workers racing for the same
    rows each get a different share (a row lock re-checks it on PostgreSQL).
    """
    now = time.time()
    due = (
        select(followups.c.followup_id)
        .where(_sendable(now, due_only=True), followups.c.provider.in_(providers))
        .order_by(followups.c.created_at)
        .limit(limit)
        .scalar_subquery()
    )
    rows = conn.execute(
        update(followups)
        .where(followups.c.followup_id.in_(due), _sendable(now, due_only=True))
        .values(status=FollowUpStatus.SENDING.value, owner=owner, lease_until=now + seconds)
        .returning(followups)
    ).all()
    return sorted((_follow_up(row) for row in rows), key=lambda f: f.created_at)


def finish(
    conn: Connection,
    followup_id: str,
    status: FollowUpStatus,
    *,
    tries: int,
    failure_kind: FailureKind | None = None,
    provider_code: str | None = None,
    provider_reference: str | None = None,
    message: str | None = None,
    next_try_at: float | None = None,
    idempotency_key: str | None = None,
    owner: str | None = None,
) -> FollowUp:
    """Write what the provider answered; a queued one keeps its last answer for the operator.
    `idempotency_key`, when given, replaces a key the provider has spent (see `key_spent`).

    `owner`: the lease the answer was sent under. Once that lease is gone (it ran out and
    another worker took the follow-up and wrote its answer, which a notification may have
    confirmed since), this late answer is not written over theirs: the follow-up is
    returned as it stands. Under the same key the provider answered both sends alike.
    """
    now = time.time()
    rekeyed = {"idempotency_key": idempotency_key} if idempotency_key else {}
    fence = [followups.c.owner == owner] if owner is not None else []
    row = conn.execute(
        update(followups)
        .where(followups.c.followup_id == followup_id, *fence)
        .values(
            status=status.value,
            tries=tries,
            failure_kind=failure_kind.value if failure_kind else None,
            provider_code=provider_code[:100] if provider_code else None,
            provider_reference=provider_reference,
            message=message[:500] if message else None,
            next_try_at=next_try_at,
            owner=None,
            lease_until=None,
            updated_at=now,
            finished_at=None if status.is_open else now,
            **rekeyed,
        )
        .returning(followups)
    ).one_or_none()
    if row is None:  # the lease was lost: another answer stands
        row = conn.execute(select(followups).where(followups.c.followup_id == followup_id)).one()
    return _follow_up(row)


def followups_of(conn: Connection, order_id: str) -> list[FollowUp]:
    """Every follow-up of one payment, oldest first."""
    rows = conn.execute(
        select(followups).where(followups.c.order_id == order_id).order_by(followups.c.created_at)
    )
    return [_follow_up(row) for row in rows]


def stats(conn: Connection) -> OutboxStats:
    """Depth and oldest age of the outbox, with the pending and refused counts beside."""
    now = time.time()
    depth, oldest = conn.execute(
        select(func.count(), func.min(followups.c.created_at)).where(followups.c.status.in_(_OPEN))
    ).one()
    counts: Mapping[str, int] = dict(
        conn.execute(
            select(followups.c.status, func.count())
            .where(
                followups.c.status.in_([FollowUpStatus.PENDING.value, FollowUpStatus.REFUSED.value])
            )
            .group_by(followups.c.status)
        ).all()
    )
    return OutboxStats(
        depth=int(depth),
        oldest_age_seconds=max(0.0, now - oldest) if oldest is not None else 0.0,
        pending=counts.get(FollowUpStatus.PENDING.value, 0),
        refused=counts.get(FollowUpStatus.REFUSED.value, 0),
    )


def _sendable(now: float, *, due_only: bool) -> Any:
    queued = followups.c.status == FollowUpStatus.QUEUED.value
    if due_only:
        queued = and_(
            queued, or_(followups.c.next_try_at.is_(None), followups.c.next_try_at <= now)
        )
    abandoned = and_(
        followups.c.status == FollowUpStatus.SENDING.value, followups.c.lease_until < now
    )
    return or_(queued, abandoned)


def _same_merchant_key(earlier: list[FollowUp], draft: Draft) -> FollowUp | None:
    if draft.merchant_key is None:
        return None
    for followup in earlier:
        if followup.merchant_key == draft.merchant_key:
            asked = draft.amount.minor_units if draft.amount else None
            had = followup.amount.minor_units if followup.amount else None
            if followup.kind is not draft.kind or (asked is not None and asked != had):
                raise FollowUpNotAllowedError(
                    f"key {draft.merchant_key!r} was used for {followup.followup_id} "
                    f"({followup.kind.value} of {followup.amount}): use a new key for a "
                    "different follow-up",
                    order_id=followup.order_id,
                )
            return followup
    return None


def _new_row(
    followup_id: str, draft: Draft, provider: str, method: PaymentMethod, now: float
) -> dict[str, object]:
    return {
        "followup_id": followup_id,
        "kind": draft.kind.value,
        "provider": provider,
        "method": method.value,
        "reason": draft.reason,
        "merchant_key": draft.merchant_key,
        "status": FollowUpStatus.QUEUED.value,
        "tries": 0,
        "next_try_at": now,
        "created_at": now,
        "updated_at": now,
    }


def _insert(conn: Connection, values: dict[str, object]) -> FollowUp:
    return _follow_up(conn.execute(followups.insert().values(values).returning(followups)).one())


def _follow_up(row: Row[Any]) -> FollowUp:
    r = row._mapping
    amount = (
        Money(minor_units=r["amount_minor"], currency=r["currency"])
        if r["amount_minor"] is not None
        else None
    )
    return FollowUp(
        followup_id=r["followup_id"],
        kind=FollowUpKind(r["kind"]),
        provider=r["provider"],
        method=PaymentMethod(r["method"]),
        order_id=r["order_id"],
        mandate_id=r["mandate_id"],
        amount=amount,
        reason=r["reason"],
        merchant_key=r["merchant_key"],
        idempotency_key=r["idempotency_key"],
        status=FollowUpStatus(r["status"]),
        failure_kind=FailureKind(r["failure_kind"]) if r["failure_kind"] else None,
        provider_code=r["provider_code"],
        provider_reference=r["provider_reference"],
        message=r["message"],
        tries=r["tries"],
        next_try_at=_when(r["next_try_at"]),
        created_at=_when(r["created_at"]),
        updated_at=_when(r["updated_at"]),
        finished_at=_when(r["finished_at"]),
    )


def _when(epoch: float | None) -> Any:
    return None if epoch is None else datetime.fromtimestamp(epoch, UTC)


def _authorised_part(conn: Connection, payment: PaymentResult) -> int | None:
    """What the issuer authorised of a `partially_authorised` payment: the amount of the
    notification that made it so (the webhook store remembers it), else of the attempt whose
    answer (pay, replay or lookup) said so."""
    if payment.status is not PaymentStatus.PARTIALLY_AUTHORISED:
        return None
    answered = conn.execute(
        select(attempts.c.authorised_minor)
        .where(
            attempts.c.order_id == payment.order_id,
            attempts.c.outcome == Outcome.PARTIALLY_AUTHORISED.value,
        )
        .order_by(attempts.c.number.desc())
        .limit(1)
    ).scalar()
    reported = conn.execute(
        select(webhook_events.c.amount_minor)
        .where(
            webhook_events.c.order_id == payment.order_id,
            webhook_events.c.result == "partially_authorised",
        )
        .order_by(webhook_events.c.received_at.desc())
        .limit(1)
    ).scalar()
    part = reported if reported is not None else answered
    return None if part is None else int(part)
