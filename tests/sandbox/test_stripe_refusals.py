"""What the Stripe stand-in refuses because Stripe does: confirming an intent past
confirmation, and refund amounts that are not a positive integer."""

from __future__ import annotations

import httpx
import pytest

from payrouter_lab.sandbox import Sandbox
from tests.sandbox.kit import books

pytestmark = pytest.mark.asyncio(loop_scope="session")

HEADERS = {"Authorization": "Bearer sk_x"}
PAY = {"amount": "1050", "currency": "eur", "confirm": "true", "payment_method": "pm_card_visa"}


async def _intent(stripe: httpx.AsyncClient, **form: str) -> dict[str, object]:
    made = await stripe.post("/v1/payment_intents", data={**PAY, **form})
    assert made.status_code == 200, made.text
    body: dict[str, object] = made.json()
    return body


@pytest.mark.parametrize(
    ("form", "cancel", "status"),
    [
        ({}, False, "succeeded"),
        ({"capture_method": "manual"}, False, "requires_capture"),
        ({"capture_method": "manual"}, True, "canceled"),
    ],
)
async def test_confirming_an_intent_past_confirmation_is_refused_and_charges_nothing(
    sandbox: Sandbox, admin: httpx.AsyncClient, form: dict[str, str], cancel: bool, status: str
) -> None:
    """Stripe answers 400 payment_intent_unexpected_state with the intent; no second charge."""
    async with httpx.AsyncClient(base_url=sandbox.urls["stripe"], headers=HEADERS) as stripe:
        intent = await _intent(stripe, **form)
        if cancel:
            assert (await stripe.post(f"/v1/payment_intents/{intent['id']}/cancel")).is_success
        before = len((await books(admin, "stripe"))["entries"])  # type: ignore[arg-type]
        again = await stripe.post(
            f"/v1/payment_intents/{intent['id']}/confirm", data={"payment_method": "pm_card_visa"}
        )
    problem = again.json()["error"]
    assert again.status_code == 400
    assert (problem["type"], problem["code"]) == (
        "invalid_request_error",
        "payment_intent_unexpected_state",
    )
    assert problem["payment_intent"]["status"] == status
    assert len((await books(admin, "stripe"))["entries"]) == before  # type: ignore[arg-type]


async def test_confirming_a_succeeded_intent_says_it_already_succeeded(sandbox: Sandbox) -> None:
    """The refusal of a second confirmation uses Stripe's own words for a succeeded intent."""
    async with httpx.AsyncClient(base_url=sandbox.urls["stripe"], headers=HEADERS) as stripe:
        intent = await _intent(stripe)
        again = await stripe.post(f"/v1/payment_intents/{intent['id']}/confirm")
    assert again.json()["error"]["message"] == (
        "You cannot confirm this PaymentIntent because it has already succeeded after being "
        "previously confirmed."
    )


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        ("0", "This value must be greater than or equal to 1."),
        ("-500", "This value must be greater than or equal to 1."),
        ("5.5", "Invalid integer: 5.5"),
    ],
)
async def test_a_refund_amount_that_is_not_a_positive_integer_is_refused(
    sandbox: Sandbox, admin: httpx.AsyncClient, amount: str, message: str
) -> None:
    """400 invalid_request_error on `amount`; nothing refunded, so the take still caps refunds."""
    async with httpx.AsyncClient(base_url=sandbox.urls["stripe"], headers=HEADERS) as stripe:
        intent = await _intent(stripe)
        refused = await stripe.post(
            "/v1/refunds", data={"payment_intent": str(intent["id"]), "amount": amount}
        )
        full = await stripe.post("/v1/refunds", data={"payment_intent": str(intent["id"])})
        more = await stripe.post(
            "/v1/refunds", data={"payment_intent": str(intent["id"]), "amount": "1"}
        )
    problem = refused.json()["error"]
    assert refused.status_code == 400
    assert (problem["type"], problem["param"], problem["message"]) == (
        "invalid_request_error",
        "amount",
        message,
    )
    assert full.json()["amount"] == 1050
    assert more.json()["error"]["code"] == "charge_already_refunded"
    refunded = [e for e in (await books(admin, "stripe"))["entries"] if e["kind"] == "refund"]  # type: ignore[union-attr]
    assert [e["minor_units"] for e in refunded] == [1050]
