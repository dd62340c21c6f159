"""Every request the Stripe adapter can make is valid against Stripe's official OpenAPI spec.

Prism validates each request against the cut-down `payment_intents.prism.json` (payment intents
and refunds) and answers with values generated from the spec, which the adapter must then read
sensibly. `detach` is not in that cut-down, so a second Prism runs on the same derivation of
the full spec3.json for that one path. Prism does not reject unknown form fields, so each
request's parameter names are also checked against the operation in the spec. Prism keeps no
state and ignores idempotency: this proves request shapes and response parsing, not behaviour.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import httpx
import pytest
from pydantic import SecretStr

from payrouter import CardSource, Money, PaymentMethod, VaultCard, WalletSource
from payrouter.provider import (
    Charge,
    FailureKind,
    ForwardProxyVault,
    Outcome,
    PaymentHandle,
    ProviderReply,
)
from payrouter_adapters.stripe import StripeAdapter
from payrouter_lab.sandbox import VaultProxy
from tests import peers

pytestmark = [pytest.mark.slow, pytest.mark.peer("prism")]

EUR = Money(minor_units=2000, currency="EUR")
HANDLE = PaymentHandle("attempt-key-0001", "order-1", PaymentMethod.CARD, EUR, "pi_3Contract")
NO_PI = PaymentHandle("attempt-key-0001", "order-1", PaymentMethod.CARD, EUR)
CARD = CardSource(token=SecretStr("pm_card_visa"))
DETACH_PATH = r"^/v1/payment_methods/\{payment_method\}/detach$"
# Prism answers every 200 with the spec's first enum values: a canceled, abandoned intent.
EXAMPLE_INTENT = ProviderReply.failed(
    FailureKind.AUTHENTICATION_FAILED,
    provider_code="abandoned",
    http_status=200,
    provider_reference="string",
)


class Recording(httpx.AsyncBaseTransport):
    """A real HTTP transport that keeps every response and can add Prism's `Prefer` header."""

    def __init__(self, prefer: str | None, inner: httpx.AsyncBaseTransport | None = None) -> None:
        self._inner = inner or httpx.AsyncHTTPTransport()
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


Build = Callable[..., Awaitable[tuple[StripeAdapter, Recording]]]


