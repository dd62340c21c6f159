"""payrouter: route payments across providers with breakers, retries and safe failover.

Everything public is re-exported here; modules starting with `_` are private.
"""

from ._adapter import Adapter, AdapterFactory, Capabilities, Charge, PaymentHandle, ProviderReply
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
from ._taxonomy import POLICY, FailureKind, FailurePolicy, Outcome, policy_for
from ._version import __version__

__all__ = [
    "POLICY",
    "Adapter",
    "AdapterFactory",
    "AllProvidersUnavailableError",
    "AttemptSummary",
    "BankTransferSource",
    "Capabilities",
    "CardSource",
    "Charge",
    "ConfigurationError",
    "CurrencyCode",
    "FailureKind",
    "FailurePolicy",
    "IdempotencyConflictError",
    "InvalidPaymentError",
    "LedgerUnavailableError",
    "Money",
    "NoEligibleProviderError",
    "Outcome",
    "PaymentError",
    "PaymentHandle",
    "PaymentInProgressError",
    "PaymentMethod",
    "PaymentRequest",
    "PaymentResult",
    "PaymentSource",
    "PaymentStatus",
    "PayrouterError",
    "ProviderRejectedRequestError",
    "ProviderReply",
    "RouterClosedError",
    "WalletSource",
    "__version__",
    "currency_exponent",
    "policy_for",
]
