"""Every Orders v2 request the PayPal adapter makes is valid against PayPal's official spec.

Prism validates each request against `checkout_orders_v2.prism.json` and answers with values
generated from the spec, which the adapter must then read sensibly. Prism accepts unknown JSON
fields, so each body's field names (and each header) are also checked against the operation
in the official `checkout_orders_v2.json`. Prism serves no `/v1/oauth2/token`: the adapter
runs with a static `access_token`, and one test serves the token through respx and passes
everything else through to Prism. Capture and void of authorizations, refunds and vault-token
deletion are Payments v2 / Vault v3 calls outside this spec; `tests/adapters/test_paypal.py`
covers them with respx. Prism keeps no state and ignores idempotency: this proves request
shapes and response parsing, not behaviour.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from functools import cache
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx
from pydantic import SecretStr

from payrouter import Money, PaymentMethod, WalletSource
from payrouter.provider import Charge, FailureKind, Outcome, PaymentHandle, ProviderReply
from payrouter_adapters.paypal import PayPalAdapter
from payrouter_adapters.paypal._codes import CODES
from tests import peers

pytestmark = [pytest.mark.slow, pytest.mark.peer("prism")]

EUR = Money(minor_units=2000, currency="EUR")
ORDER = "5O190127TN364715T"
APPROVAL = PaymentHandle("attempt-key-0001", "order-1", PaymentMethod.WALLET, EUR, ORDER)
CAPTURED = PaymentHandle(
    "attempt-key-0001", "order-1", PaymentMethod.WALLET, EUR, f"{ORDER}:capture:3C6793"
)
RETURN = "https://shop.example/paypal/return"
VAULTED = WalletSource(wallet="paypal", account=SecretStr("8kk8451t"))
# Prism answers every order 200 with the spec's first enum values: a CREATED order whose
# links have rel "string", so there is no approval URL to offer.
EXAMPLE_ORDER = ProviderReply.requires_action(
    "string", None, provider_code="CREATED", http_status=200
)
STANDARD_HEADERS = frozenset(
    {
        "accept",
        "accept-encoding",
        "authorization",
        "connection",
        "content-length",
        "content-type",
        "host",
        "user-agent",
    }
)


class Recording(httpx.AsyncBaseTransport):
    """A real HTTP transport that keeps every exchange and can ask Prism for a status.

    It records each request as the adapter built it, before adding Prism's `Prefer: code=`.
    """

    def __init__(self, code: int | None) -> None:
        self._inner = httpx.AsyncHTTPTransport()
        self._code = code
        self.exchanges: list[tuple[httpx.Request, httpx.Response]] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        sent = httpx.Request(
            request.method, request.url, headers=request.headers.copy(), content=request.content
        )
        if self._code is not None:
            prefer = request.headers.get("Prefer")
            forced = f"code={self._code}"
            request.headers["Prefer"] = f"{prefer}, {forced}" if prefer else forced
        response = await self._inner.handle_async_request(request)
        await response.aread()
        self.exchanges.append((sent, response))
        return response

    async def aclose(self) -> None:
        await self._inner.aclose()


Build = Callable[..., Awaitable[tuple[PayPalAdapter, Recording]]]


@pytest.fixture(scope="module")
def prism_root(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with peers.prism("paypal", Path(tmp_path_factory.mktemp("paypal-prism"))) as root:
        yield root


@pytest.fixture
async def build(prism_root: str) -> AsyncIterator[Build]:
    made: list[PayPalAdapter] = []

    async def _build(code: int | None = None) -> tuple[PayPalAdapter, Recording]:
        transport = Recording(code)
        options = {"base_url": prism_root, "access_token": "A21contract", "return_url": RETURN}
        adapter = PayPalAdapter.from_options(
            name="paypal", capabilities=None, options=options, transport=transport
        )
        made.append(adapter)
        return adapter, transport

    yield _build
    for adapter in made:
        await adapter.aclose()


@cache
def _spec() -> dict[str, Any]:
    path = peers.SPECS_DIR / "paypal" / "checkout_orders_v2.json"
    if not path.is_file():
        pytest.skip(f"peer prism: spec {path} absent (set PAYROUTER_SPECS_DIR)")
    document: dict[str, Any] = json.loads(path.read_text())
    return document


def _resolve(node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        section, name = node["$ref"].split("/")[-2:]
        node = _spec()["components"][section][name]
    return node


def _operation(request: httpx.Request) -> dict[str, Any]:
    """The spec operation a request addresses; literal segments win over `{params}`."""
    paths = _spec()["paths"]
    candidates = [
        template
        for template in paths
        if re.fullmatch(re.sub(r"\{[^}]+\}", "[^/]+", template), request.url.path)
        and request.method.lower() in paths[template]
    ]
    assert candidates, f"{request.method} {request.url.path} is in no path of the spec"
    template = min(candidates, key=lambda path: path.count("{"))
    operation: dict[str, Any] = paths[template][request.method.lower()]
    return operation


def _properties(schema: dict[str, Any]) -> dict[str, Any] | None:
    """Properties a schema allows, merged over allOf/oneOf/anyOf; None when free-form."""
    schema = _resolve(schema)
    found: dict[str, Any] | None = None
    if "properties" in schema:
        found = dict(schema["properties"])
    for key in ("allOf", "oneOf", "anyOf"):
        for part in schema.get(key, []):
            more = _properties(part)
            if more is not None:
                found = {**(found or {}), **more}
    return found


def unknown_fields(value: object, schema: dict[str, Any], path: str = "") -> list[str]:
    """JSON pointers of every field in `value` that `schema` does not define."""
    schema = _resolve(schema)
    if isinstance(value, dict):
        allowed = _properties(schema)
        if allowed is None:
            return []
        found: list[str] = []
        for key, item in value.items():
            if key in allowed:
                found += unknown_fields(item, allowed[key], f"{path}/{key}")
            else:
                found.append(f"{path}/{key}")
        return found
    if isinstance(value, list):
        items = schema.get("items", {})
        return [bad for index, item in enumerate(value) for bad in unknown_fields(item, items)]
    return []


def assert_known_fields(request: httpx.Request) -> None:
    """Every body field and every non-standard header is one the official spec defines."""
    operation = _operation(request)
    headers = {
        _resolve(p)["name"].lower()
        for p in operation.get("parameters", [])
        if _resolve(p)["in"] == "header"
    }
    extra = {name.lower() for name in request.headers} - STANDARD_HEADERS - headers
    assert not extra, f"{request.method} {request.url.path}: undocumented headers {extra}"
    if request.content:
        schema = operation["requestBody"]["content"]["application/json"]["schema"]
        bad = unknown_fields(json.loads(request.content), schema)
        assert not bad, f"{request.method} {request.url.path}: unknown fields {bad}"


def request_violations(response: httpx.Response) -> str:
    """Prism's complaints about our request, as raw text.

    The header also lists Prism's complaints about its own generated bodies and is cut off
    ("Too many violations! [...") when long, so it is searched, not parsed.
    """
    header = response.headers.get("sl-violations", "")
    return header if '"location":["request"' in header else ""


def assert_accepted(transport: Recording, status: int = 200) -> httpx.Response:
    """Exactly one exchange, Prism found nothing wrong, every field name is in the spec."""
    assert len(transport.exchanges) == 1
    request, response = transport.exchanges[0]
    rejection = (
        f"Prism rejected {request.method} {request.url.path}: {response.status_code} "
        f"{response.headers.get('sl-violations', '')} body={request.content.decode() or '-'}"
    )
    assert response.status_code == status, rejection
    assert not request_violations(response), rejection
    assert_known_fields(request)
    return response


def charge(**fields: Any) -> Charge:
    base: dict[str, Any] = {
        "reference": "attempt-key-0001",
        "order_id": "order-1",
        "amount": EUR,
        "source": WalletSource(wallet="paypal"),
        "customer_country": "DE",
    }
    return Charge(**{**base, **fields})


async def test_prism_rejects_an_invalid_order(prism_root: str) -> None:
    """Control: the mock really validates (bad intent, no purchase unit → 422)."""
    # Prism validates this first request against the whole Orders spec: seconds on a loaded
    # machine (httpx's default 5 s read timeout was seen to expire), so wait for its answer.
    async with httpx.AsyncClient(base_url=prism_root, timeout=60.0) as client:
        response = await client.post(
            "/v2/checkout/orders",
            headers={"Authorization": "Bearer x"},
            json={"intent": "SELL", "purchase_units": []},
        )
    assert response.status_code == 422
    assert '"location":["request","body","intent"]' in request_violations(response)


def test_field_check_catches_a_misspelt_field_and_header() -> None:
    """Control: the name check fails on a field or header the spec does not define."""
    body = {"intent": "CAPTURE", "purchase_units": [{"amount": {}, "invoce_id": "x"}]}
    request = httpx.Request("POST", "http://x/v2/checkout/orders", json=body)
    with pytest.raises(AssertionError, match="invoce_id"):
        assert_known_fields(request)
    request = httpx.Request("POST", "http://x/v2/checkout/orders", headers={"Idempotency-Key": "k"})
    with pytest.raises(AssertionError, match="idempotency-key"):
        assert_known_fields(request)


def test_every_issue_the_spec_documents_for_our_calls_has_a_row() -> None:
    """Each `details[].issue` PayPal documents for create, get, capture, authorize is mapped."""
    documented: set[str] = set()

    def walk(node: object, seen: frozenset[str]) -> None:
        if isinstance(node, list):
            for item in node:
                walk(item, seen)
        elif isinstance(node, dict):
            if "$ref" in node:
                if node["$ref"] not in seen:
                    walk(_resolve(node), seen | {node["$ref"]})
                return
            issue = node.get("issue")
            if isinstance(issue, dict):
                documented.update(issue.get("enum", []))
            for item in node.values():
                walk(item, seen)

    paths = _spec()["paths"]
    for path, method in [
        ("/v2/checkout/orders", "post"),
        ("/v2/checkout/orders/{id}", "get"),
        ("/v2/checkout/orders/{id}/capture", "post"),
        ("/v2/checkout/orders/{id}/authorize", "post"),
    ]:
        walk(paths[path][method]["responses"], frozenset())
    assert len(documented) > 100
    assert sorted(documented - CODES.keys()) == []


@pytest.mark.parametrize(
    "fields",
    [
        {},
        {"capture": False},
        {"source": VAULTED},
        {"source": VAULTED, "capture": False},
        {"source": WalletSource(wallet="paypal", account=SecretStr("payer@example.com"))},
        {
            "return_url": "https://shop.example/r/42",
            "description": "2 books",
            "amount": Money(minor_units=500, currency="JPY"),
        },
        {"order_id": "o" * 200, "reference": "r" * 108, "amount": Money.of("1500", "HUF")},
    ],
    ids=[
        "approval",
        "approval-authorize",
        "vaulted",
        "vaulted-authorize",
        "email",
        "all-fields-jpy",
        "long-ids-huf",
    ],
)
async def test_order_create_is_valid(build: Build, fields: dict[str, Any]) -> None:
    """Every create variant matches the spec; the example order reads as an approval."""
    adapter, transport = await build()
    reply = await adapter.pay(charge(**fields), idempotency_key="k-pay")
    assert_accepted(transport)
    assert reply == EXAMPLE_ORDER


async def test_lookup_is_valid(build: Build) -> None:
    """GET /v2/checkout/orders/{id} for the order inside a payment reference."""
    adapter, transport = await build()
    reply = await adapter.lookup(CAPTURED)
    request, _ = transport.exchanges[0]
    assert_accepted(transport)
    assert request.url.path == f"/v2/checkout/orders/{ORDER}"
    assert reply == EXAMPLE_ORDER


@pytest.mark.parametrize("capture", [True, False], ids=["capture", "authorize"])
async def test_complete_is_valid(build: Build, capture: bool) -> None:
    """POST /v2/checkout/orders/{id}/capture and /authorize match the spec."""
    adapter, transport = await build()
    reply = await adapter.complete(APPROVAL, idempotency_key="k-complete", capture=capture)
    assert_accepted(transport)
    assert reply == EXAMPLE_ORDER


Call = Callable[[PayPalAdapter], Awaitable[ProviderReply]]
CALLS: dict[str, Call] = {
    "approval": lambda a: a.pay(charge(), idempotency_key="k-pay"),
    "vaulted": lambda a: a.pay(charge(source=VAULTED), idempotency_key="k-pay"),
    "lookup": lambda a: a.lookup(APPROVAL),
    "complete": lambda a: a.complete(APPROVAL, idempotency_key="k-complete", capture=True),
}


@pytest.mark.parametrize(
    ("call", "code", "outcome", "kind"),
    [
        ("approval", 400, Outcome.FAILED, FailureKind.INVALID_REQUEST),
        ("approval", 401, Outcome.FAILED, FailureKind.CREDENTIALS_REJECTED),
        ("vaulted", 422, Outcome.FAILED, FailureKind.INVALID_REQUEST),
        ("approval", 503, Outcome.FAILED, FailureKind.BUSY),
        ("vaulted", 500, Outcome.UNKNOWN, FailureKind.UNKNOWN_OUTCOME),
        ("approval", 500, Outcome.FAILED, FailureKind.BUSY),
        ("lookup", 404, Outcome.FAILED, FailureKind.NOT_FOUND),
        ("complete", 403, Outcome.FAILED, FailureKind.CREDENTIALS_REJECTED),
        ("complete", 422, Outcome.FAILED, FailureKind.ACCOUNT_CLOSED),
        ("complete", 500, Outcome.UNKNOWN, FailureKind.UNKNOWN_OUTCOME),
    ],
)
async def test_spec_error_answers_are_read_sensibly(
    build: Build, call: str, code: int, outcome: Outcome, kind: FailureKind
) -> None:
    """Prism's error bodies for each status (`Prefer: code=`) translate without surprises."""
    adapter, transport = await build(code)
    reply = await CALLS[call](adapter)
    assert_accepted(transport, status=code)
    assert (reply.outcome, reply.failure_kind) == (outcome, kind)


