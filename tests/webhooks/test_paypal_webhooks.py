"""PayPal's notifications: a capture is named as the adapter names it, so the ledger's copy
can be refunded and looked up, and only PayPal's verdict makes a notification forged."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from payrouter import (
    FollowUpStatus,
    Money,
    PaymentMethod,
    PaymentRequest,
    PaymentStatus,
    Router,
    WalletSource,
)
from payrouter.provider import Outcome, PaymentHandle
from payrouter.testing import ScriptedProvider
from payrouter.webhooks import (
    ForgedNotificationError,
    VerificationUnavailableError,
    WebhookEvent,
    WebhookReceiver,
    WebhookResult,
)
from payrouter_adapters.paypal import PayPalAdapter, PayPalWebhooks

ORDER = "5O190127TN364715T"
AUTH = "0VF52814937998046"
CAPTURE = "3C679366HH908993F"
API = "https://api-m.paypal.test"
VERIFY = "/v1/notifications/verify-webhook-signature"
EUR = Money.of("10.50", "EUR")
HEADERS = {
    "PAYPAL-AUTH-ALGO": "SHA256withRSA",
    "PAYPAL-CERT-URL": "https://api.paypal.com/v1/notifications/certs/CERT-360caa42",
    "PAYPAL-TRANSMISSION-ID": "tx-1",
    "PAYPAL-TRANSMISSION-SIG": "sig",
}


def verdict(status: str = "SUCCESS") -> httpx.Response:
    return httpx.Response(200, json={"verification_status": status})


@pytest.fixture
def peer() -> ScriptedProvider:
    """A scripted PayPal whose verification API answers SUCCESS unless told otherwise."""
    provider = ScriptedProvider()
    provider.route(VERIFY, otherwise=lambda _: verdict())
    return provider


@pytest.fixture
async def paypal(peer: ScriptedProvider) -> AsyncIterator[PayPalAdapter]:
    adapter = PayPalAdapter.from_options(
        name="paypal",
        capabilities=None,
        options={"base_url": API, "access_token": "A21AA-test"},
        transport=peer,
    )
    yield adapter
    await adapter.aclose()


def capture(**fields: object) -> dict[str, object]:
    """A capture as PayPal's PAYMENT.CAPTURE.* notifications carry it (Payments v2)."""
    return {
        "id": CAPTURE,
        "status": "COMPLETED",
        "amount": {"currency_code": "EUR", "value": "10.50"},
        "invoice_id": "attempt-key",
        **fields,
    }


RELATED = {"supplementary_data": {"related_ids": {"order_id": ORDER}}}
UP_TO_ORDER = {"links": [{"href": f"{API}/v2/checkout/orders/{ORDER}", "rel": "up"}]}


def event(resource: dict[str, object], kind: str = "PAYMENT.CAPTURE.COMPLETED") -> bytes:
    document = {
        "id": "WH-1",
        "event_type": kind,
        "create_time": datetime.now(UTC).isoformat(),
        "resource": resource,
    }
    return json.dumps(document).encode()


def sent_now() -> dict[str, str]:
    return HEADERS | {"PAYPAL-TRANSMISSION-TIME": datetime.now(UTC).isoformat()}


async def read(paypal: PayPalAdapter, body: bytes) -> WebhookEvent:
    (parsed,) = await PayPalWebhooks(paypal, "WH-ID-1").read(body, sent_now())
    return parsed


def handle(reference: str) -> PaymentHandle:
    return PaymentHandle("attempt-key", "order-1", PaymentMethod.WALLET, EUR, reference)


# --- the reference a notification gives ------------------------------------------------------


async def test_a_capture_notification_names_the_capture_as_completing_the_order_does(
    paypal: PayPalAdapter, peer: ScriptedProvider
) -> None:
    """related_ids.order_id + the capture id: exactly the reference complete() answers with."""
    order = {
        "id": ORDER,
        "status": "COMPLETED",
        "purchase_units": [{"payments": {"captures": [capture()]}}],
    }
    peer.answer(201, order)
    completed = await paypal.complete(handle(ORDER), idempotency_key="k", capture=True)

    found = await read(paypal, event(capture(**RELATED)))

    assert found.provider_reference == completed.provider_reference == f"{ORDER}:capture:{CAPTURE}"
    assert (found.status, found.our_reference) == (PaymentStatus.SUCCEEDED, "attempt-key")


