"""The candidate loop: try each provider and source in order until one answer settles it.

    plan(candidates) -> for each candidate:
        deadline? maintenance? breaker admits? rate limit slot? (else CandidateSkipped)
        -> ledger.record_attempt (written before the call) -> run_attempt (breaker, retries,
           the resolution ladder for unknowns) -> decide (`_decide.py`): settle | declined |
           next source | fail over -> ledger.finish_attempt (+ payment)
    -> PaymentResult, or the error `ending` names

Only a failure whose policy row says `fail_over` moves on, so a payment whose money may have
moved is never sent anywhere else: it ends `pending` until its provider resolves it.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Iterator
from typing import TypeVar

from .._adapter import Adapter, ProviderReply
from .._errors import (
    AllProvidersUnavailableError,
    CapacityExhaustedError,
    LedgerUnavailableError,
    NoEligibleProviderError,
    OutcomeNotRecordedError,
)
from .._health._admission import Admission
from .._health._breakers import BreakerBoard
from .._health._maintenance import MaintenanceSchedule
from .._health._protection import Protection, Slot
from .._ledger import AttemptOutcome, AttemptRow, Ledger, PaymentUpdate
from .._models import AttemptSummary, PaymentMethod, PaymentRequest, PaymentResult, PaymentStatus
from .._settings import RouterSettings
from .._taxonomy import FailureKind, policy_for
from .._testmode import is_testing
from ..instrumentation._events import (
    AttemptFinished,
    AttemptStarted,
    CandidateSkipped,
    FailedOver,
    Hook,
    PaymentFinished,
    emit,
    listening,
)
from ._attempt import run_attempt
from ._claiming import claimed, record_attempt
from ._decide import (
    Decision,
    Ending,
    Step,
    Tally,
    decide,
    declined_update,
    ending,
    failure_error,
    settled_update,
)
from ._keys import derive_key
from ._plan import Candidate, Plan, healthy_methods, plan
from ._reattempt import Reattempts
from ._replay import encode_charge, replays
from ._routing import RoutingPolicy
from ._step_up import step_up, then_step_ups

__all__ = ["CandidateLoop"]

T = TypeVar("T")


class CandidateLoop:
    """Pays one claimed payment across its candidates: attempts, decisions, records."""

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
        routing: RoutingPolicy | None,
        admission: Admission,
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
        self._routing = routing or RoutingPolicy()
        self._admission = admission
        self._reattempts = Reattempts(ledger, settings.soft_declines, hooks)

    def healthy_methods(self, request: PaymentRequest) -> tuple[PaymentMethod, ...]:
        """Methods that could take `request` right now (an eligible provider, breaker closed)."""

        def unavailable(provider: str, method: PaymentMethod) -> bool:
            return self._maintenance.draining(provider) or self._board.is_open(provider, method)

        return healthy_methods(request, self._adapters, unavailable)

    async def pay(
        self, request: PaymentRequest, number: int, deadline: float, admitted_at: float
    ) -> PaymentResult:
        """Try the candidates in order until one answer settles the payment (see `decide`);
        `number` is the first attempt number, `admitted_at` when admission let it in."""
        candidates = await self._candidates(request)
        tally, first_number = Tally(), number
        step_ups: list[tuple[Candidate, bool]] = []

        def passes() -> Iterator[tuple[Candidate, bool]]:
            yield from then_step_ups(((c, False) for c in candidates), step_ups)
            if tally.made == 0 and self.settings.last_resort_when_all_open:
                # Every eligible provider's breaker was open, so nothing was tried. Rather than
                # fail the customer untried, give each one call past its breaker, in order (as
                # Envoy's panic threshold routes to all hosts when too few look healthy).
                yield from then_step_ups(((c, True) for c in tally.refused), step_ups)

        for candidate, past_breaker in passes():
            if tally.skips_source_of(candidate):
                continue
            if deadline - time.monotonic() < self.settings.send_budget_seconds:
                # Too little time left for the provider to answer a call sent now: the call
                # would be cut off after sending and its outcome left unknown. Not sent.
                await claimed()
                self._skip(request, candidate, "deadline", tally)
                if tally.made == 0 and not is_testing():  # never sent: the latest sample
                    self._admission.sent(admitted_at)
                break
            slot = await self._admit(request, candidate, past_breaker, tally)
            if slot is None:
                continue
            try:
                reply, outcome = await self._attempt(
                    request,
                    candidate,
                    number,
                    deadline,
                    past_breaker=past_breaker,
                    admitted_at=admitted_at if tally.made == 0 else None,
                )
            finally:
                self._protection.leave(slot)
            tally.called = (candidate.adapter.name, number)
            self._learn(candidate.adapter.name, candidate.method, reply)
            number, tally.made = number + 1, tally.made + 1
            decision = decide(reply, fallback_on_decline=self.settings.fallback_on_decline)
            rules = self._routing.providers.get(candidate.adapter.name)
            decision = step_up(request, candidate, reply, decision, tally, rules)
            if tally.reattempt_to is not None and decision.step is Step.STEP_UP:
                step_ups.append((tally.reattempt_to, past_breaker))
            if decision.step in (Step.DECLINED, Step.NEXT_SOURCE):
                decision = await self._reattempts.review(
                    request, candidate, reply, decision, candidates, tally
                )
            tally.record(candidate, reply, decision)
            last = (number - 1, outcome)
            if decision.step in (Step.SETTLE, Step.DECLINED):
                update = _ending(candidate, reply, decision)
                return await self._finish(
                    request, update, tally.made, last, alert=tally.alert, called=tally.called
                )
            if decision.step is Step.FAIL_OVER:
                assert reply.failure_kind is not None
                emit(
                    self._hooks,
                    FailedOver(
                        request.order_id,
                        candidate.adapter.name,
                        candidate.method,
                        reply.failure_kind,
                    ),
                )
            write = self._ledger.finish_attempt(request.order_id, *last)
            await _recorded(write, request.order_id, tally.called)
        return await self._end(request, tally, attempts_before=first_number - 1)

    async def _candidates(self, request: PaymentRequest) -> list[Candidate]:
        """The planned, routed candidates; none at all ends the payment as not eligible."""
        planned = plan(request, self._adapters)
        if request.mandate is not None:  # only the provider holding the mandate can charge it
            holder = request.mandate.provider
            planned = Plan([c for c in planned.candidates if c.adapter.name == holder], [])
        candidates = self._routing.decide(
            planned, request, self._protection.success_rate, self._hooks
        )
        if candidates:
            return candidates
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
            order_id=request.order_id,
        )

    def _skip(
        self, request: PaymentRequest, candidate: Candidate, reason: str, tally: Tally
    ) -> None:
        """A candidate not called: an event, no ledger row, and the payment knows it."""
        provider, method = candidate.adapter.name, candidate.method
        emit(self._hooks, CandidateSkipped(request.order_id, provider, method, reason))
        tally.missed(candidate)

    async def _admit(
        self, request: PaymentRequest, candidate: Candidate, past_breaker: bool, tally: Tally
    ) -> Slot | None:
        """A protection slot for calling `candidate` now, or None when it must be skipped."""
        provider, method = candidate.adapter.name, candidate.method
        if self._maintenance.draining(provider):  # announced: not its health, no row
            await claimed()  # a skip is told only of a payment this call pays
            self._skip(request, candidate, "maintenance", tally)
            return None
        if not past_breaker and not self._board.admits(provider, method):
            await claimed()
            self._skip(request, candidate, "breaker_open", tally)
            tally.refused.append(candidate)
            return None
        if self._protection.takes_tokens(provider):
            await claimed()  # a token spent on an order id found taken would be lost
        slot = await self._protection.enter(provider)
        if isinstance(slot, str):  # at its rate limit or bulkhead: not called, no row
            await claimed()
            self._skip(request, candidate, slot, tally)
            tally.at_capacity = True
            return None
        return slot

    async def _end(
        self, request: PaymentRequest, tally: Tally, *, attempts_before: int
    ) -> PaymentResult:
        """No candidate settled the payment: record how it ended, and raise unless declined."""
        order_id, how = request.order_id, ending(tally, attempts_before=attempts_before)
        if how is Ending.DECLINED:
            assert tally.last_decline is not None
            update = declined_update(*tally.last_decline)
            return await self._finish(
                request, update, tally.made, alert=tally.alert, called=tally.called
            )
        # Refused as invalid and never merely unavailable: the error names the refusal.
        kind = FailureKind.INVALID_REQUEST if tally.rejected and not tally.unavailable else None
        failed = await self._finish(
            request,
            PaymentUpdate(PaymentStatus.FAILED, failure_kind=kind),
            tally.made,
            alert=tally.alert,
            called=tally.called,
        )
        if how is Ending.CAPACITY_EXHAUSTED:
            raise CapacityExhaustedError(
                f"every provider for order {order_id!r} is at its rate limit or concurrency "
                "cap; none was called: retry shortly or offer another method",
                order_id=order_id,
                healthy_methods=self.healthy_methods(request),
            )
        if how is Ending.NONE_ADMITTED:  # eligible providers existed; none admitted us
            raise AllProvidersUnavailableError(
                f"no provider could take order {order_id!r} right now; none was called",
                order_id=order_id,
                healthy_methods=self.healthy_methods(request),
            )
        raise failure_error(failed, self.healthy_methods(request))

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
        admitted_at: float | None = None,
    ) -> tuple[ProviderReply, AttemptOutcome]:
        """Write the attempt, run it, and return its reply; the caller writes the outcome."""
        adapter, method = candidate.adapter, candidate.method
        key = derive_key(
            self.settings.key_namespace,
            request.order_id,
            number,
            max_length=adapter.idempotency_key_max_length,
        )
        charge = candidate.charge(request, reference=key)
        kept = encode_charge(charge) if replays(adapter) else None
        row = AttemptRow(request.order_id, number, adapter.name, method, key, kept)
        await record_attempt(self._ledger, row)  # write before call (with the claim if first)
        if admitted_at is not None and not is_testing():  # admission's second signal
            self._admission.sent(admitted_at)
        if listening(self._hooks, AttemptStarted):
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
            ledger=self._ledger,
            attempt_number=number,
            sleep=self._sleep,
            past_breaker=past_breaker,
            budget=self._protection,
        )
        reply = run.reply
        if listening(self._hooks, AttemptFinished):
            finished = AttemptFinished(
                request.order_id,
                number,
                adapter.name,
                method,
                reply.outcome,
                reply.failure_kind,
                reply.provider_code,
                run.tries,
                run.latency_ms,
            )
            emit(self._hooks, finished)
        return reply, AttemptOutcome.of(reply, tries=run.tries, latency_ms=run.latency_ms)

    async def _finish(
        self,
        request: PaymentRequest,
        update: PaymentUpdate,
        attempts: int,
        last_attempt: tuple[int, AttemptOutcome] | None = None,
        *,
        alert: bool = False,
        called: tuple[str, int] | None = None,
    ) -> PaymentResult:
        """Write the payment's new status (with its last attempt, in one transaction).

        `called` names the last provider this payment called, if any: a write failing after
        it raises `OutcomeNotRecordedError`, since that provider may have charged.
        """
        order_id = request.order_id
        if last_attempt is None:
            await claimed()  # ended before any attempt: the claim was not made yet
            write_payment = self._ledger.finish_payment(order_id, update)
            result = await _recorded(write_payment, order_id, called)
        else:
            write = self._ledger.finish_attempt(order_id, *last_attempt, payment=update)
            finished = await _recorded(write, order_id, called)
            assert finished is not None
            result = finished
        if listening(self._hooks, PaymentFinished):
            event = PaymentFinished(
                order_id, update.status, update.provider, attempts, update.failure_kind, alert
            )
            emit(self._hooks, event)
        return result

    async def _attempts_of(self, order_id: str) -> tuple[AttemptSummary, ...]:
        result = await self._ledger.get(order_id)
        return result.attempts if result else ()


def _ending(candidate: Candidate, reply: ProviderReply, decision: Decision) -> PaymentUpdate:
    """The payment's last write for a decision that ends it: settled as decided, or declined."""
    if decision.step is Step.DECLINED:
        return declined_update(candidate, reply)
    assert decision.status is not None
    return settled_update(candidate, reply, decision.status)


async def _recorded(write: Awaitable[T], order_id: str, called: tuple[str, int] | None) -> T:
    """Await a ledger write; once a provider was called, its failure is not "ledger
    unavailable, nothing sent" but "the outcome could not be recorded, money may have moved"."""
    try:
        return await write
    except LedgerUnavailableError as error:
        if called is None:
            raise
        raise OutcomeNotRecordedError(order_id, *called) from error
