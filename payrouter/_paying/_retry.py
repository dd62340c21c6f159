"""Retrying one attempt at one provider: tenacity underneath, one place that computes a wait.

A retry replays the attempt's idempotency key, so it is safe at the provider; only kinds whose
policy row says `retry_same` are retried, and never past the payment's deadline.
"""

from __future__ import annotations

import random
import time
from collections.abc import Awaitable, Callable

from tenacity import AsyncRetrying, RetryCallState, retry_if_exception_type

from .._adapter import ProviderReply
from .._settings import RetrySettings
from .._testmode import is_testing

__all__ = ["RetryableReply", "pause_seconds", "retrying", "wait_seconds"]


class RetryableReply(Exception):  # noqa: N818 - a carrier for tenacity, not an error
    """Raised inside the retry loop to hand a retryable reply to tenacity."""

    def __init__(self, reply: ProviderReply) -> None:
        super().__init__(reply.failure_kind)
        self.reply = reply


def wait_seconds(try_number: int, policy: RetrySettings, retry_after: float | None) -> float:
    """The only function that computes a wait, so the testing switch is checked once.

    The provider's Retry-After wins (it knows its own load) but is capped at `max_wait`, so a
    checkout never sits behind a long throttle: the router fails over instead.
    """
    if is_testing():
        return 0.0
    if retry_after is not None:
        return min(retry_after, policy.max_wait_seconds)
    exponential = policy.initial_wait_seconds * 2.0 ** (try_number - 1)
    return min(policy.max_wait_seconds, exponential + random.uniform(0, policy.jitter_seconds))  # noqa: S311


def pause_seconds(seconds: float) -> float:
    """A fixed pause (between lookups, between polls), zero in testing mode."""
    return 0.0 if is_testing() else seconds


def retrying(
    policy: RetrySettings,
    deadline: float,
    before_sleep: Callable[[int, float, ProviderReply], None],
    sleep: Callable[[float], Awaitable[None]] | None = None,
    keep_going: Callable[[], bool] = lambda: True,
) -> AsyncRetrying:
    """A tenacity loop for one attempt: bounded tries, jittered backoff, absolute deadline.

    Args:
        deadline: `time.monotonic()` value after which no further try starts.
        before_sleep: told (try number, wait, reply) before each wait, for hooks.
        sleep: replaces `asyncio.sleep` (tests and simulations).
        keep_going: asked last, only when a retry would otherwise happen (the retry budget,
            which spends one retry when it answers True).
    """

    def wait(state: RetryCallState) -> float:
        return wait_seconds(state.attempt_number, policy, _reply_of(state).retry_after)

    def stop(state: RetryCallState) -> bool:
        upcoming = state.upcoming_sleep or 0.0
        if state.attempt_number >= policy.max_tries or time.monotonic() + upcoming >= deadline:
            return True
        return not keep_going()

    def announce(state: RetryCallState) -> None:
        before_sleep(state.attempt_number, state.upcoming_sleep or 0.0, _reply_of(state))

    extra = {"sleep": sleep} if sleep is not None else {}
    return AsyncRetrying(
        retry=retry_if_exception_type(RetryableReply),
        wait=wait,
        stop=stop,
        before_sleep=announce,
        reraise=True,
        **extra,  # type: ignore[arg-type]
    )


def _reply_of(state: RetryCallState) -> ProviderReply:
    assert state.outcome is not None
    error = state.outcome.exception()
    assert isinstance(error, RetryableReply)
    return error.reply
