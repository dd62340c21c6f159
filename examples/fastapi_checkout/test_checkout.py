"""The FastAPI checkout against the sandbox stand-ins, through FastAPI's test client.

Each test gets fresh stand-ins on free ports from the `payrouter_sandbox` fixture (the
`payrouter-lab` pytest plugin: nothing to import), points a copy of the example's own
`payrouter.yaml` at them, and drives the app the way a shop's front end would.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from payrouter_lab.testing import SANDBOX_SECRETS, SandboxControl

from ..error_samples import ERRORS, public_error_classes
from .app import CONFIG, create_app

Shop = tuple[TestClient, SandboxControl]


@pytest.fixture
def shop(
    tmp_path: Path, payrouter_sandbox: SandboxControl, payrouter_sandbox_env: object
) -> Iterator[Shop]:
    """The app on a copy of its config whose URLs point at freshly started stand-ins."""
    config = payrouter_sandbox.config_for(CONFIG, tmp_path)
    payrouter_sandbox.credential("adyen", **ADYEN_STORED_CARD)  # as Adyen's tokenization would
    with TestClient(create_app(config)) as client:
        yield client, payrouter_sandbox


def orders_at(sandbox: SandboxControl, provider: str) -> dict[str, dict[str, int]]:
    orders: dict[str, dict[str, int]] = sandbox.books(provider)["orders"]
    return orders


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


@pytest.mark.slow
def test_a_card_payment_succeeds_and_can_be_read_back(shop: Shop) -> None:
    client, _ = shop
    paid = client.post("/payments", json={"order_id": "A-1", **CARD})
    assert paid.status_code == 200
    assert paid.json() | {} == {
        "order_id": "A-1",
        "status": "succeeded",
        "provider": "stripe",
        "redirect_url": None,
        "action": None,
        "decline_reason": None,
    }
    assert client.get("/payments/A-1").json()["status"] == "succeeded"


@pytest.mark.slow
def test_stripe_down_fails_over_to_adyen_and_charges_once(shop: Shop) -> None:
    client, sandbox = shop
    sandbox.fault("stripe", kind="down")
    first = client.post("/payments", json={"order_id": "A-2", **CARD_AT_BOTH})
    again = client.post("/payments", json={"order_id": "A-2", **CARD_AT_BOTH})  # a double click
    assert first.json()["provider"] == again.json()["provider"] == "adyen"
    assert orders_at(sandbox, "adyen") == {"A-2": {"taken": 2490, "refunded": 0}}
    assert orders_at(sandbox, "stripe") == {}


@pytest.mark.slow
def test_a_card_needing_3d_secure_redirects_and_the_return_page_asks_stripe(shop: Shop) -> None:
    """The issuer's challenge, then /return: paid at Stripe, never sent on to Adyen."""
    client, sandbox = shop
    body = {"order_id": "A-3DS", **CARD, "card_token": "pm_card_threeDSecure2Required"}
    started = client.post("/payments", json=body).json()
    assert (started["status"], started["provider"]) == ("requires_action", "stripe")
    # What the front end needs: the redirect, and the intent's client secret for Stripe.js.
    action = started["action"]
    assert (action["kind"], action["type"], action["url"]) == (
        "redirect",
        "redirect_to_url",
        started["redirect_url"],
    )
    assert action["client_secret"].startswith("pi_")
    assert client.get("/payments/A-3DS").json()["action"] == action  # a reloaded page
    # The customer passes 3-D Secure on the stand-in's challenge page, then comes back.
    assert httpx.get(started["redirect_url"]).text == "<html>Authenticated</html>"
    returned = client.get("/return", params={"order_id": "A-3DS"}).json()
    assert returned["status"] == "succeeded"
    assert orders_at(sandbox, "stripe") == {"A-3DS": {"taken": 2490, "refunded": 0}}
    assert orders_at(sandbox, "adyen") == {}


@pytest.mark.slow
def test_a_wallet_payment_redirects_and_the_return_page_asks_paypal(
    shop: Shop,
) -> None:
    client, _ = shop
    body = {
        "order_id": "A-3",
        "amount": "15.00",
        "currency": "EUR",
        "country": "DE",
        "wallet": "paypal",
        "prefer": ["wallet"],
    }
    started = client.post("/payments", json=body).json()
    assert started["status"] == "requires_action"
    assert started["redirect_url"]
    # The customer approves on PayPal's page (the stand-in's), then comes back to /return.
    assert httpx.get(started["redirect_url"]).text == "<html>Approved</html>"
    returned = client.get("/return", params={"order_id": "A-3"}).json()
    assert returned["status"] == "succeeded"


@pytest.mark.slow
def test_no_provider_for_the_currency_is_a_clear_503_and_no_charge(
    shop: Shop,
) -> None:
    client, sandbox = shop
    sandbox.fault("stripe", kind="down")
    sandbox.fault("adyen", kind="down")
    answer = client.post("/payments", json={"order_id": "A-4", **CARD})
    assert answer.status_code == 503
    assert "nothing was charged" in answer.json()["detail"]


