"""The PayPal stand-in over raw HTTP, as PayPal documents it.

No PayPal adapter exists in the tree yet; once `payrouter_adapters.paypal` lands, its tests
against the sandbox belong next to these (base URL: `sandbox.urls["paypal"]`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
import pytest_asyncio

from payrouter_lab.sandbox import Sandbox
from tests.sandbox.kit import add_fault, books

VAULTED = {
    "intent": "CAPTURE",
    "purchase_units": [{"amount": {"currency_code": "EUR", "value": "10.50"}, "invoice_id": "o1"}],
    "payment_source": {"paypal": {"vault_id": "vault-1"}},
}

pytestmark = pytest.mark.asyncio(loop_scope="session")


@pytest_asyncio.fixture(loop_scope="session")
async def paypal(sandbox: Sandbox) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=sandbox.urls["paypal"]) as client:
        token = await client.post(
            "/v1/oauth2/token", data={"grant_type": "client_credentials"}, auth=("id", "secret")
        )
        client.headers["Authorization"] = f"Bearer {token.json()['access_token']}"
        yield client


async def test_vaulted_wallet_completes_and_refunds_up_to_the_capture(
    paypal: httpx.AsyncClient, admin: httpx.AsyncClient
) -> None:
    """A vaulted order completes at once; refunds stop at the captured amount."""
    order = (await paypal.post("/v2/checkout/orders", json=VAULTED)).json()
    capture = order["purchase_units"][0]["payments"]["captures"][0]
    half = {"amount": {"currency_code": "EUR", "value": "5.25"}}
    refunds = [
        await paypal.post(f"/v2/payments/captures/{capture['id']}/refund", json=half)
        for _ in range(3)
    ]
    assert (order["status"], capture["status"]) == ("COMPLETED", "COMPLETED")
    assert [r.status_code for r in refunds] == [201, 201, 422]
    assert refunds[2].json()["details"][0]["issue"] == "CAPTURE_FULLY_REFUNDED"
    assert (await books(admin, "paypal"))["orders"] == {"o1": {"taken": 1050, "refunded": 1050}}


async def test_payer_approval_then_authorize_capture_and_void(
    paypal: httpx.AsyncClient, admin: httpx.AsyncClient
) -> None:
    """Without a vault id the payer must approve (payer-action link); then authorize/capture."""
    body = {**VAULTED, "intent": "AUTHORIZE", "payment_source": {"paypal": {}}}
    order = (await paypal.post("/v2/checkout/orders", json=body)).json()
    link = next(link["href"] for link in order["links"] if link["rel"] == "payer-action")
    early = await paypal.post(f"/v2/checkout/orders/{order['id']}/authorize")
    await paypal.get(link)
    done = (await paypal.post(f"/v2/checkout/orders/{order['id']}/authorize")).json()
    auth_id = done["purchase_units"][0]["payments"]["authorizations"][0]["id"]
    captured = await paypal.post(f"/v2/payments/authorizations/{auth_id}/capture", json={})
    void = await paypal.post(f"/v2/payments/authorizations/{auth_id}/void")
    assert order["status"] == "PAYER_ACTION_REQUIRED"
    assert early.json()["details"][0]["issue"] == "ORDER_NOT_APPROVED"
    assert captured.status_code == 201
    assert void.json()["details"][0]["issue"] == "AUTHORIZATION_ALREADY_CAPTURED"
    kinds = [e["kind"] for e in (await books(admin, "paypal"))["entries"]]  # type: ignore[union-attr]
    assert kinds == ["authorization", "capture"]


@pytest.mark.parametrize(
    ("fault", "issue"),
    [
        ("insufficient_funds", "INSTRUMENT_DECLINED"),
        ("account_locked", "PAYER_ACCOUNT_LOCKED_OR_CLOSED"),
        ("account_frozen", "PAYER_ACCOUNT_RESTRICTED"),
        ("account_closed", "PAYER_ACCOUNT_LOCKED_OR_CLOSED"),
        ("region_restricted", "COUNTRY_NOT_SUPPORTED_BY_PAYMENT_SOURCE"),
        ("declined", "TRANSACTION_REFUSED"),
    ],
)
async def test_frozen_or_empty_wallets_answer_paypals_issue(
    paypal: httpx.AsyncClient, admin: httpx.AsyncClient, fault: str, issue: str
) -> None:
    """A decline targeted at a wallet is 422 UNPROCESSABLE_ENTITY with PayPal's issue."""
    await add_fault(admin, "paypal", kind=fault, payer_prefix="vault-")
    response = await paypal.post("/v2/checkout/orders", json=VAULTED)
    assert response.status_code == 422
    assert response.json()["details"][0]["issue"] == issue
    assert (await books(admin, "paypal"))["entries"] == []


async def test_request_id_replays_and_conflicts(
    paypal: httpx.AsyncClient, admin: httpx.AsyncClient
) -> None:
    """Same PayPal-Request-Id: same bytes, one booking; another body: 422."""
    headers = {"PayPal-Request-Id": "req-1"}
    first = await paypal.post("/v2/checkout/orders", json=VAULTED, headers=headers)
    again = await paypal.post("/v2/checkout/orders", json=VAULTED, headers=headers)
    other = await paypal.post(
        "/v2/checkout/orders", json={**VAULTED, "intent": "AUTHORIZE"}, headers=headers
    )
    assert again.content == first.content
    assert other.json()["details"][0]["issue"] == "PAYPAL_REQUEST_ID_PREVIOUSLY_USED"
    assert len((await books(admin, "paypal"))["entries"]) == 1  # type: ignore[arg-type]


async def test_vault_token_deletion_and_auth(paypal: httpx.AsyncClient) -> None:
    """DELETE a vault token once (204, then 404); no bearer token is 401."""
    first = await paypal.delete("/v3/vault/payment-tokens/vault-1")
    second = await paypal.delete("/v3/vault/payment-tokens/vault-1")
    anonymous = await paypal.get("/v2/checkout/orders/x", headers={"Authorization": ""})
    assert (first.status_code, second.status_code) == (204, 404)
    assert anonymous.json()["name"] == "AUTHENTICATION_FAILURE"
