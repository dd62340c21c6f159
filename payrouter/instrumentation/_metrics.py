"""Prometheus metrics: counters and histograms fed by router events, gauges read at scrape time.

Counts come from events (so they are exact and cost one label lookup per event); state that
is not an event (breaker state, outbox depth, retry budget, rate-limit tokens) is read from
the router by a custom collector when Prometheus scrapes, so it is never stale. Labels are
bounded: provider, method, outcome, failure kind, status, reason; never an order id.
`prometheus-client` is optional (extra `[metrics]`) and imported only when used.
"""

from __future__ import annotations

import functools
import inspect
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, Final

from ._redact import redact_text

if TYPE_CHECKING:
    from prometheus_client import CollectorRegistry
    from prometheus_client.metrics_core import Metric

__all__ = [
    "BREAKER_STATE_VALUES",
    "METRIC_NAMES",
    "PrometheusHook",
    "RouterCollector",
    "metrics_app",
]

BREAKER_STATE_VALUES: Final = {"closed": 0.0, "half-open": 1.0, "half_open": 1.0, "open": 2.0}
"""`payrouter_breaker_state` values: 0 closed, 1 half-open, 2 open (alert on `== 2`)."""

_LATENCY_BUCKETS: Final = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

METRIC_NAMES: Final = (
    "payrouter_events_total",
    "payrouter_attempts_total",
    "payrouter_attempt_duration_seconds",
    "payrouter_attempt_tries",
    "payrouter_payments_total",
    "payrouter_retries_total",
    "payrouter_failovers_total",
    "payrouter_decline_reattempts_total",
    "payrouter_candidates_skipped_total",
    "payrouter_breaker_transitions_total",
    "payrouter_shared_state_degraded",
    "payrouter_breaker_state",
    "payrouter_retry_budget_remaining",
    "payrouter_rate_limit_tokens",
    "payrouter_outbox_depth",
    "payrouter_outbox_oldest_age_seconds",
    "payrouter_followups_total",
    "payrouter_discrepancies_open",
    "payrouter_discrepancy_oldest_age_seconds",
    "payrouter_payments_shed_total",
    "payrouter_admission_limit",
    "payrouter_admission_in_flight",
    "payrouter_event_loop_lag_ms",
)
"""Every metric family payrouter defines (without the `_bucket`/`_count`/`_sum` suffixes)."""


def _prometheus() -> Any:
    try:
        import prometheus_client
    except ImportError as error:
        raise ImportError(
            "payrouter metrics need prometheus-client: pip install 'payrouter[metrics]'"
        ) from error
    return prometheus_client


@functools.lru_cache(maxsize=4096)
def _redacted_label(text: str) -> str:
    """Cached: label values are few (bounded by design), and events are on the payment path."""
    return redact_text(text)


def _label(value: object) -> str:
    """Enum members by value, None as empty, text redacted: a label is exported as it is, so
    a provider name or reason carrying a secret must be masked here like any log field."""
    if value is None:
        return ""
    return _redacted_label(str(getattr(value, "value", value)))


_CAMEL: Final = re.compile(r"(?<!^)(?=[A-Z])")