@pytest.mark.slow
def test_bad_input_names_the_field_and_never_echoes_the_card(
    shop: Shop,
) -> None:
    client, _ = shop
    answer = client.post(
        "/payments",
        json={"order_id": "A-5", **CARD, "amount": "24.901", "card_token": "4242424242424242"},
    )
    assert answer.status_code == 422
    assert "4242424242424242" not in answer.text


@pytest.mark.slow
def test_refunds_stop_at_the_payment_and_wait_out_an_outage(
    shop: Shop,
) -> None:
    client, sandbox = shop
    assert client.post("/payments", json={"order_id": "R-1", **CARD}).status_code == 200

    part = client.post("/payments/R-1/refunds", json={"amount": "10.00", "request_id": "rt-1"})
    again = client.post("/payments/R-1/refunds", json={"amount": "10.00", "request_id": "rt-1"})
    too_much = client.post("/payments/R-1/refunds", json={"amount": "15.00"})
    sandbox.fault("stripe", kind="busy", status=503, operations=["refund"])
    queued = client.post("/payments/R-1/refunds", json={})

    assert part.status_code == again.status_code == 200
    assert (
        part.json()
        == again.json()
        == {
            "refund_id": "R-1/refund/1",
            "status": "succeeded",
            "amount": "10.00",
            "provider": "stripe",
        }
    )
    assert too_much.status_code == 422
    assert "14.90 EUR of the 24.90 EUR captured is left" in too_much.json()["detail"]
    assert queued.status_code == 202
    assert queued.json()["status"] == "queued"
    assert queued.json()["amount"] == "14.90"
    assert orders_at(sandbox, "stripe")["R-1"] == {"taken": 2490, "refunded": 1000}


@pytest.mark.slow
def test_a_signed_stripe_notification_is_applied_and_a_forged_one_refused(
    shop: Shop,
) -> None:
    client, sandbox = shop
    sandbox.fault("stripe", kind="pending", settle_after_seconds=3600)
    assert client.post("/payments", json={"order_id": "W-1", **CARD}).json()["status"] == "pending"
    assert client.portal is not None
    pending = client.portal.call(client.app.state.router.lookup, "W-1")  # type: ignore[attr-defined]
    body = json.dumps(
        {
            "id": "evt_w1",
            "type": "payment_intent.succeeded",
            "created": int(time.time()),
            "data": {
                "object": {
                    "id": pending.provider_reference,
                    "object": "payment_intent",
                    "amount": pending.amount.minor_units,  # a mismatch would not settle it
                    "currency": pending.amount.currency.lower(),
                }
            },
        }
    ).encode()

    def signed(secret: str) -> dict[str, str]:
        stamp = int(time.time())
        mac = hmac.new(secret.encode(), f"{stamp}.".encode() + body, hashlib.sha256)
        return {"Stripe-Signature": f"t={stamp},v1={mac.hexdigest()}"}

    forged = client.post("/webhooks/stripe", content=body, headers=signed("whsec_guess"))
    assert forged.status_code == 401
    assert client.get("/payments/W-1").json()["status"] == "pending"

    genuine = client.post(
        "/webhooks/stripe", content=body, headers=signed(SANDBOX_SECRETS["STRIPE_WEBHOOK_SECRET"])
    )
    assert genuine.status_code == 200
    assert client.get("/payments/W-1").json()["status"] == "succeeded"


@pytest.mark.slow
def test_a_stripe_only_card_with_stripe_down_is_a_503_and_never_reaches_adyen(
    shop: Shop,
) -> None:
    """Adyen cannot charge Stripe's `pm_...`: it is not called; the customer may try again."""
    client, sandbox = shop
    sandbox.fault("stripe", kind="down")
    answer = client.post("/payments", json={"order_id": "A-6", **CARD})
    assert answer.status_code == 503
    assert answer.headers["Retry-After"] == "2"
    assert answer.json()["payable_again"] is True
    assert orders_at(sandbox, "adyen") == {}
    sandbox.clear_faults("stripe")
    again = client.post("/payments", json={"order_id": "A-6", **CARD})
    assert (again.status_code, again.json()["provider"]) == (200, "stripe")


@pytest.mark.slow
def test_failing_over_to_adyen_without_customer_id_does_not_strand_the_order(
    shop: Shop,
) -> None:
    """The reported case: Adyen's stored card needs the shopper reference. Without it Adyen is
    left out (never a 500), and the same order is paid once the checkout sends it."""
    client, sandbox = shop
    sandbox.fault("stripe", kind="down")
    anonymous = {key: value for key, value in CARD_AT_BOTH.items() if key != "customer_id"}
    first = client.post("/payments", json={"order_id": "A-7", **anonymous})
    unchanged = client.post("/payments", json={"order_id": "A-7", **anonymous})
    fixed = client.post("/payments", json={"order_id": "A-7", **CARD_AT_BOTH})
    assert (first.status_code, unchanged.status_code) == (503, 503)
    assert (fixed.status_code, fixed.json()["provider"]) == (200, "adyen")
    assert orders_at(sandbox, "adyen") == {"A-7": {"taken": 2490, "refunded": 0}}
    assert orders_at(sandbox, "stripe") == {}


