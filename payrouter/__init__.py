"""payrouter: route payments across providers with breakers, retries and safe failover.

Everything public is re-exported here; modules starting with `_` are private.
"""

from ._adapter import (
    Adapter,
    AdapterFactory,
    Capabilities,
    Charge,
    CompletesApproval,
    PaymentHandle,
    ProviderReply,
)
from ._errors import (
    AllProvidersUnavailableError,
    ConfigurationError,
    IdempotencyConflictError,
    InvalidPaymentError,
    LedgerUnavailableError,
    NoEligibleProviderError,
    PaymentError,
    PaymentInProgressError,
    PayrouterError,
    ProviderRejectedRequestError,
    RouterClosedError,
)
from ._hooks import (
    AttemptFinished,
    AttemptStarted,
    BreakerStateChanged,
    CandidateSkipped,
    Event,
    FailedOver,
    Hook,
    LoggingHook,
    PaymentFinished,
    RetryScheduled,
    SharedStateChanged,
)
from ._ledger import ProviderHealth
from ._models import (
    AttemptSummary,
    BankTransferSource,
    CardSource,
    PaymentMethod,
    PaymentRequest,
    PaymentResult,
    PaymentSource,
    PaymentStatus,
    WalletSource,
)
from ._money import CurrencyCode, Money, currency_exponent
from ._reconcile import ReconcileChange, ReconcileReport
from ._router import Router
from ._settings import BreakerSettings, RetrySettings, RouterSettings
from ._sync import SyncRouter
from ._taxonomy import POLICY, FailureKind, FailurePolicy, Outcome, policy_for
from ._testmode import set_testing
from ._version import __version__

__all__ = [
    "POLICY",
    "Adapter",
    "AdapterFactory",
    "AllProvidersUnavailableError",
    "AttemptFinished",
    "AttemptStarted",
    "AttemptSummary",
    "BankTransferSource",
    "BreakerSettings",
    "BreakerStateChanged",
    "CandidateSkipped",
    "Capabilities",
    "CardSource",
    "Charge",
    "CompletesApproval",
    "ConfigurationError",
    "CurrencyCode",
    "Event",
    "FailedOver",
    "FailureKind",
    "FailurePolicy",
    "Hook",
    "IdempotencyConflictError",
    "InvalidPaymentError",
    "LedgerUnavailableError",
    "LoggingHook",
    "Money",
    "NoEligibleProviderError",
    "Outcome",
    "PaymentError",
    "PaymentFinished",
    "PaymentHandle",
    "PaymentInProgressError",
    "PaymentMethod",
    "PaymentRequest",
    "PaymentResult",
    "PaymentSource",
    "PaymentStatus",
    "PayrouterError",
    "ProviderHealth",
    "ProviderRejectedRequestError",
    "ProviderReply",
    "ReconcileChange",
    "ReconcileReport",
    "RetryScheduled",
    "RetrySettings",
    "Router",
    "RouterClosedError",
    "RouterSettings",
    "SharedStateChanged",
    "SyncRouter",
    "WalletSource",
    "__version__",
    "currency_exponent",
    "policy_for",
    "set_testing",
]


def _present_as_public() -> None:
    """Make reprs and docs say `payrouter.Router`, not `payrouter._router.Router`."""
    for name in __all__:
        item = globals()[name]
        if isinstance(item, type) or callable(item):
            try:
                item.__module__ = __name__
            except (AttributeError, TypeError):
                continue


_present_as_public()
