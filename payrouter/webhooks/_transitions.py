"""Which status a notification may move a payment to: a table, so nothing moves backwards.

Late or out-of-order events (a ``processing`` after ``succeeded``) find no row here and
become acknowledged no-ops instead of rewinding the payment.
"""

from .._models import PaymentStatus as S

_PARTIAL = S.PARTIALLY_AUTHORISED

LEGAL: dict[S, frozenset[S]] = {
    S.PROCESSING: frozenset({S.PENDING, S.REQUIRES_ACTION, S.SUCCEEDED, S.DECLINED, _PARTIAL}),
    S.REQUIRES_ACTION: frozenset({S.PENDING, S.SUCCEEDED, S.DECLINED, _PARTIAL}),
    S.PENDING: frozenset({S.SUCCEEDED, S.DECLINED, _PARTIAL}),
    # Settled by the merchant's capture or void (follow-ups), not by another notification.
    S.PARTIALLY_AUTHORISED: frozenset(),
    S.SUCCEEDED: frozenset(),
    S.DECLINED: frozenset(),
    S.FAILED: frozenset(),
}


def is_legal_transition(current: S, target: S) -> bool:
    """True when a notification may move ``current`` to ``target``."""
    return target in LEGAL.get(current, frozenset())
