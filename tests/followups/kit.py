"""Shared set-up of the follow-up tests: a router over simulated providers, and payments."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import SecretStr

from payrouter import (
    CardSource,
    Money,
    OutboxSettings,
    PaymentRequest,
    PaymentResult,
    PaymentStatus,
    Router,
    RouterSettings,
)
from payrouter.instrumentation import Event
from payrouter.testing import SimulatedAdapter, SimulatedProvider

# Queued follow-ups are due again at once, so a test can send them on its own schedule.
SETTINGS = RouterSettings(outbox=OutboxSettings(initial_backoff_seconds=0, max_backoff_seconds=0))


def eur(amount: str) -> Money:
    return Money.of(amount, "EUR")


def simulated(*names: str) -> list[SimulatedAdapter]:
    return [SimulatedAdapter(SimulatedProvider(name)) for name in names]


def router(
    adapters: Sequence[SimulatedAdapter],
    *,
    ledger: Any = "sqlite://",
    events: list[Event] | None = None,
    settings: RouterSettings = SETTINGS,
) -> Router:
    hooks = () if events is None else (events.append,)
    return Router(adapters, ledger=ledger, hooks=hooks, settings=settings)


async def paid(
    router: Router, order_id: str = "order-1", *, amount: str = "10.00", capture: bool = True
) -> PaymentResult:
    result = await router.pay(
        PaymentRequest(
            order_id=order_id,
            amount=eur(amount),
            sources=[CardSource(token=SecretStr("pm_card_visa"))],
            customer_country="DE",
            capture=capture,
        )
    )
    assert result.status is PaymentStatus.SUCCEEDED
    return result