async def test_without_related_ids_the_up_link_to_the_order_names_it(
    paypal: PayPalAdapter,
) -> None:
    found = await read(paypal, event(capture(**UP_TO_ORDER)))
    assert found.provider_reference == f"{ORDER}:capture:{CAPTURE}"


async def test_a_capture_naming_no_order_is_named_by_the_capture_alone(
    paypal: PayPalAdapter,
) -> None:
    """An `up` link to an authorization is not the order; without one the capture stays
    `capture:ID`, which the ledger still matches at the end of `ORDER:capture:ID`."""
    up_to_auth = {"links": [{"href": f"{API}/v2/payments/authorizations/{AUTH}", "rel": "up"}]}
    found = [
        await read(paypal, event(capture(**fields)))
        for fields in ({}, up_to_auth, {"supplementary_data": {"related_ids": {"order_id": 7}}})
    ]
    assert {f.provider_reference for f in found} == {f"capture:{CAPTURE}"}


@pytest.mark.parametrize("kind", ["PAYMENT.AUTHORIZATION.CREATED", "PAYMENT.AUTHORIZATION.VOIDED"])
async def test_an_authorization_notification_names_the_authorization_in_its_order(
    paypal: PayPalAdapter, kind: str
) -> None:
    found = await read(paypal, event({"id": AUTH, "status": "CREATED", **RELATED}, kind))
    assert found.provider_reference == f"{ORDER}:authorization:{AUTH}"


async def test_a_refund_notification_still_names_the_refund_alone(paypal: PayPalAdapter) -> None:
    """A refund's follow-up is found by its id at the end of `ORDER:refund:ID`."""
    refund: dict[str, object] = {"id": "1JU08902781691411", "status": "COMPLETED", **RELATED}
    found = await read(paypal, event(refund, "PAYMENT.CAPTURE.REFUNDED"))
    assert found.provider_reference == "1JU08902781691411"


# --- what the adapter does with that reference -------------------------------------------------


async def test_the_notifications_reference_refunds_the_capture_and_looks_up_the_order(
    paypal: PayPalAdapter, peer: ScriptedProvider
) -> None:
    reference = (await read(paypal, event(capture(**RELATED)))).provider_reference
    assert reference is not None
    peer.answer(201, {"id": "1JU08902781691411", "status": "COMPLETED"})
    peer.answer(200, {"id": ORDER, "status": "COMPLETED", "purchase_units": []})

    refunded = await paypal.refund(handle(reference), EUR, idempotency_key="r", reason=None)
    await paypal.lookup(handle(reference))

    assert [(r.method, r.url.path) for r in peer.requests] == [
        ("POST", f"/v2/payments/captures/{CAPTURE}/refund"),
        ("GET", f"/v2/checkout/orders/{ORDER}"),
    ]
    assert refunded.outcome is Outcome.SUCCEEDED


async def test_a_capture_known_without_its_order_is_refunded_and_looked_up_by_the_capture(
    paypal: PayPalAdapter, peer: ScriptedProvider
) -> None:
    """Never an order lookup under the capture's id (404, a captured payment reported
    missing): Payments v2 shows the capture, and the order it names."""
    reference = (await read(paypal, event(capture()))).provider_reference
    assert reference == f"capture:{CAPTURE}"
    peer.answer(201, {"id": "1JU08902781691411", "status": "COMPLETED"})
    peer.answer(200, capture(**RELATED))

    refunded = await paypal.refund(handle(reference), EUR, idempotency_key="r", reason=None)
    found = await paypal.lookup(handle(reference))

    assert [(r.method, r.url.path) for r in peer.requests] == [
        ("POST", f"/v2/payments/captures/{CAPTURE}/refund"),
        ("GET", f"/v2/payments/captures/{CAPTURE}"),
    ]
    assert refunded.outcome is Outcome.SUCCEEDED
    assert (found.outcome, found.provider_reference) == (
        Outcome.SUCCEEDED,
        f"{ORDER}:capture:{CAPTURE}",
    )
    assert found.amount == EUR


