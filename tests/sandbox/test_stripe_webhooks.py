"""The webhook rung against the Stripe stand-in: endpoints registered through
`POST /v1/webhook_endpoints`, events signed with `Stripe-Signature` and delivered (and
retried) after the outcome, to payrouter's own webhook app. A payment whose answer was lost
(Stripe's saved 500, repeated by every replay) while Stripe's search lags is settled by
`payment_intent.succeeded`, not by search."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
import pytest_asyncio
from pydantic import SecretStr
from starlette.applications import Starlette
from starlette.routing import Mount

import payrouter.webhooks
from payrouter import (
    CardSource,
    FollowUpStatus,
    Money,
    PaymentMethod,
    PaymentRequest,
    PaymentResult,
    PaymentStatus,
    Router,
    RouterSettings,
)
from payrouter.provider import PaymentHandle
from payrouter.webhooks import WebhookReceiver
from payrouter_adapters.stripe import StripeWebhooks
from payrouter_lab.sandbox import Sandbox
from payrouter_lab.sandbox._server import _Listener
from payrouter_lab.sandbox._stripe import StripeStandin
from tests.sandbox.kit import add_fault, books, stripe_adapter

pytestmark = pytest.mark.asyncio(loop_scope="session")

SETTINGS = RouterSettings(lookup_tries=1, lookup_wait_seconds=0)
EVENTS = ("payment_intent.succeeded", "payment_intent.payment_failed", "refund.created")
WAIT_SECONDS = 60.0
"""How long a delivery may take, retries included: far above what one needs; only a broken
rung ever waits this long."""


@pytest_asyncio.fixture(loop_scope="session")
async def router(sandbox: Sandbox) -> AsyncIterator[Router]:
    async with Router(
        [stripe_adapter(sandbox)], ledger="sqlite://", hooks=(), settings=SETTINGS
    ) as built:
        yield built


async def register(sandbox: Sandbox, url: str, events: tuple[str, ...]) -> httpx.Response:
    form = {"url": url, "enabled_events[]": list(events)}
    async with httpx.AsyncClient(
        base_url=sandbox.urls["stripe"], headers={"Authorization": "Bearer sk_test"}
    ) as client:
        return await client.post("/v1/webhook_endpoints", data=form)


class Inbox:
    """payrouter's webhook app, built once the endpoint's secret is known (the URL must be
    registered first, and only the registration answers the secret)."""

    app: Any = None
    secret: str = ""

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await self.app(scope, receive, send)


@pytest_asyncio.fixture(loop_scope="session")
async def inbox(sandbox: Sandbox, router: Router) -> AsyncIterator[Inbox]:
    """payrouter's webhook app on a port of its own, registered at the Stripe stand-in."""
    late = Inbox()
    listener = _Listener(Starlette(routes=[Mount("/", app=late)]), 0)
    await listener.open()
    try:
        registered = await register(sandbox, f"http://127.0.0.1:{listener.port}/stripe", EVENTS)
        assert registered.status_code == 200, registered.text
        secret = registered.json()["secret"]
        assert secret.startswith("whsec_")
        late.app = payrouter.webhooks.app(WebhookReceiver(router, [StripeWebhooks(secret)]))
        late.secret = secret
        yield late
    finally:
        await listener.close()


async def until(condition: Callable[[], bool]) -> None:
    """Wait for the stand-in's deliveries to reach `condition` (polled: they run apart)."""
    async with asyncio.timeout(WAIT_SECONDS):
        while True:
            if condition():
                return
            await asyncio.sleep(0.05)


async def settled(router: Router, order_id: str) -> PaymentResult:
    async with asyncio.timeout(WAIT_SECONDS):
        while True:
            found = await router.lookup(order_id)
            if found is not None and found.status is not PaymentStatus.PENDING:
                return found
            await asyncio.sleep(0.05)


async def test_a_lost_answer_behind_lagging_search_is_settled_by_the_webhook(
    sandbox: Sandbox, router: Router, admin: httpx.AsyncClient, inbox: Inbox
) -> None:
    await add_fault(admin, "stripe", kind="search_lag", delay_seconds=600)
    # Stripe charged and answered its own 500, which every replay under the key repeats.
    await add_fault(admin, "stripe", kind="error", processed=True, count=1, operations=["pay"])
    paid = await router.pay(
        PaymentRequest(
            order_id="order-webhook",
            amount=Money.of("10.50", "EUR"),
            sources=[CardSource(token=SecretStr("pm_card_visa"))],
            customer_country="DE",
        )
    )
    assert paid.status is PaymentStatus.PENDING  # no answer, no replay, search shows nothing

    done = await settled(router, "order-webhook")

    assert done.status is PaymentStatus.SUCCEEDED
    assert done.provider_reference is not None
    standin = sandbox.standins["stripe"]
    assert isinstance(standin, StripeStandin)
    (delivery,) = standin.webhooks.deliveries
    assert delivery.type == "payment_intent.succeeded"
    client = stripe_adapter(sandbox)
    try:  # search still lags: it is not what settled the payment
        searched = await client.lookup(
            PaymentHandle(
                reference=paid.attempts[0].idempotency_key,
                order_id="order-webhook",
                method=PaymentMethod.CARD,
                amount=paid.amount,
            )
        )
    finally:
        await client.aclose()
    assert searched.provider_reference is None
    refunded = await router.refund(done)  # the intent's id came with the event
    assert refunded.status is FollowUpStatus.SUCCEEDED
    await until(lambda: all(d.delivered for d in standin.webhooks.deliveries))
    assert [d.type for d in standin.webhooks.deliveries] == [
        "payment_intent.succeeded",
        "refund.created",
    ]
    assert (await books(admin, "stripe"))["orders"]["order-webhook"] == {
        "taken": 1050,
        "refunded": 1050,
    }


async def test_a_delivery_refused_is_tried_again_until_it_is_taken(
    sandbox: Sandbox, router: Router, inbox: Inbox
) -> None:
    """The endpoint refuses the first tries (a receiver holding another secret answers 401);
    Stripe tries again, and once the receiver holds the endpoint's secret the event settles
    the payment. A decline's event carries its reason."""
    standin = sandbox.standins["stripe"]
    assert isinstance(standin, StripeStandin)
    right = inbox.app
    inbox.app = payrouter.webhooks.app(
        WebhookReceiver(router, [StripeWebhooks("whsec_" + "0" * 32)])
    )
    declined = await router.pay(
        PaymentRequest(
            order_id="order-webhook-declined",
            amount=Money.of("10.50", "EUR"),
            sources=[CardSource(token=SecretStr("pm_card_visa_chargeDeclinedInsufficientFunds"))],
            customer_country="DE",
        )
    )
    await until(lambda: any(d.statuses for d in standin.webhooks.deliveries))
    inbox.app = right
    await until(lambda: all(d.delivered for d in standin.webhooks.deliveries))

    (delivery,) = standin.webhooks.deliveries
    assert declined.status is PaymentStatus.DECLINED  # the answer said so already
    assert delivery.type == "payment_intent.payment_failed"
    assert delivery.statuses[0] == 401
    assert delivery.statuses[-1] == 200


async def test_an_endpoint_needs_its_url_and_events(sandbox: Sandbox) -> None:
    """Both parameters are required, as at Stripe; no secret without them."""
    no_events = await register(sandbox, "http://127.0.0.1:9/stripe", ())
    assert no_events.status_code == 400
    assert no_events.json()["error"]["param"] == "enabled_events"
