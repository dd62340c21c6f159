"""Honest stand-ins: each provider charges only the credentials it issued, and refuses any
other with its own error, which the adapters read as a refused request (nothing charged)."""

from __future__ import annotations

from dataclasses import replace

import httpx
import pytest
from pydantic import SecretStr

from payrouter import CardSource, Money, PaymentRequest, PaymentStatus, Router
from payrouter.provider import FailureKind, Outcome
from payrouter_lab.sandbox import Sandbox
from tests.sandbox.kit import SHOPPER, adyen_adapter, books, charge, handle, stripe_adapter

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def issue(admin: httpx.AsyncClient, provider: str, **request: object) -> str:
    response = await admin.post(f"/{provider}/credentials", json=request)
    assert response.status_code == 201, response.text
    issued: str = response.json()["id"]
    return issued


async def test_stripe_refuses_a_payment_method_it_never_issued(
    sandbox: Sandbox, admin: httpx.AsyncClient
) -> None:
    """Another provider's token at Stripe: 400 `resource_missing` on `payment_method`, as
    Stripe answers; nothing is booked and no intent is created."""
    async with httpx.AsyncClient(
        base_url=sandbox.urls["stripe"], headers={"Authorization": "Bearer sk_x"}
    ) as raw:
        answer = await raw.post(
            "/v1/payment_intents",
            data={"amount": "1050", "currency": "eur", "payment_method": "8415718415172200"},
        )
        listed = await raw.get("/v1/payment_intents")
    assert answer.status_code == 400
    assert answer.json()["error"] == {
        "type": "invalid_request_error",
        "code": "resource_missing",
        "param": "payment_method",
        "message": "No such PaymentMethod: '8415718415172200'",
    }
    assert listed.json()["data"] == []
    assert (await books(admin, "stripe"))["entries"] == []


async def test_stripe_charges_its_test_methods_and_the_ones_it_issued(
    sandbox: Sandbox, admin: httpx.AsyncClient
) -> None:
    """Stripe's documented test ids work as in test mode; an issued `pm_` id works once issued."""
    issued = await issue(admin, "stripe", customer="cus_Drill1")
    client = stripe_adapter(sandbox)
    replies = [
        await client.pay(charge("stripe", f"o{n}", token=token), idempotency_key=f"k{n}")
        for n, token in enumerate(("pm_card_visa", "pm_card_mastercard", "tok_visa", issued))
    ]
    lost = await client.pay(
        charge("stripe", "o9", token="pm_card_chargeDeclinedLostCard"), idempotency_key="k9"
    )
    await client.aclose()
    assert issued.startswith("pm_")
    assert [reply.outcome for reply in replies] == [Outcome.SUCCEEDED] * 4
    assert (lost.failure_kind, lost.provider_code) == (FailureKind.SUSPECTED_FRAUD, "lost_card")


async def test_stripe_adapter_reads_an_unknown_payment_method_as_a_refused_request(
    sandbox: Sandbox,
) -> None:
    """`resource_missing` on `payment_method` is INVALID_REQUEST (the router moves on, nothing
    was charged), never NOT_FOUND, which is about a payment looked up."""
    client = stripe_adapter(sandbox)
    reply = await client.pay(charge("stripe", token="pm_1NotIssuedHere"), idempotency_key="k1")
    missing = await client.lookup(replace(handle(None), provider_reference="pi_none"))
    await client.aclose()
    assert reply.outcome is Outcome.FAILED
    assert (reply.failure_kind, reply.provider_code) == (
        FailureKind.INVALID_REQUEST,
        "resource_missing",
    )
    assert missing.failure_kind is FailureKind.NOT_FOUND


