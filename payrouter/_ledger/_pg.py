"""PostgreSQL's happy path in three round trips: claim, write the attempt, finish both.

Each step is one statement in autocommit mode (no BEGIN or COMMIT of its own), and the last
one writes the attempt's outcome and the payment's status together, in one statement whose
data-modifying CTEs commit or fail as one, and returns the payment with all its attempts as
JSON, so no second read is needed. SQLite keeps its own path: a statement there costs
microseconds, not a network round trip.
"""

from __future__ import annotations

from typing import Any, Final

from sqlalchemy import Connection, text

from .._models import PaymentResult, PaymentStatus
from ._fence import LeaseLostError
from ._records import PaymentUpdate
from ._rows import clip, payment_result, value_of
from ._sealed_actions import SecretOpener

__all__ = ["finish_attempt_and_payment", "one_statement_values"]

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


def finish_attempt_and_payment(
    conn: Connection, values: dict[str, Any], secrets: SecretOpener
) -> PaymentResult:
    """Run the one-statement finish; `values` holds the attempt's and the payment's fields,
    `secrets` opens the client secrets kept sealed in actions."""
    payment, attempts = conn.execute(_FINISH, values).one()
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
