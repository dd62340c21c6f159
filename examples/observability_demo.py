"""What an operator sees, from a real run: metrics, JSON log lines, and a page.

Four card payments against two simulated providers (`payrouter.testing`): `card_a` is busy
once, so the first payment is retried there with the same key and taken; then `card_a` goes
down ("provider_down": not retried, money provably unmoved), so payments fail over to
`card_b`, and the second failure in a row opens `card_a`'s breaker (a page is sent); the
fourth payment skips `card_a` without calling it. Prints the JSON log lines (stdout, one per
decision), the page, and the `payrouter_` samples of the Prometheus scrape.

    python examples/observability_demo.py

docs/observability.md shows this script's output; tests/test_metrics_demo.py keeps it running.
"""

from __future__ import annotations

import asyncio
import sys

from prometheus_client import CollectorRegistry, generate_latest
from pydantic import SecretStr

from payrouter import (
    AdmissionSettings,
    BreakerSettings,
    CardSource,
    Money,
    PaymentMethod,
    PaymentRequest,
    RetrySettings,
    Router,
    RouterSettings,
)
from payrouter.instrumentation import (
    BreakerStateChanged,
    Hook,
    PrometheusHook,
    StructlogHook,
    json_logger,
    on_breaker_change,
)
from payrouter.provider import Capabilities
from payrouter.testing import Behavior, SimulatedAdapter, SimulatedProvider

_NOISE = ("_created", "_bucket", "_sum")


def page_on_call(event: BreakerStateChanged) -> None:
    """Stands in for PagerDuty/Opsgenie: a real one would post to their API here."""
    print(f"PAGE: {event.provider} {event.method.value} breaker is {event.new_state}")


async def main() -> None:
    card = Capabilities(methods=frozenset({PaymentMethod.CARD}))
    card_a = SimulatedAdapter(SimulatedProvider("card_a"), capabilities=card)
    card_b = SimulatedAdapter(SimulatedProvider("card_b"), capabilities=card)
    registry = CollectorRegistry()
    metrics = PrometheusHook(registry)
    settings = RouterSettings(
        breaker=BreakerSettings(fail_max=2, reset_timeout_seconds=60),
        retry=RetrySettings(max_tries=2, initial_wait_seconds=0, jitter_seconds=0),
        # One event-loop lag sample an hour, so the page shows the same gauges on every run.
        admission=AdmissionSettings(probe_interval_seconds=3600),
    )
    logs = StructlogHook(json_logger(sys.stdout))
    hooks: list[Hook] = [metrics, logs, on_breaker_change(page_on_call)]
    async with Router(
        [card_a, card_b], ledger="sqlite://", settings=settings, hooks=hooks
    ) as router:
        metrics.watch(router)
        card_a.provider.script(Behavior.overloaded())
        for number in range(1, 5):
            if number == 2:
                card_a.provider.default = Behavior.unavailable()
            await router.pay(
                PaymentRequest(
                    order_id=f"order-{number}",
                    amount=Money.of("12.50", "EUR"),
                    sources=(CardSource(token=SecretStr("pm_card_visa")),),
                    customer_country="DE",
                )
            )
        scrape = generate_latest(registry).decode()
    print()
    for line in scrape.splitlines():  # the samples, without the per-bucket and _created lines
        if line.startswith("payrouter_") and not line.split("{")[0].split(" ")[0].endswith(_NOISE):
            print(line)


if __name__ == "__main__":
    asyncio.run(main())
