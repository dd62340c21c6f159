"""The stand-ins' responses validate against the providers' official OpenAPI documents.

Every exchange of a scenario is recorded under the real adapter (or raw HTTP for PayPal) and
checked with openapi-core's response validation. Not checked, because the shared specs do not
describe them: the sandbox's customer pages (3-D Secure, approval, SCA), PayPal's OAuth token,
Payments v2 and Vault v3 endpoints, and bodies the specs leave undefined (Berlin Group's 5xx).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import httpx
import pytest
from openapi_core import Config, OpenAPI
from openapi_core.testing import MockRequest, MockResponse

from payrouter import Money, PaymentMethod, WalletSource
from payrouter.provider import PaymentHandle
from payrouter_adapters.adyen import AdyenAdapter
from payrouter_adapters.berlingroup import BerlinGroupAdapter
from payrouter_adapters.stripe import StripeAdapter
from payrouter_lab.sandbox import Sandbox
from tests.peers import SPECS_DIR
from tests.sandbox.kit import add_fault, charge, handle, options

SPECS = {
    "stripe": ("stripe/spec3.json", "https://api.stripe.com", ""),
    "adyen": ("adyen/CheckoutService-v72.json", "https://checkout-test.adyen.com", ""),
    "paypal": ("paypal/checkout_orders_v2.json", "https://api-m.sandbox.paypal.com", ""),
    "berlingroup": ("berlingroup/psd2-api_v1.3.11.json", "https://api.testbank.com", "/psd2"),
}
"""Provider → (spec file, a host from its `servers`, that server's base path)."""
UNSPECIFIED = ("/sandbox/", "/checkoutnow", "/v1/oauth2/", "/v2/payments/", "/v3/vault/")
EUR5 = Money(minor_units=500, currency="EUR")

pytestmark = pytest.mark.asyncio(loop_scope="session")


@dataclass(frozen=True)
class Exchange:
    method: str
    path: str
    query: dict[str, str]
    status: int
    content_type: str
    headers: dict[str, str]
    body: bytes


class Recorder(httpx.AsyncBaseTransport):
    """A real connection that keeps every exchange for validation afterwards."""

    def __init__(self) -> None:
        self.exchanges: list[Exchange] = []
        self._inner = httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self._inner.handle_async_request(request)
        body = await response.aread()
        self.exchanges.append(
            Exchange(
                request.method,
                request.url.path,
                dict(request.url.params),
                response.status_code,
                response.headers.get("content-type", "").split(";")[0],
                dict(response.headers),
                body,
            )
        )
        return httpx.Response(
            response.status_code, headers=response.headers, content=body, request=request
        )

    async def aclose(self) -> None:
        await self._inner.aclose()


@cache
def spec(provider: str) -> OpenAPI:
    path = SPECS_DIR / SPECS[provider][0]
    return OpenAPI.from_dict(json.loads(Path(path).read_text()), config=Config())


def validate(provider: str, exchanges: list[Exchange]) -> int:
    """Validate each specified exchange; returns how many were checked."""
    _, host, base = SPECS[provider]
    checked = 0
    for exchange in exchanges:
        if any(part in exchange.path for part in UNSPECIFIED) or (
            not exchange.body and (exchange.status >= 500)
        ):
            continue
        request = MockRequest(
            host, exchange.method.lower(), base + exchange.path, args=exchange.query
        )
        response = MockResponse(
            exchange.body,
            status_code=exchange.status,
            content_type=exchange.content_type or "application/json",
            headers=exchange.headers,
        )
        try:
            spec(provider).validate_response(request, response)
        except Exception as error:  # the failure names the exchange and the schema problem
            cause = error.__cause__ or error
            pytest.fail(f"{exchange.method} {exchange.path} -> {exchange.status}: {cause!r}")
        checked += 1
    return checked


async def stripe_flow(sandbox: Sandbox, admin: httpx.AsyncClient, recorder: Recorder) -> None:
    client = StripeAdapter.from_options(
        name="stripe",
        capabilities=None,
        options=options(sandbox, "stripe", api_key="sk_x", return_url="https://shop.example"),
        transport=recorder,
    )
    paid = await client.pay(charge("stripe"), idempotency_key="k1")
    await client.lookup(handle(paid))
    await client.lookup(handle(None))
    await client.refund(handle(paid), EUR5, idempotency_key="r1", reason="requested_by_customer")
    held = await client.pay(charge("stripe", "o2", capture=False), idempotency_key="k2")
    await client.capture(handle(held, "o2"), EUR5, idempotency_key="c1")
    other = await client.pay(charge("stripe", "o3", capture=False), idempotency_key="k3")
    await client.void(handle(other, "o3"), idempotency_key="v1")
    await client.pay(
        charge("stripe", "o4", token="pm_card_authenticationRequired"), idempotency_key="k4"
    )
    waiting = await client.pay(
        charge(
            "stripe",
            "o8",
            token="pm_card_threeDSecure2Required",
            customer_id="cus_1",
            off_session=True,
        ),
        idempotency_key="k8",
    )  # 402 authentication_required
    await client.lookup(handle(waiting, "o8"))
    async with httpx.AsyncClient(
        base_url=sandbox.urls["stripe"], transport=recorder, headers={"Authorization": "Bearer k"}
    ) as stripe_js:  # the customer back: the intent confirmed on session
        await stripe_js.post(
            f"/v1/payment_intents/{waiting.provider_reference}/confirm",
            data={"payment_method": "pm_card_threeDSecure2Required", "return_url": "https://s.x"},
        )
    await client.cancel_mandate("pm_card_visa", idempotency_key="d1")
    await add_fault(admin, "stripe", kind="insufficient_funds", count=1)
    await client.pay(charge("stripe", "o5"), idempotency_key="k5")
    await client.pay(charge("stripe", "o6"), idempotency_key="k1")  # idempotency_error
    missing = PaymentHandle(
        reference="x",
        order_id="x",
        method=PaymentMethod.CARD,
        amount=EUR5,
        provider_reference="pi_missing",
    )
    await client.lookup(missing)  # 404 resource_missing
    await client.aclose()


async def adyen_flow(sandbox: Sandbox, admin: httpx.AsyncClient, recorder: Recorder) -> None:
    client = AdyenAdapter.from_options(
        name="adyen",
        capabilities=None,
        options=options(
            sandbox,
            "adyen",
            api_key="k",
            merchant_account="Shop",
            return_url="https://shop.example",
        ),
        transport=recorder,
    )
    sale = await client.pay(charge("adyen"), idempotency_key="k1")
    await client.refund(handle(sale), EUR5, idempotency_key="r1", reason=None)
    held = await client.pay(charge("adyen", "o2", capture=False), idempotency_key="k2")
    await client.capture(handle(held, "o2"), EUR5, idempotency_key="c1")
    await client.void(handle(held, "o2"), idempotency_key="v1")
    await client.void(handle(None, "o2"), idempotency_key="v2")
    wallet = await client.pay(
        charge("adyen", "o3", source=WalletSource(wallet="alipay")), idempotency_key="k3"
    )
    await client.submit_details(
        {"redirectResult": str(wallet.provider_reference)}, idempotency_key="k4"
    )
    await client.cancel_mandate("shopper-1:stored_card_1", idempotency_key="m1")
    challenged = await client.pay(charge("adyen", "o8", token="3ds2_visa"), idempotency_key="k8")
    await client.submit_details(
        {"redirectResult": str(challenged.provider_reference)}, idempotency_key="k9"
    )  # not authenticated: Refused 11
    await client.pay(
        charge("adyen", "o9", token="3ds2_visa", off_session=True), idempotency_key="ka"
    )
    await add_fault(admin, "adyen", kind="region_restricted", count=1)
    await client.pay(charge("adyen", "o5"), idempotency_key="k5")
    await client.pay(charge("adyen", "o6"), idempotency_key="k1")  # 704
    await add_fault(admin, "adyen", kind="error", count=1)
    await client.pay(charge("adyen", "o7"), idempotency_key="k7")
    await client.aclose()


async def paypal_flow(sandbox: Sandbox, admin: httpx.AsyncClient, recorder: Recorder) -> None:
    unit = {"amount": {"currency_code": "EUR", "value": "10.50"}, "invoice_id": "o1"}
    vaulted = {
        "intent": "CAPTURE",
        "purchase_units": [unit],
        "payment_source": {"paypal": {"vault_id": "v-1"}},
    }
    (await admin.post("/paypal/credentials", json={"id": "v-1"})).raise_for_status()
    foreign = {"payment_source": {"paypal": {"vault_id": "v-of-another-merchant"}}}
    async with httpx.AsyncClient(
        base_url=sandbox.urls["paypal"], transport=recorder, headers={"Authorization": "Bearer t"}
    ) as raw:
        await raw.post("/v2/checkout/orders", json=vaulted)
        created = (
            await raw.post(
                "/v2/checkout/orders", json={**vaulted, "payment_source": {"paypal": {}}}
            )
        ).json()
        await raw.get(f"/v2/checkout/orders/{created['id']}")
        await raw.post(f"/v2/checkout/orders/{created['id']}/capture")  # not approved: 422
        # A vault id PayPal does not hold: 422 TOKEN_ID_NOT_FOUND (orders.capture-422).
        await raw.post(f"/v2/checkout/orders/{created['id']}/capture", json=foreign)
        await raw.get(next(x["href"] for x in created["links"] if x["rel"] == "payer-action"))
        await raw.post(f"/v2/checkout/orders/{created['id']}/capture")
        authorize = {**vaulted, "intent": "AUTHORIZE"}
        await raw.post("/v2/checkout/orders", json=authorize)
        await raw.get("/v2/checkout/orders/MISSING")
        await add_fault(admin, "paypal", kind="account_frozen", count=1)
        await raw.post("/v2/checkout/orders", json=vaulted)
        await raw.get("/v2/checkout/orders/x", headers={"Authorization": ""})


async def berlingroup_flow(sandbox: Sandbox, admin: httpx.AsyncClient, recorder: Recorder) -> None:
    client = BerlinGroupAdapter.from_options(
        name="berlingroup",
        capabilities=None,
        options=options(
            sandbox,
            "berlingroup",
            access_token="t",
            creditor_iban="DE02100100109307118603",
            creditor_name="Shop",
        ),
        transport=recorder,
    )
    first = await client.pay(charge("berlingroup"), idempotency_key="k1")
    await client.lookup(handle(first))
    async with httpx.AsyncClient(transport=recorder) as browser:
        await browser.get(str(first.action_url))
    await client.lookup(handle(first))
    await client.void(handle(first), idempotency_key="v1")  # executed: 405
    second = await client.pay(charge("berlingroup", "o2"), idempotency_key="k2")
    await client.void(handle(second, "o2"), idempotency_key="v2")
    await client.cancel_mandate("so-1", idempotency_key="m1")
    await add_fault(admin, "berlingroup", kind="insufficient_funds", count=1)
    rejected = await client.pay(charge("berlingroup", "o3"), idempotency_key="k3")
    await client.lookup(handle(rejected, "o3"))
    await add_fault(admin, "berlingroup", kind="account_locked", count=1)
    await client.pay(charge("berlingroup", "o4"), idempotency_key="k4")
    await client.pay(charge("berlingroup", "o5"), idempotency_key="k1")  # FORMAT_ERROR
    await add_fault(admin, "berlingroup", kind="busy", status=429, count=1)
    await client.pay(charge("berlingroup", "o6"), idempotency_key="k6")
    await client.aclose()


FLOWS: dict[str, Callable[[Sandbox, httpx.AsyncClient, Recorder], Awaitable[None]]] = {
    "stripe": stripe_flow,
    "adyen": adyen_flow,
    "paypal": paypal_flow,
    "berlingroup": berlingroup_flow,
}


@pytest.mark.parametrize("provider", list(FLOWS))
async def test_responses_validate_against_the_official_spec(
    sandbox: Sandbox, admin: httpx.AsyncClient, provider: str
) -> None:
    """Every specified response of a full scenario matches the provider's OpenAPI document."""
    if not SPECS_DIR.is_dir():
        pytest.skip(f"specs dir {SPECS_DIR} absent (set PAYROUTER_SPECS_DIR)")
    recorder = Recorder()
    await FLOWS[provider](sandbox, admin, recorder)
    assert validate(provider, recorder.exchanges) >= 8
