"""PostgreSQL's happy path in three round trips: claim, write the attempt, finish both.

Each step is one statement, and the last one writes the attempt's outcome and the payment's
status together, in one statement whose data-modifying CTEs commit or fail as one, and returns
the payment with all its attempts as JSON, so no second read is needed. A step that comes
alone runs in autocommit mode (no BEGIN or COMMIT of its own); steps of payments in flight
that queue up together share one pipeline and one commit (`_pg_writer`), through the `Step`s
built here. SQLite keeps its own path: a statement there costs microseconds, not a network
round trip.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Final

from sqlalchemy import text

from .._models import PaymentResult, PaymentStatus
from ._fence import FENCED_ATTEMPT, LeaseLostError
from ._pg_writer import Step, pyformat
from ._records import Claim, ClaimKind, PaymentUpdate
from ._rows import clip, payment_result, value_of
from ._sealed_actions import SecretOpener

__all__ = [
    "attempt_step",
    "claim_step",
    "finish_step",
    "one_statement_values",
    "outcome_step",
]

_CLAIM: Final = text(
    """
    INSERT INTO payrouter_payments (order_id, fingerprint, status, amount_minor, currency,
        authorize_only, owner, lease_until, created_at, updated_at)
    VALUES (:order_id, :fingerprint, :status, :amount_minor, :currency, :authorize_only,
        :owner, :lease_until, :created_at, :updated_at)
    ON CONFLICT (order_id) DO NOTHING
    RETURNING order_id
    """
)

# The claim and attempt 1 in one statement: the attempt goes in only if the payment's row
# did (an order id found taken writes no attempt), and both commit or neither does.
_CLAIM_WITH_ATTEMPT: Final = text(
    """
    WITH p AS (
        INSERT INTO payrouter_payments (order_id, fingerprint, status, amount_minor, currency,
            authorize_only, owner, lease_until, created_at, updated_at)
        VALUES (:order_id, :fingerprint, :status, :amount_minor, :currency, :authorize_only,
            :owner, :lease_until, :created_at, :updated_at)
        ON CONFLICT (order_id) DO NOTHING
        RETURNING order_id
    ), a AS (
        INSERT INTO payrouter_attempts (order_id, number, provider, method, idempotency_key,
            request, tries, started_at)
        SELECT order_id, :number, :provider, :method, :idempotency_key, :request, :tries,
            :started_at
        FROM p
        RETURNING number
    )
    SELECT p.order_id, (SELECT count(*) FROM a) FROM p
    """
)

# Other parts of a statement do not see a CTE's updates, so the attempts come back as the
# updated row from `a` plus the other attempts read from the table.
_FINISH: Final = text(
    """
    WITH a AS (
        UPDATE payrouter_attempts SET
            outcome = :outcome, failure_kind = :failure_kind, provider_code = :provider_code,
            provider_reference = :provider_reference, action_url = :action_url,
            tries = :tries, latency_ms = :latency_ms, decline = :decline, advice = :advice,
            advice_code = :advice_code, authorised_minor = :authorised_minor,
            next_action = :next_action,
            finished_at = :now
        WHERE order_id = :order_id AND number = :number
        RETURNING *
    ), p AS (
        UPDATE payrouter_payments SET
            status = :status, provider = :p_provider, method = :p_method,
            provider_reference = :p_provider_reference, action_url = :p_action_url,
            failure_kind = :p_failure_kind, decline_reason = :p_decline_reason,
            updated_at = :now,
            owner = CASE WHEN :keep_lease THEN owner END,
            lease_until = CASE WHEN :keep_lease THEN lease_until END
        WHERE order_id = :order_id
            AND (CAST(:holder AS TEXT) IS NULL OR owner = CAST(:holder AS TEXT))
        RETURNING *
    )
    SELECT
        (SELECT row_to_json(p) FROM p) AS payment,
        (SELECT coalesce(json_agg(x ORDER BY x.number), '[]'::json) FROM (
            SELECT * FROM a
            UNION ALL
            SELECT * FROM payrouter_attempts
            WHERE order_id = :order_id AND number <> :number
        ) x) AS attempts
    """
)


# An attempt's outcome alone, when the payment goes on to another candidate.
_OUTCOME: Final = text(
    """
    UPDATE payrouter_attempts SET
        outcome = :outcome, failure_kind = :failure_kind, provider_code = :provider_code,
        provider_reference = :provider_reference, action_url = :action_url,
        tries = :tries, latency_ms = :latency_ms, decline = :decline, advice = :advice,
        advice_code = :advice_code, authorised_minor = :authorised_minor,
        next_action = :next_action, finished_at = :now
    WHERE order_id = :order_id AND number = :number
    """
)

_CLAIM_SQL: Final = pyformat(_CLAIM)
_OUTCOME_SQL: Final = pyformat(_OUTCOME)
_CLAIM_WITH_ATTEMPT_SQL: Final = pyformat(_CLAIM_WITH_ATTEMPT)
_ATTEMPT_SQL: Final = pyformat(FENCED_ATTEMPT)
_FINISH_SQL: Final = pyformat(_FINISH)


def claim_step(
    values: dict[str, Any], attempt: dict[str, Any] | None, existing: Callable[[], Claim]
) -> Step[Claim]:
    """The claim's insert, with attempt 1's row when `attempt` is given (`attempt_values`);
    `existing` settles a payment row that was already there."""

    def then(rows: Sequence[Sequence[Any]]) -> Claim:
        return Claim(ClaimKind.NEW, attempt_recorded=attempt is not None) if rows else existing()

    if attempt is None:
        return Step(_CLAIM_SQL, values, then)
    return Step(_CLAIM_WITH_ATTEMPT_SQL, attempt | values, then)


def attempt_step(values: dict[str, Any]) -> Step[None]:
    """The attempt's row, fenced by its holder (`_fence`), for a batch."""

    def then(rows: Sequence[Sequence[Any]]) -> None:
        if not rows:
            raise LeaseLostError(f"order {values['order_id']!r} is held by another worker now")

    return Step(_ATTEMPT_SQL, values, then)


