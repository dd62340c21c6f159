"""PayPal vault payment tokens exist only at the PayPal account that vaulted them: the stand-in
charges the ones it issued and refuses any other as PayPal does (422 `TOKEN_ID_NOT_FOUND`), and
the router takes that refusal as "no money moved" and moves on instead of stranding the order."""

from __future__ import annotations

import httpx
import pytest
from pydantic import SecretStr

from payrouter import (
    Money,
    PaymentRequest,
    PaymentStatus,
    RetrySettings,
    Router,
    RouterSettings,
    WalletSource,
)
from payrouter.provider import FailureKind
from payrouter_adapters.paypal import PayPalAdapter
from payrouter_lab.sandbox import Sandbox
from tests.sandbox.kit import adyen_adapter, books, charge, options

pytestmark = pytest.mark.asyncio(loop_scope="session")

SETTINGS = RouterSettings(retry=RetrySettings(max_tries=1))


def paypal_adapter(sandbox: Sandbox) -> PayPalAdapter:
    return PayPalAdapter.from_options(
        name="paypal",
        capabilities=None,
        options=options(sandbox, "paypal", client_id="id", client_secret="secret"),
    )


def vaulted(vault_id: str) -> WalletSource:
    return WalletSource(wallet="paypal", account=SecretStr(vault_id))


async def issue(admin: httpx.AsyncClient, customer: str) -> str:
    response = await admin.post("/paypal/credentials", json={"customer": customer})
    assert response.status_code == 201, response.text
    vault_id: str = response.json()["id"]
    return vault_id


async def test_a_vault_id_paypal_never_issued_is_refused_and_nothing_is_taken(
    sandbox: Sandbox, admin: httpx.AsyncClient
) -> None:
    """PayPal's 422 TOKEN_ID_NOT_FOUND for a vault id it does not hold: an invalid request,
    definite, nothing booked; a token it issued is charged at once."""
    paypal = paypal_adapter(sandbox)
    own = await issue(admin, "shopper-1")
    foreign = await paypal.pay(
        charge("paypal", "pp-foreign", source=vaulted("vaultOfAnotherMerchant")),
        idempotency_key="k-foreign",
    )
    paid = await paypal.pay(charge("paypal", "pp-own", source=vaulted(own)), idempotency_key="k")
    await paypal.aclose()
    assert (foreign.failure_kind, foreign.provider_code) == (
        FailureKind.INVALID_REQUEST,
        "TOKEN_ID_NOT_FOUND",
    )
    assert paid.failure_kind is None
    assert list((await books(admin, "paypal"))["orders"]) == ["pp-own"]  # type: ignore[call-overload]


async def test_a_deleted_vault_token_is_refused_like_an_unknown_one(
    sandbox: Sandbox, admin: httpx.AsyncClient
) -> None:
    """Once the mandate is cancelled (Vault v3 DELETE), its token charges nothing; deleting a
    token PayPal never issued is 404 INVALID_RESOURCE_ID."""
    paypal = paypal_adapter(sandbox)
    own = await issue(admin, "shopper-1")
    deleted = await paypal.cancel_mandate(own, idempotency_key="k-del")
    unknown = await paypal.cancel_mandate("neverIssued1", idempotency_key="k-del-2")
    again = await paypal.pay(charge("paypal", "pp-gone", source=vaulted(own)), idempotency_key="k")
    await paypal.aclose()
    assert deleted.failure_kind is None
    assert unknown.failure_kind is FailureKind.NOT_FOUND
    assert (again.failure_kind, again.provider_code) == (
        FailureKind.INVALID_REQUEST,
        "TOKEN_ID_NOT_FOUND",
    )


async def test_a_capture_naming_a_foreign_vault_token_is_refused(
    sandbox: Sandbox, admin: httpx.AsyncClient
) -> None:
    """The place PayPal's spec names TOKEN_ID_NOT_FOUND (orders.capture-422): a capture of a
    created order whose body carries a vault id PayPal does not hold."""
    async with httpx.AsyncClient(base_url=sandbox.urls["paypal"]) as client:
        client.headers["Authorization"] = "Bearer any"
        unit = {"amount": {"currency_code": "EUR", "value": "5.00"}, "invoice_id": "pp-cap"}
        order = await client.post(
            "/v2/checkout/orders", json={"intent": "CAPTURE", "purchase_units": [unit]}
        )
        source = {"payment_source": {"paypal": {"vault_id": "vaultOfAnotherMerchant"}}}
        capture = await client.post(
            f"/v2/checkout/orders/{order.json()['id']}/capture", json=source
        )
    assert capture.status_code == 422
    assert capture.json()["details"][0]["issue"] == "TOKEN_ID_NOT_FOUND"
    assert (await books(admin, "paypal"))["entries"] == []


async def test_a_foreign_vault_id_fails_over_to_adyens_paypal_instead_of_stranding(
    sandbox: Sandbox, admin: httpx.AsyncClient
) -> None:
    """PayPal refuses the vault id (no money moved), so the wallet goes on to Adyen's PayPal,
    where the customer approves: the order is not declined and nothing was taken at PayPal."""
    adapters = [paypal_adapter(sandbox), adyen_adapter(sandbox)]
    wallet = WalletSource(wallet="paypal", accounts={"paypal": SecretStr("vaultOfAnother1")})
    request = PaymentRequest(
        order_id="pp-failover",
        amount=Money.of("30.00", "EUR"),
        sources=[wallet],
        customer_country="DE",
        customer_id="shopper-1",
        return_url="https://shop.example/return",
    )
    async with Router(adapters, ledger="sqlite://", hooks=(), settings=SETTINGS) as router:
        result = await router.pay(request)
    assert (result.status, result.provider) == (PaymentStatus.REQUIRES_ACTION, "adyen")
    assert [(a.provider, a.failure_kind) for a in result.attempts] == [
        ("paypal", FailureKind.INVALID_REQUEST),
        ("adyen", None),
    ]
    assert (await books(admin, "paypal"))["entries"] == []
