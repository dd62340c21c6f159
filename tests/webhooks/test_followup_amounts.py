"""A refund's or capture's notification is held to the follow-up's own amount and currency,
as a payment's is to the payment's: a mismatch never marks the follow-up done, it becomes an
open discrepancy with both figures, an `AmountMismatch` event and the metric."""

from __future__ import annotations

from datetime import UTC, datetime

from prometheus_client import CollectorRegistry
from pydantic import SecretStr

from payrouter import (
    CardSource,
    FollowUp,
    FollowUpStatus,
    Money,
    PaymentRequest,
    PaymentStatus,
    Router,
    RouterSettings,
    WalletSource,
)
from payrouter.instrumentation import AmountMismatch, Event, PrometheusHook
from payrouter.testing import Behavior, ScriptedProvider, SimulatedAdapter
from payrouter.webhooks import WebhookResult
from payrouter_adapters.paypal import PayPalAdapter
from payrouter_adapters.paypal._webhooks import parse_event as paypal_event

from .kit import adyen_body, receiver, simulated, stripe_body, stripe_headers


def _router(name: str, seen: list[Event]) -> Router:
    return Router([simulated(name)], ledger="sqlite://", hooks=[seen.append])


async def _pending_followup(payments: Router, *, capture: bool = False) -> FollowUp:
    """A 10.00 EUR payment, then a 4.00 EUR refund (or, authorized only, a 4.00 EUR capture)
    the provider accepted and will confirm by notification."""
    (adapter,) = payments.adapters
    assert isinstance(adapter, SimulatedAdapter)
    source = WalletSource(wallet="paypal") if adapter.name == "paypal" else None
    await payments.pay(
        PaymentRequest(
            order_id="order-1",
            amount=Money.of("10.00", "EUR"),
            sources=[source or CardSource(token=SecretStr("pm_card_visa"))],
            customer_country="DE",
            capture=not capture,
        )
    )
    adapter.provider.script_followups(Behavior.pending())
    four = Money.of("4.00", "EUR")
    followup = await (
        payments.capture("order-1", four) if capture else payments.refund("order-1", four)
    )
    assert followup.status is FollowUpStatus.PENDING
    return followup


async def _status(payments: Router) -> FollowUpStatus:
    (followup,) = await payments.followups("order-1")
    return followup.status


def _mismatch(seen: list[Event]) -> AmountMismatch:
    (event,) = [e for e in seen if isinstance(e, AmountMismatch)]
    return event


async def test_a_stripe_refund_notification_for_another_amount_never_confirms_the_refund() -> None:
    seen: list[Event] = []
    async with _router("stripe", seen) as payments:
        refund = await _pending_followup(payments)
        inbox = receiver(payments)
        wrong = stripe_body(
            "refund.updated",
            {"id": refund.provider_reference, "status": "succeeded", "amount": 1000},
        )
        answer = await inbox.receive("stripe", wrong, stripe_headers(wrong))
        still = await _status(payments)
        (listed,) = await payments.discrepancies()
        right = stripe_body(
            "refund.updated",
            {"id": refund.provider_reference, "status": "succeeded", "amount": 400},
            "evt_2",
        )
        later = await inbox.receive("stripe", right, stripe_headers(right))
        done = await _status(payments)

    assert (answer.status, answer.receipts[0].result) == (200, WebhookResult.AMOUNT_MISMATCH)
    assert answer.receipts[0].followup_id == refund.followup_id
    assert still is FollowUpStatus.PENDING
    mismatch = _mismatch(seen)
    assert (mismatch.order_id, mismatch.followup_id, mismatch.source) == (
        "order-1",
        refund.followup_id,
        "webhook",
    )
    assert (mismatch.expected_minor, mismatch.reported_minor) == (400, 1000)
    assert (listed.kind, listed.order_id, listed.reference) == (
        "amount_differs",
        "order-1",
        refund.followup_id,
    )
    assert (listed.ledger_side, listed.provider_side) == (
        "4.00 EUR",
        "10.00 EUR in refund.updated (evt_1)",
    )
    assert "not marked done" in listed.action
    assert later.receipts[0].result is WebhookResult.APPLIED
    assert done is FollowUpStatus.SUCCEEDED