def outcome_step(order_id: str, number: int, attempt: dict[str, object], now: float) -> Step[None]:
    """An attempt's outcome (`outcome_values`) without the payment's, for a batch."""
    values = attempt | {"order_id": order_id, "number": number, "now": now}
    return Step(_OUTCOME_SQL, values, lambda _rows: None)


def finish_step(values: dict[str, Any], secrets: SecretOpener) -> Step[PaymentResult]:
    """The one-statement finish for a batch (`values` as `one_statement_values` and holder);
    `secrets` opens the client secrets kept sealed in actions."""

    def then(rows: Sequence[Sequence[Any]]) -> PaymentResult:
        ((payment, attempts),) = rows
        return _finished(payment, attempts, values, secrets)

    return Step(_FINISH_SQL, values, then)


def _finished(
    payment: Any, attempts: Any, values: dict[str, Any], secrets: SecretOpener
) -> PaymentResult:
    """The finish's answer from its two JSON columns, or why it changed no payment."""
    if payment is None and values["holder"] is not None:  # the attempt's outcome still went in
        raise LeaseLostError(f"order {values['order_id']!r} is held by another worker now")
    if payment is None:
        raise LookupError(f"no payment {values['order_id']!r} to finish")
    return payment_result(payment, attempts, secrets=secrets)


def one_statement_values(
    order_id: str, number: int, attempt: dict[str, object], change: PaymentUpdate, now: float
) -> dict[str, Any]:
    """Parameters of the one-statement finish: the attempt's fields and the payment's."""
    return {**attempt} | {
        "order_id": order_id,
        "number": number,
        "now": now,
        "status": change.status.value,
        "p_provider": change.provider,
        "p_method": value_of(change.method),
        "p_provider_reference": change.provider_reference,
        "p_action_url": clip(change.action_url, 2000),
        "p_failure_kind": value_of(change.failure_kind),
        "p_decline_reason": change.decline_reason,
        "keep_lease": change.status is PaymentStatus.PROCESSING,
    }
