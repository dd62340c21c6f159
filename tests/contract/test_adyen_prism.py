"""Every request the Adyen adapter can make is valid against Adyen's official Checkout v72 spec.

Prism validates each request against `CheckoutService-v72.json` (paths prefixed with /v72) and
answers with the spec's own examples, which the adapter must then read sensibly. Prism keeps no
state and ignores idempotency: this proves request shapes and response parsing, not behaviour.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import replace
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr

from payrouter import (
    BankTransferSource,
    CardSource,
    Money,
    NetworkToken,
    PaymentMethod,
    VaultCard,
    WalletSource,
)
from payrouter.provider import Charge, FailureKind, Outcome, PaymentHandle, ProviderReply
from payrouter_adapters.adyen import AdyenAdapter
from payrouter_adapters.adyen._requests import WALLETS
from tests.peers import prism

pytestmark = [pytest.mark.slow, pytest.mark.peer("prism")]

EUR = Money(minor_units=2000, currency="EUR")
HANDLE = PaymentHandle("attempt-key-0001", "order-1", PaymentMethod.CARD, EUR, "993617894903480A")


class Recording(httpx.AsyncBaseTransport):
    """A real HTTP transport that keeps every response and can add Prism's `Prefer` header."""

    def __init__(self, prefer: str | None) -> None:
        self._inner = httpx.AsyncHTTPTransport()
        self._prefer = prefer
        self.exchanges: list[tuple[httpx.Request, httpx.Response]] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self._prefer:
            request.headers["Prefer"] = self._prefer
        response = await self._inner.handle_async_request(request)
        await response.aread()
        self.exchanges.append((request, response))
        return response

    async def aclose(self) -> None:
        await self._inner.aclose()


Build = Callable[..., Awaitable[tuple[AdyenAdapter, Recording]]]


