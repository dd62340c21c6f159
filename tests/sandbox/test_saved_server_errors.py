"""What a replay under the same key answers after the provider's own 500, as each provider
documents it: Stripe saves the status and body of the first request whose endpoint began
executing, 500s included, and replays them; a load balancer's 502/504 page or a lost answer
is not Stripe's answer, so the real result stays saved. Adyen and PayPal answer a resend
after a server error with the original request's outcome."""

from __future__ import annotations

import httpx
import pytest

from payrouter.provider import FailureKind, Outcome
from payrouter_lab.sandbox import Sandbox
from payrouter_lab.sandbox._adyen import AdyenStandin
from payrouter_lab.sandbox._berlingroup import BerlinGroupStandin
from payrouter_lab.sandbox._paypal import PayPalStandin
from payrouter_lab.sandbox._stripe import StripeStandin
from tests.sandbox.kit import add_fault, adyen_adapter, books, charge, handle, stripe_adapter

pytestmark = pytest.mark.asyncio(loop_scope="session")


def entries(book: dict[str, object]) -> list[dict[str, object]]:
    found = book["entries"]
    assert isinstance(found, list)
    return found


async def test_stripe_replays_its_saved_500_for_a_charge_it_made(
    sandbox: Sandbox, admin: httpx.AsyncClient
) -> None:
    """A create answered by Stripe's own 500 after the charge, replayed under the same key,
    gets the same 500; the intent exists in the books and search finds it."""
    await add_fault(admin, "stripe", kind="error", processed=True, count=1)
    client = stripe_adapter(sandbox)
    try:
        first = await client.pay(charge("stripe"), idempotency_key="k-500")
        replayed = await client.pay(charge("stripe"), idempotency_key="k-500")
        searched = await client.lookup(handle(None))
    finally:
        await client.aclose()
    assert first.failure_kind is FailureKind.UNKNOWN_OUTCOME
    assert first.http_status == 500
    assert replayed.failure_kind is FailureKind.UNKNOWN_OUTCOME
    assert replayed.http_status == 500
    assert replayed.provider_reference is None
    assert len(entries(await books(admin, "stripe"))) == 1
    assert searched.outcome is Outcome.SUCCEEDED


@pytest.mark.parametrize(
    "spec",
    [
        {"kind": "gateway", "status": 502, "processed": True},
        {"kind": "gateway", "status": 504, "processed": True},
        {"kind": "success_after_timeout", "abort": True},
    ],
)
async def test_stripe_replays_the_charge_when_the_edge_lost_the_answer(
    sandbox: Sandbox, admin: httpx.AsyncClient, spec: dict[str, object]
) -> None:
    """A load balancer's 502/504 page or a cut connection is not Stripe's answer: Stripe's API
    finished, its result is saved, and the replay returns the intent."""
    await add_fault(admin, "stripe", count=1, **spec)
    client = stripe_adapter(sandbox)
    try:
        try:
            first = await client.pay(charge("stripe"), idempotency_key="k-edge")
            assert first.outcome is Outcome.UNKNOWN
        except httpx.TransportError:
            pass
        replayed = await client.pay(charge("stripe"), idempotency_key="k-edge")
    finally:
        await client.aclose()
    assert replayed.outcome is Outcome.SUCCEEDED
    assert len(entries(await books(admin, "stripe"))) == 1


