"""How a provider's unknown outcomes are resolved: the rungs of its ladder, as data.

Part of the provider seam (`payrouter.provider.Resolution`); `_reconcile/_ladder.py` climbs it.
"""

from __future__ import annotations

from dataclasses import dataclass

from ._reply import ProviderReply
from ._taxonomy import Outcome

__all__ = ["Resolution"]


@dataclass(frozen=True, slots=True)
class Resolution:
    """How this provider's unknown outcomes are resolved: the rungs of the ladder, as data.

    The router tries them in order for every attempt whose outcome is unknown, and concludes
    absence only from an authoritative rung:

    1. `lookup`: the provider can be asked by its own reference (a Stripe intent id, a PayPal
       order id); its answer is authoritative.
    2. `replay_window_seconds`: the provider keeps idempotency keys this long (Stripe 24 h,
       Adyen at least 7 days, PayPal Orders 6 h); the same request with the same key returns
       the original outcome or performs the one attempt now. 0: no replay.
    3. `search_lag_seconds`: without the provider's reference, `lookup` searches by our
       reference, and the search may lag this long (Stripe: up to an hour during incidents).
       A hit is conclusive; a miss only once the attempt is older than this. None: no search.
    4. `webhook`: the provider notifies the outcome; the last resort, never a conclusion.

    `saved_error_statuses` lists the HTTP statuses of the provider's own errors that it saves
    under the key and answers to every replay (Stripe: 500, "including 500 errors"): a replay
    answered with one is the saved answer repeating, not a new one, so it settles nothing and
    the replay rung is spent for that attempt (search and webhook remain). An edge's 502/504
    page is not the provider's answer and is never listed.

    `already_done` lists (follow-up kind, provider code) pairs by which the provider refuses
    a follow-up because it already happened ("refund", "charge_already_refunded"): a resend
    after a lost answer may meet them, and the router settles it as succeeded when its own
    ledger explains them (the refund makes the payment fully refunded; no other capture).
    """

    lookup: bool = False
    replay_window_seconds: float = 0.0
    search_lag_seconds: float | None = None
    webhook: bool = False
    saved_error_statuses: frozenset[int] = frozenset()
    already_done: frozenset[tuple[str, str]] = frozenset()

    def repeats_saved_error(self, reply: ProviderReply) -> bool:
        """Whether `reply` to a replay is a saved error of the provider's own, repeating: the
        outcome stays unknown, and replaying again cannot change it within the key window."""
        return (
            reply.outcome is Outcome.UNKNOWN
            and reply.http_status is not None
            and reply.http_status in self.saved_error_statuses
        )

    def __post_init__(self) -> None:
        if self.replay_window_seconds < 0:
            raise ValueError("replay_window_seconds cannot be negative")
        if self.search_lag_seconds is not None and self.search_lag_seconds < 0:
            raise ValueError("search_lag_seconds cannot be negative")
