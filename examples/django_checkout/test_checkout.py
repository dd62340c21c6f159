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

from ..error_samples import ERRORS  # noqa: E402
from . import views  # noqa: E402

CONFIG = Path(__file__).with_name("payrouter.yaml")
CARD = {
    "amount": "24.90",
    "currency": "EUR",
    "country": "DE",
    "card_token": "pm_card_visa",
    "customer_id": "shopper-1",
}
# A card the checkout tokenized at both providers: each is sent only its own token.
CARD_AT_BOTH = {
    **{key: value for key, value in CARD.items() if key != "card_token"},
    "card_tokens": {"stripe": "pm_card_visa", "adyen": "M5N7TQ4TG5PFWR50"},
}
ADYEN_STORED_CARD = {"customer": "shopper-1", "credential_id": "M5N7TQ4TG5PFWR50"}
"""shopper-1's card stored at Adyen: the stand-in charges only what it issued (`shop`)."""


Shop = tuple[Client, SandboxControl]


@pytest.fixture
def shop(
    tmp_path: Path, payrouter_sandbox: SandboxControl, payrouter_sandbox_env: object
) -> Iterator[Shop]:
    config = payrouter_sandbox.config_for(CONFIG, tmp_path)
    payrouter_sandbox.credential("adyen", **ADYEN_STORED_CARD)  # as Adyen's tokenization would
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
    first = post(client, {"order_id": "D-1", **CARD_AT_BOTH})
    again = post(client, {"order_id": "D-1", **CARD_AT_BOTH})
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
    assert started["action"] == {"kind": "redirect", "type": None, "url": started["redirect_url"]}
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
    assert post(client, {"order_id": "D-4", **CARD_AT_BOTH})["provider"] == "adyen"

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


@pytest.mark.slow
def test_failing_over_to_adyen_without_customer_id_does_not_strand_the_order(
    shop: Shop,
) -> None:
    """The reported case: without the shopper reference Adyen is left out (a 503, never a
    500), and the same order is paid once the checkout sends it."""
    client, sandbox = shop
    sandbox.fault("stripe", "down")
    anonymous = {key: value for key, value in CARD_AT_BOTH.items() if key != "customer_id"}
    first = post(client, {"order_id": "D-6", **anonymous})
    unchanged = post(client, {"order_id": "D-6", **anonymous})
    fixed = post(client, {"order_id": "D-6", **CARD_AT_BOTH})
    assert (first["http_status"], first["payable_again"], unchanged["http_status"]) == (
        503,
        True,
        503,
    )
    assert (fixed["http_status"], fixed["provider"]) == (200, "adyen")
    assert sandbox.books("adyen")["orders"] == {"D-6": {"taken": 2490, "refunded": 0}}
    assert sandbox.books("stripe")["orders"] == {}


@pytest.mark.slow
def test_a_request_every_provider_refuses_is_a_502_and_the_order_can_be_paid_again(
    shop: Shop,
) -> None:
    """1.50 MGA cannot be sent to Stripe (whole units): nothing charged, then paid once fixed."""
    client, sandbox = shop
    body = {"order_id": "D-7", **CARD, "currency": "MGA"}
    refused = post(client, {**body, "amount": "1.50"})
    paid = post(client, {**body, "amount": "2.00"})
    assert (refused["http_status"], refused["payable_again"]) == (502, True)
    assert (paid["http_status"], paid["status"]) == (200, "succeeded")
    assert sandbox.books("stripe")["orders"] == {"D-7": {"taken": 2, "refunded": 0}}


@pytest.mark.slow
def test_a_decline_is_a_402_with_the_customer_safe_reason(shop: Shop) -> None:
    client, _ = shop
    answer = post(client, {"order_id": "D-8", **CARD, "card_token": "pm_card_visa_chargeDeclined"})
    assert (answer["http_status"], answer["status"]) == (402, "declined")
    assert answer["decline_reason"]


@pytest.mark.slow
@pytest.mark.parametrize("error", ERRORS, ids=lambda error: type(error).__name__)
def test_every_payrouter_error_has_its_answer_and_none_is_a_500(
    shop: Shop, monkeypatch: pytest.MonkeyPatch, error: Exception
) -> None:
    """Whatever the router raises while paying, returning or refunding, the answer is the
    one that error deserves, never a bare 500."""
    client, _ = shop
    assert post(client, {"order_id": "E-1", **CARD})["http_status"] == 200

    def raising(*args: object, **kwargs: object) -> None:
        raise error

    for operation in ("pay", "refresh", "refund"):
        monkeypatch.setattr(views.router(), operation, raising)
    answers = [
        client.post("/payments", {"order_id": "E-2", **CARD}, content_type="application/json"),
        client.get("/return", {"order_id": "E-1"}),
        client.post("/payments/E-1/refunds", {}, content_type="application/json"),
    ]
    assert [answer.status_code for answer in answers] == [ERRORS[error]] * 3
    assert all(answer.json()["detail"] for answer in answers)


@pytest.mark.slow
def test_paypal_busy_sends_the_paypal_wallet_through_adyens_paypal(shop: Shop) -> None:
    """PayPal's API answers 429: the customer approves PayPal through Adyen instead and is
    charged there once."""
    client, sandbox = shop
    sandbox.fault("paypal", "busy", status=429)
    wallet = {"amount": "15.00", "currency": "EUR", "country": "DE", "prefer": ["wallet"]}
    started = post(client, {"order_id": "D-9", **wallet, "wallet": "paypal"})
    assert (started["http_status"], started["status"], started["provider"]) == (
        200,
        "requires_action",
        "adyen",
    )
    assert isinstance(started["redirect_url"], str)
    approval = httpx.get(started["redirect_url"])  # the customer approves at PayPal
    # Adyen sends the customer back with redirectResult appended to the return URL.
    redirect_result = approval.text.removeprefix("<html>redirectResult=").removesuffix("</html>")
    back = client.get("/return", {"order_id": "D-9", "redirectResult": redirect_result})
    assert (back.status_code, back.json()["status"]) == (200, "succeeded")
    assert sandbox.books("adyen")["orders"] == {"D-9": {"taken": 1500, "refunded": 0}}
    assert sandbox.books("paypal")["orders"] == {}