async def test_stripe_replays_its_saved_500_for_a_refund_it_made(
    sandbox: Sandbox, admin: httpx.AsyncClient
) -> None:
    """`POST /v1/refunds` follows the same rule: the refund is booked, the resend under the
    same key repeats the saved 500, and the intent's refund list shows the refund."""
    client = stripe_adapter(sandbox)
    try:
        paid = await client.pay(charge("stripe"), idempotency_key="k-pay")
    finally:
        await client.aclose()
    await add_fault(admin, "stripe", kind="error", processed=True, count=1, operations=["refund"])
    form = {"payment_intent": str(paid.provider_reference), "amount": "1050"}
    headers = {"Authorization": "Bearer sk_x", "Idempotency-Key": "k-re"}
    async with httpx.AsyncClient(base_url=sandbox.urls["stripe"], headers=headers) as wire:
        first = await wire.post("/v1/refunds", data=form)
        replayed = await wire.post("/v1/refunds", data=form)
        listed = await wire.get("/v1/refunds", params={"payment_intent": paid.provider_reference})
    assert first.status_code == 500
    assert (replayed.status_code, replayed.content) == (500, first.content)
    assert [r["amount"] for r in listed.json()["data"]] == [1050]
    kinds = [entry["kind"] for entry in entries(await books(admin, "stripe"))]
    assert sorted(kinds) == ["charge", "refund"]


async def test_adyen_answers_a_resend_after_its_500_with_the_payment(
    sandbox: Sandbox, admin: httpx.AsyncClient
) -> None:
    """Adyen returns the first attempt's response to a resend under the same key: the
    payment it made, not the 500 its server sent."""
    await add_fault(admin, "adyen", kind="error", processed=True, count=1)
    client = adyen_adapter(sandbox)
    try:
        first = await client.pay(charge("adyen"), idempotency_key="k-500")
        replayed = await client.pay(charge("adyen"), idempotency_key="k-500")
    finally:
        await client.aclose()
    assert first.outcome is Outcome.UNKNOWN
    assert replayed.outcome is Outcome.SUCCEEDED
    assert len(entries(await books(admin, "adyen"))) == 1


async def test_only_stripe_keeps_its_server_errors_under_a_key() -> None:
    """Stripe saves its 500s; Adyen and PayPal replay the original request's outcome."""
    assert StripeStandin.keeps_server_errors
    assert not AdyenStandin.keeps_server_errors
    assert not PayPalStandin.keeps_server_errors
    assert not BerlinGroupStandin.keeps_server_errors


async def test_stripe_saves_no_answer_to_a_request_that_failed_validation(
    sandbox: Sandbox, admin: httpx.AsyncClient
) -> None:
    """Stripe saves results only once the endpoint began: a 400 for a missing parameter is
    not kept, so the corrected request under the same key is processed, not refused as a
    different request under a used key."""
    headers = {"Authorization": "Bearer sk_test", "Idempotency-Key": "k-invalid"}
    form = {"currency": "eur", "payment_method": "pm_card_visa", "confirm": "true"}
    async with httpx.AsyncClient(base_url=sandbox.urls["stripe"], headers=headers) as client:
        refused = await client.post("/v1/payment_intents", data=form)
        corrected = await client.post("/v1/payment_intents", data={**form, "amount": "1050"})

    assert refused.status_code == 400
    assert refused.json()["error"]["code"] == "parameter_missing"
    assert corrected.status_code == 200, corrected.text
    assert corrected.json()["status"] == "succeeded"
    assert "Idempotent-Replayed" not in corrected.headers


async def test_stripe_saves_a_decline_and_marks_its_replay(
    sandbox: Sandbox, admin: httpx.AsyncClient
) -> None:
    """A card decline is 402 from a running endpoint: saved, and replayed as such."""
    headers = {"Authorization": "Bearer sk_test", "Idempotency-Key": "k-declined"}
    form = {
        "amount": "1050",
        "currency": "eur",
        "payment_method": "pm_card_visa_chargeDeclined",
        "confirm": "true",
    }
    async with httpx.AsyncClient(base_url=sandbox.urls["stripe"], headers=headers) as client:
        declined = await client.post("/v1/payment_intents", data=form)
        replayed = await client.post("/v1/payment_intents", data=form)

    assert declined.status_code == replayed.status_code == 402
    assert replayed.content == declined.content
    assert replayed.headers["Idempotent-Replayed"] == "true"