@pytest.mark.slow
def test_a_request_every_provider_refuses_is_a_502_and_the_order_can_be_paid_again(
    shop: Shop,
) -> None:
    """Stripe counts MGA in whole units: 1.50 MGA cannot be sent, nothing is charged, and the
    order is paid once the amount is fixed."""
    client, sandbox = shop
    body = {"order_id": "A-8", **CARD, "currency": "MGA"}
    refused = client.post("/payments", json={**body, "amount": "1.50"})
    assert refused.status_code == 502
    assert refused.json()["payable_again"] is True
    paid = client.post("/payments", json={**body, "amount": "2.00"})
    assert (paid.status_code, paid.json()["status"]) == (200, "succeeded")
    assert orders_at(sandbox, "stripe") == {"A-8": {"taken": 2, "refunded": 0}}


@pytest.mark.slow
def test_a_decline_is_a_402_with_the_customer_safe_reason(shop: Shop) -> None:
    client, _ = shop
    body = {"order_id": "A-9", **CARD, "card_token": "pm_card_visa_chargeDeclined"}
    answer = client.post("/payments", json=body)
    assert answer.status_code == 402
    assert answer.json()["status"] == "declined"
    assert answer.json()["decline_reason"]


@pytest.mark.slow
@pytest.mark.parametrize("error", ERRORS, ids=lambda error: type(error).__name__)
def test_every_payrouter_error_has_its_answer_and_none_is_a_500(
    shop: Shop, monkeypatch: pytest.MonkeyPatch, error: Exception
) -> None:
    """Whatever the router raises while paying, returning or refunding, the front end gets
    the answer that error deserves, never a bare 500."""
    client, _ = shop
    assert client.post("/payments", json={"order_id": "E-1", **CARD}).status_code == 200
    router = client.app.state.router  # type: ignore[attr-defined]

    async def raising(*args: object, **kwargs: object) -> None:
        raise error

    for operation in ("pay", "refresh", "refund"):
        monkeypatch.setattr(router, operation, raising)
    answers = [
        client.post("/payments", json={"order_id": "E-2", **CARD}),
        client.get("/return", params={"order_id": "E-1"}),
        client.post("/payments/E-1/refunds", json={}),
    ]
    expected = ERRORS[error]
    assert [answer.status_code for answer in answers] == [expected] * 3
    assert all(answer.json()["detail"] for answer in answers)


def test_the_samples_hold_every_public_payrouter_error() -> None:
    """A new error class fails here until the examples say what they answer for it."""
    assert public_error_classes() <= {type(error) for error in ERRORS}


WALLET = {"amount": "15.00", "currency": "EUR", "country": "DE", "prefer": ["wallet"]}


@pytest.mark.slow
def test_paypal_busy_sends_the_paypal_wallet_through_adyens_paypal(shop: Shop) -> None:
    """PayPal's API answers 429: the customer approves PayPal through Adyen instead, comes back,
    and Adyen takes the money once; PayPal's own API takes nothing."""
    client, sandbox = shop
    sandbox.fault("paypal", kind="busy", status=429)
    started = client.post("/payments", json={"order_id": "P-1", **WALLET, "wallet": "paypal"})
    assert started.status_code == 200
    assert (started.json()["status"], started.json()["provider"]) == ("requires_action", "adyen")
    approval = httpx.get(started.json()["redirect_url"])  # the customer approves at PayPal
    # Adyen sends the customer back with redirectResult appended to the return URL.
    redirect_result = approval.text.removeprefix("<html>redirectResult=").removesuffix("</html>")
    back = client.get("/return", params={"order_id": "P-1", "redirectResult": redirect_result})
    assert (back.status_code, back.json()["status"]) == (200, "succeeded")
    assert orders_at(sandbox, "adyen") == {"P-1": {"taken": 1500, "refunded": 0}}
    assert orders_at(sandbox, "paypal") == {}


@pytest.mark.slow
def test_apple_pay_with_stripe_down_is_paid_at_adyen_with_adyens_own_token(shop: Shop) -> None:
    """The front end sends the wallet's token for each provider: Stripe's PaymentMethod and
    Adyen's Apple Pay token; with Stripe down, Adyen takes it, once."""
    client, sandbox = shop
    sandbox.fault("stripe", kind="down")
    payment_data = {"version": "EC_v1", "data": "c2VhbGVk", "signature": "c2ln", "header": {}}
    tokens = {
        "stripe": "pm_card_visa",
        "adyen": base64.b64encode(json.dumps(payment_data).encode()).decode(),
    }
    body = {"order_id": "P-2", **WALLET, "wallet": "applepay", "wallet_tokens": tokens}
    paid = client.post("/payments", json=body)
    assert (paid.status_code, paid.json()["provider"]) == (200, "adyen")
    assert orders_at(sandbox, "adyen") == {"P-2": {"taken": 1500, "refunded": 0}}
    assert orders_at(sandbox, "stripe") == {}