async def test_a_stripe_refund_notification_in_another_currency_is_a_currency_difference() -> None:
    seen: list[Event] = []
    async with _router("stripe", seen) as payments:
        refund = await _pending_followup(payments)
        body = stripe_body(
            "refund.updated",
            {
                "id": refund.provider_reference,
                "status": "succeeded",
                "amount": 400,
                "currency": "usd",
            },
        )
        answer = await receiver(payments).receive("stripe", body, stripe_headers(body))
        (listed,) = await payments.discrepancies()

        assert answer.receipts[0].result is WebhookResult.AMOUNT_MISMATCH
        assert await _status(payments) is FollowUpStatus.PENDING
    assert listed.kind == "currency_differs"
    assert _mismatch(seen).reported_currency == "USD"


async def test_a_confirmation_that_reports_no_amount_cannot_confirm_a_refund() -> None:
    """A refund confirmed without its amount proves nothing about what was returned."""
    seen: list[Event] = []
    async with _router("stripe", seen) as payments:
        refund = await _pending_followup(payments)
        body = stripe_body(
            "refund.updated",
            {"id": refund.provider_reference, "status": "succeeded", "amount": None},
        )
        answer = await receiver(payments).receive("stripe", body, stripe_headers(body))

        assert answer.receipts[0].result is WebhookResult.AMOUNT_MISMATCH
        assert await _status(payments) is FollowUpStatus.PENDING


async def test_an_adyen_capture_notification_for_more_than_the_capture_never_confirms_it() -> None:
    seen: list[Event] = []
    async with _router("adyen", seen) as payments:
        capture = await _pending_followup(payments, capture=True)
        inbox = receiver(payments)
        whole = adyen_body("CAPTURE", capture.provider_reference or "", value=1000)
        answer = await inbox.receive("adyen", whole, {})
        still = await _status(payments)
        part = adyen_body("CAPTURE", capture.provider_reference or "", value=400, original="p")
        # The same code, psp and success is the same event to Adyen: it is a replay.
        replayed = await inbox.receive("adyen", part, {})
        (listed,) = await payments.discrepancies()

    assert answer.receipts[0].result is WebhookResult.AMOUNT_MISMATCH
    assert still is FollowUpStatus.PENDING
    assert replayed.receipts[0].result is WebhookResult.REPLAYED
    assert (listed.ledger_side, listed.provider_side) == (
        "4.00 EUR",
        f"10.00 EUR in CAPTURE (CAPTURE:{capture.provider_reference}:true)",
    )
    assert (_mismatch(seen).expected_minor, _mismatch(seen).reported_minor) == (400, 1000)


async def test_an_adyen_refund_notification_for_the_refund_amount_confirms_it() -> None:
    seen: list[Event] = []
    async with _router("adyen", seen) as payments:
        refund = await _pending_followup(payments)
        body = adyen_body("REFUND", refund.provider_reference or "", value=400)
        answer = await receiver(payments).receive("adyen", body, {})

        assert answer.receipts[0].result is WebhookResult.APPLIED
        assert await _status(payments) is FollowUpStatus.SUCCEEDED
        assert await payments.discrepancies() == []
    assert not [e for e in seen if isinstance(e, AmountMismatch)]


async def test_an_adyen_refund_refusal_for_another_amount_does_not_refuse_the_refund() -> None:
    """A refusal that names other figures is not about this refund: it stays open."""
    seen: list[Event] = []
    async with _router("adyen", seen) as payments:
        refund = await _pending_followup(payments)
        body = adyen_body("REFUND", refund.provider_reference or "", value=900, success=False)
        answer = await receiver(payments).receive("adyen", body, {})

        assert answer.receipts[0].result is WebhookResult.AMOUNT_MISMATCH
        assert await _status(payments) is FollowUpStatus.PENDING


async def test_a_paypal_refund_notification_for_another_amount_never_confirms_the_refund() -> None:
    seen: list[Event] = []
    async with _router("paypal", seen) as payments:
        refund = await _pending_followup(payments)
        refund_id = (refund.provider_reference or "").rsplit(":", 1)[-1]
        event = paypal_event(
            {
                "id": "WH-1",
                "event_type": "PAYMENT.CAPTURE.REFUNDED",
                "create_time": datetime.now(UTC).isoformat(),
                "resource": {
                    "id": refund_id,
                    "status": "COMPLETED",
                    "amount": {"value": "10.00", "currency_code": "EUR"},
                },
            },
            "paypal",
        )
        receipt = await payments.apply_webhook(event)

        assert receipt.result is WebhookResult.AMOUNT_MISMATCH
        assert await _status(payments) is FollowUpStatus.PENDING
    assert (_mismatch(seen).expected_minor, _mismatch(seen).reported_minor) == (400, 1000)


