"""Prometheus metrics: counted from router events, state read at scrape time, served on ASGI."""

from __future__ import annotations

import httpx
import pytest
from prometheus_client import CollectorRegistry
from pydantic import SecretStr

from payrouter import (
    BreakerSettings,
    CardSource,
    Money,
    PaymentMethod,
    PaymentRequest,
    RetrySettings,
    Router,
    RouterSettings,
)
from payrouter.instrumentation import PrometheusHook, SharedStateChanged, metrics_app
from payrouter.provider import Capabilities
from payrouter.testing import Behavior, SimulatedAdapter, SimulatedProvider

CARD = Capabilities(methods=frozenset({PaymentMethod.CARD}))


def card_request(order_id: str) -> PaymentRequest:
    return PaymentRequest(
        order_id=order_id,
        amount=Money.of("12.50", "EUR"),
        sources=(CardSource(token=SecretStr("pm_card_visa")),),
        customer_country="DE",
    )


def sample(registry: CollectorRegistry, name: str, **labels: str) -> float | None:
    return registry.get_sample_value(name, labels)


async def test_a_failover_run_is_counted_by_provider_outcome_and_failure_kind() -> None:
    """Busy once (retried), then down (failed over, breaker opened, skipped): all counted."""
    registry = CollectorRegistry()
    metrics = PrometheusHook(registry)
    card_a = SimulatedAdapter(SimulatedProvider("card_a"), capabilities=CARD)
    card_b = SimulatedAdapter(SimulatedProvider("card_b"), capabilities=CARD)
    settings = RouterSettings(
        breaker=BreakerSettings(fail_max=2, reset_timeout_seconds=60),
        retry=RetrySettings(max_tries=2, initial_wait_seconds=0, jitter_seconds=0),
    )
    async with Router(
        [card_a, card_b], ledger="sqlite://", settings=settings, hooks=[metrics]
    ) as router:
        metrics.watch(router)
        card_a.provider.script(Behavior.overloaded())
        await router.pay(card_request("order-1"))
        card_a.provider.default = Behavior.unavailable()
        for number in (2, 3, 4):
            await router.pay(card_request(f"order-{number}"))

        ok = {"method": "card", "outcome": "succeeded", "failure_kind": ""}
        assert sample(registry, "payrouter_attempts_total", provider="card_a", **ok) == 1
        assert sample(registry, "payrouter_attempts_total", provider="card_b", **ok) == 3
        down = {"method": "card", "outcome": "failed", "failure_kind": "provider_down"}
        assert sample(registry, "payrouter_attempts_total", provider="card_a", **down) == 2
        assert (
            sample(registry, "payrouter_retries_total", provider="card_a", failure_kind="busy") == 1
        )
        assert (
            sample(
                registry,
                "payrouter_failovers_total",
                from_provider="card_a",
                method="card",
                failure_kind="provider_down",
            )
            == 2
        )
        assert (
            sample(
                registry,
                "payrouter_candidates_skipped_total",
                provider="card_a",
                method="card",
                reason="breaker_open",
            )
            == 1
        )
        paid = {"status": "succeeded", "failure_kind": "", "alert": "false"}
        assert sample(registry, "payrouter_payments_total", provider="card_b", **paid) == 3
        assert sample(registry, "payrouter_breaker_state", provider="card_a", method="card") == 2
        assert sample(registry, "payrouter_breaker_state", provider="card_b", method="card") == 0
        assert (
            sample(
                registry,
                "payrouter_attempt_duration_seconds_count",
                provider="card_b",
                method="card",
                outcome="succeeded",
            )
            == 3
        )
        assert sample(registry, "payrouter_events_total", event="payment_finished") == 4
        budget = sample(registry, "payrouter_retry_budget_remaining")
        assert budget is not None
        assert budget == router.retry_budget_left()


def test_shared_state_degradation_is_a_gauge() -> None:
    """1 while Redis is unreachable, back to 0 when it returns."""
    registry = CollectorRegistry()
    metrics = PrometheusHook(registry)
    metrics(SharedStateChanged(available=False, reason="connection refused"))
    assert sample(registry, "payrouter_shared_state_degraded") == 1
    metrics(SharedStateChanged(available=True, reason="reconnected"))
    assert sample(registry, "payrouter_shared_state_degraded") == 0


class RouterWithOutbox:
    """The seams other parts of payrouter fill in: outbox, retry budget, rate-limit tokens."""

    def breaker_states(self) -> dict[tuple[str, PaymentMethod], str]:
        return {("card_a", PaymentMethod.CARD): "half-open"}

    def outbox_depth(self) -> int:
        return 3

    def outbox_oldest_age_seconds(self) -> float:
        return 42.5

    def retry_budget_remaining(self) -> float:
        return 17.0

    def rate_limit_tokens(self) -> dict[str, float]:
        return {"card_a": 4.0, "card_b": 9.5}


class RouterWithOutboxStats:
    """The outbox's own summary, as `router.outbox_stats()` will offer it."""

    def outbox_stats(self) -> dict[str, float]:
        return {"depth": 5, "oldest_age_seconds": 61.0}


class BrokenRouter:
    def breaker_states(self) -> dict[tuple[str, PaymentMethod], str]:
        raise RuntimeError("state store down")


def test_state_gauges_are_read_from_the_router_when_scraped() -> None:
    """Depth, age, budget and tokens appear as soon as the router offers them."""
    registry = CollectorRegistry()
    PrometheusHook(registry).watch(RouterWithOutbox())
    assert sample(registry, "payrouter_breaker_state", provider="card_a", method="card") == 1
    assert sample(registry, "payrouter_outbox_depth") == 3
    assert sample(registry, "payrouter_outbox_oldest_age_seconds") == 42.5
    assert sample(registry, "payrouter_retry_budget_remaining") == 17
    assert sample(registry, "payrouter_rate_limit_tokens", provider="card_b") == 9.5


def test_outbox_stats_feed_depth_and_oldest_age() -> None:
    registry = CollectorRegistry()
    PrometheusHook(registry).watch(RouterWithOutboxStats())
    assert sample(registry, "payrouter_outbox_depth") == 5
    assert sample(registry, "payrouter_outbox_oldest_age_seconds") == 61


def test_a_failing_state_read_leaves_its_series_out_instead_of_failing_the_scrape() -> None:
    registry = CollectorRegistry()
    PrometheusHook(registry).watch(BrokenRouter())
    assert sample(registry, "payrouter_breaker_state", provider="card_a", method="card") is None
    assert sample(registry, "payrouter_shared_state_degraded") == 0


async def test_metrics_app_serves_the_registry_in_prometheus_text_format() -> None:
    """Mount `metrics_app()` at /metrics; Prometheus scrapes it like any exporter."""
    registry = CollectorRegistry()
    PrometheusHook(registry).watch(RouterWithOutbox())
    transport = httpx.ASGITransport(app=metrics_app(registry))
    async with httpx.AsyncClient(transport=transport, base_url="http://shop") as client:
        response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    assert "payrouter_outbox_depth 3.0" in response.text


def test_missing_prometheus_client_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without the [metrics] extra the error says what to install."""
    import sys

    monkeypatch.setitem(sys.modules, "prometheus_client", None)
    with pytest.raises(ImportError, match=r"pip install 'payrouter\[metrics\]'"):
        PrometheusHook(CollectorRegistry())
