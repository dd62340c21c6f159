"""The payment decision as a pure step: what one provider's answer means for the payment.

The candidate loop (`_candidates.py`) does the I/O: it writes attempts, calls providers and
records outcomes. Every choice it makes about an answer comes from `decide` (this attempt) and
`ending` (the payment, once no candidate is left), which read only their arguments, so the
rules are pinned row by row in `tests/test_decide.py` without a router, a ledger or a clock.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from .._adapter import ProviderReply
from .._errors import (
    AllProvidersUnavailableError,
    NoEligibleProviderError,
    PaymentError,
    ProviderRejectedRequestError,
)
from .._ledger import PaymentUpdate
from .._models import PaymentMethod, PaymentResult, PaymentStatus
from .._taxonomy import FailureKind, Outcome, policy_for
from ._plan import Candidate

__all__ = [
    "Decision",
    "Ending",
    "Step",
    "Tally",
    "decide",
    "declined_update",
    "ending",
    "failure_error",
    "settled_update",
]

_SETTLED_BY_OUTCOME = {
    Outcome.SUCCEEDED: PaymentStatus.SUCCEEDED,
    Outcome.PARTIALLY_AUTHORISED: PaymentStatus.PARTIALLY_AUTHORISED,
    Outcome.REQUIRES_ACTION: PaymentStatus.REQUIRES_ACTION,
    Outcome.PENDING: PaymentStatus.PENDING,
    Outcome.UNKNOWN: PaymentStatus.PENDING,  # never failed: resolved later at the same provider
}


class Step(enum.Enum):
    """What the pay loop does after one attempt's answer."""

    SETTLE = "settle"
    """The answer is the payment's result (`Decision.status`): money moved, may have moved, or
    waits on the customer. Nothing is sent anywhere else."""
    DECLINED = "declined"
    """The customer's source was declined and the merchant does not fall back on declines."""
    NEXT_SOURCE = "next_source"
    """Declined: skip every provider of this source, try the customer's next source."""
    FAIL_OVER = "fail_over"
    """The provider could not take it and provably took nothing: try the next candidate."""
    STEP_UP = "step_up"
    """Refused for want of authentication: the same provider again, asking for 3-D Secure
    (`_step_up.py`); the source's other candidates are not tried."""
    REATTEMPT = "reattempt"
    """A soft decline the merchant's policy reattempts once at the next acquirer holding a
    credential for the same card (`_reattempt.py`); the source's other candidates are not."""


@dataclass(frozen=True, slots=True)
class Decision:
    step: Step
    status: PaymentStatus | None = None
    """The payment's status when `step` is SETTLE."""
    alert: bool = False
    """The answer's kind needs an operator (e.g. credentials rejected)."""


def decide(reply: ProviderReply, *, fallback_on_decline: bool) -> Decision:
    """One attempt's answer, mapped through the outcome table and the failure policy table."""
    settled = _SETTLED_BY_OUTCOME.get(reply.outcome)
    if settled is not None:
        return Decision(Step.SETTLE, status=settled)
    if reply.failure_kind is None:
        raise ValueError("a failed reply carries a failure kind")
    policy = policy_for(reply.failure_kind)
    if policy.is_decline:
        step = Step.NEXT_SOURCE if fallback_on_decline else Step.DECLINED
        return Decision(step, alert=policy.alert)
    if not policy.fail_over:  # only unknown outcomes, which settle above; a table edit slipped
        raise ValueError(f"failure kind {reply.failure_kind} neither settles nor fails over")
    return Decision(Step.FAIL_OVER, alert=policy.alert)