async def test_a_follow_up_mismatch_moves_the_metric() -> None:
    prometheus = PrometheusHook(CollectorRegistry())
    async with Router(
        [simulated("stripe")], ledger="sqlite://", hooks=[prometheus], settings=RouterSettings()
    ) as payments:
        refund = await _pending_followup(payments)
        body = stripe_body(
            "refund.updated",
            {"id": refund.provider_reference, "status": "succeeded", "amount": 1},
        )
        await receiver(payments).receive("stripe", body, stripe_headers(body))

    value = prometheus.registry.get_sample_value(
        "payrouter_amount_mismatches_total",
        {"provider": "stripe", "source": "webhook", "result": "amount_mismatch"},
    )
    assert value == 1.0


def _paypal_capture(capture_id: str, value: str, event_id: str) -> object:
    return paypal_event(
        {
            "id": event_id,
            "event_type": "PAYMENT.CAPTURE.COMPLETED",
            "create_time": datetime.now(UTC).isoformat(),
            "resource": {
                "id": capture_id,
                "status": "COMPLETED",
                "amount": {"value": value, "currency_code": "EUR"},
            },
        },
        "paypal",
    )


async def test_a_paypal_capture_notification_confirms_the_capture_it_names() -> None:
    """PayPal reports a later capture as PAYMENT.CAPTURE.COMPLETED, the event a payment's own
    capture sends too: naming the capture follow-up's reference, it is about the follow-up,
    and held to its amount."""
    peer = ScriptedProvider()
    authorization = {"id": "AUTH-1", "status": "CREATED"}
    peer.answer(
        201,
        {
            "id": "ORDER-1",
            "status": "COMPLETED",
            "purchase_units": [{"payments": {"authorizations": [authorization]}}],
        },
    )
    peer.answer(201, {"id": "CAP-1", "status": "PENDING"})  # the capture, held for review
    paypal = PayPalAdapter.from_options(
        name="paypal",
        capabilities=None,
        options={"base_url": "https://paypal.test", "access_token": "A21AA-test"},
        transport=peer,
    )
    seen: list[Event] = []
    async with Router([paypal], ledger="sqlite://", hooks=[seen.append]) as payments:
        await payments.pay(
            PaymentRequest(
                order_id="order-1",
                amount=Money.of("10.00", "EUR"),
                sources=[WalletSource(wallet="paypal", account=SecretStr("vault-1"))],
                customer_country="DE",
                capture=False,
            )
        )
        capture = await payments.capture("order-1", Money.of("4.00", "EUR"))
        wrong = await payments.apply_webhook(_paypal_capture("CAP-1", "10.00", "WH-1"))
        still = await _status(payments)
        right = await payments.apply_webhook(_paypal_capture("CAP-1", "4.00", "WH-2"))
        done = await _status(payments)
        payment = await payments.lookup("order-1")

    assert capture.status is FollowUpStatus.PENDING
    assert (wrong.result, wrong.followup_id) == (
        WebhookResult.AMOUNT_MISMATCH,
        capture.followup_id,
    )
    assert still is FollowUpStatus.PENDING
    assert (right.result, right.followup_id) == (WebhookResult.APPLIED, capture.followup_id)
    assert done is FollowUpStatus.SUCCEEDED
    assert payment is not None
    assert payment.status is PaymentStatus.SUCCEEDED  # the authorized payment is untouched


async def test_a_payment_event_naming_the_payment_itself_is_never_a_follow_up_s() -> None:
    """Stripe's capture answers with the intent's own id, and `payment_intent.succeeded`
    after a partial capture still reports the whole intent: the payment's event, out of
    order for a settled payment, never a difference with the capture."""
    seen: list[Event] = []
    async with _router("stripe", seen) as payments:
        capture = await _pending_followup(payments, capture=True)
        payment = await payments.lookup("order-1")
        assert payment is not None
        assert capture.provider_reference == payment.provider_reference
        body = stripe_body("payment_intent.succeeded", {"id": payment.provider_reference})
        answer = await receiver(payments).receive("stripe", body, stripe_headers(body))
        listed = await payments.discrepancies()

    assert answer.receipts[0].result is WebhookResult.OUT_OF_ORDER
    assert listed == []
