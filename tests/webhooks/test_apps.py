"""The webhook endpoint mounted in Starlette/FastAPI and called from a Django view answers
each kind of notification with the status its provider expects; two deliveries of the same
event racing on PostgreSQL apply once."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.routing import Mount
from starlette.testclient import TestClient

from payrouter import PaymentStatus, SyncRouter
from payrouter import webhooks as payrouter_webhooks
from payrouter.webhooks import WebhookResult

from .kit import pending_payment, receiver, router, simulated, stripe_body, stripe_headers


def test_the_asgi_app_mounted_in_a_starlette_app(tmp_path: Path) -> None:
    payments = router(simulated("stripe"), ledger=f"sqlite:///{tmp_path / 'ledger.db'}")
    with SyncRouter(payments) as sync:
        pending = sync.run_coroutine(pending_payment(payments))
        shop = Starlette(routes=[Mount("/webhooks", payrouter_webhooks.app(receiver(payments)))])
        body = stripe_body("payment_intent.succeeded", {"id": pending.provider_reference})
        with TestClient(shop) as client:
            forged = client.post(
                "/webhooks/stripe", content=body, headers=stripe_headers(body, secret="x")
            )
            malformed = client.post(
                "/webhooks/stripe", content=b"[]", headers=stripe_headers(b"[]")
            )
            genuine = client.post("/webhooks/stripe", content=body, headers=stripe_headers(body))
            replayed = client.post("/webhooks/stripe", content=body, headers=stripe_headers(body))
            absent = client.post("/webhooks/paypal", content=b"{}")
        settled = sync.lookup("order-1")

    assert [r.status_code for r in (forged, malformed, genuine, replayed)] == [401, 400, 200, 200]
    assert absent.status_code == 404  # no PayPal verifier configured, so no route
    assert settled is not None
    assert settled.status is PaymentStatus.SUCCEEDED


def test_the_django_handler_on_a_sync_router(tmp_path: Path) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "examples.django_checkout.settings")
    import django

    django.setup()
    from django.test import RequestFactory

    from payrouter.webhooks.django import handle

    payments = router(simulated("stripe"), ledger=f"sqlite:///{tmp_path / 'ledger.db'}")
    with SyncRouter(payments) as sync:
        pending = sync.run_coroutine(pending_payment(payments))
        inbox = receiver(sync)
        body = stripe_body("payment_intent.succeeded", {"id": pending.provider_reference})
        factory = RequestFactory()

        def post(headers: dict[str, str]) -> int:
            extra = {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in headers.items()}
            request = factory.post("/webhooks/stripe", body, "application/json", **extra)
            return int(handle(request, inbox, "stripe").status_code)

        forged = post(stripe_headers(body, secret="whsec_wrong"))
        genuine = post(stripe_headers(body))
        settled = sync.lookup("order-1")

    assert (forged, genuine) == (401, 200)
    assert settled is not None
    assert settled.status is PaymentStatus.SUCCEEDED


@pytest.mark.peer("postgres")
async def test_two_deliveries_of_one_event_racing_apply_once(postgres_url: str) -> None:
    one, other = (
        router(simulated("stripe"), ledger=postgres_url),
        router(simulated("stripe"), ledger=postgres_url),
    )
    async with one, other:
        pending = await pending_payment(one)
        body = stripe_body("payment_intent.succeeded", {"id": pending.provider_reference})
        answers = await asyncio.gather(
            receiver(one).receive("stripe", body, stripe_headers(body)),
            receiver(other).receive("stripe", body, stripe_headers(body)),
        )
        settled = await one.lookup("order-1")

    results = sorted(answer.receipts[0].result.value for answer in answers)
    assert results == sorted([WebhookResult.APPLIED.value, WebhookResult.REPLAYED.value])
    assert settled is not None
    assert settled.status is PaymentStatus.SUCCEEDED