async def test_a_capture_known_without_its_order_cannot_be_completed_without_a_call(
    paypal: PayPalAdapter, peer: ScriptedProvider
) -> None:
    reply = await paypal.complete(handle(f"capture:{CAPTURE}"), idempotency_key="k")
    assert (reply.outcome, reply.provider_code) == (Outcome.FAILED, "no_order")
    assert peer.requests == []


async def test_a_payment_settled_by_its_notification_after_a_lost_answer_can_be_refunded(
    paypal: PayPalAdapter, peer: ScriptedProvider
) -> None:
    """PayPal took the money but every answer to the create was lost; the notification settles
    the payment and gives it the reference its refund needs."""
    peer.route("/v2/checkout/orders", otherwise=lambda _: httpx.Response(500))
    refund = {"id": "1JU08902781691411", "status": "COMPLETED", "amount": capture()["amount"]}
    peer.route(f"/v2/payments/captures/{CAPTURE}/refund").answer(201, refund)
    async with Router([paypal], ledger="sqlite://", hooks=()) as router:
        pending = await router.pay(
            PaymentRequest(
                order_id="order-1",
                amount=EUR,
                sources=[WalletSource(wallet="paypal", account=SecretStr("8kk8451t"))],
                customer_country="DE",
            )
        )
        attempt_key = pending.attempts[-1].idempotency_key
        inbox = WebhookReceiver(router, [PayPalWebhooks(paypal, "WH-ID-1")])
        body = event(capture(**RELATED, invoice_id=attempt_key))
        answer = await inbox.receive("paypal", body, sent_now())
        settled = await router.lookup("order-1")
        assert settled is not None
        refunded = await router.refund(settled)

    assert (pending.status, pending.provider_reference) == (PaymentStatus.PENDING, None)
    assert [r.result for r in answer.receipts] == [WebhookResult.APPLIED]
    assert (settled.status, settled.provider_reference) == (
        PaymentStatus.SUCCEEDED,
        f"{ORDER}:capture:{CAPTURE}",
    )
    assert refunded.status is FollowUpStatus.SUCCEEDED
    routed = peer.route(f"/v2/payments/captures/{CAPTURE}/refund")
    assert [r.method for r in routed.requests] == ["POST"]


# --- verification: only PayPal's verdict is a forgery ------------------------------------------


async def test_paypal_throttling_the_verification_is_unverified_not_forged(
    paypal: PayPalAdapter, peer: ScriptedProvider
) -> None:
    """429 RATE_LIMIT_REACHED says nothing about the signature: 503, PayPal delivers again."""
    throttled = {"name": "RATE_LIMIT_REACHED", "message": "Too many requests."}
    peer.route(VERIFY).answer(429, throttled, **{"Retry-After": "1"})
    with pytest.raises(VerificationUnavailableError) as raised:
        await read(paypal, event(capture(**RELATED)))
    assert raised.value.status == 503


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (408, None),
        (401, {"name": "AUTHENTICATION_FAILURE"}),
        (403, {"name": "NOT_AUTHORIZED"}),
        (404, {"name": "RESOURCE_NOT_FOUND"}),
        (500, {"name": "INTERNAL_SERVER_ERROR"}),
        (503, {"name": "SERVICE_UNAVAILABLE"}),
        (200, {}),
        (200, {"verification_status": "PENDING"}),
    ],
)
async def test_answers_saying_nothing_about_the_signature_leave_it_unverified(
    paypal: PayPalAdapter, peer: ScriptedProvider, status: int, body: dict[str, Any] | None
) -> None:
    peer.route(VERIFY).answer(status, body)
    with pytest.raises(VerificationUnavailableError):
        await read(paypal, event(capture(**RELATED)))


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (200, {"verification_status": "FAILURE"}),
        (400, {"name": "VALIDATION_ERROR", "details": [{"field": "transmission_time"}]}),
        (422, {"name": "UNPROCESSABLE_ENTITY"}),
    ],
)
async def test_paypals_verdict_or_refusal_of_the_delivery_is_a_forgery(
    paypal: PayPalAdapter, peer: ScriptedProvider, status: int, body: dict[str, Any]
) -> None:
    peer.route(VERIFY).answer(status, body)
    with pytest.raises(ForgedNotificationError):
        await read(paypal, event(capture(**RELATED)))
