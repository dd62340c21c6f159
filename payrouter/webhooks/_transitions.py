"""Which status a notification may move a payment to: a table, so nothing moves backwards.

Late or out-of-order events (a ``processing`` after ``succeeded``) find no row here and
become acknowledged no-ops instead of rewinding the payment.
"""

from .._models import PaymentStatus as S

_OPEN = frozenset({S.PROCESSING, S.PENDING, S.REQUIRES_ACTION})

LEGAL: dict[S, frozenset[S]] = {
    S.PROCESSING: frozenset({S.PENDING, S.REQUIRES_ACTION, S.SUCCEEDED, S.DECLINED}),
    S.REQUIRES_ACTION: frozenset({S.PENDING, S.SUCCEEDED, S.DECLINED}),
    S.PENDING: frozenset({S.SUCCEEDED, S.DECLINED}),
    S.SUCCEEDED: frozenset(),
    S.DECLINED: frozenset(),
    S.FAILED: frozenset(),
}


def is_legal_transition(current: S, target: S) -> bool:
    """True when a notification may move ``current`` to ``target``."""
    return target in LEGAL.get(current, frozenset())
