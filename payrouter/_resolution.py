"""How a provider's unknown outcomes are resolved: the rungs of its ladder, as data.

Part of the provider seam (`payrouter.provider.Resolution`); `_reconcile/_ladder.py` climbs it.
"""

from __future__ import annotations

from dataclasses import dataclass

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

    `already_done` lists (follow-up kind, provider code) pairs by which the provider refuses
    a follow-up because it already happened ("refund", "charge_already_refunded"): a resend
    after a lost answer may meet them, and the router settles it as succeeded when its own
    ledger explains them (the refund makes the payment fully refunded; no other capture).
    """

    lookup: bool = False
    replay_window_seconds: float = 0.0
    search_lag_seconds: float | None = None
    webhook: bool = False
    already_done: frozenset[tuple[str, str]] = frozenset()

    def __post_init__(self) -> None:
        if self.replay_window_seconds < 0:
            raise ValueError("replay_window_seconds cannot be negative")
        if self.search_lag_seconds is not None and self.search_lag_seconds < 0:
            raise ValueError("search_lag_seconds cannot be negative")
