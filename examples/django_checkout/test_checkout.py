"""The Django checkout against the sandbox stand-ins, through Django's test client.

Django is configured from the example's own settings module; each test gets fresh stand-ins
on free ports from the `payrouter_sandbox` fixture (the `payrouter-lab` pytest plugin) and
points a copy of the example's `payrouter.yaml` at them.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import time
from collections.abc import Iterator
from pathlib import Path

import django
import httpx
import pytest

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "examples.django_checkout.settings")
django.setup()

from django.test import Client, override_settings  # noqa: E402 - needs django.setup()

from payrouter_lab.testing import SANDBOX_SECRETS, SandboxControl  # noqa: E402

from . import views  # noqa: E402

CONFIG = Path(__file__).with_name("payrouter.yaml")
CARD = {
    "amount": "24.90",
    "currency": "EUR",
    "country": "DE",
    "card_token": "pm_card_visa",
    "customer_id": "shopper-1",
}


Shop = tuple[Client, SandboxControl]


@pytest.fixture
def shop(
    tmp_path: Path, payrouter_sandbox: SandboxControl, payrouter_sandbox_env: object
) -> Iterator[Shop]:
    config = payrouter_sandbox.config_for(CONFIG, tmp_path)
    with override_settings(PAYROUTER_CONFIG=config):
        try:
            yield Client(), payrouter_sandbox
        finally:
            views.close_router()


def post(client: Client, body: dict[str, object]) -> dict[str, object]:
    response = client.post("/payments", body, content_type="application/json")
    answer: dict[str, object] = response.json() | {"http_status": response.status_code}
    return answer


@pytest.mark.slow
def test_stripe_down_fails_over_to_adyen_once_even_on_a_double_click(
    shop: Shop,
) -> None:
    client, sandbox = shop
    sandbox.fault("stripe", "down")
    first = post(client, {"order_id": "D-1", **CARD})
    again = post(client, {"order_id": "D-1", **CARD})
    assert first == again
    assert (first["status"], first["provider"]) == ("succeeded", "adyen")
    books = sandbox.books("adyen")["orders"]
    assert books == {"D-1": {"taken": 2490, "refunded": 0}}
    assert client.get("/payments/D-1").json()["status"] == "succeeded"


@pytest.mark.slow
def test_a_paypal_payment_redirects_and_completes_when_the_customer_returns(
    shop: Shop,
) -> None:
    client, _ = shop
    started = post(
        client,
        {
            "order_id": "D-2",
            "amount": "15.00",
            "currency": "EUR",
            "country": "DE",
            "wallet": "paypal",
            "prefer": ["wallet"],
        },
    )
    assert started["status"] == "requires_action"
    assert isinstance(started["redirect_url"], str)
    httpx.get(started["redirect_url"]).raise_for_status()  # the customer approves
    returned = client.get("/return", {"order_id": "D-2"}).json()
    assert returned["status"] == "succeeded"


@pytest.mark.slow
def test_bad_input_is_a_422_naming_the_problem_without_echoing_the_card(
    shop: Shop,
) -> None:
    client, _ = shop
    answer = post(client, {"order_id": "D-3", **CARD, "card_token": "4242 4242 4242 4242"})
    assert answer["http_status"] == 422
    assert "4242" not in str(answer["detail"])
    assert re.search(r"card|token", str(answer["detail"]))


@pytest.mark.slow
def test_a_refund_goes_to_the_provider_that_took_the_payment_and_queues_while_it_is_down(
    shop: Shop,
) -> None:
    client, sandbox = shop
    sandbox.fault("stripe", "down")
    assert post(client, {"order_id": "D-4", **CARD})["provider"] == "adyen"

    def refund(body: dict[str, object]) -> dict[str, object]:
        response = client.post("/payments/D-4/refunds", body, content_type="application/json")
        answer: dict[str, object] = response.json() | {"http_status": response.status_code}
        return answer

    part = refund({"amount": "4.90", "request_id": "rt-9"})
    sandbox.fault("adyen", "busy", status=503, operations=["refund"])
    rest = refund({})

    assert part == {
        "refund_id": "D-4/refund/1",
        "status": "pending",  # Adyen accepts, then confirms by webhook
        "amount": "4.90",
        "provider": "adyen",
        "http_status": 200,
    }
    assert (rest["status"], rest["amount"], rest["http_status"]) == ("queued", "20.00", 202)


@pytest.mark.slow
def test_a_forged_webhook_is_refused_and_a_signed_one_settles_the_payment(
    shop: Shop,
) -> None:
    client, sandbox = shop
    sandbox.fault("stripe", "pending", settle_after_seconds=3600)
    assert post(client, {"order_id": "D-5", **CARD})["status"] == "pending"
    pending = views.router().lookup("D-5")
    assert pending is not None
    body = json.dumps(
        {
            "id": "evt_d5",
            "type": "payment_intent.succeeded",
            "created": int(time.time()),
            "data": {
                "object": {
                    "id": pending.provider_reference,
                    "amount": pending.amount.minor_units,  # a mismatch would not settle it
                    "currency": pending.amount.currency.lower(),
                }
            },
        }
    ).encode()

    def deliver(secret: str) -> int:
        stamp = int(time.time())
        mac = hmac.new(secret.encode(), f"{stamp}.".encode() + body, hashlib.sha256)
        signature = f"t={stamp},v1={mac.hexdigest()}"
        answer = client.post(
            "/webhooks/stripe", body, "application/json", HTTP_STRIPE_SIGNATURE=signature
        )
        return int(answer.status_code)

    assert deliver("whsec_guess") == 401
    assert client.get("/payments/D-5").json()["status"] == "pending"
    assert deliver(SANDBOX_SECRETS["STRIPE_WEBHOOK_SECRET"]) == 200
    assert client.get("/payments/D-5").json()["status"] == "succeeded"