@dataclass(slots=True)
class Tally:
    """What the pay loop has learned so far about one payment's candidates."""

    made: int = 0
    """Attempts sent in this call."""
    called: tuple[str, int] | None = None
    """The last provider called and its attempt number: once set, a ledger write that fails
    may have lost the record of a charge (`OutcomeNotRecordedError`)."""
    unavailable: bool = False
    """Some eligible provider could not take it (skipped or failed over)."""
    at_capacity: bool = False
    """Some provider was skipped at its rate limit or concurrency cap."""
    alert: bool = False
    last_decline: tuple[Candidate, ProviderReply] | None = None
    declined_sources: set[int] = field(default_factory=set)
    rejected: bool = False
    """A provider refused the request as it saw it (its own token, a field it alone needs):
    the next candidate was tried, and the payment may still end failed for this reason."""
    refused: list[Candidate] = field(default_factory=list)
    """Candidates whose breaker was open: the last-resort pass may call them once."""
    reattempted: bool = False
    reattempt_to: Candidate | None = None
    """The one candidate of a declined source still to try: a soft decline's reattempt, or
    a 3-D Secure step-up at the provider that refused."""

    def skips_source_of(self, candidate: Candidate) -> bool:
        """True for a candidate of a declined source, unless it is that source's reattempt."""
        declined = candidate.source_index in self.declined_sources
        return declined and candidate is not self.reattempt_to

    def record(self, candidate: Candidate, reply: ProviderReply, decision: Decision) -> None:
        self.alert = self.alert or decision.alert
        if decision.step in (Step.NEXT_SOURCE, Step.DECLINED, Step.REATTEMPT, Step.STEP_UP):
            self.last_decline = (candidate, reply)
            self.declined_sources.add(candidate.source_index)
        elif reply.failure_kind is FailureKind.INVALID_REQUEST:
            self.rejected = True
        elif decision.step is Step.FAIL_OVER:
            self.missed(candidate)

    def missed(self, candidate: Candidate) -> None:
        """`candidate` could not take the payment. A reattempt that could not be made leaves
        the soft decline before it as the payment's answer: the card was still declined."""
        self.unavailable = self.unavailable or candidate is not self.reattempt_to


class Ending(enum.Enum):
    """How a payment ends when every candidate was tried or skipped without settling it."""

    DECLINED = "declined"
    """The customer's sources were declined, and no provider was merely unavailable."""
    CAPACITY_EXHAUSTED = "capacity_exhausted"
    """Nothing was ever sent for this order; providers were at their rate limits or caps."""
    NONE_ADMITTED = "none_admitted"
    """Nothing was ever sent for this order; eligible providers existed but none admitted it."""
    FAILED = "failed"
    """Attempts were made and none could take it: no money moved."""


def ending(tally: Tally, *, attempts_before: int) -> Ending:
    """The payment's end; `attempts_before` counts attempts recorded by earlier calls."""
    if tally.last_decline is not None and not tally.unavailable:
        return Ending.DECLINED
    if attempts_before + tally.made == 0:
        if tally.at_capacity:
            return Ending.CAPACITY_EXHAUSTED
        if tally.unavailable:
            return Ending.NONE_ADMITTED
    return Ending.FAILED


def failure_error(payment: PaymentResult, healthy: tuple[PaymentMethod, ...]) -> PaymentError:
    """The error `pay` raises for a `failed` payment, for its first caller and duplicates."""
    order_id, attempts = payment.order_id, payment.attempts
    if payment.failure_kind is FailureKind.INVALID_REQUEST:
        refused = sorted({f"{a.provider}: {a.provider_code}" for a in attempts if a.provider_code})
        return ProviderRejectedRequestError(
            f"every provider tried refused order {order_id!r} as invalid ({'; '.join(refused)}); "
            "nothing was charged and the order can be paid again once fixed",
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


def settled_update(
    candidate: Candidate, reply: ProviderReply, status: PaymentStatus
) -> PaymentUpdate:
    return PaymentUpdate(
        status,
        provider=candidate.adapter.name,
        method=candidate.method,
        provider_reference=reply.provider_reference,
        action_url=reply.action_url,
        failure_kind=reply.failure_kind,
    )


def declined_update(candidate: Candidate, reply: ProviderReply) -> PaymentUpdate:
    assert reply.failure_kind is not None
    return PaymentUpdate(
        PaymentStatus.DECLINED,
        provider=candidate.adapter.name,
        method=candidate.method,
        provider_reference=reply.provider_reference,
        failure_kind=reply.failure_kind,
        decline_reason=policy_for(reply.failure_kind).customer_message,
    )
