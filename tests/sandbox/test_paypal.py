"""The PayPal stand-in over raw HTTP, as PayPal documents it, and the PayPal adapter against it
(base URL: `sandbox.urls["paypal"]`).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import httpx
import pytest
import pytest_asyncio
from pydantic import SecretStr

from payrouter import Money, PaymentMethod, WalletSource
from payrouter.provider import Charge, Outcome, PaymentHandle
from payrouter_adapters.paypal import PayPalAdapter, PayPalWebhooks
from payrouter_lab.sandbox import Sandbox
from payrouter_lab.sandbox._paypal_webhooks import notification, signed_headers
from tests.sandbox.kit import add_fault, books, options

VAULTED = {
    "intent": "CAPTURE",
    "purchase_units": [{"amount": {"currency_code": "EUR", "value": "10.50"}, "invoice_id": "o1"}],
    "payment_source": {"paypal": {"vault_id": "vault-1"}},
}

EUR = Money.of("10.50", "EUR")

pytestmark = pytest.mark.asyncio(loop_scope="session")


def charge() -> Charge:
    return Charge(
        reference="attempt-pp",
        order_id="order-pp",
        amount=EUR,
        source=WalletSource(wallet="paypal", account=SecretStr("payer@example.com")),
        customer_country="DE",
        return_url="https://shop.example/return",
    )


def handle(reference: str) -> PaymentHandle:
    return PaymentHandle("attempt-pp", "order-pp", PaymentMethod.WALLET, EUR, reference)


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
    assert void.json()["details"][0]["issue"] == "PREVIOUSLY_CAPTURED"
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


APPROVAL = {**VAULTED, "payment_source": {"paypal": {}}}


async def test_a_funding_source_declined_on_capture_links_back_to_approve_again(
    paypal: httpx.AsyncClient, admin: httpx.AsyncClient
) -> None:
    """INSTRUMENT_DECLINED on capturing an approved order carries PayPal's `redirect` link; the
    payer approves there again (another source) and the same order captures."""
    order = (await paypal.post("/v2/checkout/orders", json=APPROVAL)).json()
    link = next(link["href"] for link in order["links"] if link["rel"] == "payer-action")
    await paypal.get(link)
    await add_fault(admin, "paypal", kind="insufficient_funds", count=1, operations=["pay"])
    declined = await paypal.post(f"/v2/checkout/orders/{order['id']}/capture")
    redirect = {link["rel"]: link["href"] for link in declined.json()["links"]}["redirect"]
    approved = await paypal.get(redirect)
    captured = await paypal.post(f"/v2/checkout/orders/{order['id']}/capture")
    assert (declined.status_code, declined.json()["details"][0]["issue"]) == (
        422,
        "INSTRUMENT_DECLINED",
    )
    assert redirect.endswith(f"/checkoutnow?token={order['id']}")
    assert (approved.status_code, captured.json()["status"]) == (200, "COMPLETED")


async def test_a_declined_vaulted_payment_has_no_payer_to_send_back(
    paypal: httpx.AsyncClient, admin: httpx.AsyncClient
) -> None:
    await add_fault(admin, "paypal", kind="insufficient_funds", payer_prefix="vault-")
    response = await paypal.post("/v2/checkout/orders", json=VAULTED)
    assert response.json()["details"][0]["issue"] == "INSTRUMENT_DECLINED"
    assert "links" not in response.json()


async def test_payments_v2_names_the_order_and_parent_of_each_payment(
    paypal: httpx.AsyncClient,
) -> None:
    """supplementary_data.related_ids and the `up` link, as PayPal's capture resource (and so
    its PAYMENT.CAPTURE.* notifications) carries them."""
    order = (await paypal.post("/v2/checkout/orders", json=VAULTED)).json()
    auth_order = (
        await paypal.post("/v2/checkout/orders", json={**VAULTED, "intent": "AUTHORIZE"})
    ).json()
    capture_id = order["purchase_units"][0]["payments"]["captures"][0]["id"]
    auth_id = auth_order["purchase_units"][0]["payments"]["authorizations"][0]["id"]
    later = (await paypal.post(f"/v2/payments/authorizations/{auth_id}/capture", json={})).json()
    shown = [
        (await paypal.get(path)).json()
        for path in (
            f"/v2/payments/captures/{capture_id}",
            f"/v2/payments/authorizations/{auth_id}",
            f"/v2/payments/captures/{later['id']}",
        )
    ]
    ups = [{link["rel"]: link["href"] for link in item["links"]}["up"] for item in shown]
    assert [item["supplementary_data"]["related_ids"] for item in shown] == [
        {"order_id": order["id"]},
        {"order_id": auth_order["id"]},
        {"order_id": auth_order["id"], "authorization_id": auth_id},
    ]
    assert [up.split("/v2/")[1] for up in ups] == [
        f"checkout/orders/{order['id']}",
        f"checkout/orders/{auth_order['id']}",
        f"payments/authorizations/{auth_id}",
    ]


async def test_the_adapter_completes_after_a_declined_source_and_refunds_by_the_notification(
    sandbox: Sandbox, admin: httpx.AsyncClient
) -> None:
    """Through the real adapter: a declined source is requires_action at the redirect link;
    after approving again the order captures, and the capture's notification names it as the
    completion did, so a refund by that reference reaches the capture."""
    adapter = PayPalAdapter.from_options(
        name="paypal",
        capabilities=None,
        options=options(sandbox, "paypal", client_id="id", client_secret="secret"),
    )
    try:
        created = await adapter.pay(charge(), idempotency_key="pay-1")
        assert created.provider_reference is not None
        assert created.action_url is not None
        order = handle(created.provider_reference)
        async with httpx.AsyncClient() as browser:
            await browser.get(created.action_url)
            await add_fault(admin, "paypal", kind="insufficient_funds", count=1, operations=["pay"])
            declined = await adapter.complete(order, idempotency_key="complete-1", capture=True)
            assert declined.action_url is not None
            await browser.get(declined.action_url)
        completed = await adapter.complete(order, idempotency_key="complete-2", capture=True)
        assert completed.provider_reference is not None
        capture_id = completed.provider_reference.rsplit(":", 1)[-1]
        async with httpx.AsyncClient(base_url=sandbox.urls["paypal"]) as api:
            api.headers["Authorization"] = "Bearer any"
            resource = (await api.get(f"/v2/payments/captures/{capture_id}")).json()
        event = notification("PAYMENT.CAPTURE.COMPLETED", resource)
        body = json.dumps(event).encode()
        (parsed,) = await PayPalWebhooks(adapter, "WH-ID-1").read(
            body, signed_headers("WH-ID-1", event)
        )
        assert parsed.provider_reference is not None
        refunded = await adapter.refund(
            handle(parsed.provider_reference), EUR, idempotency_key="refund-1", reason=None
        )
    finally:
        await adapter.aclose()
    assert (declined.outcome, declined.provider_code) == (
        Outcome.REQUIRES_ACTION,
        "INSTRUMENT_DECLINED",
    )
    assert parsed.provider_reference == completed.provider_reference
    assert refunded.outcome is Outcome.SUCCEEDED
    assert (await books(admin, "paypal"))["orders"] == {
        "order-pp": {"taken": 1050, "refunded": 1050}
    }
