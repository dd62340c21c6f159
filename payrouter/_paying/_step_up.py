"""A card refused for want of authentication, resent once to the same provider asking for it.

An issuer may refuse a payment its provider sent without 3-D Secure (frictionless, exempted,
or the merchant's rules skipped it) because it wants the customer authenticated: Adyen's
refusal 38 "Authentication required", Stripe's `authentication_required`. With the customer
at the checkout, the provider can ask for authentication on a new attempt, and the payment
then waits for the customer (`requires_action`) instead of ending declined. `steps_up` says
when: only at the provider that refused (never another one, unauthenticated), once, only where
the merchant enabled 3-D Secure for it, and never for a merchant-initiated payment (a
mandate's charge), where nobody is there to authenticate, nor a network token, whose
cryptogram already is the token requestor's authentication.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import replace

from .._models import CardSource, PaymentRequest
from .._reply import ProviderReply
from .._taxonomy import FailureKind
from ._decide import Decision, Step, Tally
from ._plan import Candidate
from ._routing import ProviderRouting

__all__ = ["step_up", "steps_up", "then_step_ups"]


def steps_up(
    request: PaymentRequest,
    candidate: Candidate,
    reply: ProviderReply,
    rules: ProviderRouting | None,
) -> bool:
    """True when `candidate`'s refusal is for want of authentication and its provider can,
    and may, be asked again with 3-D Secure requested (see the module docstring)."""
    source = candidate.source
    return (
        reply.failure_kind is FailureKind.AUTHENTICATION_REQUIRED
        and not candidate.authenticate  # once: a second refusal stands
        and isinstance(source, CardSource)
        and request.mandate is None  # a mandate's charge is merchant-initiated
        and source.network_token is None  # a network token's cryptogram is its authentication
        and candidate.adapter.capabilities.step_up
        and rules is not None
        and rules.three_d_secure
    )


def step_up(
    request: PaymentRequest,
    candidate: Candidate,
    reply: ProviderReply,
    decision: Decision,
    tally: Tally,
    rules: ProviderRouting | None,
) -> Decision:
    """`decision` as it stands, or, for a decline `steps_up` allows, a step-up: the same
    provider asked for 3-D Secure becomes `tally.reattempt_to`, the source's one candidate
    still to try (its other providers are skipped, as for any declined source)."""
    if decision.step not in (Step.DECLINED, Step.NEXT_SOURCE) or not steps_up(
        request, candidate, reply, rules
    ):
        return decision
    tally.reattempt_to = replace(candidate, authenticate=True)
    return Decision(Step.STEP_UP, alert=decision.alert)


def then_step_ups(
    pairs: Iterable[tuple[Candidate, bool]], step_ups: list[tuple[Candidate, bool]]
) -> Iterator[tuple[Candidate, bool]]:
    """`pairs` (candidate, past its breaker), each followed by the step-up its answer asked
    for: the same provider again, before any other."""
    for pair in pairs:
        yield pair
        while step_ups:
            yield step_ups.pop()
