"""Finishing what a crash, a timeout or a customer's redirect left open, by asking providers.

Reconcile never sends a new charge. For each open attempt it asks the attempt's own provider
where the money stands, writes what it learns, and derives the payment's status from its
attempts: any success wins; anything still unknown keeps the payment pending.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, replace

from .._adapter import Adapter, CompletesApproval, PaymentHandle, ProviderReply
from .._ledger import AttemptOutcome, Ledger, PaymentUpdate
from .._models import AttemptSummary, PaymentResult, PaymentStatus
from .._paying._attempt import call_safely, is_conclusive_lookup
from .._paying._keys import derive_key
from .._settings import RouterSettings
from .._taxonomy import FailureKind, Outcome, policy_for

__all__ = ["ReconcileChange", "ReconcileReport", "reconcile", "reconcile_payment"]

_OPEN_OUTCOMES = (None, Outcome.UNKNOWN, Outcome.PENDING, Outcome.REQUIRES_ACTION)
_LOOKUP_SECONDS = 30.0


@dataclass(frozen=True, slots=True)
class ReconcileChange:
    """A payment whose status reconcile changed."""

    order_id: str
    before: PaymentStatus
    after: PaymentStatus
    provider: str | None


@dataclass(frozen=True, slots=True)
class ReconcileReport:
    """What one reconcile pass looked at, changed, and had to leave open."""

    examined: int
    changes: tuple[ReconcileChange, ...]
    still_open: tuple[str, ...]


async def reconcile(
    ledger: Ledger,
    adapters: Mapping[str, Adapter],
    settings: RouterSettings,
    owner: str,
    *,
    limit: int,
) -> ReconcileReport:
    """Look up every open attempt of every unresolved payment, then settle each payment."""
    changes: list[ReconcileChange] = []
    still_open: list[str] = []
    order_ids = await ledger.unresolved(limit)
    for order_id in order_ids:
        change = await reconcile_payment(ledger, adapters, settings, owner, order_id)
        if change is None:
            continue  # another reconciler or a live worker holds it
        if change.after is not change.before:
            changes.append(change)
        if change.after in (PaymentStatus.PENDING, PaymentStatus.REQUIRES_ACTION):
            still_open.append(order_id)
    return ReconcileReport(len(order_ids), tuple(changes), tuple(still_open))


async def reconcile_payment(
    ledger: Ledger,
    adapters: Mapping[str, Adapter],
    settings: RouterSettings,
    owner: str,
    order_id: str,
) -> ReconcileChange | None:
    """Look up one payment's open attempts and settle it; None if another worker holds it.

    This is also what a checkout calls when the customer comes back from a redirect: the
    provider knows whether they approved before any webhook arrives.
    """
    if not await ledger.acquire(order_id, owner, settings.lease_seconds):
        return None
    payment = await ledger.get(order_id)
    assert payment is not None
    for attempt in payment.attempts:
        if attempt.outcome in _OPEN_OUTCOMES:
            await _resolve_attempt(ledger, adapters, settings, payment, attempt)
    latest = await ledger.get(order_id)
    assert latest is not None
    update = settle(latest.attempts)
    await ledger.finish_payment(order_id, update)
    return ReconcileChange(order_id, payment.status, update.status, update.provider)


async def _resolve_attempt(
    ledger: Ledger,
    adapters: Mapping[str, Adapter],
    settings: RouterSettings,
    payment: PaymentResult,
    attempt: AttemptSummary,
) -> None:
    adapter = adapters.get(attempt.provider)
    if adapter is None:
        return  # provider no longer configured: leave it open rather than guess
    handle = PaymentHandle(
        reference=attempt.idempotency_key,
        order_id=payment.order_id,
        method=attempt.method,
        amount=payment.amount,
        provider_reference=attempt.provider_reference,
    )
    started = time.perf_counter()
    deadline = time.monotonic() + _LOOKUP_SECONDS
    reply = await call_safely(adapter.lookup(handle), deadline, payment.amount)
    if reply.outcome is Outcome.REQUIRES_ACTION and isinstance(adapter, CompletesApproval):
        # The customer may have approved a payment only the merchant can finish. Its key is
        # derived like the attempt's, so a retry after a crash replays the same completion.
        key = derive_key(
            settings.key_namespace,
            payment.order_id,
            attempt.number,
            "complete",
            max_length=adapter.idempotency_key_max_length,
        )
        handle = replace(
            handle, provider_reference=reply.provider_reference or handle.provider_reference
        )
        reply = await call_safely(
            adapter.complete(handle, idempotency_key=key),
            time.monotonic() + _LOOKUP_SECONDS,
            payment.amount,
        )
    if not is_conclusive_lookup(reply) and not _provably_absent(reply, attempt, settings):
        return
    outcome = AttemptOutcome(
        outcome=reply.outcome,
        failure_kind=reply.failure_kind,
        provider_code=reply.provider_code,
        provider_reference=reply.provider_reference or attempt.provider_reference,
        action_url=reply.action_url,
        tries=attempt.tries,
        latency_ms=attempt.latency_ms or (time.perf_counter() - started) * 1000,
    )
    await ledger.finish_attempt(payment.order_id, attempt.number, outcome)


def _provably_absent(
    reply: ProviderReply, attempt: AttemptSummary, settings: RouterSettings
) -> bool:
    """'No such payment' is trusted only once the original request cannot still be in flight."""
    if reply.failure_kind is not FailureKind.NOT_FOUND or attempt.outcome not in (
        None,
        Outcome.UNKNOWN,
    ):
        return False
    age = time.time() - attempt.started_at.timestamp()
    return age >= settings.not_found_after_seconds


def settle(attempts: tuple[AttemptSummary, ...]) -> PaymentUpdate:
    """A payment's status from its attempts: success wins, then anything still open."""
    for attempt in attempts:
        if attempt.outcome is Outcome.SUCCEEDED:
            return _update(PaymentStatus.SUCCEEDED, attempt)
    for outcome, status in (
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