class PrometheusHook:
    """A hook counting router events into a Prometheus registry.

    Pass it in `hooks=[...]`, then `watch(router)` so the scrape also reports breaker states
    (and outbox depth, retry budget, rate-limit tokens where the router exposes them).
    `registry` defaults to prometheus-client's global `REGISTRY`; use one hook per registry.
    """

    def __init__(
        self,
        registry: CollectorRegistry | None = None,
        *,
        latency_buckets: Iterable[float] = _LATENCY_BUCKETS,
    ) -> None:
        prom = _prometheus()
        self.registry: CollectorRegistry = registry if registry is not None else prom.REGISTRY
        reg = self.registry
        self._events = prom.Counter(
            "payrouter_events_total", "Router events by type (every event, new ones too).",
            ["event"], registry=reg,
        )  # fmt: skip
        self._attempts = prom.Counter(
            "payrouter_attempts_total", "Attempts finished, by outcome and failure kind.",
            ["provider", "method", "outcome", "failure_kind"], registry=reg,
        )  # fmt: skip
        self._duration = prom.Histogram(
            "payrouter_attempt_duration_seconds",
            "Time from an attempt's first call to its outcome, retries included.",
            ["provider", "method", "outcome"], buckets=tuple(latency_buckets), registry=reg,
        )  # fmt: skip
        self._tries = prom.Histogram(
            "payrouter_attempt_tries", "Calls made to one provider within one attempt.",
            ["provider", "method"], buckets=(1, 2, 3, 4, 5, 8), registry=reg,
        )  # fmt: skip
        self._payments = prom.Counter(
            "payrouter_payments_total", "Payments finished, by status and provider.",
            ["status", "provider", "failure_kind", "alert"], registry=reg,
        )  # fmt: skip
        self._retries = prom.Counter(
            "payrouter_retries_total", "Retries scheduled at the same provider.",
            ["provider", "failure_kind"], registry=reg,
        )  # fmt: skip
        self._failovers = prom.Counter(
            "payrouter_failovers_total", "Failovers away from a provider (money provably unmoved).",
            ["from_provider", "method", "failure_kind"], registry=reg,
        )  # fmt: skip
        self._reattempts = prom.Counter(
            "payrouter_decline_reattempts_total",
            "Soft-declined cards with another acquirer holding a credential for them, by "
            "outcome (reattempted, card_limit, advice).",
            ["from_provider", "to_provider", "outcome"], registry=reg,
        )  # fmt: skip
        self._skipped = prom.Counter(
            "payrouter_candidates_skipped_total", "Candidates not called, by reason.",
            ["provider", "method", "reason"], registry=reg,
        )  # fmt: skip
        self._transitions = prom.Counter(
            "payrouter_breaker_transitions_total", "Breaker state changes.",
            ["provider", "method", "new_state"], registry=reg,
        )  # fmt: skip
        self._degraded = prom.Gauge(
            "payrouter_shared_state_degraded",
            "1 while shared state (Redis) is unreachable and this process runs on local state.",
            registry=reg,
        )
        self._followups = prom.Counter(
            "payrouter_followups_total",
            "Follow-up sends by kind and the status they left it in (queued: provider owes).",
            ["provider", "kind", "status", "failure_kind"], registry=reg,
        )  # fmt: skip
        self._mismatches = prom.Counter(
            "payrouter_amount_mismatches_total",
            "Amounts a provider reported that differ from the payment's (never marked paid).",
            ["provider", "source", "result"], registry=reg,
        )  # fmt: skip
        self._shed = prom.Counter(
            "payrouter_payments_shed_total",
            "Payments refused at admission (CapacityExhaustedError): nothing written or sent.",
            registry=reg,
        )
        self._handlers = self._event_handlers()

    def _event_handlers(self) -> dict[str, Callable[[Any], None]]:
        """Which metric each event type moves, by the event's class name."""
        return {
            "PaymentShed": lambda e: self._shed.inc(),
            "AttemptFinished": self._attempt_finished,
            "PaymentFinished": self._payment_finished,
            "RetryScheduled": lambda e: self._retries.labels(
                _label(e.provider), _label(e.failure_kind)
            ).inc(),
            "FailedOver": lambda e: self._failovers.labels(
                _label(e.from_provider), _label(e.method), _label(e.failure_kind)
            ).inc(),
            "DeclineReattempt": lambda e: self._reattempts.labels(
                _label(e.from_provider), _label(e.to_provider), _label(e.outcome)
            ).inc(),
            "CandidateSkipped": lambda e: self._skipped.labels(
                _label(e.provider), _label(e.method), _label(e.reason)
            ).inc(),
            "BreakerStateChanged": lambda e: self._transitions.labels(
                _label(e.provider), _label(e.method), _label(e.new_state)
            ).inc(),
            "AmountMismatch": lambda e: self._mismatches.labels(
                _label(e.provider), _label(e.source), _label(e.result)
            ).inc(),
            "SharedStateChanged": lambda e: self._degraded.set(0 if e.available else 1),
            "FollowUpFinished": lambda e: self._followups.labels(
                _label(e.provider), _label(e.kind), _label(e.status), _label(e.failure_kind)
            ).inc(),
        }

    def __call__(self, event: object) -> None:
        name = type(event).__name__
        self._events.labels(_CAMEL.sub("_", name).lower()).inc()
        handler = self._handlers.get(name)
        if handler is not None:
            handler(event)

    def _attempt_finished(self, event: Any) -> None:
        provider, method, outcome = (
            _label(event.provider),
            _label(event.method),
            _label(event.outcome),
        )
        self._attempts.labels(provider, method, outcome, _label(event.failure_kind)).inc()
        self._duration.labels(provider, method, outcome).observe(event.latency_ms / 1000.0)
        self._tries.labels(provider, method).observe(event.tries)

    def _payment_finished(self, event: Any) -> None:
        self._payments.labels(
            _label(event.status),
            _label(event.provider),
            _label(event.failure_kind),
            "true" if event.alert else "false",
        ).inc()

    def watch(self, router: object) -> RouterCollector:
        """Report `router`'s state (breakers, and outbox/budget/tokens once it has them)."""
        collector = RouterCollector(router)
        self.registry.register(collector)
        return collector


