"""Events nobody listens to are not built: a hook's `wants` says which types it would ignore,
and the default logging hook wants only what its logger's level lets through."""

from __future__ import annotations

import logging
import typing

import pytest
from pydantic import SecretStr

from payrouter import CardSource, Money, PaymentMethod, PaymentRequest, PaymentStatus, Router
from payrouter.instrumentation import (
    AmountMismatch,
    AttemptFinished,
    AttemptStarted,
    BreakerStateChanged,
    CandidateSkipped,
    DeclineReattempt,
    Event,
    FailedOver,
    FollowUpFinished,
    LoggingHook,
    PaymentFinished,
    PaymentShed,
    RetryScheduled,
    RoutePlanned,
    SharedStateChanged,
    WebhookReceived,
    listen,
)
from payrouter.instrumentation._events import listening
from payrouter.instrumentation._logs import ceiling, level
from payrouter.provider import FailureKind, Outcome
from payrouter.testing import SimulatedAdapter, SimulatedProvider

CARD = PaymentMethod.CARD

# Every event type, with the field values that raise its level as far as it goes.
SAMPLES: tuple[Event, ...] = (
    AttemptStarted("o-1", 1, "card_a", CARD),
    AttemptFinished("o-1", 1, "card_a", CARD, Outcome.FAILED, FailureKind.BUSY, "x", 2, 3.0),
    RetryScheduled("o-1", 1, "card_a", 2, 0.5, FailureKind.BUSY),
    FailedOver("o-1", "card_a", CARD, FailureKind.PROVIDER_DOWN),
    DeclineReattempt("o-1", "card_a", "card_b", CARD, "reattempted"),
    DeclineReattempt("o-1", "card_a", "card_b", CARD, "advice", advice="03"),
    CandidateSkipped("o-1", "card_a", CARD, "breaker_open"),
    CandidateSkipped("o-1", "card_a", CARD, "rate_limited"),
    CandidateSkipped("o-1", "card_a", CARD, "bulkhead_full"),
    RoutePlanned("o-1", ("card: priority",), ("card_a/card",), ("card_b: no credential",)),
    BreakerStateChanged("card_a", CARD, "closed", "open"),
    BreakerStateChanged("card_a", CARD, "open", "half-open"),
    PaymentFinished("o-1", PaymentStatus.SUCCEEDED, "card_a", 1, None),
    PaymentFinished("o-1", PaymentStatus.FAILED, None, 0, None),
    PaymentFinished("o-1", PaymentStatus.FAILED, "card_a", 2, FailureKind.BUSY, alert=True),
    PaymentShed("o-1", 8, 8, 120.0),
    FollowUpFinished("f-1", "refund", "card_a", "o-1", "succeeded", None, 1),
    FollowUpFinished("f-1", "refund", "card_a", "o-1", "refused", None, 1, alert=True),
    WebhookReceived("card_a", "evt_1", "payment.succeeded", "applied", "o-1"),
    AmountMismatch("o-1", "card_a", "reply", "k", "amount_mismatch", 1250, "EUR", 1000, "EUR"),
    AmountMismatch(
        "o-1", "card_a", "reply", "k", "partially_authorised", 1250, "EUR", 1000, "EUR", alert=False
    ),
    SharedStateChanged(available=False, reason="connection refused"),
)


def test_every_event_type_has_a_ceiling_no_event_of_it_exceeds() -> None:
    """A type skipped for its ceiling never hides an event the logger would have shown."""
    assert {type(event) for event in SAMPLES} == set(typing.get_args(Event))
    for event in SAMPLES:
        assert level(event) <= ceiling(type(event)), event


def test_the_logging_hook_wants_what_its_logger_level_lets_through() -> None:
    """At INFO: failovers, breakers and payments that may alert, not a payment's steps."""
    logger = logging.getLogger("payrouter.test-wants")
    hook = LoggingHook(logger)
    logger.setLevel(logging.INFO)
    try:
        assert not hook.wants(AttemptStarted)
        assert not hook.wants(RoutePlanned)
        assert hook.wants(FailedOver)
        assert hook.wants(PaymentFinished)
        logger.setLevel(logging.DEBUG)
        assert hook.wants(AttemptStarted)
        assert hook.wants(RoutePlanned)
    finally:
        logger.setLevel(logging.NOTSET)


def test_an_event_type_nobody_wants_is_not_listened_to() -> None:
    """A hook without `wants` wants everything; a listener only its own type."""
    failovers = listen(FailedOver, lambda event: None)
    assert listening((failovers,), FailedOver)
    assert not listening((failovers,), AttemptStarted)
    assert not listening((), FailedOver)
    assert listening((failovers, lambda event: None), AttemptStarted)


def request(order_id: str) -> PaymentRequest:
    return PaymentRequest(
        order_id=order_id,
        amount=Money.of("12.50", "EUR"),
        sources=(CardSource(token=SecretStr("pm_card_visa")),),
        customer_country="DE",
    )


class _Picky:
    """A hook that wants only what it names, and keeps what it receives."""

    def __init__(self, *wanted: type[Event]) -> None:
        self.wanted, self.received = wanted, list[Event]()

    def wants(self, event_type: type[Event]) -> bool:
        return event_type in self.wanted

    def __call__(self, event: Event) -> None:
        self.received.append(event)


async def test_a_payment_builds_only_the_events_some_hook_wants() -> None:
    """The router asks before building: a hook is handed no type it said it would ignore."""
    picky, everything = _Picky(PaymentFinished), list[Event]()
    adapter = SimulatedAdapter(SimulatedProvider("card_a"))
    async with Router([adapter], ledger="sqlite://", hooks=[picky]) as router:
        await router.pay(request("order-1"))
    assert [type(event) for event in picky.received] == [PaymentFinished]
    adapter = SimulatedAdapter(SimulatedProvider("card_a"))
    hooks = [picky, everything.append]
    async with Router([adapter], ledger="sqlite://", hooks=hooks) as router:
        await router.pay(request("order-2"))
    kinds = [type(event) for event in everything]
    assert kinds == [RoutePlanned, AttemptStarted, AttemptFinished, PaymentFinished]


async def test_with_debug_on_the_default_hook_still_logs_every_step(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Skipping is only for a level that is off: at DEBUG the whole story is there."""
    adapter = SimulatedAdapter(SimulatedProvider("card_a"))
    with caplog.at_level(logging.DEBUG, logger="payrouter"):
        async with Router([adapter], ledger="sqlite://") as router:
            await router.pay(request("order-1"))
    logged = [record.getMessage().split(":")[0] for record in caplog.records]
    assert logged[-4:] == ["RoutePlanned", "AttemptStarted", "AttemptFinished", "PaymentFinished"]
