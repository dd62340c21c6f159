"""Finishing what a crash, a timeout or a customer's redirect left open, by asking providers.

Reconcile never sends a new charge. For each open attempt it climbs the attempt's own
provider's resolution ladder (`_ladder`: lookup, replay of the same request under the same
key, search, webhook), writes what it learns, and derives the payment's status from its
attempts: any success wins; anything still unknown keeps the payment pending, with a reason.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TypeAlias

from .._adapter import (
    Adapter,
    Charge,
    CompletesApproval,
    PaymentHandle,
    ProviderReply,
    SubmitsDetails,
)
from .._ledger import AttemptOutcome, LeaseLostError, Ledger, held_by
from .._ledger._sealing import SealedRequestError
from .._models import AttemptSummary, PaymentResult, PaymentStatus
from .._paying._amounts import report_amount
from .._paying._attempt import call_safely, is_conclusive_lookup
from .._paying._keys import derive_key
from .._paying._replay import decode_charge, replays
from .._settings import RouterSettings
from .._taxonomy import FailureKind, Outcome
from ..instrumentation._events import Hook
from ._ladder import Climb, Unopened, call_deadline, climb, outcome_reason
from ._settle import settle

__all__ = [
    "OpenPayment",
    "ReconcileChange",
    "ReconcileReport",
    "reconcile",
    "reconcile_payment",
]

_UNRESOLVED = (None, Outcome.UNKNOWN)
_OPEN_OUTCOMES = (*_UNRESOLVED, Outcome.PENDING, Outcome.REQUIRES_ACTION)


@dataclass(frozen=True, slots=True)
class ReconcileChange:
    """A payment whose status reconcile changed."""

    order_id: str
    before: PaymentStatus
    after: PaymentStatus
    provider: str | None


@dataclass(frozen=True, slots=True)
class OpenPayment:
    """A payment reconcile had to leave open: why, since when, and what comes next.

    `overdue` is true when it is open past what its provider's declared resolution allows
    (e.g. Stripe's search lag bound): an operator should look, `payrouter reconcile` exits 1.
    """

    order_id: str
    provider: str | None
    status: PaymentStatus
    reason: str
    since: datetime
    next_step: str
    overdue: bool = False


@dataclass(frozen=True, slots=True)
class ReconcileReport:
    """What one reconcile pass looked at, changed, and had to leave open (and why)."""

    examined: int
    changes: tuple[ReconcileChange, ...]
    still_open: tuple[str, ...]
    open: tuple[OpenPayment, ...] = ()

    @property
    def overdue(self) -> tuple[OpenPayment, ...]:
        """The open payments past their provider's bound."""
        return tuple(payment for payment in self.open if payment.overdue)


# Settling one payment: its change, why it stays open (if it does), the payment as written.
_Settled: TypeAlias = tuple[ReconcileChange, OpenPayment | None, PaymentResult]


async def reconcile(
    ledger: Ledger,
    adapters: Mapping[str, Adapter],
    settings: RouterSettings,
    owner: str,
    *,
    limit: int,
    hooks: Sequence[Hook] = (),
) -> ReconcileReport:
    """Resolve every open attempt of every unresolved payment, then settle each payment."""
    changes: list[ReconcileChange] = []
    still_open: list[OpenPayment] = []
    order_ids = await ledger.unresolved(limit)
    for order_id in order_ids:
        reconciled = await _reconcile_one(ledger, adapters, settings, owner, order_id, hooks)
        if reconciled is None:
            continue  # another reconciler or a live worker holds it
        change, left_open, _ = reconciled
        if change.after is not change.before:
            changes.append(change)
        if left_open is not None:
            still_open.append(left_open)
    return ReconcileReport(
        len(order_ids),
        tuple(changes),
        tuple(payment.order_id for payment in still_open),
        tuple(still_open),
    )


async def reconcile_payment(
    ledger: Ledger,
    adapters: Mapping[str, Adapter],
    settings: RouterSettings,
    owner: str,
    order_id: str,
    hooks: Sequence[Hook] = (),
    details: Mapping[str, str] | None = None,
) -> PaymentResult | None:
    """Resolve one payment's open attempts and settle it: the payment as written, or None if
    another worker holds it.

    This is also what a checkout calls when the customer comes back from a redirect: the
    provider knows whether they approved before any webhook arrives. `details` (what the
    provider appended to the return URL) go to an adapter that `SubmitsDetails`.
    """
    reconciled = await _reconcile_one(ledger, adapters, settings, owner, order_id, hooks, details)
    return None if reconciled is None else reconciled[2]


async def _reconcile_one(
    ledger: Ledger,
    adapters: Mapping[str, Adapter],
    settings: RouterSettings,
    owner: str,
    order_id: str,
    hooks: Sequence[Hook],
    details: Mapping[str, str] | None = None,
) -> _Settled | None:
    """Settle the payment under a lease of this pass's own, its status write fenced by it
    (`_fence`): a pass that outlived its lease (a slow ladder, a loaded database) must not
    write a stale `failed` over a worker that took the payment over and pays on. None: held
    by another."""
    holder = f"{owner}#{secrets.token_hex(4)}"
    if not await ledger.acquire(order_id, holder, settings.lease_seconds):
        return None
    try:
        with held_by(holder):
            return await _settle_held(ledger, adapters, settings, order_id, hooks, details)
    except LeaseLostError:
        return None


async def _settle_held(
    ledger: Ledger,
    adapters: Mapping[str, Adapter],
    settings: RouterSettings,
    order_id: str,
    hooks: Sequence[Hook],
    details: Mapping[str, str] | None,
) -> _Settled:
    """Resolve a held payment's open attempts and write its status from them.

    Only the lease's holder writes attempts' outcomes (`_fence`), so the payment read after
    taking the lease is read again only after this pass wrote one, or when an unknown attempt
    may have had a late answer's reference noted meanwhile (`_paying/_late`)."""
    payment = await ledger.get(order_id)
    assert payment is not None
    reasons: dict[int, Climb] = {}
    stale = False
    for attempt in payment.attempts:
        if attempt.outcome in _OPEN_OUTCOMES:
            climbed = await _resolve_attempt(
                ledger, adapters, settings, payment, attempt, hooks, details
            )
            if climbed is not None:  # None: its outcome was written
                reasons[attempt.number] = climbed
            stale = stale or climbed is None or attempt.outcome in _UNRESOLVED
    latest = await ledger.get(order_id) if stale else payment
    assert latest is not None
    update = settle(latest.attempts)
    written = await ledger.finish_payment(order_id, update)
    change = ReconcileChange(order_id, payment.status, update.status, update.provider)
    if update.status not in (PaymentStatus.PENDING, PaymentStatus.REQUIRES_ACTION):
        return change, None, written
    return change, _why_open(latest, update.status, reasons), written


def _why_open(
    payment: PaymentResult, status: PaymentStatus, reasons: Mapping[int, Climb]
) -> OpenPayment:
    """The open attempt that keeps the payment open, with its reason (unknown ones first)."""
    open_attempts = [a for a in payment.attempts if a.outcome in _OPEN_OUTCOMES]
    open_attempts.sort(key=lambda a: a.outcome not in _UNRESOLVED)
    attempt = open_attempts[0]
    climb = reasons.get(attempt.number)
    if climb is None or not climb.reason:  # not asked, or answered: its outcome says why
        climb = outcome_reason(attempt.provider, attempt.outcome)
    return OpenPayment(
        payment.order_id,
        attempt.provider,
        status,
        climb.reason,
        attempt.started_at,
        climb.next_step,
        climb.overdue,
    )


async def _resolve_attempt(
    ledger: Ledger,
    adapters: Mapping[str, Adapter],
    settings: RouterSettings,
    payment: PaymentResult,
    attempt: AttemptSummary,
    hooks: Sequence[Hook],
    details: Mapping[str, str] | None = None,
) -> Climb | None:
    """Ask the attempt's provider where it stands: None when its answer was written, else
    the climb that left it open (with no reason when the provider answered)."""
    adapter = adapters.get(attempt.provider)
    if adapter is None:  # provider no longer configured: leave it open rather than guess
        return Climb(
            None,
            f"provider {attempt.provider!r} is not configured",
            f"configure {attempt.provider!r} again so reconcile can ask it",
            overdue=True,
        )
    handle = PaymentHandle(
        reference=attempt.idempotency_key,
        order_id=payment.order_id,
        method=attempt.method,
        amount=payment.amount,
        provider_reference=attempt.provider_reference,
        started_at=attempt.started_at,
    )
    started = time.perf_counter()
    absent = False
    if attempt.outcome in _UNRESOLVED:
        climbed = await climb(
            adapter,
            handle,
            attempt.started_at.timestamp(),
            await _replayable(ledger, adapter, payment.order_id, attempt.number),
            settings.replay_max_age_seconds,
        )
        if climbed.reply is None:
            return climbed
        reply = climbed.reply
        absent = reply.failure_kind is FailureKind.NOT_FOUND  # concluded by the ladder
    elif (
        details is not None
        and attempt.outcome is Outcome.REQUIRES_ACTION
        and isinstance(adapter, SubmitsDetails)
    ):
        reply = await _submit(adapter, details, settings, payment, attempt)
    else:
        deadline = call_deadline()
        reply = await call_safely(adapter.lookup(handle), deadline, payment.amount)
    if reply.outcome is Outcome.REQUIRES_ACTION and isinstance(adapter, CompletesApproval):
        reply = await _complete(adapter, handle, reply, settings, payment, attempt)
    await report_amount(
        ledger,
        hooks,
        reply,
        order_id=payment.order_id,
        provider=attempt.provider,
        reference=attempt.idempotency_key,
        expected=payment.amount,
        source="reconcile",
    )
    if reply.outcome is Outcome.REQUIRES_ACTION and reply.action is None and attempt.action:
        reply = replace(reply, action=attempt.action)  # a lookup need not repeat it
    if is_conclusive_lookup(reply) or absent:
        outcome = AttemptOutcome.of(
            reply,
            tries=attempt.tries,
            latency_ms=attempt.latency_ms or (time.perf_counter() - started) * 1000,
            provider_reference=attempt.provider_reference,
        )
        await ledger.finish_attempt(payment.order_id, attempt.number, outcome)
        return None
    return Climb(None)


async def _replayable(
    ledger: Ledger, adapter: Adapter, order_id: str, number: int
) -> Charge | Unopened | None:
    """The attempt's own request, when its provider replays by key and it was kept; one that
    does not open (sealed under a key no longer configured, or altered) skips only the replay."""
    if not replays(adapter):
        return None
    try:
        text = await ledger.attempt_request(order_id, number)
    except SealedRequestError as error:
        return Unopened(str(error))
    return None if text is None else decode_charge(text)


async def _submit(
    adapter: SubmitsDetails,
    details: Mapping[str, str],
    settings: RouterSettings,
    payment: PaymentResult,
    attempt: AttemptSummary,
) -> ProviderReply:
    """The customer came back with what the provider appended to the return URL; the key is
    derived from the attempt, so a reloaded return page replays the provider's answer."""
    assert isinstance(adapter, Adapter)
    key = derive_key(
        settings.key_namespace,
        payment.order_id,
        attempt.number,
        "details",
        max_length=adapter.idempotency_key_max_length,
    )
    asked = adapter.submit_details(dict(details), idempotency_key=key)
    return await call_safely(asked, call_deadline(), payment.amount)


async def _complete(
    adapter: CompletesApproval,
    handle: PaymentHandle,
    reply: ProviderReply,
    settings: RouterSettings,
    payment: PaymentResult,
    attempt: AttemptSummary,
) -> ProviderReply:
    """The customer may have approved a payment only the merchant can finish. Its key is
    derived like the attempt's, so a retry after a crash replays the same completion."""
    assert isinstance(adapter, Adapter)
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
    return await call_safely(
        adapter.complete(handle, idempotency_key=key),
        call_deadline(),
        payment.amount,
    )