async def test_adyen_stored_payment_methods_belong_to_their_shopper(
    sandbox: Sandbox, admin: httpx.AsyncClient
) -> None:
    """Another shopper's id, an id never stored, another provider's token: 422 errorCode 800
    "Contract not found", read as INVALID_REQUEST; the shopper's own id is authorised."""
    stored = await issue(admin, "adyen", customer="shopper-2")
    client = adyen_adapter(sandbox)
    own = await client.pay(
        charge("adyen", "o1", token=stored, customer_id="shopper-2"), idempotency_key="k1"
    )
    other_shopper = await client.pay(charge("adyen", "o2", token=stored), idempotency_key="k2")
    foreign = await client.pay(charge("adyen", "o3", token="pm_card_visa"), idempotency_key="k3")
    await client.aclose()
    assert stored.isdigit()
    assert len(stored) == 16
    assert own.outcome is Outcome.SUCCEEDED
    for refused in (other_shopper, foreign):
        assert (refused.failure_kind, refused.provider_code, refused.http_status) == (
            FailureKind.INVALID_REQUEST,
            "800",
            422,
        )
    async with httpx.AsyncClient(
        base_url=sandbox.urls["adyen"], headers={"X-API-Key": "key"}
    ) as raw:
        body = {
            "amount": {"value": 1050, "currency": "EUR"},
            "merchantAccount": "ShopECOM",
            "reference": "r1",
            "shopperReference": SHOPPER,
            "paymentMethod": {"type": "scheme", "storedPaymentMethodId": stored},
        }
        answer = await raw.post("/payments", json=body)
    assert answer.json() == {
        "status": 422,
        "errorCode": "800",
        "message": "Contract not found",
        "errorType": "validation",
    }
    assert [e["order_id"] for e in (await books(admin, "adyen"))["entries"]] == ["o1"]  # type: ignore[index]


async def test_the_admin_api_names_what_is_wrong_with_a_credential_request(
    admin: httpx.AsyncClient,
) -> None:
    """Adyen needs the shopper; Stripe ids are `pm_...` (or card tokens, `tok_...`); a bank
    issues none; fields are named."""
    no_shopper = await admin.post("/adyen/credentials", json={"id": "card_x"})
    not_stripe = await admin.post("/stripe/credentials", json={"id": "card_x"})
    bank = await admin.post("/berlingroup/credentials", json={"customer": "c"})
    typo = await admin.post("/stripe/credentials", json={"customr": "c"})
    taken = await admin.post("/adyen/credentials", json={"id": "stored_card_1", "customer": "x"})
    assert [r.status_code for r in (no_shopper, not_stripe, bank, typo, taken)] == [422] * 5
    assert "customer is required" in no_shopper.json()["errors"][0]
    assert "(pm|tok)_" in not_stripe.json()["errors"][0]
    assert "issues no stored credentials" in bank.json()["errors"][0]
    assert "customr" in typo.json()["errors"][0]
    assert "another customer" in taken.json()["errors"][0]


async def test_a_card_stripe_does_not_know_is_charged_once_at_adyen(
    sandbox: Sandbox, admin: httpx.AsyncClient
) -> None:
    """Stripe refuses the token it is given (not its own after all): the router records the
    refused attempt and moves on to Adyen, where the shopper's stored card is charged once."""
    stored = await issue(admin, "adyen", customer=SHOPPER)
    card = CardSource(tokens={"stripe": SecretStr("pm_1Deleted"), "adyen": SecretStr(stored)})
    request = PaymentRequest(
        order_id="o-both",
        amount=Money.of("10.50", "EUR"),
        sources=[card],
        customer_country="DE",
        customer_id=SHOPPER,
    )
    adapters = [stripe_adapter(sandbox), adyen_adapter(sandbox)]
    async with Router(adapters, ledger="sqlite://", hooks=()) as router:
        result = await router.pay(request)
    assert (result.status, result.provider) == (PaymentStatus.SUCCEEDED, "adyen")
    assert [(a.provider, a.failure_kind) for a in result.attempts] == [
        ("stripe", FailureKind.INVALID_REQUEST),
        ("adyen", None),
    ]
    assert (await books(admin, "adyen"))["orders"] == {"o-both": {"taken": 1050, "refunded": 0}}
    assert (await books(admin, "stripe"))["orders"] == {}
