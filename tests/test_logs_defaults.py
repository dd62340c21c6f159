"""Operations defaults: with the default hook and logging at INFO, an operator on call sees
every failover, breaker change and shed payment, each as one plain sentence; the step-by-step
story of a payment stays at DEBUG."""

from __future__ import annotations

import logging

import pytest
from pydantic import SecretStr

from payrouter import (
    BreakerSettings,
    CapacityExhaustedError,
    CardSource,
    Money,
    PaymentMethod,
    PaymentRequest,
    ProviderLimits,
    Router,
    RouterSettings,
)
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


def _at_info(caplog: pytest.LogCaptureFixture) -> list[tuple[int, str]]:
    return [
        (record.levelno, record.getMessage())
        for record in caplog.records
        if record.name == "payrouter" and record.levelno >= logging.INFO
    ]


async def test_failover_and_breaker_opening_show_at_info_with_the_default_hook(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """card_a is down: each failover is an INFO sentence, its breaker opening a WARNING."""
    card_a = SimulatedAdapter(SimulatedProvider("card_a"), capabilities=CARD)
    card_b = SimulatedAdapter(SimulatedProvider("card_b"), capabilities=CARD)
    card_a.provider.default = Behavior.unavailable()
    settings = RouterSettings(breaker=BreakerSettings(fail_max=2, reset_timeout_seconds=60))
    with caplog.at_level(logging.INFO, logger="payrouter"):
        async with Router([card_a, card_b], ledger="sqlite://", settings=settings) as router:
            for n in range(3):
                await router.pay(card_request(f"order-{n}"))
    seen = _at_info(caplog)
    assert (
        logging.INFO,
        "FailedOver: card_a could not take order order-0 (provider_down) and no money moved "
        "there, so the payment goes to the next provider",
    ) in seen
    assert (
        logging.WARNING,
        "BreakerStateChanged: card_a keeps failing card payments, so its breaker opened: the "
        "router stops calling it for card and sends those payments to the next provider until "
        "a trial call succeeds",
    ) in seen
    assert not any(message.startswith("AttemptStarted") for _, message in seen), "DEBUG only"


async def test_a_payment_shed_at_capacity_shows_at_info(caplog: pytest.LogCaptureFixture) -> None:
    """Every provider at its rate limit: the shed provider and the shed payment are logged."""
    card_a = SimulatedAdapter(SimulatedProvider("card_a"), capabilities=CARD)
    limits = {"card_a": ProviderLimits(rate_per_second=0.001, burst=1)}
    with caplog.at_level(logging.INFO, logger="payrouter"):
        async with Router([card_a], ledger="sqlite://", limits=limits) as router:
            await router.pay(card_request("order-1"))
            with pytest.raises(CapacityExhaustedError):
                await router.pay(card_request("order-2"))
    seen = _at_info(caplog)
    assert (
        logging.INFO,
        "CandidateSkipped: not calling card_a for card: it is at its rate limit, so this "
        "payment is shed from it (no money moved)",
    ) in seen
    shed = [message for _, message in seen if message.startswith("PaymentFinished")]
    assert shed == [
        "PaymentFinished: order order-2 was sent to no provider (each was at its rate limit, "
        "concurrency cap, breaker or maintenance window), so no money moved: the customer may "
        "try again shortly or pick another method"
    ]
