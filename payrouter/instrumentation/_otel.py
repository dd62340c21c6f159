"""OpenTelemetry spans for a payment and each of its attempts, built from router events.

Hooks see events, not calls, so spans are opened and closed by events: a payment's span
opens on its first event (inside `router.pay`, so the merchant's current span is its parent)
and ends on `PaymentFinished`; an attempt's span runs from `AttemptStarted` to
`AttemptFinished`. Retries, failovers and skipped candidates are span events on the payment.
`opentelemetry-api` is optional (extra `[otel]`) and imported only when the hook is built.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any, Final

from ._redact import redact

__all__ = ["OpenTelemetryHook"]

# Events emitted inside `router.pay`: they open (or continue) the payment's span.
_PAYMENT_PATH: Final = frozenset(
    {
        "AttemptStarted",
        "AttemptFinished",
        "RetryScheduled",
        "FailedOver",
        "DeclineReattempt",
        "CandidateSkipped",
        "PaymentFinished",
    }
)


def _attribute(value: object) -> str | int | float | bool:
    safe = redact(getattr(value, "value", value))
    return safe if isinstance(safe, str | int | float | bool) else str(safe)


class OpenTelemetryHook:
    """Spans `payrouter.payment` and `payrouter.attempt` on the merchant's tracer provider.

    `max_open` bounds the spans kept for payments whose `PaymentFinished` never comes (a
    crash between events): the oldest is ended, marked `payrouter.abandoned`, when exceeded.
    """

    def __init__(self, tracer_provider: Any = None, *, max_open: int = 10_000) -> None:
        try:
            from opentelemetry import trace
        except ImportError as error:
            raise ImportError(
                "payrouter tracing needs opentelemetry-api: pip install 'payrouter[otel]'"
            ) from error
        self._trace = trace
        self._tracer = trace.get_tracer("payrouter", tracer_provider=tracer_provider)
        self._max_open = max_open
        self._payments: OrderedDict[str, Any] = OrderedDict()
        self._attempts: dict[tuple[str, int], Any] = {}
        self._lock = threading.Lock()  # SyncRouter may deliver events from worker threads

    def __call__(self, event: object) -> None:
        order_id = getattr(event, "order_id", None)
        if not isinstance(order_id, str):
            return  # breaker and shared-state events belong to no payment
        name = type(event).__name__
        with self._lock:
            if name not in _PAYMENT_PATH and order_id not in self._payments:
                # An event outside `router.pay` (a webhook, a follow-up, a late refresh):
                # a span of its own instead of a payment span nothing would end.
                self._tracer.start_span(
                    f"payrouter.{name}", attributes=_attributes(event, skip="")
                ).end()
                return
            payment = self._payment_span(order_id)
            if name == "AttemptStarted":
                self._start_attempt(payment, event)
            elif name == "AttemptFinished":
                self._finish_attempt(event)
            elif name == "PaymentFinished":
                self._finish_payment(order_id, event)
            else:
                # Retries, failovers, skips, and any event type added later.
                payment.add_event(f"payrouter.{name}", _attributes(event, skip="order_id"))

    def _payment_span(self, order_id: str) -> Any:
        span = self._payments.get(order_id)
        if span is None:
            span = self._tracer.start_span(
                "payrouter.payment", attributes={"payrouter.order_id": _attribute(order_id)}
            )
            self._payments[order_id] = span
            while len(self._payments) > self._max_open:
                _, oldest = self._payments.popitem(last=False)
                oldest.set_attribute("payrouter.abandoned", True)
                oldest.end()
        return span

    def _start_attempt(self, payment: Any, event: Any) -> None:
        context = self._trace.set_span_in_context(payment)
        self._attempts[(event.order_id, event.attempt)] = self._tracer.start_span(
            "payrouter.attempt",
            context=context,
            attributes=_attributes(event, skip="order_id"),
        )

    def _finish_attempt(self, event: Any) -> None:
        span = self._attempts.pop((event.order_id, event.attempt), None)
        if span is None:
            return
        span.set_attributes(_attributes(event, skip="order_id"))
        outcome = str(getattr(event.outcome, "value", event.outcome))
        if outcome != "succeeded":
            span.set_status(self._trace.Status(self._trace.StatusCode.ERROR, outcome))
        span.end()

    def _finish_payment(self, order_id: str, event: Any) -> None:
        span = self._payments.pop(order_id)
        for key in [key for key in self._attempts if key[0] == order_id]:
            self._attempts.pop(key).end()
        span.set_attributes(_attributes(event, skip="order_id"))
        if event.alert or str(getattr(event.status, "value", event.status)) == "failed":
            span.set_status(self._trace.Status(self._trace.StatusCode.ERROR, "payment failed"))
        span.end()


def _attributes(event: object, *, skip: str) -> dict[str, str | int | float | bool]:
    """`payrouter.<field>` for each non-empty field, redacted, enums by value."""
    fields = getattr(type(event), "__dataclass_fields__", {})
    return {
        f"payrouter.{name}": _attribute(getattr(event, name))
        for name in fields
        if name != skip and getattr(event, name) is not None
    }
