"""OpenTelemetry: a span per payment with a child span per attempt, built from events."""

from __future__ import annotations

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import StatusCode
from pydantic import SecretStr

from payrouter import CardSource, Money, PaymentMethod, PaymentRequest, Router
from payrouter.instrumentation import AttemptStarted, OpenTelemetryHook
from payrouter.provider import Capabilities
from payrouter.testing import Behavior, SimulatedAdapter, SimulatedProvider

CARD = Capabilities(methods=frozenset({PaymentMethod.CARD}))


@pytest.fixture
def exporter_and_provider() -> tuple[InMemorySpanExporter, TracerProvider]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return exporter, provider


async def test_failover_payment_is_one_span_with_a_child_per_attempt(
    exporter_and_provider: tuple[InMemorySpanExporter, TracerProvider],
) -> None:
    """The failed attempt is an error span, the failover an event on the payment span, and
    the payment span is a child of the merchant's own span."""
    exporter, provider = exporter_and_provider
    card_a = SimulatedAdapter(SimulatedProvider("card_a"), capabilities=CARD)
    card_b = SimulatedAdapter(SimulatedProvider("card_b"), capabilities=CARD)
    card_a.provider.default = Behavior.unavailable()
    hook = OpenTelemetryHook(provider)
    tracer = provider.get_tracer("merchant")
    async with Router([card_a, card_b], ledger="sqlite://", hooks=[hook]) as router:
        with tracer.start_as_current_span("POST /checkout") as checkout:
            await router.pay(
                PaymentRequest(
                    order_id="order-9",
                    amount=Money.of("12.50", "EUR"),
                    sources=(CardSource(token=SecretStr("pm_card_visa")),),
                    customer_country="DE",
                )
            )
    spans = exporter.get_finished_spans()
    (payment,) = [span for span in spans if span.name == "payrouter.payment"]
    attempts = sorted(
        (span for span in spans if span.name == "payrouter.attempt"),
        key=lambda span: span.attributes["payrouter.attempt"],  # type: ignore[index]
    )
    assert payment.parent is not None
    assert payment.parent.span_id == checkout.get_span_context().span_id
    assert payment.attributes["payrouter.order_id"] == "order-9"  # type: ignore[index]
    assert payment.attributes["payrouter.status"] == "succeeded"  # type: ignore[index]
    assert payment.attributes["payrouter.provider"] == "card_b"  # type: ignore[index]
    assert [event.name for event in payment.events] == ["payrouter.FailedOver"]
    assert [a.attributes["payrouter.provider"] for a in attempts] == ["card_a", "card_b"]  # type: ignore[index]
    assert all(a.parent and a.parent.span_id == payment.context.span_id for a in attempts)
    failed, taken = attempts
    assert failed.status.status_code is StatusCode.ERROR
    assert failed.attributes["payrouter.failure_kind"] == "provider_down"  # type: ignore[index]
    assert taken.status.status_code is StatusCode.UNSET
    assert failed.end_time is not None
    assert taken.start_time is not None
    assert failed.end_time <= taken.start_time


def test_payments_that_never_finish_are_ended_when_the_bound_is_reached(
    exporter_and_provider: tuple[InMemorySpanExporter, TracerProvider],
) -> None:
    """A crash between events must not grow memory forever: the oldest span is abandoned."""
    exporter, provider = exporter_and_provider
    hook = OpenTelemetryHook(provider, max_open=2)
    for number in range(3):
        hook(AttemptStarted(f"order-{number}", 1, "card_a", PaymentMethod.CARD))
    (abandoned,) = [s for s in exporter.get_finished_spans() if s.name == "payrouter.payment"]
    assert abandoned.attributes["payrouter.order_id"] == "order-0"  # type: ignore[index]
    assert abandoned.attributes["payrouter.abandoned"] is True  # type: ignore[index]


def test_an_event_outside_a_payment_gets_a_span_of_its_own(
    exporter_and_provider: tuple[InMemorySpanExporter, TracerProvider],
) -> None:
    """Events added later that carry an order id (webhooks, follow-ups) leave no open span."""
    from dataclasses import dataclass

    @dataclass(frozen=True)
    class RefundQueued:
        order_id: str
        provider: str

    exporter, provider = exporter_and_provider
    OpenTelemetryHook(provider)(RefundQueued("order-5", "card_a"))
    (span,) = exporter.get_finished_spans()
    assert span.name == "payrouter.RefundQueued"
    assert span.attributes == {"payrouter.order_id": "order-5", "payrouter.provider": "card_a"}
