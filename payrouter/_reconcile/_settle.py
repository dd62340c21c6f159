"""A payment's status, derived from its attempts alone: what reconcile writes once it has
asked each open attempt's provider."""

from __future__ import annotations

from .._ledger import PaymentUpdate
from .._models import AttemptSummary, PaymentStatus
from .._taxonomy import Outcome, policy_for

__all__ = ["settle"]


def settle(attempts: tuple[AttemptSummary, ...]) -> PaymentUpdate:
    """A payment's status from its attempts: success wins, then a partial authorisation
    (money held), then anything still open."""
    for attempt in attempts:
        if attempt.outcome is Outcome.SUCCEEDED:
            return _update(PaymentStatus.SUCCEEDED, attempt)
    for outcome, status in (
        (Outcome.PARTIALLY_AUTHORISED, PaymentStatus.PARTIALLY_AUTHORISED),
        (None, PaymentStatus.PENDING),
        (Outcome.UNKNOWN, PaymentStatus.PENDING),
        (Outcome.PENDING, PaymentStatus.PENDING),
        (Outcome.REQUIRES_ACTION, PaymentStatus.REQUIRES_ACTION),
    ):
        for attempt in attempts:
            if attempt.outcome is outcome:
                return _update(status, attempt)
    last = attempts[-1] if attempts else None
    if last is not None and last.failure_kind and policy_for(last.failure_kind).is_decline:
        update = _update(PaymentStatus.DECLINED, last)
        return PaymentUpdate(
            update.status,
            provider=update.provider,
            method=update.method,
            provider_reference=update.provider_reference,
            failure_kind=last.failure_kind,
            decline_reason=policy_for(last.failure_kind).customer_message,
        )
    return PaymentUpdate(PaymentStatus.FAILED)


def _update(status: PaymentStatus, attempt: AttemptSummary) -> PaymentUpdate:
    return PaymentUpdate(
        status,
        provider=attempt.provider,
        method=attempt.method,
        provider_reference=attempt.provider_reference,
        action_url=attempt.action_url,
        failure_kind=attempt.failure_kind,
    )
