"""What PayPal refuses in Orders v2 and Payments v2, refused by the stand-in as PayPal refuses it:
amounts it would not take (checkout_orders_v2.json `422`/`400`; payments_payment_v2.json
`captures.refund-422`, `422` of an authorization capture) and voids of an authorization that
is captured or voided already (payments_payment_v2.json `authorizations.void-422`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
import pytest_asyncio

from payrouter_lab.sandbox import Sandbox
from tests.sandbox.kit import books

pytestmark = pytest.mark.asyncio(loop_scope="session")


def vaulted(currency: str, value: str, intent: str = "CAPTURE") -> dict[str, object]:
    return {
        "intent": intent,
        "purchase_units": [
            {"amount": {"currency_code": currency, "value": value}, "invoice_id": "o1"}
        ],
        "payment_source": {"paypal": {"vault_id": "vault-1"}},
    }


@pytest_asyncio.fixture(loop_scope="session")
async def paypal(sandbox: Sandbox) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=sandbox.urls["paypal"]) as client:
        client.headers["Authorization"] = "Bearer any"
        yield client


def issue(response: httpx.Response) -> tuple[int, str]:
    detail = response.json()["details"][0]
    return response.status_code, str(detail["issue"])


@pytest.mark.parametrize(
    ("currency", "value", "status", "expected"),
    [
        ("EUR", "10.505", 422, "DECIMAL_PRECISION"),
        ("JPY", "1050.5", 422, "DECIMAL_PRECISION"),
        ("EUR", "0.00", 422, "CANNOT_BE_ZERO_OR_NEGATIVE"),
        ("EUR", "-1.00", 422, "CANNOT_BE_ZERO_OR_NEGATIVE"),
        ("XYZ", "10.50", 422, "INVALID_CURRENCY_CODE"),
        ("EUR", "ten", 400, "INVALID_PARAMETER_SYNTAX"),
        ("EUR", None, 400, "MISSING_REQUIRED_PARAMETER"),
    ],
)
async def test_an_order_amount_paypal_would_not_take_is_refused_not_rounded(
    paypal: httpx.AsyncClient,
    admin: httpx.AsyncClient,
    currency: str,
    value: str | None,
    status: int,
    expected: str,
) -> None:
    """Creating an order with an amount finer than its currency, not positive, or malformed is
    refused (no order, nothing booked), never truncated to whole cents."""
    body = vaulted(currency, value or "")
    if value is None:
        del body["purchase_units"][0]["amount"]["value"]  # type: ignore[index]
    response = await paypal.post("/v2/checkout/orders", json=body)
    assert issue(response) == (status, expected)
    detail = response.json()["details"][0]
    assert detail["location"] == "body"
    assert detail["field"].startswith("/purchase_units/@reference_id=='default'/amount")
    assert set(response.json()) >= {"name", "message", "debug_id", "details"}
    assert (await books(admin, "paypal"))["entries"] == []


async def captured(paypal: httpx.AsyncClient, currency: str, value: str) -> str:
    order = (await paypal.post("/v2/checkout/orders", json=vaulted(currency, value))).json()
    capture_id: str = order["purchase_units"][0]["payments"]["captures"][0]["id"]
    return capture_id


@pytest.mark.parametrize(
    ("currency", "amount", "status", "expected"),
    [
        ("EUR", {"currency_code": "USD", "value": "5.00"}, 422, "REFUND_CAPTURE_CURRENCY_MISMATCH"),
        ("EUR", {"currency_code": "EUR", "value": "5.255"}, 422, "DECIMAL_PRECISION"),
        ("JPY", {"currency_code": "JPY", "value": "500.5"}, 422, "DECIMALS_NOT_SUPPORTED"),
        ("EUR", {"currency_code": "EUR", "value": "0.00"}, 422, "CANNOT_BE_ZERO_OR_NEGATIVE"),
        ("EUR", {"currency_code": "EUR"}, 400, "MISSING_REQUIRED_PARAMETER"),
    ],
)
async def test_a_refund_paypal_would_not_take_moves_no_money(
    paypal: httpx.AsyncClient,
    admin: httpx.AsyncClient,
    currency: str,
    amount: dict[str, str],
    status: int,
    expected: str,
) -> None:
    """A refund in another currency than the capture's, finer than the currency, or not
    positive is refused, and the capture stays unrefunded."""
    capture_id = await captured(paypal, currency, "1050" if currency == "JPY" else "10.50")
    response = await paypal.post(
        f"/v2/payments/captures/{capture_id}/refund", json={"amount": amount}
    )
    assert issue(response) == (status, expected)
    assert (await books(admin, "paypal"))["orders"]["o1"]["refunded"] == 0  # type: ignore[index]


async def test_capturing_an_authorization_in_another_currency_is_refused(
    paypal: httpx.AsyncClient, admin: httpx.AsyncClient
) -> None:
    """AUTH_CAPTURE_CURRENCY_MISMATCH: a capture is in the authorization's currency or not
    at all."""
    order = await paypal.post("/v2/checkout/orders", json=vaulted("EUR", "10.50", "AUTHORIZE"))
    auth_id = order.json()["purchase_units"][0]["payments"]["authorizations"][0]["id"]
    response = await paypal.post(
        f"/v2/payments/authorizations/{auth_id}/capture",
        json={"amount": {"currency_code": "USD", "value": "10.50"}},
    )
    assert issue(response) == (422, "AUTH_CAPTURE_CURRENCY_MISMATCH")
    kinds = [e["kind"] for e in (await books(admin, "paypal"))["entries"]]  # type: ignore[union-attr]
    assert kinds == ["authorization"]


async def test_voiding_a_captured_or_voided_authorization_names_what_happened(
    paypal: httpx.AsyncClient, admin: httpx.AsyncClient
) -> None:
    """A void after a capture is 422 PREVIOUSLY_CAPTURED; a second void is 422
    PREVIOUSLY_VOIDED (no second release), as PayPal answers them."""
    auth_ids = []
    for _ in range(2):
        order = await paypal.post("/v2/checkout/orders", json=vaulted("EUR", "10.50", "AUTHORIZE"))
        auth_ids.append(order.json()["purchase_units"][0]["payments"]["authorizations"][0]["id"])
    captured_id, voided_id = auth_ids
    await paypal.post(f"/v2/payments/authorizations/{captured_id}/capture", json={})
    after_capture = await paypal.post(f"/v2/payments/authorizations/{captured_id}/void")
    first = await paypal.post(f"/v2/payments/authorizations/{voided_id}/void")
    second = await paypal.post(f"/v2/payments/authorizations/{voided_id}/void")
    assert issue(after_capture) == (422, "PREVIOUSLY_CAPTURED")
    assert first.status_code == 204
    assert issue(second) == (422, "PREVIOUSLY_VOIDED")
    kinds = [e["kind"] for e in (await books(admin, "paypal"))["entries"]]  # type: ignore[union-attr]
    assert kinds.count("release") == 1