class RouterCollector:
    """Reads a router's state at scrape time.

    Duck-typed on purpose, so state that other parts of payrouter add later is reported
    without changing this class's callers. Each seam is a synchronous method on the router:

    - `breaker_states() -> {(provider, method): "closed" | "half-open" | "open"}`
    - `retry_budget_remaining()` or `retry_budget_left() -> float` (or `{provider: float}`)
    - `rate_limit_tokens() -> {provider: float}`
    - `admission_state() -> {"limit", "in_flight", "lag_ms", ...: float}`
    - `outbox_stats()` (synchronous) giving `depth` and `oldest_age_seconds` as keys or
      attributes, or `outbox_depth() -> int` and `outbox_oldest_age_seconds() -> float`
    - `open_discrepancy_stats()` giving `open` and `oldest_age_seconds` (records
      reconciliation's differences not yet resolved or acknowledged)

    A seam the router lacks is left out of the scrape; one that raises is skipped, because
    a scrape must never break (the failure shows as the missing series).
    """

    def __init__(self, router: object) -> None:
        self._router = router

    def _read(self, *names: str) -> Any:
        """The first of `names` the router has, called; None if none or it raised."""
        for name in names:
            reader = getattr(self._router, name, None)
            if callable(reader):
                try:
                    return reader()
                except Exception:
                    return None
        return None

    def describe(self) -> list[Metric]:
        """Nothing up front: families appear only when their seam exists."""
        return []

    def collect(self) -> Iterator[Metric]:
        core = _prometheus().metrics_core
        states = self._read("breaker_states")
        if isinstance(states, Mapping):
            family = core.GaugeMetricFamily(
                "payrouter_breaker_state",
                "Breaker state per provider and method: 0 closed, 1 half-open, 2 open.",
                labels=["provider", "method"],
            )
            for (provider, method), state in sorted(states.items(), key=str):
                value = BREAKER_STATE_VALUES.get(str(state).lower(), -1.0)
                family.add_metric([_label(provider), _label(method)], value)
            yield family
        budget = self._read("retry_budget_remaining", "retry_budget_left")
        if budget is not None:
            yield self._per_provider(
                core,
                "payrouter_retry_budget_remaining",
                "Retries still allowed by the retry budget.",
                budget,
            )
        tokens = self._read("rate_limit_tokens")
        if tokens is not None:
            yield self._per_provider(
                core, "payrouter_rate_limit_tokens", "Rate-limit tokens left per provider.", tokens
            )
        admission = self._read("admission_state")
        if isinstance(admission, Mapping):
            yield from _admission_families(core, admission)
        stats = self._read("outbox_stats")
        if inspect.isawaitable(stats):  # an async reader cannot run inside a scrape
            getattr(stats, "close", lambda: None)()
            stats = None
        depth = self._read("outbox_depth")
        age = self._read("outbox_oldest_age_seconds")
        if stats is not None:
            depth = _field(stats, "depth", "pending", "size", "queued")
            age = _field(stats, "oldest_age_seconds", "oldest_seconds", "oldest_age")
        if depth is not None:
            yield core.GaugeMetricFamily(
                "payrouter_outbox_depth", "Follow-ups queued durably, waiting to be sent.", depth
            )
        if age is not None:
            yield core.GaugeMetricFamily(
                "payrouter_outbox_oldest_age_seconds",
                "Age of the oldest queued follow-up (0 when the outbox is empty).",
                age,
            )
        yield from self._discrepancies(core)

    def _discrepancies(self, core: Any) -> Iterator[Metric]:
        stats = self._read("open_discrepancy_stats")
        if stats is None:
            return
        count, age = _field(stats, "open"), _field(stats, "oldest_age_seconds")
        if count is not None:
            yield core.GaugeMetricFamily(
                "payrouter_discrepancies_open",
                "Differences between the ledger and providers' records, not yet resolved or "
                "acknowledged.",
                count,
            )
        if age is not None:
            yield core.GaugeMetricFamily(
                "payrouter_discrepancy_oldest_age_seconds",
                "How long the oldest open discrepancy has been open (0 when none is).",
                age,
            )

    @staticmethod
    def _per_provider(core: Any, name: str, documentation: str, value: object) -> Metric:
        if isinstance(value, Mapping):
            family = core.GaugeMetricFamily(name, documentation, labels=["provider"])
            for provider, amount in sorted(value.items(), key=str):
                family.add_metric([_label(provider)], float(amount))
            return family  # type: ignore[no-any-return]
        return core.GaugeMetricFamily(name, documentation, float(value))  # type: ignore[no-any-return,arg-type]


_ADMISSION_GAUGES: Final = (
    ("limit", "payrouter_admission_limit", "Payments this process admits in flight (adaptive)."),
    ("in_flight", "payrouter_admission_in_flight", "Payments in flight in this process."),
    ("lag_ms", "payrouter_event_loop_lag_ms", "The event loop's last measured lag."),
)


def _admission_families(core: Any, state: Mapping[str, object]) -> Iterator[Metric]:
    for key, name, documentation in _ADMISSION_GAUGES:
        value = state.get(key)
        if isinstance(value, int | float):
            yield core.GaugeMetricFamily(name, documentation, float(value))


def _field(stats: object, *names: str) -> float | None:
    """The first of `names` present in `stats` (a mapping or an object), as a float."""
    for name in names:
        value = stats.get(name) if isinstance(stats, Mapping) else getattr(stats, name, None)
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
    return None


def metrics_app(registry: CollectorRegistry | None = None) -> Any:
    """An ASGI app serving `registry` (default: the global one) in Prometheus' text format.

    Mount it at `/metrics` (FastAPI/Starlette: `app.mount("/metrics", metrics_app())`).
    """
    prom = _prometheus()
    return prom.make_asgi_app(registry=registry if registry is not None else prom.REGISTRY)
