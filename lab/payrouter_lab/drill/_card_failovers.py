"""Which card failovers the drill's customers made possible: a card can go on to another
card provider only if it holds a credential there (no provider charges another's token).

For payrouter's run, each payment's route (`RoutePlanned`) says which card providers hold a
credential for its card and which were left out and why; a card provider the router moved
on from (`FailedOver`) or skipped (`CandidateSkipped`: breaker open, maintenance) made a
failover needed. It was possible when another card provider was in the route, and not
possible otherwise, for the reason the route gave ("no credential for card_b").
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence

from ._figures import PaymentRecord

__all__ = ["MADE", "NOT_POSSIBLE", "POSSIBLE", "card_failover", "card_failover_figures"]

MADE = "made"
"""Needed, possible, and the card was then taken by another card provider."""
POSSIBLE = "possible"
"""Needed and possible (another card provider held a credential), but not taken there."""
NOT_POSSIBLE = "not possible: "
"""Prefix of the verdict of a needed failover no other card provider could take, then why."""


def card_failover(
    left: set[str], route: Sequence[str], excluded: Mapping[str, str], taken_by: str | None
) -> str | None:
    """One payment's verdict: None (no card failover needed), `MADE`, `POSSIBLE`, or
    `NOT_POSSIBLE` and why (the route's reasons for the card providers left out).

    Args:
        left: card providers the router moved on from or skipped for this payment.
        route: card providers in its route (each holds a credential for the card).
        excluded: card providers left out of the route -> why.
        taken_by: the card provider that took the payment, if one did.
    """
    if not left:
        return None
    if len(set(route)) > 1:
        return MADE if taken_by is not None and taken_by not in left else POSSIBLE
    reasons = {why.split(" in ")[0] for provider, why in excluded.items() if provider not in left}
    return NOT_POSSIBLE + ("; ".join(sorted(reasons)) or "no other card provider")


def card_failover_figures(records: Sequence[PaymentRecord]) -> dict[str, object]:
    """`card_failovers` of payrouter's report.json entry: how many card failovers were
    needed, how many were possible (and made), and the others by why they were not."""
    verdicts = [str(r.card_failover) for r in records if r.card_failover is not None]
    needed = len(verdicts)
    possible = sum(1 for v in verdicts if v in (MADE, POSSIBLE))
    why_not = Counter(v.removeprefix(NOT_POSSIBLE) for v in verdicts if v.startswith(NOT_POSSIBLE))
    return {
        "needed": needed,
        "possible": possible,
        "possible_share": round(possible / needed, 4) if needed else None,
        "made": sum(1 for v in verdicts if v == MADE),
        "not_possible": dict(why_not.most_common()),
    }
