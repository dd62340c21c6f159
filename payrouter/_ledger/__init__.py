"""The durable record of every payment and attempt: written before each call, finished after."""

from ._fence import LeaseLostError, held_by
from ._records import AttemptOutcome, AttemptRow, Claim, ClaimKind, Ledger, PaymentUpdate
from ._runner import RECORD_GRACE_SECONDS, payment_deadline
from ._sql import SqlLedger
from ._stats import ProviderHealth

__all__ = [
    "RECORD_GRACE_SECONDS",
    "AttemptOutcome",
    "AttemptRow",
    "Claim",
    "ClaimKind",
    "LeaseLostError",
    "Ledger",
    "PaymentUpdate",
    "ProviderHealth",
    "SqlLedger",
    "held_by",
    "payment_deadline",
]
