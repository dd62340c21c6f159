"""payrouter: route payments across providers with breakers, retries and safe failover.

What a checkout needs is here: the router, its settings, the payment models, money, results and
the one exception tree. Three public subpackages hold the rest: `payrouter.provider` for adapter
authors, `payrouter.instrumentation` for events, hooks and exporters, `payrouter.webhooks` for
provider notifications, and `payrouter.testing` for tests. Modules starting with `_` are private.
"""

from ._errors import (
    AllProvidersUnavailableError,
    CapacityExhaustedError,
    ConfigurationError,
    FollowUpNotAllowedError,
    FollowUpRefusedError,
    IdempotencyConflictError,
    InvalidPaymentError,
    LedgerUnavailableError,
    NoEligibleProviderError,
    OutcomeNotRecordedError,
    PaymentError,
    PaymentInProgressError,
    PayrouterError,
    ProviderRejectedRequestError,
    RouterClosedError,
)
from ._followups import FollowUp, FollowUpKind, FollowUpStatus, OutboxStats
from ._health._maintenance import MaintenanceWindow
from ._health._protection import ProviderLimits
from ._ledger import ProviderHealth
from ._models import (
    AttemptSummary,
    BankTransferSource,
    CardSource,
    Mandate,
    NetworkToken,
    PaymentMethod,
    PaymentRequest,
    PaymentResult,
    PaymentSource,
    PaymentStatus,
    VaultCard,
    WalletSource,
)
from ._money import CurrencyCode, Money, currency_exponent
from ._paying._fees import FeeRule, fee_minor
from ._paying._routing import ProviderRouting, RoutingPolicy, Strategy, StrategyName
from ._public import present_as_public
from ._reconcile._payments import OpenPayment, ReconcileChange, ReconcileReport
from ._reconcile._records import Mismatch, MismatchKind, RecordsReport
from ._router import Router
from ._settings import (
    AdmissionSettings,
    BreakerSettings,
    OutboxSettings,
    RetryBudgetSettings,
    RetrySettings,
    RouterSettings,
    SoftDeclineSettings,
)
from ._sync import SyncRouter
from ._testmode import set_testing
from ._version import __version__

__all__ = [
    "AdmissionSettings",
    "AllProvidersUnavailableError",
    "AttemptSummary",
    "BankTransferSource",
    "BreakerSettings",
    "CapacityExhaustedError",
    "CardSource",
    "ConfigurationError",
    "CurrencyCode",
    "FeeRule",
    "FollowUp",
    "FollowUpKind",
    "FollowUpNotAllowedError",
    "FollowUpRefusedError",
    "FollowUpStatus",
    "IdempotencyConflictError",
    "InvalidPaymentError",
    "LedgerUnavailableError",
    "MaintenanceWindow",
    "Mandate",
    "Mismatch",
    "MismatchKind",
    "Money",
    "NetworkToken",
    "NoEligibleProviderError",
    "OpenPayment",
    "OutboxSettings",
    "OutboxStats",
    "OutcomeNotRecordedError",
    "PaymentError",
    "PaymentInProgressError",
    "PaymentMethod",
    "PaymentRequest",
    "PaymentResult",
    "PaymentSource",
    "PaymentStatus",
    "PayrouterError",
    "ProviderHealth",
    "ProviderLimits",
    "ProviderRejectedRequestError",
    "ProviderRouting",
    "ReconcileChange",
    "ReconcileReport",
    "RecordsReport",
    "RetryBudgetSettings",
    "RetrySettings",
    "Router",
    "RouterClosedError",
    "RouterSettings",
    "RoutingPolicy",
    "SoftDeclineSettings",
    "Strategy",
    "StrategyName",
    "SyncRouter",
    "VaultCard",
    "WalletSource",
    "__version__",
    "currency_exponent",
    "fee_minor",
    "set_testing",
]

present_as_public(__name__, [name for name in __all__ if name != "__version__"], globals())
