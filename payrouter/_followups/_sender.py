"""Sending one follow-up to the provider that holds the payment: never to another one.

The call goes through the provider's breaker, and retryable answers are retried with the
follow-up's own idempotency key, as a payment attempt's are. What the provider's last word
means for the follow-up is one table: confirmed, accepted (confirmed later), refused for
good, or still owed (busy, down, unknown outcome), which keeps it queued for the outbox.
"""

from __future__ import annotations

import random
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final

from .._adapter import Adapter, PaymentHandle, ProviderReply
from .._health._breakers import BreakerBoard, BreakerOpen, ProviderFault
from .._paying._amounts import check_followup_amount
from .._paying._attempt import call_safely, retry_same_key
from .._settings import RetrySettings
from .._taxonomy import FailureKind, Outcome, policy_for
from ..instrumentation._events import Hook, RetryScheduled, emit
from ._model import FollowUp, FollowUpKind, FollowUpStatus

__all__ = ["Backoff", "SendResult", "send", "status_for"]

_BREAKER_OPEN: Final = ProviderReply.failed(
    FailureKind.PROVIDER_DOWN,
    provider_code="breaker_open",
    message="its breaker is open",
)
_IN_MAINTENANCE: Final = ProviderReply.failed(
    FailureKind.MAINTENANCE, provider_code="maintenance_window", message="announced maintenance"
)

# The provider still owes an answer: the follow-up stays queued and is sent again later with
# the same key. An unknown outcome belongs here too: resending under the same key is how the
# provider tells us what became of the first one, and it cannot do it twice.
_STILL_OWED: Final = frozenset(
    {
        FailureKind.BUSY,
        FailureKind.RATE_LIMITED,
        FailureKind.PROVIDER_DOWN,
        FailureKind.MAINTENANCE,
        FailureKind.NETWORK_BEFORE_SEND,
        FailureKind.UNKNOWN_OUTCOME,
        # Our credentials, not the customer's money: queued until an operator fixes them.
        FailureKind.CREDENTIALS_REJECTED,
    }
)

_STATUS_BY_OUTCOME: Final[Mapping[Outcome, FollowUpStatus]] = MappingProxyType(
    {
        Outcome.SUCCEEDED: FollowUpStatus.SUCCEEDED,
        Outcome.PENDING: FollowUpStatus.PENDING,
        # A refund waiting on the customer (Stripe's requires_action) is accepted, not done.
        Outcome.REQUIRES_ACTION: FollowUpStatus.PENDING,
        Outcome.UNKNOWN: FollowUpStatus.QUEUED,
        # No confirmation of a capture or refund: its notification, held to the follow-up's
        # own amount, says how it went.
        Outcome.PARTIALLY_AUTHORISED: FollowUpStatus.PENDING,
    }
)


def status_for(reply: ProviderReply) -> FollowUpStatus:
    """What the provider's last word makes of a follow-up."""
    if reply.outcome is Outcome.FAILED:
        assert reply.failure_kind is not None
        return (
            FollowUpStatus.QUEUED if reply.failure_kind in _STILL_OWED else FollowUpStatus.REFUSED
        )
    return _STATUS_BY_OUTCOME[reply.outcome]


@dataclass(frozen=True, slots=True)
class Backoff:
    """How long a queued follow-up waits before the outbox sends it again."""

    initial: float
    maximum: float

    def next_try_at(self, tries: int, retry_after: float | None) -> float:
        """Exponential in the tries so far, jittered, never sooner than the provider asked."""
        wait = min(self.maximum, self.initial * 2.0 ** max(0, tries - 1))
        wait *= random.uniform(0.8, 1.2)  # noqa: S311 - spreads workers, not a secret
        return time.time() + max(wait, retry_after or 0.0)


@dataclass(frozen=True, slots=True)
class SendResult:
    reply: ProviderReply
    tries: int
    """Calls made this time (0 when the breaker or a maintenance window kept it back)."""


async def send(
    followup: FollowUp,
    *,
    adapter: Adapter,
    handle: PaymentHandle | None,
    board: BreakerBoard,
    in_maintenance: bool,
    retry: RetrySettings,
    deadline: float,
    hooks: Sequence[Hook],
    sleep: Callable[[float], Awaitable[None]],
) -> SendResult:
    """Call the provider for `followup` until it answers something other than retryable."""
    if in_maintenance:
        return SendResult(_IN_MAINTENANCE, 0)
    tries = 0

    async def one_try() -> ProviderReply:
        nonlocal tries
        try:
            with board.guard(adapter.name, followup.method):
                tries += 1
                reply = await call_safely(_call(adapter, followup, handle), deadline)
                if reply.failure_kind and policy_for(reply.failure_kind).counts_against_breaker:
                    raise ProviderFault(reply)
                return reply
        except ProviderFault as fault:
            return fault.reply

    def before_sleep(try_number: int, wait: float, reply: ProviderReply) -> None:
        subject = followup.order_id or followup.followup_id
        emit(hooks, RetryScheduled(subject, 0, adapter.name, try_number, wait, reply.failure_kind))

    try:
        reply = await one_try()
    except BreakerOpen:
        return SendResult(_BREAKER_OPEN, 0)
    # A spent key (the provider's saved error, known not done) only repeats itself.
    if reply.failure_kind and policy_for(reply.failure_kind).retry_same and not reply.key_spent:
        reply = await retry_same_key(
            one_try, reply, retry, deadline, before_sleep, sleep, lambda: True
        )
    return SendResult(check_followup_amount(reply, followup.amount), tries)


def _call(
    adapter: Adapter, followup: FollowUp, handle: PaymentHandle | None
) -> Awaitable[ProviderReply]:
    key = followup.idempotency_key
    if followup.kind is FollowUpKind.CANCEL_MANDATE:
        assert followup.mandate_id is not None
        return adapter.cancel_mandate(followup.mandate_id, idempotency_key=key)
    assert handle is not None
    match followup.kind:
        case FollowUpKind.CAPTURE:
            assert followup.amount is not None
            return adapter.capture(handle, followup.amount, idempotency_key=key)
        case FollowUpKind.REFUND:
            assert followup.amount is not None
            return adapter.refund(
                handle, followup.amount, idempotency_key=key, reason=followup.reason
            )
        case _:
            return adapter.void(handle, idempotency_key=key)