@pytest.fixture(scope="module")
def prism_root(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with peers.prism("stripe", Path(tmp_path_factory.mktemp("stripe-prism"))) as root:
        yield root


@pytest.fixture(scope="module")
def detach_root(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Prism on spec3.json cut down to the detach path, derived as the shared cut-down was."""
    full = peers.SPECS_DIR / "stripe" / "spec3.json"
    prune = peers.SPECS_DIR / "tools" / "prune_openapi.py"
    if not full.is_file() or not prune.is_file():
        pytest.skip(f"peer prism: {full} or {prune} absent (set PAYROUTER_SPECS_DIR)")
    workdir = Path(tmp_path_factory.mktemp("stripe-detach-prism"))
    spec = workdir / "payment_methods_detach.prism.json"
    command = [sys.executable, str(prune), str(full), str(spec), "--paths", DETACH_PATH]
    subprocess.run(
        [*command, "--stub-expandables", "--drop-encoding"], check=True, capture_output=True
    )
    with peers.prism("stripe", workdir, spec=spec) as root:
        yield root


@pytest.fixture(scope="module")
def methods_root(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Prism on spec3.json cut down to PaymentMethod creation and PaymentIntents, the two calls
    of a payment whose PaymentMethod the adapter makes first."""
    full = peers.SPECS_DIR / "stripe" / "spec3.json"
    prune = peers.SPECS_DIR / "tools" / "prune_openapi.py"
    if not full.is_file() or not prune.is_file():
        pytest.skip(f"peer prism: {full} or {prune} absent (set PAYROUTER_SPECS_DIR)")
    workdir = Path(tmp_path_factory.mktemp("stripe-methods-prism"))
    spec = workdir / "payment_methods.prism.json"
    paths = ["^/v1/payment_methods$", "^/v1/payment_intents$"]
    command = [sys.executable, str(prune), str(full), str(spec), "--paths", *paths]
    subprocess.run(
        [*command, "--stub-expandables", "--drop-encoding"], check=True, capture_output=True
    )
    with peers.prism("stripe", workdir, spec=spec) as root:
        yield root


@cache
def _spec(name: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((peers.SPECS_DIR / "stripe" / name).read_text())
    return document


def _operation(request: httpx.Request) -> dict[str, Any]:
    """The spec operation a request addresses; literal segments win over `{params}`."""
    paths = _spec("spec3.json")["paths"]
    candidates = [
        template
        for template in paths
        if re.fullmatch(re.sub(r"\{[^}]+\}", "[^/]+", template), request.url.path)
    ]
    assert candidates, f"{request.url.path} is in no path of spec3.json"
    template = min(candidates, key=lambda path: path.count("{"))
    operation: dict[str, Any] = paths[template][request.method.lower()]
    return operation


def assert_known_parameters(request: httpx.Request) -> None:
    """Every form field and query parameter sent is one the spec defines for the operation."""
    operation = _operation(request)
    if request.method == "GET":
        known = {p["name"] for p in operation.get("parameters", []) if p["in"] == "query"}
        sent = set(request.url.params.keys())
    else:
        content = operation.get("requestBody", {}).get("content", {})
        schema = content.get("application/x-www-form-urlencoded", {}).get("schema", {})
        known = set(schema.get("properties", {}))
        sent = {key.split("[", 1)[0] for key, _ in parse_qsl(request.content.decode())}
    assert sent <= known, f"{request.method} {request.url.path}: unknown {sorted(sent - known)}"


def assert_accepted(transport: Recording) -> httpx.Response:
    """Exactly one exchange, Prism found nothing wrong, and every field name is in the spec."""
    assert len(transport.exchanges) == 1
    request, response = transport.exchanges[0]
    violations = response.headers.get("sl-violations", "")
    assert response.is_success, (
        f"Prism rejected {request.method} {request.url.path}: {response.status_code} "
        f"{violations} body={request.content.decode() or '-'}"
    )
    assert not violations, violations
    assert_known_parameters(request)
    return response


async def _builder(root: str) -> AsyncIterator[Build]:
    made: list[StripeAdapter] = []

    async def _build(
        prefer: str | None = None, **options: object
    ) -> tuple[StripeAdapter, Recording]:
        transport = Recording(prefer)
        adapter = StripeAdapter.from_options(
            name="stripe",
            capabilities=None,
            options={"base_url": root, "api_key": "sk_test_contract", **options},
            transport=transport,
        )
        made.append(adapter)
        return adapter, transport

    yield _build
    for adapter in made:
        await adapter.aclose()


@pytest.fixture
async def build(prism_root: str) -> AsyncIterator[Build]:
    async for built in _builder(prism_root):
        yield built


@pytest.fixture
async def build_detach(detach_root: str) -> AsyncIterator[Build]:
    async for built in _builder(detach_root):
        yield built


def charge(**fields: Any) -> Charge:
    base: dict[str, Any] = {
        "reference": "attempt-key-0001",
        "order_id": "order-1",
        "amount": EUR,
        "source": CARD,
        "customer_country": "DE",
    }
    return Charge(**{**base, **fields})


async def test_prism_rejects_an_invalid_request(prism_root: str) -> None:
    """Control: the mock really validates (no currency → 422 with violations)."""
    async with httpx.AsyncClient(base_url=prism_root) as client:
        response = await client.post(
            "/v1/payment_intents",
            headers={"Authorization": "Bearer sk_test_x"},
            data={"amount": "100"},
        )
    assert response.status_code == 422
    assert "currency" in response.headers.get("sl-violations", "")


def test_parameter_check_catches_a_misspelt_field() -> None:
    """Control: the name check fails on a field the spec does not define."""
    request = httpx.Request(
        "POST", "http://x/v1/payment_intents", data={"amount": "1", "captur_method": "manual"}
    )
    with pytest.raises(AssertionError, match="captur_method"):
        assert_known_parameters(request)


@pytest.mark.parametrize(
    "fields",
    [
        {},
        {"capture": False},
        {
            "return_url": "https://shop.example/back",
            "description": "2 books",
            "customer_id": "cus_42",
            "metadata": {"cart": "c-9"},
        },
        {"customer_id": "shop-customer-42", "amount": Money(minor_units=5, currency="ISK")},
    ],
    ids=["captured", "authorize-only", "all-fields", "merchant-customer-isk"],
)
async def test_card_payment_is_valid(build: Build, fields: dict[str, Any]) -> None:
    """Create-and-confirm in each variant matches the spec; the example reads as a failure."""
    adapter, transport = await build()
    reply = await adapter.pay(charge(**fields), idempotency_key="k-pay")
    assert_accepted(transport)
    assert reply == EXAMPLE_INTENT


@pytest.mark.parametrize("wallet", ["applepay", "googlepay"])
async def test_token_wallet_payment_is_valid(build: Build, wallet: str) -> None:
    """Apple Pay / Google Pay by the PaymentMethod Stripe made of them matches the spec."""
    adapter, transport = await build()
    source = WalletSource(wallet=wallet, account=SecretStr("pm_1WalletMethod"))
    reply = await adapter.pay(charge(source=source), idempotency_key="k-wallet")
    request, _ = transport.exchanges[0]
    assert_accepted(transport)
    assert "payment_method=pm_1WalletMethod" in request.content.decode()
    assert reply == EXAMPLE_INTENT


async def test_a_three_d_secure_step_up_request_is_valid(build: Build) -> None:
    """A resend asking for 3-D Secure (`request_three_d_secure=any`) matches the spec."""
    adapter, transport = await build()
    await adapter.pay(charge(authenticate=True), idempotency_key="k-step-up")
    request, _ = transport.exchanges[0]
    assert_accepted(transport)
    assert (
        "payment_method_options%5Bcard%5D%5Brequest_three_d_secure%5D=any"
        in request.content.decode()
    )


async def test_default_return_url_option_is_valid(build: Build) -> None:
    """The configured return_url is sent as the spec's return_url."""
    adapter, transport = await build(return_url="https://shop.example/default")
    await adapter.pay(charge(), idempotency_key="k-ret")
    request, _ = transport.exchanges[0]
    assert_accepted(transport)
    assert "return_url=https%3A%2F%2Fshop.example%2Fdefault" in request.content.decode()


async def test_lookup_by_intent_id_is_valid(build: Build) -> None:
    """GET /v1/payment_intents/{intent} matches the spec."""
    adapter, transport = await build()
    reply = await adapter.lookup(HANDLE)
    assert_accepted(transport)
    assert reply == EXAMPLE_INTENT


async def test_lookup_by_search_is_valid(build: Build) -> None:
    """GET /v1/payment_intents/search with a metadata query matches the spec."""
    adapter, transport = await build()
    reply = await adapter.lookup(NO_PI)
    assert_accepted(transport)
    assert reply == EXAMPLE_INTENT


async def test_capture_is_valid(build: Build) -> None:
    """POST /capture with amount_to_capture; a canceled example is no capture: unknown."""
    adapter, transport = await build()
    reply = await adapter.capture(HANDLE, EUR, idempotency_key="k-cap")
    assert_accepted(transport)
    assert reply.outcome is Outcome.UNKNOWN
    assert reply.provider_reference == "string"


async def test_void_is_valid_and_reads_canceled_as_done(build: Build) -> None:
    """POST /cancel with an empty form; the canceled example means the void succeeded."""
    adapter, transport = await build()
    reply = await adapter.void(HANDLE, idempotency_key="k-void")
    assert_accepted(transport)
    assert reply == ProviderReply.succeeded("string", provider_code="canceled", http_status=200)


@pytest.mark.parametrize("reason", [None, "requested_by_customer", "size did not fit"])
async def test_refund_is_valid(build: Build, reason: str | None) -> None:
    """POST /v1/refunds with or without a reason; the example's free-text status is unknown."""
    adapter, transport = await build()
    reply = await adapter.refund(HANDLE, EUR, idempotency_key="k-ref", reason=reason)
    assert_accepted(transport)
    assert reply.outcome is Outcome.UNKNOWN
    assert reply.provider_reference == "string"


async def test_cancel_mandate_detach_is_valid(build_detach: Build) -> None:
    """POST /v1/payment_methods/{id}/detach matches spec3.json; the method reads detached."""
    adapter, transport = await build_detach()
    reply = await adapter.cancel_mandate("pm_saved", idempotency_key="k-mand")
    assert_accepted(transport)
    assert reply == ProviderReply.succeeded("string", provider_code="detached", http_status=200)


@pytest.mark.parametrize(
    ("code", "kind"),
    [
        (400, FailureKind.INVALID_REQUEST),
        (401, FailureKind.CREDENTIALS_REJECTED),
        (402, FailureKind.CARD_DECLINED),  # filler codes are unmapped: the 402 row decides
        (403, FailureKind.CREDENTIALS_REJECTED),
        (404, FailureKind.NOT_FOUND),
        (409, FailureKind.UNKNOWN_OUTCOME),
        (429, FailureKind.RATE_LIMITED),
        (500, FailureKind.UNKNOWN_OUTCOME),
        (503, FailureKind.BUSY),
    ],
)
async def test_spec_error_bodies_are_classified(build: Build, code: int, kind: FailureKind) -> None:
    """The spec's error schema, forced to each status, parses into the kind our tables name."""
    adapter, transport = await build(f"code={code}")
    reply = await adapter.pay(charge(), idempotency_key="k-err")
    _, response = transport.exchanges[0]
    assert response.status_code == code
    assert "error" in json.loads(response.content)
    assert reply.failure_kind is kind
    assert reply.http_status == code
    assert reply.provider_reference == "string"  # error.payment_intent.id


def assert_both_accepted(transport: Recording) -> list[httpx.Request]:
    """The PaymentMethod creation, then the intent: Prism found nothing wrong with either."""
    assert [request.url.path for request, _ in transport.exchanges] == [
        "/v1/payment_methods",
        "/v1/payment_intents",
    ]
    for request, response in transport.exchanges:
        violations = response.headers.get("sl-violations", "")
        assert response.is_success, f"{request.url.path}: {response.status_code} {violations}"
        assert not violations, violations
        assert_known_parameters(request)
    return [request for request, _ in transport.exchanges]


async def test_a_wallet_card_token_payment_method_then_intent_is_valid(methods_root: str) -> None:
    """A legacy `tok_...` of the wallet: `card[token]` on POST /v1/payment_methods (the spec's
    `token_params`), then the intent with the PaymentMethod Stripe answered with."""
    transport = Recording(None)
    adapter = StripeAdapter.from_options(
        name="stripe",
        capabilities=None,
        options={"base_url": methods_root, "api_key": "sk_test_contract"},
        transport=transport,
    )
    source = WalletSource(wallet="applepay", account=SecretStr("tok_1WalletToken"))
    reply = await adapter.pay(charge(source=source), idempotency_key="k-token")
    await adapter.aclose()
    made, paid = assert_both_accepted(transport)
    assert dict(parse_qsl(made.content.decode())) == {
        "type": "card",
        "card[token]": "tok_1WalletToken",
    }
    assert "payment_method=string" in paid.content.decode()  # Prism's generated id
    assert reply == EXAMPLE_INTENT


async def test_a_vault_card_through_the_vault_proxy_is_valid_at_stripe(methods_root: str) -> None:
    """A forwarding vault's card: the aliases go through the vault's proxy, which swaps them,
    as `card[number]`, `card[exp_month]`, `card[exp_year]`, `card[cvc]` (the spec's
    `card_details_params`); the intent is then paid with the PaymentMethod."""
    async with VaultProxy() as proxy:
        stored = proxy.store("4242424242424242", "123")
        vault = ForwardProxyVault("vgs", proxy.url)
        transport = Recording(None, inner=vault.transport())
        adapter = StripeAdapter.from_options(
            name="stripe",
            capabilities=None,
            options={"base_url": methods_root, "api_key": "sk_test_contract"},
            transport=transport,
            vault=vault,
        )
        card = VaultCard(
            vault="vgs",
            number=SecretStr(stored.number),
            expiry_month=12,
            expiry_year=2031,
            cvc=SecretStr(stored.cvc or ""),
        )
        reply = await adapter.pay(
            charge(source=CardSource(vault_card=card)), idempotency_key="k-vault"
        )
        await adapter.aclose()
    made, _ = assert_both_accepted(transport)
    assert set(dict(parse_qsl(made.content.decode()))) == {
        "type",
        "card[number]",
        "card[exp_month]",
        "card[exp_year]",
        "card[cvc]",
    }
    assert proxy.forwarded == 2
    assert reply == EXAMPLE_INTENT