async def test_oauth_token_then_the_bearer_reaches_prism(prism_root: str) -> None:
    """With client credentials the token comes first (served here by respx), then Prism
    accepts the Bearer it authorizes (the spec's security scheme is OAuth2)."""
    options = {
        "base_url": prism_root,
        "client_id": "contract-client",
        "client_secret": "contract-secret",
        "return_url": RETURN,
    }
    grant = {"access_token": "A21from-respx", "token_type": "Bearer", "expires_in": 32400}
    with respx.mock(assert_all_called=True) as mock:
        token = mock.post(f"{prism_root}/v1/oauth2/token").respond(200, json=grant)
        prism = mock.route(url__startswith=prism_root).pass_through()
        adapter = PayPalAdapter.from_options(name="paypal", capabilities=None, options=options)
        try:
            first = await adapter.pay(charge(), idempotency_key="k-oauth")
            second = await adapter.lookup(APPROVAL)
        finally:
            await adapter.aclose()
    assert token.call_count == 1
    # respx records a passed-through request once per httpcore layer it crosses: compare sets.
    seen = {
        (c.request.method, c.request.url.path, c.request.headers["Authorization"])
        for c in prism.calls
    }
    assert seen == {
        ("POST", "/v2/checkout/orders", "Bearer A21from-respx"),
        ("GET", f"/v2/checkout/orders/{ORDER}", "Bearer A21from-respx"),
    }
    assert first == second == EXAMPLE_ORDER
