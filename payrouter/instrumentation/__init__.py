"""What an operator sees: the router's events, hooks that receive them, and exporters.

The router emits frozen, secret-free events (`payrouter.instrumentation.Event`); a `Hook` decides
what to do with them. Bundled hooks log (`LoggingHook`, `StructlogHook`), count
(`PrometheusHook`, `RouterCollector`, `metrics_app`) and trace (`OpenTelemetryHook`);
`listen`/`on_failover`/`on_breaker_change` wire a plain function to the events that page
someone. `redact` and `redact_text` are the one scrubber every exporter uses.
"""

from .._public import present_as_public
from ._events import (
    AmountMismatch,
    AttemptFinished,
    AttemptStarted,
    BreakerStateChanged,
    CandidateSkipped,
    DeclineReattempt,
    Event,
    FailedOver,
    FollowUpFinished,
    Hook,
    LoggingHook,
    PaymentFinished,
    PaymentShed,
    RetryScheduled,
    RoutePlanned,
    SharedStateChanged,
    WebhookReceived,
)
from ._listeners import listen, on_breaker_change, on_failover
from ._logs import RedactingFilter, StructlogHook, json_logger, redact_processor
from ._metrics import PrometheusHook, RouterCollector, metrics_app
from ._otel import OpenTelemetryHook
from ._redact import redact, redact_text

__all__ = [
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
]

present_as_public(__name__, __all__, globals())
