"""Genuine notifications that say the wrong thing, and bodies built to crash a parser: the
amount is compared with the ledger, freshness comes only from signed data, and every hostile
body gets a 4xx that says why (never a 500)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import SecretStr
from starlette.applications import Starlette
from starlette.routing import Mount
from starlette.testclient import TestClient

from payrouter import (
    CardSource,
    FollowUpNotAllowedError,
    FollowUpStatus,
    Money,
    PaymentRequest,
    PaymentStatus,
    Router,
    SyncRouter,
)
from payrouter import webhooks as payrouter_webhooks
from payrouter.instrumentation import AmountMismatch, Event
from payrouter.testing import Behavior
from payrouter.webhooks import WebhookResult

from .kit import (
    ADYEN_KEY,
    adyen_body,
    pending_payment,
    receiver,
    router,
    simulated,
    stripe_body,
    stripe_headers,
)


async def _status(payments: Router) -> PaymentStatus:
    payment = await payments.lookup("order-1")
    assert payment is not None
    return payment.status


async def test_a_signed_success_for_another_amount_never_marks_the_payment_paid() -> None:
    """1 USD reported for a 10.00 EUR payment: remembered with both figures, raised, listed."""
    seen: list[Event] = []
    payments = Router([simulated("stripe")], ledger="sqlite://", hooks=[seen.append])
    async with payments:
        pending = await pending_payment(payments)
        body = stripe_body(
            "payment_intent.succeeded",
            {"id": pending.provider_reference, "amount": 1, "currency": "usd"},
        )
        answer = await receiver(payments).receive("stripe", body, stripe_headers(body))
        listed = await payments.discrepancies()
        status = await _status(payments)

    assert (answer.status, answer.receipts[0].result) == (200, WebhookResult.AMOUNT_MISMATCH)
    assert status is PaymentStatus.PENDING
    (mismatch,) = [event for event in seen if isinstance(event, AmountMismatch)]
    assert (mismatch.expected_minor, mismatch.expected_currency) == (1000, "EUR")
    assert (mismatch.reported_minor, mismatch.reported_currency) == (1, "USD")
    assert [(d.kind, d.order_id, d.ledger_side, d.provider_side) for d in listed] == [
        ("currency_differs", "order-1", "10.00 EUR", "0.01 USD in payment_intent.succeeded (evt_1)")
    ]


async def test_a_success_that_reports_no_amount_cannot_settle_a_payment() -> None:
    async with router(simulated("stripe")) as payments:
        pending = await pending_payment(payments)
        event = {
            "id": "evt_1",
            "type": "payment_intent.succeeded",
            "created": int(datetime.now(UTC).timestamp()),
            "data": {"object": {"id": pending.provider_reference}},
        }
        body = json.dumps(event).encode()
        answer = await receiver(payments).receive("stripe", body, stripe_headers(body))

        assert answer.receipts[0].result is WebhookResult.AMOUNT_MISMATCH
        assert await _status(payments) is PaymentStatus.PENDING


async def test_an_adyen_partial_authorisation_is_its_own_state_never_succeeded() -> None:
    adyen = simulated("adyen")
    async with router(adyen) as payments:
        pending = await pending_payment(payments)
        half = adyen_body("AUTHORISATION", pending.provider_reference or "", value=500)
        answer = await receiver(payments).receive("adyen", half, {})
        full = adyen_body("AUTHORISATION", pending.provider_reference or "", original="x")
        later = await receiver(payments).receive("adyen", full, {})
        (listed,) = await payments.discrepancies()

        assert answer.receipts[0].result is WebhookResult.PARTIALLY_AUTHORISED
        assert await _status(payments) is PaymentStatus.PARTIALLY_AUTHORISED
        assert later.receipts[0].result is WebhookResult.REPLAYED  # same code, psp, success
        assert (listed.kind, listed.ledger_side, listed.provider_side) == (
            "amount_differs",
            "10.00 EUR",
            f"5.00 EUR in AUTHORISATION (AUTHORISATION:{pending.provider_reference}:true)",
        )
        assert "capture that part" in listed.action
        # records reconciliation names the same difference the same way: one row, not two
        assert listed.discrepancy_id == f"amount_differs:adyen:{pending.provider_reference}"


async def test_a_stripe_success_for_more_than_the_payment_is_a_mismatch_not_a_partial() -> None:
    async with router(simulated("stripe")) as payments:
        pending = await pending_payment(payments)
        body = stripe_body(
            "payment_intent.succeeded", {"id": pending.provider_reference, "amount": 500}
        )
        answer = await receiver(payments).receive("stripe", body, stripe_headers(body))

        assert answer.receipts[0].result is WebhookResult.AMOUNT_MISMATCH
        assert await _status(payments) is PaymentStatus.PENDING


async def test_adyen_freshness_is_never_judged_from_the_unsigned_event_date() -> None:
    """Editing eventDate (outside the HMAC) changes nothing: the item is the same event,
    recognised by the event-id store, whatever date it claims."""
    adyen = simulated("adyen")
    async with router(adyen) as payments:
        pending = await pending_payment(payments)
        psp = pending.provider_reference or ""
        inbox = receiver(payments)
        first = await inbox.receive("adyen", adyen_body("AUTHORISATION", psp), {})
        redated = adyen_body("AUTHORISATION", psp, when=datetime.now(UTC) + timedelta(days=60))
        replayed = await inbox.receive("adyen", redated, {})

        assert first.receipts[0].result is WebhookResult.APPLIED
        assert (replayed.status, replayed.receipts[0].result) == (200, WebhookResult.REPLAYED)


async def test_hostile_bodies_get_a_400_or_401_with_a_reason_never_a_crash() -> None:
    async with router(simulated("stripe"), simulated("adyen")) as payments:
        inbox = receiver(payments)
        deep = b'{"id": "evt_1", "type": "x", "created": 1, "data": ' + b"[" * 100_000
        deep += b"]" * 100_000 + b"}"
        item = json.loads(adyen_body("AUTHORISATION", "PSP1"))
        wrong_amount = dict(item["notificationItems"][0]["NotificationRequestItem"])
        wrong_amount["amount"] = "1000 EUR"
        wrong_data = dict(wrong_amount, amount={"value": 1000, "currency": "EUR"})
        wrong_data["additionalData"] = "hmacSignature"

        def adyen(changed: dict[str, object]) -> bytes:
            entry = {"NotificationRequestItem": changed}
            return json.dumps({"live": "false", "notificationItems": [entry]}).encode()

        signed_deep = await inbox.receive("stripe", deep, stripe_headers(deep))
        non_ascii = await inbox.receive(
            "stripe", b"{}", {"Stripe-Signature": "t=1,v1=" + "\u00e9" * 64}
        )
        digits = await inbox.receive("stripe", b"{}", {"Stripe-Signature": "t=\u00b2,v1=ab"})
        amount = await inbox.receive("adyen", adyen(wrong_amount), {})
        data = await inbox.receive("adyen", adyen(wrong_data), {})
        not_json = await inbox.receive("adyen", b"\xff\xfe{", {})

    assert (signed_deep.status, signed_deep.body) == (
        400,
        "malformed: Stripe event is nested too deeply",
    )
    assert non_ascii.status == 401
    assert digits.status == 401
    assert (amount.status, amount.body) == (400, "malformed: Adyen item's amount is not an object")
    assert (data.status, data.body) == (
        400,
        "malformed: Adyen item's additionalData is not an object",
    )
    assert not_json.status == 400


async def test_a_forged_adyen_item_refuses_the_batch_before_later_items_are_read() -> None:
    """Item by item: the forged first item is answered 401, so the malformed second one is
    never parsed (its 400 would mean work was done for an unverified item)."""
    async with router(simulated("adyen")) as payments:
        forged = json.loads(adyen_body("AUTHORISATION", "PSP1", key="00" * 32))
        broken = {"NotificationRequestItem": {"eventCode": 7}}
        forged["notificationItems"].append(broken)
        answer = await receiver(payments).receive("adyen", json.dumps(forged).encode(), {})

    assert answer.status == 401
    assert ADYEN_KEY not in answer.body


async def test_a_body_over_the_limit_is_refused_with_413() -> None:
    async with router(simulated("adyen")) as payments:
        body = adyen_body("AUTHORISATION", "PSP1")
        small = receiver(payments, max_body_bytes=len(body) - 1)
        answer = await small.receive("adyen", body, {})

    assert (answer.status, answer.receipts) == (413, ())


def test_the_asgi_app_stops_reading_at_the_limit_whatever_content_length_says() -> None:
    """A chunked body (no Content-Length) over the limit is cut off while it streams."""
    payments = router(simulated("adyen"))
    with SyncRouter(payments):
        shop = Starlette(routes=[Mount("/hooks", payrouter_webhooks.app(receiver(payments, 1000)))])
        with TestClient(shop) as client:

            def chunks() -> object:
                for _ in range(100):
                    yield b"x" * 512

            streamed = client.post("/hooks/adyen", content=chunks())  # type: ignore[arg-type]
            declared = client.post(
                "/hooks/adyen", content=b"{}", headers={"Content-Length": "5000000"}
            )

    assert (streamed.status_code, streamed.text) == (413, "too large: body over 1000 bytes")
    assert declared.status_code == 413


async def test_a_partial_authorisation_is_captured_in_part_or_voided_never_refunded() -> None:
    """The merchant's policy decides: capture the authorised part (no more), or void it; a
    refund is refused until something was captured."""
    adyen = simulated("adyen")
    async with router(adyen) as payments:
        adyen.provider.script(Behavior.pending())
        pending = await payments.pay(
            PaymentRequest(
                order_id="order-1",
                amount=Money.of("10.00", "EUR"),
                sources=[CardSource(token=SecretStr("pm_card_visa"))],
                customer_country="DE",
                capture=False,
            )
        )
        psp = pending.provider_reference or ""
        adyen.provider.settle(psp, captured=False)
        half = adyen_body("AUTHORISATION", psp, value=500)
        await receiver(payments).receive("adyen", half, {})
        with pytest.raises(FollowUpNotAllowedError, match=r"only 5\.00 EUR was authorized"):
            await payments.capture("order-1", Money.of("6.00", "EUR"))
        with pytest.raises(FollowUpNotAllowedError, match="partially_authorised"):
            await payments.refund("order-1", Money.of("1.00", "EUR"))
        captured = await payments.capture("order-1")
        stats = await payments.discrepancy_stats()

    assert captured.amount == Money.of("5.00", "EUR")
    assert captured.status is not FollowUpStatus.REFUSED
    assert stats.open == 1  # `payrouter status` counts it until a person acknowledges it


async def test_an_event_for_a_settled_payment_raises_no_discrepancy() -> None:
    """A capture's notification for less (the merchant captured part) arrives after the
    payment settled: out of order, not a payment discrepancy."""
    async with router(simulated("stripe")) as payments:
        pending = await pending_payment(payments)
        inbox = receiver(payments)
        paid = stripe_body("payment_intent.succeeded", {"id": pending.provider_reference})
        part = stripe_body(
            "payment_intent.succeeded", {"id": pending.provider_reference, "amount": 400}, "evt_2"
        )
        await inbox.receive("stripe", paid, stripe_headers(paid))
        late = await inbox.receive("stripe", part, stripe_headers(part))
        listed = await payments.discrepancies()

    assert late.receipts[0].result is WebhookResult.OUT_OF_ORDER
    assert listed == []
