"""The resolution ladder: how reconcile learns where the money of an unknown attempt stands.

Each adapter declares its rungs (`Resolution`); they are tried in order, and absence is
concluded only from an authoritative source:

1. lookup by the provider's own reference: authoritative;
2. idempotent replay of the attempt's own request, same key, same provider, within the
   provider's key window and the merchant's `replay_max_age_seconds`: authoritative, it
   returns the original outcome or performs the one attempt now;
3. search by our reference: a hit is conclusive; a miss only past the declared lag bound;
4. the provider's webhook: waited for, never concluded from.

What stays open is said plainly: why, since when, the next step, and whether it is overdue
(open past the provider's bound, so an operator should look).
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from .._adapter import Adapter, Charge, PaymentHandle, ProviderReply
from .._money import Money
from .._paying._attempt import call_safely, is_conclusive_lookup
from .._taxonomy import FailureKind, Outcome

__all__ = [
    "Climb",
    "Unopened",
    "call_deadline",
    "calls_bounded_by",
    "climb",
    "outcome_reason",
    "settles_within",
]

_CALL_SECONDS = 30.0
_BOUND: ContextVar[float | None] = ContextVar("payrouter_resolution_deadline", default=None)


@contextmanager
def calls_bounded_by(deadline: float) -> Iterator[None]:
    """Bound every provider call resolving inside the block by `deadline` (monotonic): a
    `pay` that takes a crashed payment over still answers within its own deadline."""
    token = _BOUND.set(deadline)
    try:
        yield
    finally:
        _BOUND.reset(token)


def call_deadline() -> float:
    """When the next resolving call must have answered: 30 s, or the enclosing bound."""
    own = time.monotonic() + _CALL_SECONDS
    bound = _BOUND.get()
    return own if bound is None else min(own, bound)


@dataclass(frozen=True, slots=True)
class Unopened:
    """The attempt's kept request is sealed and does not open (its key is not configured, or
    the value was altered): its replay rung is skipped, and the other rungs still run."""

    reason: str


@dataclass(frozen=True, slots=True)
class Climb:
    """Where the ladder got: a conclusive reply to record, or why the attempt stays open."""

    reply: ProviderReply | None
    reason: str = ""
    next_step: str = ""
    overdue: bool = False


def settles_within(adapter: Adapter, replay_max_age: float, *, by_search: bool = False) -> float:
    """The longest an unknown outcome at this provider may stay open, by its declared rungs.

    Past it, the ladder should have concluded: a replay within the window answers at once,
    and a search miss is trusted past its lag bound, counted `by_search` (an attempt without
    the provider's reference) from the last replay that could have been sent (`climb`). A
    provider with neither (only a lookup
    by its own reference, or only a webhook) is bounded by nothing: 0, so an attempt
    without that reference is overdue as soon as it is found open.
    """
    rungs = adapter.resolution
    replay = min(rungs.replay_window_seconds, replay_max_age)
    search = rungs.search_lag_seconds if rungs.search_lag_seconds is not None else 0.0
    # Found by search (no reference of the provider's): a miss counts once the lag has passed
    # since the last replay (`climb`).
    return replay + search if by_search else max(replay, search)


async def climb(
    adapter: Adapter,
    handle: PaymentHandle,
    started_at: float,
    kept: Charge | Unopened | None,
    replay_max_age: float,
) -> Climb:
    """Try each declared rung for one attempt whose outcome is unknown (or never written).

    A search miss concludes absence only if no call that could move money came after it: a
    replay whose answer is lost may have performed the one attempt just then, which the
    earlier search cannot show, so the attempt stays open and the next pass replays again.
    Nor within the search's lag of the last replay any pass may have sent (the window's end,
    when the request was kept): a replay an earlier pass lost the answer to may have charged
    then, and the search may not show it yet. The ledger does not keep when each replay was
    sent, so the bound is counted from the last moment one could have been.
    """
    replay = kept if isinstance(kept, Charge) else None
    rungs = adapter.resolution
    age = time.time() - started_at
    searched: ProviderReply | None = None
    if handle.provider_reference is not None and rungs.lookup:
        reply = await _call(adapter.lookup(handle), handle.amount)
        if is_conclusive_lookup(reply):
            return Climb(reply)
    elif handle.provider_reference is None and rungs.search_lag_seconds is not None:
        searched = await _call(adapter.lookup(handle), handle.amount)
        if is_conclusive_lookup(searched):
            return Climb(searched)  # a hit is conclusive, however fresh
    window = replays_until = min(rungs.replay_window_seconds, replay_max_age)
    saved: int | None = None
    if replay is not None and age < window:
        key = replay.reference
        reply = await _call(adapter.pay(replay, idempotency_key=key), replay.amount)
        if is_conclusive_lookup(reply):
            return Climb(reply)  # the provider's own answer to the same request
        if rungs.repeats_saved_error(reply):
            saved, window = reply.http_status, 0.0  # answered for the key's whole window
        elif reply.outcome is Outcome.UNKNOWN:
            searched = None  # the replay may have charged just now, after the search missed
    if searched is not None and searched.failure_kind is FailureKind.NOT_FOUND:
        lag = rungs.search_lag_seconds or 0.0
        if age >= (replays_until if kept else 0.0) + lag:
            return Climb(searched)  # absent past the declared lag of any call: nothing moved
    overdue = age > settles_within(
        adapter, replay_max_age if window else 0.0, by_search=handle.provider_reference is None
    )
    if isinstance(kept, Unopened) and age < window:
        return Climb(
            None,
            f"the replay was skipped: the request kept for it is {kept.reason}",
            "list the ledger key that sealed it in ledger_keys and reconcile again, before "
            f"{_clock(started_at + window)}; else the lookup, search or webhook settles it",
            overdue,
        )
    if replay is not None and age < window:
        return Climb(
            None,
            f"{adapter.name} did not answer the replay of the same request",
            f"reconcile again: the replay stays possible until {_clock(started_at + window)}",
            overdue,
        )
    still = _still_open(adapter, age, started_at, handle, overdue)
    if saved is None:
        return still
    spent = f"the replay repeats the {saved} {adapter.name} saved for the request; "
    return replace(still, reason=spent + still.reason)


def _still_open(
    adapter: Adapter, age: float, started_at: float, handle: PaymentHandle, overdue: bool
) -> Climb:
    """Why no rung concluded, and what comes next."""
    rungs, name = adapter.resolution, adapter.name
    if handle.provider_reference is not None and rungs.lookup:
        return Climb(
            None,
            f"{name} did not answer the lookup of {handle.provider_reference}",
            "reconcile again",
            overdue,
        )
    lag = rungs.search_lag_seconds
    if handle.provider_reference is not None:
        lag = None  # found by its reference or not at all
    if lag is not None and age < lag:
        return Climb(
            None,
            f"{name} search does not show it yet",
            f"{name} search may lag until {_clock(started_at + lag)}; reconcile again then",
            overdue,
        )
    if lag is not None:
        return Climb(None, f"{name} search could not be read", "reconcile again", overdue)
    if rungs.webhook:
        return Climb(
            None,
            f"{name} cannot be asked about it any more",
            f"awaiting {name}'s webhook; or check {name}'s dashboard and settle it by hand",
            overdue,
        )
    return Climb(
        None,
        f"{name} cannot be asked about it (no reference of theirs was recorded)",
        f"check {name}'s records by hand for our reference",
        overdue,
    )


def outcome_reason(name: str, outcome: Outcome | None) -> Climb:
    """Why an attempt whose provider did answer is still open: the customer or the bank."""
    if outcome is Outcome.REQUIRES_ACTION:
        return Climb(
            None,
            f"awaiting the customer's approval at {name}",
            "nothing moved yet: the customer approves, or it stays open",
        )
    if outcome is Outcome.PENDING:
        return Climb(
            None,
            f"accepted by {name}, not settled yet",
            f"reconcile again later, or {name}'s webhook settles it",
        )
    return Climb(None, f"{name} was not asked", "reconcile again")


async def _call(call: Awaitable[ProviderReply], expected: Money) -> ProviderReply:
    """One call, bounded; a success for another amount than `expected` is unknown."""
    return await call_safely(call, call_deadline(), expected)


def _clock(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d %H:%M UTC")
