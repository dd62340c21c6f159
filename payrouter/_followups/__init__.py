"""Captures, refunds, voids and mandate cancellations: recorded first, sent to the provider
that holds the payment, and kept in the ledger's outbox until that provider answers."""

from ._model import FollowUp, FollowUpKind, FollowUpStatus, OutboxStats
from ._service import FollowUps

__all__ = ["FollowUp", "FollowUpKind", "FollowUpStatus", "FollowUps", "OutboxStats"]
