"""Ledger rows to the public models: one conversion for every database and query shape.

Rows arrive as mappings (SQLAlchemy rows, `sqlite3` rows as dicts, or JSON objects from
PostgreSQL's one-statement finish), so the same two functions build every `PaymentResult` the
ledger returns. They build the models without validating them again (`model_construct`): every
value was validated on its way into the ledger, and validation was a tenth of a payment's cost.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from .._actions import NextAction
from .._models import AttemptSummary, PaymentMethod, PaymentResult, PaymentStatus
from .._money import Money
from .._taxonomy import Advice, DeclineType, FailureKind, Outcome
from ._records import AttemptOutcome, AttemptRow, PaymentUpdate
from ._sealed_actions import SecretOpener, kept_action

__all__ = [
    "attempt_summary",
    "attempt_values",
    "clip",
    "outcome_values",
    "payment_result",
    "payment_values",
    "value_of",
]


def payment_result(
    row: Mapping[Any, Any],
    attempts: Iterable[Mapping[Any, Any]],
    *,
    secrets: SecretOpener | None,
) -> PaymentResult:
    """A payment row and its attempt rows (in number order) as the public result; `secrets`
    opens the client secrets kept sealed in actions (None: they are left out)."""
    summaries = tuple(attempt_summary(attempt, secrets) for attempt in attempts)
    status = PaymentStatus(row["status"])
    return PaymentResult.model_construct(
        order_id=row["order_id"],
        status=status,
        amount=Money.model_construct(minor_units=row["amount_minor"], currency=row["currency"]),
        provider=row["provider"],
        method=PaymentMethod(row["method"]) if row["method"] else None,
        provider_reference=row["provider_reference"],
        action_url=row["action_url"],
        action=_awaited(status, row["provider_reference"], summaries),
        failure_kind=FailureKind(row["failure_kind"]) if row["failure_kind"] else None,
        decline_reason=row["decline_reason"],
        attempts=summaries,
        created_at=_when(row["created_at"]),
        updated_at=_when(row["updated_at"]),
    )


def attempt_summary(row: Mapping[Any, Any], secrets: SecretOpener | None) -> AttemptSummary:
    return AttemptSummary.model_construct(
        number=row["number"],
        provider=row["provider"],
        method=PaymentMethod(row["method"]),
        outcome=Outcome(row["outcome"]) if row["outcome"] else None,
        failure_kind=FailureKind(row["failure_kind"]) if row["failure_kind"] else None,
        provider_code=row["provider_code"],
        provider_reference=row["provider_reference"],
        action_url=row["action_url"],
        action=_action(row, secrets),
        idempotency_key=row["idempotency_key"],
        tries=row["tries"],
        latency_ms=row["latency_ms"],
        decline=DeclineType(row["decline"]) if row.get("decline") else None,
        advice=Advice(row["advice"]) if row.get("advice") else None,
        advice_code=row.get("advice_code"),
        started_at=_when(row["started_at"]),
        finished_at=_when(row["finished_at"]) if row["finished_at"] is not None else None,
    )


def _action(row: Mapping[Any, Any], secrets: SecretOpener | None) -> NextAction | None:
    """An attempt's action: as kept, else (rows from before actions were kept) its URL."""
    kept = row.get("next_action")
    if kept:
        return kept_action(kept, row["order_id"], row["number"], secrets)
    if row["action_url"] and row["outcome"] == Outcome.REQUIRES_ACTION.value:
        return NextAction.redirect(row["action_url"])
    return None


def _awaited(
    status: PaymentStatus, reference: str | None, attempts: tuple[AttemptSummary, ...]
) -> NextAction | None:
    """A payment's action is its awaiting attempt's: the last one waiting for the customer
    under the payment's provider reference (or the last one waiting, if none matches)."""
    if status is not PaymentStatus.REQUIRES_ACTION:
        return None
    waiting = [a for a in attempts if a.outcome is Outcome.REQUIRES_ACTION and a.action]
    matching = [a for a in waiting if a.provider_reference == reference] or waiting
    return matching[-1].action if matching else None


def _when(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


def value_of(member: enum.StrEnum | None) -> str | None:
    return None if member is None else member.value


def clip(text: str | None, length: int) -> str | None:
    return None if text is None else text[:length]


def payment_values(change: PaymentUpdate, now: float) -> dict[str, object]:
    """The columns a payment's new status writes; its lease ends once it stops processing."""
    values: dict[str, object] = {
        "status": change.status.value,
        "provider": change.provider,
        "method": value_of(change.method),
        "provider_reference": change.provider_reference,
        "action_url": clip(change.action_url, 2000),
        "failure_kind": value_of(change.failure_kind),
        "decline_reason": change.decline_reason,
        "updated_at": now,
    }
    if change.status is not PaymentStatus.PROCESSING:
        values |= {"owner": None, "lease_until": None}
    return values


def outcome_values(outcome: AttemptOutcome, action: str | None) -> dict[str, object]:
    """The columns an attempt's outcome writes, clipped to their widths, with its `action` as
    kept (`stored_action`: the client secret sealed)."""
    return {
        "outcome": outcome.outcome.value,
        "failure_kind": value_of(outcome.failure_kind),
        "provider_code": clip(outcome.provider_code, 100),
        "provider_reference": outcome.provider_reference,
        "action_url": clip(outcome.action_url, 2000),
        "tries": outcome.tries,
        "latency_ms": outcome.latency_ms,
        "decline": value_of(outcome.decline),
        "advice": value_of(outcome.advice),
        "advice_code": clip(outcome.advice_code, 100),
        "authorised_minor": outcome.authorised_minor,
        "next_action": action,
    }


def attempt_values(
    row: AttemptRow, request: str | None, holder: str | None, now: float
) -> dict[str, Any]:
    """An attempt's columns as written before its first call (`request` as kept, sealed),
    with the `holder` that fences the write (`_fence`)."""
    return {
        "order_id": row.order_id,
        "number": row.number,
        "provider": row.provider,
        "method": row.method.value,
        "idempotency_key": row.idempotency_key,
        "request": request,
        "tries": 0,
        "started_at": now,
        "holder": holder,
    }
