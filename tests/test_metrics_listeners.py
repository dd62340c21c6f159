"""Paging listeners: a merchant's callback runs for breaker openings and failovers only."""

from __future__ import annotations

from pydantic import SecretStr

from payrouter import (
    BreakerSettings,
    CardSource,
    Money,
    PaymentMethod,
    PaymentRequest,
    PaymentStatus,
    Router,
    RouterSettings,
)
from payrouter.instrumentation import (
    BreakerStateChanged,
    FailedOver,
    PaymentFinished,
    listen,
    on_breaker_change,
    on_failover,
)
from payrouter.provider import Capabilities
from payrouter.testing import Behavior, SimulatedAdapter, SimulatedProvider

CARD = Capabilities(methods=frozenset({PaymentMethod.CARD}))


async def test_pages_once_when_a_breaker_opens_and_on_each_failover() -> None:
    """Two payments fail over from a down provider; its breaker opens on the second."""
    pages: list[str] = []
    card_a = SimulatedAdapter(SimulatedProvider("card_a"), capabilities=CARD)
    card_b = SimulatedAdapter(SimulatedProvider("card_b"), capabilities=CARD)
    card_a.provider.default = Behavior.unavailable()
    hooks = [
        on_breaker_change(lambda e: pages.append(f"breaker {e.provider} {e.new_state}")),
        on_failover(lambda e: pages.append(f"failover {e.order_id} from {e.from_provider}")),
    ]
    settings = RouterSettings(breaker=BreakerSettings(fail_max=2))
    async with Router(
        [card_a, card_b], ledger="sqlite://", settings=settings, hooks=hooks
    ) as router:
        for number in (1, 2):
            await router.pay(
                PaymentRequest(
                    order_id=f"order-{number}",
                    amount=Money.of("5.00", "EUR"),
                    sources=(CardSource(token=SecretStr("pm_card_visa")),),
                    customer_country="DE",
                )
            )
    assert pages == [
        "failover order-1 from card_a",
        "breaker card_a open",
        "failover order-2 from card_a",
    ]


def test_breaker_listener_filters_by_target_state() -> None:
    """Default: openings only; `to=None` hears every transition."""
    heard: list[str] = []
    openings = on_breaker_change(lambda e: heard.append(f"open:{e.new_state}"))
    everything = on_breaker_change(lambda e: heard.append(f"any:{e.new_state}"), to=None)
    for new_state in ("open", "half-open", "closed"):
        event = BreakerStateChanged("card_a", PaymentMethod.CARD, "closed", new_state)
        openings(event)
        everything(event)
    assert heard == ["open:open", "any:open", "any:half-open", "any:closed"]


def test_listen_passes_only_its_event_type() -> None:
    """Alerting payments, for instance, with one line."""
    alerts: list[PaymentFinished] = []
    hook = listen(PaymentFinished, lambda e: alerts.append(e) if e.alert else None)
    hook(FailedOver("order-1", "card_a", PaymentMethod.CARD, None))
    finished = PaymentFinished("order-1", PaymentStatus.FAILED, None, 2, None, alert=True)
    hook(finished)
    assert alerts == [finished]
