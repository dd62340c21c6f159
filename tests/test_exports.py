"""The public API is what six packages' `__all__` lists, pinned here name by name.

A name added to or removed from the public API changes this file in the same commit, so a
review sees every change to what merchants and adapter authors may import. Everything else
lives in private modules (`_name`), which other distributions may not import (import-linter).
"""

from __future__ import annotations

import importlib
import types
import typing

import pytest

PUBLIC: dict[str, tuple[str, ...]] = {
    "payrouter": (
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
    ),
    "payrouter.provider": (
        "DECLINE_TYPES",
        "POLICY",
        "Adapter",
        "AdapterFactory",
        "Advice",
        "Capabilities",
        "Charge",
        "CompletesApproval",
        "CredentialRules",
        "DeclineType",
        "FailureKind",
        "FailurePolicy",
        "ForwardProxyVault",
        "ForwardingVault",
        "HttpAdapter",
        "HttpOptions",
        "NextAction",
        "Outcome",
        "PaymentHandle",
        "ProviderRecord",
        "ProviderReply",
        "RecordsNotReadyError",
        "RecordsSource",
        "Resolution",
        "SubmitsDetails",
        "UnsendableError",
        "adapters_from_config",
        "policy_for",
    ),
    "payrouter.instrumentation": (
        "AmountMismatch",
        "AttemptFinished",
        "AttemptStarted",
        "BreakerStateChanged",
        "CandidateSkipped",
        "DeclineReattempt",
        "Event",
        "FailedOver",
        "FollowUpFinished",
        "Hook",
        "LoggingHook",
        "OpenTelemetryHook",
        "PaymentFinished",
        "PaymentShed",
        "PrometheusHook",
        "RedactingFilter",
        "RetryScheduled",
        "RoutePlanned",
        "RouterCollector",
        "SharedStateChanged",
        "StructlogHook",
        "WebhookReceived",
        "json_logger",
        "listen",
        "metrics_app",
        "on_breaker_change",
        "on_failover",
        "redact",
        "redact_processor",
        "redact_text",
    ),
    "payrouter.webhooks": (
        "Answer",
        "Effect",
        "ForgedNotificationError",
        "MalformedNotificationError",
        "NotificationDeferredError",
        "NotificationTooLargeError",
        "Receipt",
        "StaleNotificationError",
        "VerificationUnavailableError",
        "WebhookError",
        "WebhookEvent",
        "WebhookReceiver",
        "WebhookResult",
        "WebhookSource",
        "app",
        "load_json_object",
    ),
    "payrouter.testing": (
        "Behavior",
        "BookEntry",
        "FollowUpEntry",
        "HttpAnswer",
        "ScriptedProvider",
        "SimulatedAdapter",
        "SimulatedProvider",
        "UnscriptedRequestError",
        "set_testing",
    ),
    "payrouter.testing.pytest_plugin": ("SimulatedProviders", "payrouter_simulated"),
    "payrouter.testing.conformance": (
        "AdapterCase",
        "AdapterConformance",
        "FollowUpCase",
        "LookupCase",
        "idempotency_key_header",
    ),
}


def _ruff_isort_key(name: str) -> tuple[int, str]:
    """RUF022's order: SCREAMING_SNAKE_CASE, then CamelCase, then everything else."""
    if len(name) > 1 and name.isupper():
        return (0, name)
    if name[0].isupper():
        return (1, name)
    return (2, name)


@pytest.mark.parametrize("package", list(PUBLIC))
def test_the_public_api_is_exactly_the_pinned_list(package: str) -> None:
    """Each public package exports exactly the names pinned above, sorted as ruff sorts them."""
    module = importlib.import_module(package)
    assert tuple(module.__all__) == PUBLIC[package]
    assert list(module.__all__) == sorted(module.__all__, key=_ruff_isort_key)


@pytest.mark.parametrize(
    ("package", "name"),
    [(package, name) for package, names in PUBLIC.items() for name in names],
)
def test_every_public_name_imports_and_is_not_a_module(package: str, name: str) -> None:
    """`from <package> import <name>` works, and no module object leaks into the API."""
    namespace: dict[str, object] = {}
    exec(f"from {package} import {name}", namespace)
    assert not isinstance(namespace[name], types.ModuleType)


@pytest.mark.parametrize(
    "package",
    ["payrouter", "payrouter.provider", "payrouter.instrumentation", "payrouter.webhooks"],
)
def test_public_errors_say_where_to_import_them_from(package: str) -> None:
    """Tracebacks read `payrouter.DeclinedError`, not `payrouter._errors.DeclinedError`."""
    module = importlib.import_module(package)
    for name in module.__all__:
        item = getattr(module, name)
        if isinstance(item, type) and issubclass(item, BaseException):
            assert item.__module__ == package, name


@pytest.mark.parametrize(
    "package", ["payrouter", "payrouter.provider", "payrouter.instrumentation"]
)
def test_public_classes_keep_their_type_hints_resolvable(package: str) -> None:
    """`typing.get_type_hints` works on every public class (pydantic and FastAPI rely on it)."""
    module = importlib.import_module(package)
    for name in module.__all__:
        item = getattr(module, name)
        if isinstance(item, type) and not issubclass(item, BaseException):
            typing.get_type_hints(item)


def test_the_core_top_level_stays_small() -> None:
    """A checkout needs about fifty names; the rest lives in the public subpackages."""
    assert len(PUBLIC["payrouter"]) <= 60


def test_no_public_name_is_exported_from_two_places_except_the_testing_switch() -> None:
    """One home per name, so docs and imports agree; `set_testing` is also offered to tests."""
    seen: dict[str, str] = {}
    for package, names in PUBLIC.items():
        for name in names:
            if name in seen and name != "set_testing":
                pytest.fail(f"{name} is exported by {seen[name]} and {package}")
            seen[name] = package
