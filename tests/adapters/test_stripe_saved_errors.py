"""What the PaymentIntent, read after Stripe's own 500 to a capture or void, makes of it."""

from __future__ import annotations

import httpx
import pytest

from payrouter import Money
from payrouter.provider import FailureKind, Outcome, ProviderReply
from payrouter_adapters.stripe._saved_errors import after_saved_500, refund_after_saved_500

SAVED_500 = ProviderReply.unknown(provider_code="api_error", http_status=500)
FIRST = httpx.Response(500, json={"error": {"type": "api_error"}})
REPLAYED = httpx.Response(
    500, json={"error": {"type": "api_error"}}, headers={"Idempotent-Replayed": "true"}
)


def intent(status: str, **fields: object) -> httpx.Response:
    body = {"id": "pi_1", "object": "payment_intent", "status": status, "currency": "eur"}
    return httpx.Response(200, json=body | fields)


def test_a_captured_intent_is_the_capture_with_the_amount_received() -> None:
    reply = after_saved_500(
        "stripe", "capture", SAVED_500, FIRST, intent("succeeded", amount_received=800)
    )
    assert reply.outcome is Outcome.SUCCEEDED
    assert reply.amount == Money.of("8.00", "EUR")


def test_a_canceled_intent_is_the_void() -> None:
    reply = after_saved_500("stripe", "void", SAVED_500, FIRST, intent("canceled"))
    assert reply.outcome is Outcome.SUCCEEDED


@pytest.mark.parametrize(("operation", "status"), [("capture", "canceled"), ("void", "succeeded")])
def test_an_intent_past_the_operation_refuses_it(operation: str, status: str) -> None:
    reply = after_saved_500("stripe", operation, SAVED_500, FIRST, intent(status))  # type: ignore[arg-type]
    assert reply.outcome is Outcome.FAILED
    assert reply.failure_kind is FailureKind.INVALID_REQUEST


def test_still_requires_capture_spends_the_key_only_behind_a_replayed_500() -> None:
    first = after_saved_500("stripe", "capture", SAVED_500, FIRST, intent("requires_capture"))
    replayed = after_saved_500("stripe", "capture", SAVED_500, REPLAYED, intent("requires_capture"))

    assert first == SAVED_500  # maybe never saved: the same key may still capture
    assert replayed.outcome is Outcome.UNKNOWN
    assert replayed.key_spent


def test_an_unreadable_intent_leaves_the_500_as_it_was() -> None:
    lost = httpx.Response(503, json={"error": {"type": "api_error"}})
    assert after_saved_500("stripe", "void", SAVED_500, REPLAYED, lost) == SAVED_500


def refunds(*data: dict[str, object], has_more: bool = False) -> httpx.Response:
    return httpx.Response(200, json={"object": "list", "data": list(data), "has_more": has_more})


def test_a_refund_listed_under_the_key_is_the_refund() -> None:
    made = {
        "id": "re_1",
        "object": "refund",
        "status": "succeeded",
        "amount": 1050,
        "currency": "eur",
        "metadata": {"payrouter_reference": "k-1"},
    }
    reply = refund_after_saved_500("stripe", SAVED_500, FIRST, refunds(made), "k-1")
    assert reply.outcome is Outcome.SUCCEEDED
    assert reply.provider_reference == "re_1"


def test_no_refund_under_the_key_spends_it_only_behind_a_replayed_500_and_a_whole_list() -> None:
    first = refund_after_saved_500("stripe", SAVED_500, FIRST, refunds(), "k-1")
    paged = refund_after_saved_500("stripe", SAVED_500, REPLAYED, refunds(has_more=True), "k-1")
    spent = refund_after_saved_500("stripe", SAVED_500, REPLAYED, refunds(), "k-1")

    assert first == paged == SAVED_500
    assert spent.outcome is Outcome.UNKNOWN
    assert spent.key_spent
