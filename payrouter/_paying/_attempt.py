"""Running one attempt: breaker, retries with the same key, and lookups of unknown outcomes.

The router decides what to try; this module makes one try as safe as it can be. It never
moves on to another provider: it returns the attempt's last word, and the router decides.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from contextlib import nullcontext, suppress
from dataclasses import dataclass

from .._adapter import Adapter, Charge, PaymentHandle, ProviderReply
from .._health._breakers import BreakerBoard, BreakerOpen, ProviderFault
from .._health._protection import Protection
from .._ledger import Ledger
from .._money import Money
from .._settings import RetrySettings
from .._taxonomy import FailureKind, Outcome, policy_for
from ..instrumentation._events import Hook, RetryScheduled, emit
from ._amounts import AMOUNT_MISMATCH, check_amount, report_amount
from ._late import call_reading_late_answer
from ._retry import RetryableReply, pause_seconds, retrying
from ._transport import reply_for_exception

__all__ = [
    "AttemptRun",
    "call_safely",
    "is_conclusive_lookup",
    "retry_same_key",
    "run_attempt",
]

_BREAKER_REFUSED = ProviderReply.failed(FailureKind.PROVIDER_DOWN, provider_code="breaker_open")
_ANSWERED = (
    Outcome.SUCCEEDED,
    Outcome.PARTIALLY_AUTHORISED,
    Outcome.PENDING,
    Outcome.REQUIRES_ACTION,
)


@dataclass(frozen=True, slots=True)
class AttemptRun:
    """The last word of one attempt and what it cost."""

    reply: ProviderReply
    tries: int
    latency_ms: float


async def call_safely(
    call: Awaitable[ProviderReply], deadline: float, expected: Money | None = None
) -> ProviderReply:
    """Await an adapter call; any exception becomes the reply it stands for.

    The payment deadline bounds the call; running out of time after sending is `unknown`.
    With `expected` (a payment's pay answer or lookup), a success reporting another amount
    is `unknown` (see `check_amount`).
    """
    try:
        async with asyncio.timeout(max(0.0, deadline - time.monotonic())):
            reply = await call
    except Exception as error:  # every exception is an outcome, mapped by one table
        return reply_for_exception(error)
    return reply if expected is None else check_amount(reply, expected)


def is_conclusive_lookup(reply: ProviderReply) -> bool:
    """True when a lookup tells where the money stands, not just that the lookup failed.

    A definite failure is as conclusive as a success: a decline, or any failure that carries
    the provider's reference (the provider answered about the payment itself, e.g. a Stripe
    intent back in `requires_payment_method` after a processing error: nothing moved). A
    failure without a reference is the lookup's own (throttled, down, unreachable), and "no
    such payment" is never conclusive here: only the ladder's authoritative rungs conclude
    absence. An answer for another amount (`amount_mismatch` with the provider's figure) is
    conclusive too: money moved, not what was asked, and every later lookup says the same.
    """
    if reply.outcome in _ANSWERED or _other_amount(reply):
        return True
    if reply.outcome is not Outcome.FAILED:
        return False
    kind = _kind(reply)
    if policy_for(kind).is_decline:
        return True
    return reply.provider_reference is not None and kind is not FailureKind.NOT_FOUND


def _other_amount(reply: ProviderReply) -> bool:
    return reply.provider_code == AMOUNT_MISMATCH and reply.amount is not None


def _kind(reply: ProviderReply) -> FailureKind:
    assert reply.failure_kind is not None
    return reply.failure_kind


async def run_attempt(
    *,
    adapter: Adapter,
    charge: Charge,
    idempotency_key: str,
    board: BreakerBoard,
    retry: RetrySettings,
    lookup_tries: int,
    lookup_wait: float,
    deadline: float,
    hooks: Sequence[Hook],
    ledger: Ledger,
    attempt_number: int,
    sleep: Callable[[float], Awaitable[None]],
    past_breaker: bool = False,
    budget: Protection | None = None,
    replay: bool = True,
) -> AttemptRun:
    """Call `adapter.pay` under its breaker, retrying retryable kinds with the same key.

    An unknown outcome is never retried with a new charge: it is looked up at the same
    provider up to `lookup_tries` times, and stays unknown if none of them is conclusive.
    `past_breaker` calls without asking the (open) breaker: the router's last resort.
    `budget` counts this attempt and must grant each retry (the global retry budget).
    `replay` allows one idempotent replay of the charge when lookups cannot tell. An answer
    for another amount, or for part of it, is raised and kept in `ledger` (`report_amount`).
    """
    started = time.perf_counter()
    tries = 0

    async def one_try() -> ProviderReply:
        nonlocal tries
        try:
            guard = nullcontext() if past_breaker else board.guard(adapter.name, charge.method)
            with guard:
                tries += 1
                reply = await _pay(
                    adapter, charge, idempotency_key, deadline, ledger, attempt_number
                )
                if reply.failure_kind and policy_for(reply.failure_kind).counts_against_breaker:
                    raise ProviderFault(reply)
                return reply
        except ProviderFault as fault:
            return fault.reply

    def before_sleep(try_number: int, wait: float, reply: ProviderReply) -> None:
        event = RetryScheduled(
            charge.order_id, attempt_number, adapter.name, try_number, wait, reply.failure_kind
        )
        emit(hooks, event)

    async def wait_unless_opened(seconds: float) -> None:
        """Back off, but stop waiting the moment other payments open this breaker: the next
        try would be refused anyway, and the customer's payment should fail over now."""
        if sleep is not asyncio.sleep or past_breaker:
            await sleep(seconds)  # a simulation's clock, or a call past an open breaker
            return
        opened = board.open_signal(adapter.name, charge.method)
        with suppress(TimeoutError):
            await asyncio.wait_for(opened.wait(), seconds)

    if budget is not None:
        budget.first_attempt()
    try:
        reply = await one_try()
    except BreakerOpen:
        reply = _BREAKER_REFUSED  # opened by a concurrent payment since the router checked
    if _retryable(reply):
        keep_going = budget.allow_retry if budget is not None else lambda: True
        reply = await retry_same_key(
            one_try, reply, retry, deadline, before_sleep, wait_unless_opened, keep_going
        )

    if reply.outcome is Outcome.UNKNOWN:
        ladder = (lookup_tries, lookup_wait, deadline, sleep)
        reply = await _resolve(adapter, charge, reply, ladder, replay=replay)
    await _report(ledger, hooks, adapter, charge, reply)
    return AttemptRun(reply, tries, (time.perf_counter() - started) * 1000)


def _pay(
    adapter: Adapter, charge: Charge, key: str, deadline: float, ledger: Ledger, number: int
) -> Awaitable[ProviderReply]:
    """The pay call, bounded by the deadline; one whose answer its provider cannot give again
    (no replay by key) is read to its end even after the deadline (`_late`)."""
    paying = adapter.pay(charge, idempotency_key=key)
    if adapter.resolution.replay_window_seconds > 0:
        return call_safely(paying, deadline, charge.amount)
    return call_reading_late_answer(
        paying, deadline, charge.amount, ledger, charge.order_id, number
    )


async def _report(
    ledger: Ledger, hooks: Sequence[Hook], adapter: Adapter, charge: Charge, reply: ProviderReply
) -> None:
    await report_amount(
        ledger,
        hooks,
        reply,
        order_id=charge.order_id,
        provider=adapter.name,
        reference=charge.reference,
        expected=charge.amount,
        source="reply",
    )


def _retryable(reply: ProviderReply) -> bool:
    return reply.failure_kind is not None and policy_for(reply.failure_kind).retry_same


async def retry_same_key(
    one_try: Callable[[], Awaitable[ProviderReply]],
    first: ProviderReply,
    retry: RetrySettings,
    deadline: float,
    before_sleep: Callable[[int, float, ProviderReply], None],
    sleep: Callable[[float], Awaitable[None]],
    keep_going: Callable[[], bool],
) -> ProviderReply:
    """Retry after a retryable first reply; tenacity counts the first try as try one.

    The loop is entered only when needed: building it costs more than a happy-path call.
    """
    reply, pending_first = first, True
    try:
        async for loop_try in retrying(retry, deadline, before_sleep, sleep, keep_going):
            with loop_try:
                if pending_first:
                    pending_first = False
                else:
                    reply = await one_try()
                if _retryable(reply):
                    raise RetryableReply(reply)
    except RetryableReply as exhausted:
        reply = exhausted.reply
    except BreakerOpen:
        pass  # opened by a concurrent payment between retries: keep the last reply we had
    return reply


async def resolve_unknown(
    adapter: Adapter,
    handle: PaymentHandle,
    unknown: ProviderReply,
    tries: int,
    wait: float,
    deadline: float,
    sleep: Callable[[float], Awaitable[None]],
    charge: Charge | None = None,
) -> ProviderReply:
    """Ask the same provider where the money stands; `unknown` if it cannot say in time.

    The adapter's declared rungs are climbed: lookups (by the provider's reference, or a
    search by ours), then one idempotent replay of `charge` under its own key when the
    provider keeps keys. At least one lookup is made even past the deadline (it moves no
    money); a `NOT_FOUND` answer is never trusted here, since the original request may still
    be in flight. The replay is made only within the deadline: it may move the money now.
    """
    rungs = adapter.resolution
    searchable = rungs.lookup if handle.provider_reference else rungs.search_lag_seconds is not None
    if searchable:
        found = await _look_up(adapter, handle, tries, wait, deadline, sleep)
        if found is not None:
            return found
    if charge is not None and rungs.replay_window_seconds > 0 and time.monotonic() < deadline:
        replayed = await call_safely(
            adapter.pay(charge, idempotency_key=charge.reference), deadline, charge.amount
        )
        if is_conclusive_lookup(replayed):
            return replayed
    return unknown


async def _look_up(
    adapter: Adapter,
    handle: PaymentHandle,
    tries: int,
    wait: float,
    deadline: float,
    sleep: Callable[[float], Awaitable[None]],
) -> ProviderReply | None:
    for number in range(1, tries + 1):
        lookup_deadline = max(deadline, time.monotonic() + wait + 1.0)
        reply = await call_safely(adapter.lookup(handle), lookup_deadline, handle.amount)
        if is_conclusive_lookup(reply):
            return reply
        if number == tries or time.monotonic() >= deadline:
            break
        await sleep(pause_seconds(wait))
    return None


async def _resolve(
    adapter: Adapter,
    charge: Charge,
    reply: ProviderReply,
    ladder: tuple[int, float, float, Callable[[float], Awaitable[None]]],
    *,
    replay: bool,
) -> ProviderReply:
    """An unknown outcome goes up the adapter's resolution ladder at the same provider."""
    lookup_tries, lookup_wait, deadline, sleep = ladder
    handle = PaymentHandle(
        reference=charge.reference,
        order_id=charge.order_id,
        method=charge.method,
        amount=charge.amount,
        provider_reference=reply.provider_reference,
    )
    return await resolve_unknown(
        adapter,
        handle,
        reply,
        lookup_tries,
        lookup_wait,
        deadline,
        sleep,
        charge if replay else None,
    )
