"""The pay path of one payment: claim, plan, attempt, decide, record. One way through.

    PaymentRequest -> claim(order id) -> plan(candidates) -> for each candidate:
        breaker admits? -> ledger.record_attempt -> run_attempt (breaker, retries, lookups)
        -> decide: done | next candidate | stop -> ledger.finish_attempt (+ payment)
    -> PaymentResult

Only a failure whose policy row says `fail_over` moves on, so a payment whose money may have
moved is never sent anywhere else: it ends `pending` until a lookup or webhook resolves it.
`Router` owns the lifecycle and the public surface; this module owns the decisions.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterator

from .._adapter import Adapter, Charge, ProviderReply
from .._errors import (
    AllProvidersUnavailableError,
    CapacityExhaustedError,
    IdempotencyConflictError,
    NoEligibleProviderError,
    PaymentError,
    PaymentInProgressError,
    ProviderRejectedRequestError,
)
from .._health._breakers import BreakerBoard
from .._health._maintenance import MaintenanceSchedule
from .._health._protection import Protection
from .._ledger import (
    AttemptOutcome,
    AttemptRow,
    ClaimKind,
    Ledger,
    PaymentUpdate,
)
from .._models import AttemptSummary, PaymentMethod, PaymentRequest, PaymentResult, PaymentStatus
from .._settings import RouterSettings
from .._taxonomy import FailureKind, Outcome, policy_for
from ..instrumentation._events import (
    AttemptFinished,
    AttemptStarted,
    CandidateSkipped,
    FailedOver,
    Hook,
    PaymentFinished,
    emit,
)
from ._attempt import run_attempt
from ._keys import derive_key
from ._plan import Candidate, healthy_methods, plan
from ._replay import encode_charge, replays
from ._routing import RoutingPolicy

__all__ = ["Payer"]

_SETTLED_BY_OUTCOME = {
    Outcome.SUCCEEDED: PaymentStatus.SUCCEEDED,
    Outcome.REQUIRES_ACTION: PaymentStatus.REQUIRES_ACTION,
    Outcome.PENDING: PaymentStatus.PENDING,
    Outcome.UNKNOWN: PaymentStatus.PENDING,
}


class Payer:
    """Pays payments for one router: its adapters, ledger, breakers, settings and hooks."""

    def __init__(
        self,
        *,
        adapters: tuple[Adapter, ...],
        ledger: Ledger,
        settings: RouterSettings,
        hooks: tuple[Hook, ...],
        board: BreakerBoard,
        protection: Protection,
        maintenance: MaintenanceSchedule,
        sleep: Callable[[float], Awaitable[None]],
        owner: str,
        routing: RoutingPolicy | None = None,
    ) -> None:
        self._adapters = adapters
        self._ledger = ledger
        self.settings = settings
        self._hooks = hooks
        self._board = board
        self._protection = protection
        self._maintenance = maintenance
        self._retry = settings.retry
        self._sleep = sleep
        self._owner = owner
        self._routing = routing or RoutingPolicy()

    async def pay(self, request: PaymentRequest) -> PaymentResult:
        """The pay path behind `Router.pay`, whose docstring lists its results and errors."""
        deadline = time.monotonic() + self.settings.deadline_seconds
        claim = await self._ledger.claim(
            request.order_id,
            request.fingerprint(),
            request.amount,
            self._owner,
            self.settings.lease_seconds,
            authorize_only=not request.capture,
        )
        if claim.kind is ClaimKind.CONFLICT:
            raise IdempotencyConflictError(request.order_id)
        if claim.kind is ClaimKind.EXISTING:
            assert claim.payment is not None
            return await self._wait_for_other(claim.payment)
        return await self._pay_owned(request, claim.next_attempt, deadline)

    def healthy_methods(self, request: PaymentRequest) -> tuple[PaymentMethod, ...]:
        """Methods that could take `request` right now (an eligible provider, breaker closed)."""

        def unavailable(provider: str, method: PaymentMethod) -> bool:
            return self._maintenance.draining(provider) or self._board.is_open(provider, method)

        return healthy_methods(request, self._adapters, unavailable)

    async def _pay_owned(
        self, request: PaymentRequest, number: int, deadline: float
    ) -> PaymentResult:
        order_id = request.order_id
        candidates = plan(request, self._adapters)
        if request.mandate is not None:  # only the provider holding the mandate can charge it
            candidates = [c for c in candidates if c.adapter.name == request.mandate.provider]
        candidates = self._routing.decide(
            candidates, request, self._protection.success_rate, self._hooks
        )
        if not candidates:
            await self._finish(request, PaymentUpdate(PaymentStatus.FAILED), attempts=0)
            whom = (
                f"the mandate's provider {request.mandate.provider!r} is not configured or "
                "does not take"
                if request.mandate is not None
                else "no configured provider takes"
            )
            raise NoEligibleProviderError(
                f"{whom} {request.amount.currency} "
                f"{'/'.join(request.methods)} payments from {request.customer_country}",
                order_id=order_id,
            )
        declined_sources: set[int] = set()
        last_decline: tuple[Candidate, ProviderReply] | None = None
        unavailable = False
        alert = False  # an attempt whose kind needs an operator (e.g. credentials rejected)
        made = 0
        at_capacity = False
        refused: list[Candidate] = []

        def passes() -> Iterator[tuple[Candidate, bool]]:
            yield from ((candidate, False) for candidate in candidates)
            if made == 0 and self.settings.last_resort_when_all_open:
                # Every eligible provider's breaker was open, so nothing was tried. Rather than
                # fail the customer untried, give each one call past its breaker, in order (as
                # Envoy's panic threshold routes to all hosts when too few look healthy).
                yield from ((candidate, True) for candidate in refused)

        for candidate, past_breaker in passes():
            if candidate.source_index in declined_sources:
                continue
            provider, method = candidate.adapter.name, candidate.method
            if time.monotonic() >= deadline:
                emit(self._hooks, CandidateSkipped(order_id, provider, method, "deadline"))
                unavailable = True
                break
            if self._maintenance.draining(provider):  # announced: not its health, no row
                emit(self._hooks, CandidateSkipped(order_id, provider, method, "maintenance"))
                unavailable = True
                continue
            if not past_breaker and not self._board.admits(provider, method):
                emit(self._hooks, CandidateSkipped(order_id, provider, method, "breaker_open"))
                refused.append(candidate)
                unavailable = True
                continue
            slot = await self._protection.enter(provider)
            if isinstance(slot, str):  # at its rate limit or bulkhead: not called, no row
                emit(self._hooks, CandidateSkipped(order_id, provider, method, slot))
                unavailable, at_capacity = True, True
                continue
            try:
                reply, outcome = await self._attempt(
                    request, candidate, number, deadline, past_breaker=past_breaker
                )
            finally:
                self._protection.leave(slot)
            self._learn(provider, method, reply)
            number, made = number + 1, made + 1
            settled = _SETTLED_BY_OUTCOME.get(reply.outcome)
            if settled is not None:
                update = PaymentUpdate(
                    settled,
                    provider=provider,
                    method=method,
                    provider_reference=reply.provider_reference,
                    action_url=reply.action_url,
                    failure_kind=reply.failure_kind,
                )
                return await self._finish(request, update, made, (number - 1, outcome), alert=alert)
            assert reply.failure_kind is not None
            policy = policy_for(reply.failure_kind)
            alert = alert or policy.alert
            if policy.is_decline:
                last_decline = (candidate, reply)
                if not self.settings.fallback_on_decline:
                    update = _declined(candidate, reply)
                    return await self._finish(
                        request, update, made, (number - 1, outcome), alert=alert
                    )
                declined_sources.add(candidate.source_index)
            elif not policy.fail_over:
                await self._finish(
                    request,
                    PaymentUpdate(PaymentStatus.FAILED, failure_kind=reply.failure_kind),
                    made,
                    (number - 1, outcome),
                    alert=True,
                )
                raise ProviderRejectedRequestError(
                    f"{provider} rejected the request as invalid ({reply.provider_code}); "
                    "this is an integration bug, not a customer problem",
                    order_id=order_id,
                    attempts=await self._attempts_of(order_id),
                )
            else:
                unavailable = True
                emit(self._hooks, FailedOver(order_id, provider, method, reply.failure_kind))
            await self._ledger.finish_attempt(order_id, number - 1, outcome)
        if last_decline is not None and not unavailable:
            return await self._finish(request, _declined(*last_decline), made, alert=alert)
        failed = await self._finish(request, PaymentUpdate(PaymentStatus.FAILED), made, alert=alert)
        if at_capacity and not failed.attempts:
            raise CapacityExhaustedError(
                f"every provider for order {order_id!r} is at its rate limit or concurrency "
                "cap; none was called: retry shortly or offer another method",
                order_id=order_id,
                healthy_methods=self.healthy_methods(request),
            )
        if unavailable and not failed.attempts:  # eligible providers existed; none admitted us
            raise AllProvidersUnavailableError(
                f"no provider could take order {order_id!r} right now; none was called",
                order_id=order_id,
                healthy_methods=self.healthy_methods(request),
            )
        raise _failure(failed, self.healthy_methods(request))

    def _learn(self, provider: str, method: PaymentMethod, reply: ProviderReply) -> None:
        """Feed the rate limit (a 429 slows us down) and the success window."""
        kind = reply.failure_kind
        if kind is FailureKind.RATE_LIMITED:
            self._protection.throttled(provider)
        healthy = kind is None or not policy_for(kind).counts_against_breaker
        self._protection.record(provider, method, healthy)

    async def _attempt(
        self,
        request: PaymentRequest,
        candidate: Candidate,
        number: int,
        deadline: float,
        *,
        past_breaker: bool = False,
    ) -> tuple[ProviderReply, AttemptOutcome]:
        """Write the attempt, run it, and return its reply; the caller writes the outcome."""
        adapter, method = candidate.adapter, candidate.method
        key = derive_key(
            self.settings.key_namespace,
            request.order_id,
            number,
            max_length=adapter.idempotency_key_max_length,
        )
        charge = Charge(
            reference=key,
            order_id=request.order_id,
            amount=request.amount,
            source=candidate.source,
            customer_country=request.customer_country,
            capture=request.capture,
            customer_id=request.customer_id,
            off_session=request.mandate is not None,
            return_url=request.return_url,
            description=request.description,
            metadata=request.metadata,
        )
        kept = encode_charge(charge) if replays(adapter) else None
        row = AttemptRow(request.order_id, number, adapter.name, method, key, kept)
        await self._ledger.record_attempt(row)  # write before call: raises if it cannot
        emit(self._hooks, AttemptStarted(request.order_id, number, adapter.name, method))
        run = await run_attempt(
            adapter=adapter,
            charge=charge,
            replay=self.settings.replay_max_age_seconds > 0,
            idempotency_key=key,
            board=self._board,
            retry=self._retry,
            lookup_tries=self.settings.lookup_tries,
            lookup_wait=self.settings.lookup_wait_seconds,
            deadline=deadline,
            hooks=self._hooks,
            attempt_number=number,
            sleep=self._sleep,
            past_breaker=past_breaker,
            budget=self._protection,
        )
        reply = run.reply
        emit(
            self._hooks,
            AttemptFinished(
                request.order_id,
                number,
                adapter.name,
                method,
                reply.outcome,
                reply.failure_kind,
                reply.provider_code,
                run.tries,
                run.latency_ms,
            ),
        )
        outcome = AttemptOutcome(
            outcome=reply.outcome,
            failure_kind=reply.failure_kind,
            provider_code=reply.provider_code,
            provider_reference=reply.provider_reference,
            action_url=reply.action_url,
            tries=run.tries,
            latency_ms=run.latency_ms,
        )
        return reply, outcome

    async def _finish(
        self,
        request: PaymentRequest,
        update: PaymentUpdate,
        attempts: int,
        last_attempt: tuple[int, AttemptOutcome] | None = None,
        *,
        alert: bool = False,
    ) -> PaymentResult:
        """Write the payment's new status (with its last attempt, in one transaction)."""
        order_id = request.order_id
        if last_attempt is None:
            result = await self._ledger.finish_payment(order_id, update)
        else:
            finished = await self._ledger.finish_attempt(order_id, *last_attempt, payment=update)
            assert finished is not None
            result = finished
        emit(
            self._hooks,
            PaymentFinished(
                order_id, update.status, update.provider, attempts, update.failure_kind, alert
            ),
        )
        return result

    async def _attempts_of(self, order_id: str) -> tuple[AttemptSummary, ...]:
        result = await self._ledger.get(order_id)
        return result.attempts if result else ()

    async def _wait_for_other(self, payment: PaymentResult) -> PaymentResult:
        """Another call holds the order: wait (bounded) for its result rather than pay twice."""
        give_up = time.monotonic() + self.settings.in_progress_wait_seconds
        pause = 0.005
        while payment.status is PaymentStatus.PROCESSING:
            if time.monotonic() >= give_up:
                raise PaymentInProgressError(payment.order_id)
            await asyncio.sleep(pause)  # polling another worker's progress: real time
            pause = min(pause * 2, 0.2)
            latest = await self._ledger.get(payment.order_id)
            assert latest is not None
            payment = latest
        if payment.status is PaymentStatus.FAILED:
            raise _failure(payment, ())
        return payment


def _failure(payment: PaymentResult, healthy: tuple[PaymentMethod, ...]) -> PaymentError:
    """The error `pay` raises for a `failed` payment, for its first caller and duplicates."""
    order_id, attempts = payment.order_id, payment.attempts
    if payment.failure_kind is FailureKind.INVALID_REQUEST:
        return ProviderRejectedRequestError(
            f"a provider rejected order {order_id!r} as invalid: an integration bug",
            order_id=order_id,
            attempts=attempts,
        )
    if not attempts:
        return NoEligibleProviderError(
            f"no provider could be tried for order {order_id!r}",
            order_id=order_id,
            healthy_methods=healthy,
        )
    return AllProvidersUnavailableError(
        f"no provider could take order {order_id!r} right now; no money moved",
        order_id=order_id,
        attempts=attempts,
        healthy_methods=healthy,
    )


def _declined(candidate: Candidate, reply: ProviderReply) -> PaymentUpdate:
    assert reply.failure_kind is not None
    return PaymentUpdate(
        PaymentStatus.DECLINED,
        provider=candidate.adapter.name,
        method=candidate.method,
        provider_reference=reply.provider_reference,
        failure_kind=reply.failure_kind,
        decline_reason=policy_for(reply.failure_kind).customer_message,
    )
