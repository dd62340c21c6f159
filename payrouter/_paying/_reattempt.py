"""A soft-declined card, reattempted once at another acquirer holding a credential for it.

A merchant policy (`RouterSettings.soft_declines`), off by default. After a card decline,
`Reattempts.review` turns the decline into a reattempt when all of these hold:

- the policy allows one (`reattempts: 1`) and this payment has not used it;
- the decline is soft and the network's advice allows another attempt now
  (`payrouter._taxonomy.may_reattempt`): never a hard decline, never "do not try again",
  "confirm card data" or "retry after a wait";
- the plan's next candidate is the same card source at another provider, i.e. an acquirer
  the router found a credential for the same card at;
- the card has had fewer than `max_per_card` reattempts over `window_days`, every process
  counted in the ledger by a hash of the card's credentials (never a token).

The reattempt is claimed in the ledger before it is sent, so a reattempt that could not be
sent after all (its provider's breaker opened meanwhile) still counts: the count errs on the
side of the networks' limits.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Sequence

from .._adapter import ProviderReply
from .._ledger import Ledger
from .._models import CardSource, PaymentRequest
from .._settings import SoftDeclineSettings
from .._sources import source_identity
from .._taxonomy import AUTHENTICATION_KINDS, DeclineType, may_reattempt
from ..instrumentation._events import DeclineReattempt, Hook, emit
from ._decide import Decision, Step, Tally
from ._plan import Candidate

__all__ = ["Reattempts", "card_identity"]

_DAY = 24 * 3600.0


def card_identity(source: CardSource) -> str:
    """A SHA-256 of the card's credentials (its tokens and network token, as the payment's
    fingerprint reads them): the same card as the checkout sends it gives the same hash in
    every process, and the hash gives back no token.

    A network token's number alone (a token PAN, not the card's) could be found again by
    trying every number of its range; the ledger's attempt rows of replaying providers keep
    the request itself anyway, so the hash adds nothing an attacker with the database lacks.
    """
    canonical = json.dumps(["payrouter-card", *source_identity(source)])
    return hashlib.sha256(canonical.encode()).hexdigest()


class Reattempts:
    """Decides, and records in the ledger, the reattempt of a soft-declined card."""

    def __init__(
        self,
        ledger: Ledger,
        settings: SoftDeclineSettings,
        hooks: tuple[Hook, ...],
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._ledger = ledger
        self._settings = settings
        self._hooks = hooks
        self._clock = clock

    async def review(
        self,
        request: PaymentRequest,
        candidate: Candidate,
        reply: ProviderReply,
        decision: Decision,
        plan: Sequence[Candidate],
        tally: Tally,
    ) -> Decision:
        """`decision` (a decline) as it stands, or a reattempt at the plan's next candidate
        for the same card; `tally.reattempt_to` then names that candidate."""
        source = request.sources[candidate.source_index]
        if (
            self._settings.reattempts == 0
            or tally.reattempted
            or not isinstance(source, CardSource)
            or reply.decline is not DeclineType.SOFT
            or reply.failure_kind in AUTHENTICATION_KINDS
            or candidate.authenticate  # stepped up: never elsewhere without it
        ):
            return decision
        target = _next_for_same_source(candidate, plan)
        if target is None:
            return decision
        providers = (candidate.adapter.name, target.adapter.name)
        advice = reply.advice.value if reply.advice else None
        if not may_reattempt(reply.decline, reply.advice):
            self._emit(request, candidate, target, "advice", advice)
            return decision
        now = self._clock()
        claimed = await self._ledger.claim_reattempt(
            card_identity(source),
            request.order_id,
            providers,
            since=now - self._settings.window_days * _DAY,
            limit=self._settings.max_per_card,
            now=now,
        )
        self._emit(request, candidate, target, "reattempted" if claimed else "card_limit", advice)
        if not claimed:
            return decision
        tally.reattempted, tally.reattempt_to = True, target
        return Decision(Step.REATTEMPT, alert=decision.alert)

    def _emit(
        self,
        request: PaymentRequest,
        candidate: Candidate,
        target: Candidate,
        outcome: str,
        advice: str | None,
    ) -> None:
        event = DeclineReattempt(
            request.order_id,
            candidate.adapter.name,
            target.adapter.name,
            candidate.method,
            outcome,
            advice,
        )
        emit(self._hooks, event)


def _next_for_same_source(candidate: Candidate, plan: Sequence[Candidate]) -> Candidate | None:
    """The plan's next candidate after `candidate`, if it is the same source elsewhere."""
    try:
        position = next(i for i, c in enumerate(plan) if c is candidate)
    except StopIteration:  # a last-resort pass past the breakers: no reattempt from there
        return None
    following = plan[position + 1 : position + 2]
    if following and following[0].source_index == candidate.source_index:
        return following[0]
    return None
