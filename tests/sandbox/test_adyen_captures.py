"""Adyen captures an authorised payment only: a refused payment, or one still waiting for its
shopper, has nothing to capture, and the stand-in books no capture for it."""

from __future__ import annotations

import httpx
import pytest

from payrouter.provider import FailureKind
from payrouter_lab.sandbox import Sandbox
from tests.sandbox.kit import add_fault, adyen_adapter, books, charge, handle

pytestmark = pytest.mark.asyncio(loop_scope="session")

EUR = {"value": 1050, "currency": "EUR"}


async def test_a_refused_payment_cannot_be_captured(
    sandbox: Sandbox, admin: httpx.AsyncClient
) -> None:
    """A refused manual-capture payment: the capture is refused and no money is booked."""
    await add_fault(admin, "adyen", kind="declined", payer_prefix="stored_card")
    client = adyen_adapter(sandbox)
    refused = await client.pay(charge("adyen", capture=False), idempotency_key="k1")
    captured = await client.capture(handle(refused), charge("adyen").amount, idempotency_key="c1")
    await client.aclose()
    assert refused.failure_kind is FailureKind.CARD_DECLINED
    assert captured.failure_kind is FailureKind.INVALID_REQUEST
    assert (await books(admin, "adyen"))["entries"] == []


async def test_a_payment_waiting_for_its_shopper_cannot_be_captured(
    sandbox: Sandbox, admin: httpx.AsyncClient
) -> None:
    """RedirectShopper is not authorised yet: 422 errorCode 137, nothing booked."""
    payment = {
        "amount": EUR,
        "merchantAccount": "ShopECOM",
        "reference": "ref-1",
        "returnUrl": "https://shop.example/return",
        "paymentMethod": {"type": "paypal"},
        "additionalData": {"manualCapture": "true"},
    }
    async with httpx.AsyncClient(
        base_url=sandbox.urls["adyen"], headers={"X-API-Key": "key"}
    ) as adyen:
        waiting = (await adyen.post("/payments", json=payment)).json()
        captured = await adyen.post(
            f"/payments/{waiting['pspReference']}/captures",
            json={"merchantAccount": "ShopECOM", "amount": EUR},
        )
    assert waiting["resultCode"] == "RedirectShopper"
    assert captured.status_code == 422
    assert {k: captured.json()[k] for k in ("errorCode", "errorType")} == {
        "errorCode": "137",
        "errorType": "validation",
    }
    assert (await books(admin, "adyen"))["entries"] == []