@pytest.fixture(scope="module")
def prism_root(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with prism("adyen", Path(tmp_path_factory.mktemp("adyen-prism"))) as root:
        yield root


@pytest.fixture
async def build(prism_root: str) -> AsyncIterator[Build]:
    made: list[AdyenAdapter] = []

    async def _build(prefer: str | None = None, **extra: object) -> tuple[AdyenAdapter, Recording]:
        transport = Recording(prefer)
        adapter = AdyenAdapter.from_options(
            name="adyen",
            capabilities=None,
            options={
                "base_url": f"{prism_root}/v72",
                "api_key": "AQE-test-key",
                "merchant_account": "PayrouterECOM",
                "return_url": "https://shop.example/return",
                **extra,
            },
            transport=transport,
        )
        made.append(adapter)
        return adapter, transport

    yield _build
    for adapter in made:
        await adapter.aclose()


def assert_accepted(transport: Recording) -> httpx.Response:
    """Exactly one exchange, and Prism found nothing wrong with the request."""
    assert len(transport.exchanges) == 1
    request, response = transport.exchanges[0]
    violations = response.headers.get("sl-violations", "")
    assert response.is_success, (
        f"Prism rejected {request.method} {request.url.path}: {response.status_code} "
        f"{violations} body={request.content.decode() or '-'}"
    )
    assert not violations, violations
    return response


def charge(
    source: CardSource | WalletSource | BankTransferSource, *, capture: bool = True
) -> Charge:
    return Charge(
        reference="attempt-key-0001",
        order_id="order-1",
        amount=EUR,
        source=source,
        customer_country="NL",
        customer_id="cust-42",
        capture=capture,
    )


CARD = CardSource(token=SecretStr("M5N7TQ4TG5PFWR50"))


async def test_prism_rejects_an_invalid_request(prism_root: str) -> None:
    """Control: the mock really validates (no merchantAccount → 422 with violations)."""
    async with httpx.AsyncClient(base_url=f"{prism_root}/v72") as client:
        response = await client.post(
            "/payments",
            headers={"X-API-Key": "k"},
            json={"amount": {"value": 1, "currency": "EUR"}, "reference": "r"},
        )
    assert response.status_code == 422
    assert "merchantAccount" in response.headers.get("sl-violations", "")


@pytest.mark.parametrize("capture", [True, False])
async def test_card_payment_is_valid(build: Build, capture: bool) -> None:
    """A stored-card payment, captured or authorise-only, matches PaymentRequest."""
    adapter, transport = await build()
    reply = await adapter.pay(charge(CARD, capture=capture), idempotency_key="k-card")
    assert_accepted(transport)
    # The spec's first example is a native 3-D Secure 2 fingerprint: an action without a URL.
    assert reply.outcome is Outcome.REQUIRES_ACTION


async def test_redirect_challenge_request_is_valid(build: Build) -> None:
    """The request for a redirect 3-D Secure challenge (`authenticationData`) matches the spec."""
    adapter, transport = await build()
    await adapter.pay(charge(CARD), idempotency_key="k-3ds-redirect")
    request, _ = transport.exchanges[0]
    assert_accepted(transport)
    sent = json.loads(request.content)
    assert sent["authenticationData"] == {"threeDSRequestData": {"nativeThreeDS": "disabled"}}


@pytest.mark.parametrize(("authenticate", "option"), [(True, None), (False, "never")])
async def test_attempt_authentication_request_is_valid(
    build: Build, authenticate: bool, option: str | None
) -> None:
    """A resend after refusal 38 asks for 3-D Secure (`attemptAuthentication: always`), and
    a merchant's `attempt_authentication: never` goes out as such; both match the spec."""
    adapter, transport = await build(attempt_authentication=option)
    card = replace(charge(CARD), authenticate=authenticate)
    await adapter.pay(card, idempotency_key="k-3ds-attempt")
    request, _ = transport.exchanges[0]
    assert_accepted(transport)
    sent = json.loads(request.content)
    assert sent["authenticationData"] == {
        "threeDSRequestData": {"nativeThreeDS": "disabled"},
        "attemptAuthentication": "always" if authenticate else "never",
    }


async def test_card_direct_example_reads_as_succeeded(build: Build) -> None:
    """The spec's 'card-direct' answer is an Authorised payment with its pspReference."""
    adapter, transport = await build("example=card-direct")
    reply = await adapter.pay(charge(CARD), idempotency_key="k-direct")
    assert_accepted(transport)
    assert reply == ProviderReply.succeeded(
        "993617895204576J", provider_code="Authorised", http_status=200
    )


async def test_redirect_example_reads_as_requires_action_with_url(build: Build) -> None:
    """The spec's 3-D Secure redirect answer becomes requires_action with Adyen's URL."""
    adapter, transport = await build("example=card-3d-secure-redirect")
    reply = await adapter.pay(charge(CARD), idempotency_key="k-3ds")
    assert_accepted(transport)
    assert reply.outcome is Outcome.REQUIRES_ACTION
    assert reply.provider_reference == "JLCMPCQ8HXSKGK82"
    assert reply.action_url is not None
    assert reply.action_url.startswith("https://checkoutshopper-test.adyen.com/")


def network_card(*, cryptogram: bool) -> CardSource:
    return CardSource(
        network_token=NetworkToken(
            number=SecretStr("4895370012003478"),
            expiry_month=3,
            expiry_year=2030,
            cryptogram=SecretStr("AgAAAAAABk4DWZ4C28yUQAAAAAA=") if cryptogram else None,
            eci="05" if cryptogram else None,
            network_transaction_id=None if cryptogram else "583131161310021",
        )
    )


@pytest.mark.parametrize("cryptogram", [True, False], ids=["customer", "merchant"])
async def test_network_token_payment_is_valid(build: Build, cryptogram: bool) -> None:
    """A network token, customer-initiated (mpiData with the TAVV) or merchant-initiated
    (networkPaymentReference, ContAuth), matches CardDetails and ThreeDSecureData."""
    adapter, transport = await build()
    reply = await adapter.pay(charge(network_card(cryptogram=cryptogram)), idempotency_key="k-nt")
    request, _ = transport.exchanges[0]
    assert_accepted(transport)
    assert json.loads(request.content)["paymentMethod"]["type"] == "networkToken"
    assert reply.outcome is not Outcome.FAILED


async def test_vault_card_payment_is_valid(build: Build) -> None:
    """A card held by a vault: raw card fields (scheme) holding the vault's aliases."""
    adapter, transport = await build()
    card = VaultCard(
        vault="vgs",
        number=SecretStr("tok_sandbox_bhtsCwFUzoJMw9rWUfEV5e"),
        expiry_month=3,
        expiry_year=2030,
        cvc=SecretStr("tok_sandbox_3Jm6ZrP5f2Wq8N1aXc4Hk7"),
    )
    reply = await adapter.pay(charge(CardSource(vault_card=card)), idempotency_key="k-vault")
    request, _ = transport.exchanges[0]
    assert_accepted(transport)
    assert json.loads(request.content)["paymentMethod"]["type"] == "scheme"
    assert reply.outcome is not Outcome.FAILED


async def test_prism_checks_the_network_token_fields(prism_root: str) -> None:
    """Control: a network token with a transStatus outside the spec's enum is refused."""
    body = {
        "amount": {"value": 1, "currency": "EUR"},
        "merchantAccount": "PayrouterECOM",
        "reference": "r",
        "returnUrl": "https://shop.example/return",
        "paymentMethod": {"type": "networkToken", "number": "4895370012003478"},
        "mpiData": {"directoryResponse": "Z", "authenticationResponse": "Y"},
    }
    async with httpx.AsyncClient(base_url=f"{prism_root}/v72") as client:
        response = await client.post("/payments", headers={"X-API-Key": "k"}, json=body)
    assert response.status_code == 422
    assert "directoryResponse" in response.headers.get("sl-violations", "")


@pytest.mark.parametrize("wallet", sorted(WALLETS))
async def test_each_wallet_payment_is_valid(build: Build, wallet: str) -> None:
    """Every wallet row produces a paymentMethod the spec accepts."""
    adapter, transport = await build()
    source = WalletSource(wallet=wallet, account=SecretStr("wallet-token"))
    reply = await adapter.pay(charge(source), idempotency_key=f"k-{wallet}")
    assert_accepted(transport)
    assert reply.outcome is not Outcome.FAILED


async def test_sepa_direct_debit_payment_is_valid(build: Build) -> None:
    """A bank transfer as SEPA direct debit matches SepaDirectDebitDetails."""
    adapter, transport = await build()
    source = BankTransferSource(iban=SecretStr("NL13TEST0123456789"), holder_name="A. Shopper")
    reply = await adapter.pay(charge(source), idempotency_key="k-sepa")
    assert_accepted(transport)
    assert reply.outcome is not Outcome.FAILED


async def test_complete_is_valid_and_reads_authorised(build: Build) -> None:
    """POST /payments/details with a redirectResult; the example is Authorised."""
    adapter, transport = await build()
    reply = await adapter.submit_details({"redirectResult": "X6XtfGC3!Y"}, idempotency_key="k-det")
    assert_accepted(transport)
    assert reply.outcome is Outcome.SUCCEEDED
    assert reply.provider_reference == "V4HZ4RBFJGXXGN82"


async def test_capture_is_valid_and_pending(build: Build) -> None:
    """A capture matches PaymentCaptureRequest; 'received' is pending until the webhook."""
    adapter, transport = await build()
    reply = await adapter.capture(HANDLE, EUR, idempotency_key="k-cap")
    assert_accepted(transport)
    assert replace(reply, amount=None) == ProviderReply.pending(
        "993617894906488A", provider_code="received", http_status=201
    )
    # The example's echoed amount, which the router holds to the follow-up's.
    assert reply.amount == Money(minor_units=2000, currency="EUR")


@pytest.mark.parametrize("reason", [None, "requested_by_customer", "other words"])
async def test_refund_is_valid_and_pending(build: Build, reason: str | None) -> None:
    """A refund, with or without a reason, matches PaymentRefundRequest."""
    adapter, transport = await build()
    reply = await adapter.refund(HANDLE, EUR, idempotency_key="k-ref", reason=reason)
    assert_accepted(transport)
    assert reply.outcome is Outcome.PENDING


async def test_void_by_psp_reference_is_valid(build: Build) -> None:
    """A cancel of a known payment matches PaymentCancelRequest."""
    adapter, transport = await build()
    reply = await adapter.void(HANDLE, idempotency_key="k-void")
    assert_accepted(transport)
    assert reply.outcome is Outcome.PENDING


async def test_void_by_our_reference_is_valid(build: Build) -> None:
    """A cancel by merchant reference matches StandalonePaymentCancelRequest."""
    adapter, transport = await build()
    handle = PaymentHandle("attempt-key-0001", "order-1", PaymentMethod.CARD, EUR)
    reply = await adapter.void(handle, idempotency_key="k-void2")
    assert_accepted(transport)
    assert reply.outcome is Outcome.PENDING


async def test_cancel_mandate_is_valid(build: Build) -> None:
    """DELETE /storedPaymentMethods/{id} with shopperReference and merchantAccount."""
    adapter, transport = await build()
    reply = await adapter.cancel_mandate("cust-42:M5N7TQ4TG5PFWR50", idempotency_key="k-mand")
    response = assert_accepted(transport)
    assert response.status_code == 204
    assert reply.outcome is Outcome.SUCCEEDED


async def test_lookup_sends_nothing(build: Build) -> None:
    """Checkout v72 has no payment read: lookup is an honest unknown without a request."""
    adapter, transport = await build()
    reply = await adapter.lookup(HANDLE)
    assert transport.exchanges == []
    assert reply.provider_code == "lookup_unsupported"


@pytest.mark.parametrize(
    ("code", "kind"),
    [
        (401, FailureKind.CREDENTIALS_REJECTED),
        (403, FailureKind.CREDENTIALS_REJECTED),
        (422, FailureKind.INVALID_REQUEST),  # example: 14_030 Return URL is missing
        (500, FailureKind.INVALID_REQUEST),  # example: 905 configuration, a proven rejection
    ],
)
async def test_spec_error_examples_are_classified(
    build: Build, code: int, kind: FailureKind
) -> None:
    """Each ServiceError example in the spec parses into the kind our tables name."""
    adapter, transport = await build(f"code={code}")
    reply = await adapter.pay(charge(CARD), idempotency_key="k-err")
    _, response = transport.exchanges[0]
    assert response.status_code == code
    assert json.loads(response.content)["errorCode"]
    assert reply.failure_kind is kind
    assert reply.http_status == code
