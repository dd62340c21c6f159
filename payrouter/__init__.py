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
    CapacityExhaustedError,
    ConfigurationError,
    FollowUpNotAllowedError,
    FollowUpRefusedError,
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
from ._fees import FeeRule, fee_minor
from ._followups import FollowUp, FollowUpKind, FollowUpStatus, OutboxStats
from ._hooks import (
    AttemptFinished,
    AttemptStarted,
    BreakerStateChanged,
    CandidateSkipped,
    Event,
    FailedOver,
    FollowUpFinished,
    Hook,
    LoggingHook,
    PaymentFinished,
    RetryScheduled,
    RoutePlanned,
    SharedStateChanged,
    WebhookReceived,
)
from ._ledger import ProviderHealth
from ._maintenance import MaintenanceWindow
from ._models import (
    AttemptSummary,
    BankTransferSource,
    CardSource,
    Mandate,
    PaymentMethod,
    PaymentRequest,
    PaymentResult,
    PaymentSource,
    PaymentStatus,
    WalletSource,
)
from ._money import CurrencyCode, Money, currency_exponent
from ._observe._listeners import listen, on_breaker_change, on_failover
from ._observe._logs import RedactingFilter, StructlogHook, json_logger, redact_processor
from ._observe._metrics import PrometheusHook, RouterCollector, metrics_app
from ._observe._otel import OpenTelemetryHook
from ._observe._redact import redact, redact_text
from ._protection import ProviderLimits
from ._reconcile import ReconcileChange, ReconcileReport
from ._records_reconcile import (
    Mismatch,
    MismatchKind,
    ProviderRecord,
    RecordsReport,
    RecordsSource,
)
from ._router import Router
from ._routing_policy import (
    Exclusion,
    ProviderRouting,
    RoutingPolicy,
    Strategy,
    StrategyName,
)
from ._settings import (
    BreakerSettings,
    OutboxSettings,
    RetryBudgetSettings,
    RetrySettings,
    RouterSettings,
)
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
    "CapacityExhaustedError",
    "CardSource",
    "Charge",
    "CompletesApproval",
    "ConfigurationError",
    "CurrencyCode",
    "Event",
    "Exclusion",
    "FailedOver",
    "FailureKind",
    "FailurePolicy",
    "FeeRule",
    "FollowUp",
    "FollowUpFinished",
    "FollowUpKind",
    "FollowUpNotAllowedError",
    "FollowUpRefusedError",
    "FollowUpStatus",
    "Hook",
    "IdempotencyConflictError",
    "InvalidPaymentError",
    "LedgerUnavailableError",
    "LoggingHook",
    "MaintenanceWindow",
    "Mandate",
    "Mismatch",
    "MismatchKind",
    "Money",
    "NoEligibleProviderError",
    "OpenTelemetryHook",
    "OutboxSettings",
    "OutboxStats",
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
    "PrometheusHook",
    "ProviderHealth",
    "ProviderLimits",
    "ProviderRecord",
    "ProviderRejectedRequestError",
    "ProviderReply",
    "ProviderRouting",
    "ReconcileChange",
    "ReconcileReport",
    "RecordsReport",
    "RecordsSource",
    "RedactingFilter",
    "RetryBudgetSettings",
    "RetryScheduled",
    "RetrySettings",
    "RoutePlanned",
    "Router",
    "RouterClosedError",
    "RouterCollector",
    "RouterSettings",
    "RoutingPolicy",
    "SharedStateChanged",
    "Strategy",
    "StrategyName",
    "StructlogHook",
    "SyncRouter",
    "WalletSource",
    "WebhookReceived",
    "__version__",
    "currency_exponent",
    "fee_minor",
    "json_logger",
    "listen",
    "metrics_app",
    "on_breaker_change",
    "on_failover",
    "policy_for",
    "redact",
    "redact_processor",
    "redact_text",
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
