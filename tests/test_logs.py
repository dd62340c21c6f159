"""Structured logs: one JSON object per decision, saying what the router did and why."""

from __future__ import annotations

import io
import json
import logging

import pytest
from pydantic import SecretStr

from payrouter import CardSource, Money, PaymentMethod, PaymentRequest, Router
from payrouter.instrumentation import (
    FailedOver,
    LoggingHook,
    RedactingFilter,
    StructlogHook,
    json_logger,
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


async def test_a_failover_logs_each_decision_as_one_json_line_with_its_reason() -> None:
    """Tried card_a, it was down, failed over (warning, with why), card_b took it."""
    lines = io.StringIO()
    card_a = SimulatedAdapter(SimulatedProvider("card_a"), capabilities=CARD)
    card_b = SimulatedAdapter(SimulatedProvider("card_b"), capabilities=CARD)
    card_a.provider.default = Behavior.unavailable()
    hooks = [StructlogHook(json_logger(lines))]
    async with Router([card_a, card_b], ledger="sqlite://", hooks=hooks) as router:
        await router.pay(card_request("order-7"))
    records = [json.loads(line) for line in lines.getvalue().splitlines()]
    assert [(r["event"], r.get("provider") or r.get("from_provider")) for r in records] == [
        ("RoutePlanned", None),
        ("AttemptStarted", "card_a"),
        ("AttemptFinished", "card_a"),
        ("FailedOver", "card_a"),
        ("AttemptStarted", "card_b"),
        ("AttemptFinished", "card_b"),
        ("PaymentFinished", "card_b"),
    ]
    planned, failover = records[0], records[3]
    assert planned["why"] == "route card_a/card > card_b/card"
    assert failover["level"] == "info"
    assert failover["why"] == (
        "card_a could not take order order-7 (provider_down) and no money moved there, "
        "so the payment goes to the next provider"
    )
    assert failover["order_id"] == "order-7"
    assert records[2]["failure_kind"] == "provider_down"
    assert all(record["timestamp"].endswith("Z") for record in records)


def test_events_the_hook_does_not_know_still_log_with_their_fields() -> None:
    """Events added later (webhooks, outbox, routing) flow through without a code change."""
    from dataclasses import dataclass

    @dataclass(frozen=True)
    class OutboxBacklog:
        depth: int
        oldest_provider: str

    lines = io.StringIO()
    StructlogHook(json_logger(lines))(OutboxBacklog(depth=3, oldest_provider="card_a"))
    (record,) = [json.loads(line) for line in lines.getvalue().splitlines()]
    assert record["event"] == "OutboxBacklog"
    assert (record["depth"], record["oldest_provider"], record["why"]) == (
        3,
        "card_a",
        "OutboxBacklog",
    )


def test_the_default_logging_hook_logs_redacted_fields() -> None:
    """LoggingHook says why in its message; `extra` goes through the same redaction."""
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    logger = logging.getLogger("payrouter.test_logs")
    logger.addHandler(Keep())
    logger.setLevel(logging.DEBUG)
    event = FailedOver("order-1", "card_a", PaymentMethod.CARD, None)
    leaky = FailedOver("order-1", "card 4111 1111 1111 1111", PaymentMethod.CARD, None)
    LoggingHook(logger)(event)
    LoggingHook(logger)(leaky)
    assert records[0].getMessage() == (
        "FailedOver: card_a could not take order order-1 and no money moved there, "
        "so the payment goes to the next provider"
    )
    assert records[0].event["from_provider"] == "card_a"  # type: ignore[attr-defined]
    assert records[1].event["from_provider"] == "card [PAN]"  # type: ignore[attr-defined]


def test_redacting_filter_masks_message_arguments_traceback_and_extras() -> None:
    """Added to any handler, the filter covers loggers payrouter does not own."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactingFilter())
    handler.setFormatter(logging.Formatter("%(message)s %(customer)s"))
    logger = logging.getLogger("merchant.checkout")
    logger.addHandler(handler)
    try:
        try:
            raise ValueError("iban DE89370400440532013000 rejected")
        except ValueError:
            logger.exception(
                "charging %s", "4242424242424242", extra={"customer": {"email": "a@b.example"}}
            )
    finally:
        logger.removeHandler(handler)
    output = stream.getvalue()
    assert "charging [PAN]" in output
    assert "ValueError: iban [IBAN] rejected" in output
    assert "{'email': '[REDACTED]'}" in output
    for secret in ("4242424242424242", "DE89370400440532013000", "a@b.example"):
        assert secret not in output


@pytest.mark.parametrize(
    ("old_state", "new_state", "level", "why"),
    [
        (
            "closed",
            "open",
            "warning",
            "card_a keeps failing card payments, so its breaker opened: the router stops "
            "calling it for card and sends those payments to the next provider until a trial "
            "call succeeds",
        ),
        (
            "open",
            "half-open",
            "info",
            "card_a's card breaker lets one trial payment through to see if card_a recovered",
        ),
        ("half-open", "closed", "info", "card_a is taking card payments again: its breaker closed"),
    ],
)
def test_breaker_changes_say_what_the_router_does_now(
    old_state: str, new_state: str, level: str, why: str
) -> None:
    """Opening is a warning; half-opening and closing are news at info; each is one sentence."""
    from payrouter.instrumentation import BreakerStateChanged

    lines = io.StringIO()
    event = BreakerStateChanged("card_a", PaymentMethod.CARD, old_state, new_state)
    StructlogHook(json_logger(lines))(event)
    record = json.loads(lines.getvalue())
    assert (record["level"], record["why"]) == (level, why)


def test_without_a_logger_the_hook_logs_through_the_merchants_structlog_setup() -> None:
    """`StructlogHook()` goes to `structlog.get_logger("payrouter")`, already redacted."""
    from structlog.testing import capture_logs

    with capture_logs() as logs:
        StructlogHook()(FailedOver("order-1", "card 4111111111111111", PaymentMethod.CARD, None))
    (entry,) = logs
    assert entry["event"] == "FailedOver"
    assert entry["log_level"] == "info"
    assert entry["from_provider"] == "card [PAN]"
    assert entry["why"].startswith("card [PAN] could not take order order-1")
