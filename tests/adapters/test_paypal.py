"""The PayPal adapter translates: one call, one HTTP exchange, one ProviderReply per table row."""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from payrouter import (
    BankTransferSource,
    CardSource,
    ConfigurationError,
    Money,
    PaymentMethod,
    WalletSource,
)
from payrouter.provider import (
    Adapter,
    Capabilities,
    Charge,
    FailureKind,
    Outcome,
    PaymentHandle,
    ProviderReply,
)
from payrouter.testing import ScriptedProvider
from payrouter_adapters.paypal import PayPalAdapter, PayPalOptions
from payrouter_adapters.paypal._codes import (
    ACTION_ISSUES,
    AUTHORIZATION_STATUSES,
    CAPTURE_STATUSES,
    CODES,
    HTTP_STATUSES,
    OAUTH_ERRORS,
    ORDER_STATUSES,
    PAYPAL_EXPONENTS,
    REFUND_STATUSES,
    StatusRow,
)

CLIENT_ID = "AZclient-id-do-not-print"
CLIENT_SECRET = "EKsecret-do-not-print"
STATIC_TOKEN = "A21static-token-do-not-print"
VAULT_ID = "8kk8451t"
EMAIL = "payer@example.com"
KEY = "attempt-key-0001"
BASE = "https://api-m.paypal.test"
RETURN = "https://shop.example/paypal/return"
OPTIONS: dict[str, object] = {
    "base_url": BASE,
    "client_id": CLIENT_ID,
    "client_secret": CLIENT_SECRET,
    "return_url": RETURN,
}
EUR = Money(minor_units=1050, currency="EUR")
ORDER = "5O190127TN364715T"
AUTH = "0VF52814937998046"
CAPTURE = "3C679366HH908993F"
APPROVAL = PaymentHandle(KEY, "order-1", PaymentMethod.WALLET, EUR, ORDER)
AUTHORIZED = PaymentHandle(
    KEY, "order-1", PaymentMethod.WALLET, EUR, f"{ORDER}:authorization:{AUTH}"
)
CAPTURED = PaymentHandle(KEY, "order-1", PaymentMethod.WALLET, EUR, f"{ORDER}:capture:{CAPTURE}")
NO_ORDER = PaymentHandle(KEY, "order-1", PaymentMethod.WALLET, EUR)
TOKEN_PATH = "/v1/oauth2/token"
LOGGER = "payrouter.adapters"


def grant(token: str = "A21access-1", expires_in: int = 32400) -> httpx.Response:
    body = {"access_token": token, "token_type": "Bearer", "expires_in": expires_in}
    return httpx.Response(200, json=body)


@pytest.fixture
def peer() -> ScriptedProvider:
    """A scripted PayPal whose token endpoint grants A21-1, A21-2, ... unless told otherwise."""
    provider = ScriptedProvider()
    provider.route(TOKEN_PATH, otherwise=lambda count: grant(f"A21-{count}"))
    return provider


def tokens(peer: ScriptedProvider) -> ScriptedProvider:
    """The script of PayPal's OAuth token endpoint, apart from the API requests."""
    return peer.route(TOKEN_PATH)


def build(peer: ScriptedProvider, **options: object) -> PayPalAdapter:
    return PayPalAdapter.from_options(
        name="paypal",
        capabilities=None,
        options={**OPTIONS, **options},
        transport=peer,
    )


@pytest.fixture
async def adapter(peer: ScriptedProvider) -> AsyncIterator[PayPalAdapter]:
    built = build(peer)
    yield built
    await built.aclose()


@pytest.fixture
async def static(peer: ScriptedProvider) -> AsyncIterator[PayPalAdapter]:
    """An adapter with a fixed access token, as the Prism contract tests use."""
    options = {"base_url": BASE, "access_token": STATIC_TOKEN, "return_url": RETURN}
    built = PayPalAdapter.from_options(
        name="paypal", capabilities=None, options=options, transport=peer
    )
    yield built
    await built.aclose()


def charge(source: object = None, **fields: Any) -> Charge:
    base: dict[str, Any] = {
        "reference": KEY,
        "order_id": "order-1",
        "amount": EUR,
        "source": source or WalletSource(wallet="paypal"),
        "customer_country": "DE",
    }
    return Charge(**{**base, **fields})


VAULTED = WalletSource(wallet="paypal", account=SecretStr(VAULT_ID))


def order(status: str = "PAYER_ACTION_REQUIRED", **fields: object) -> dict[str, object]:
    links = [
        {"href": f"{BASE}/v2/checkout/orders/{ORDER}", "rel": "self", "method": "GET"},
        {"href": f"https://paypal.test/checkoutnow?token={ORDER}", "rel": "payer-action"},
    ]
    return {"id": ORDER, "status": status, "links": links, **fields}


def completed(
    captures: list[dict[str, object]] | None = None,
    authorizations: list[dict[str, object]] | None = None,
) -> dict[str, object]:
    payments: dict[str, object] = {}
    if captures is not None:
        payments["captures"] = captures
    if authorizations is not None:
        payments["authorizations"] = authorizations
    return order("COMPLETED", purchase_units=[{"reference_id": "default", "payments": payments}])


def payment(pid: str = CAPTURE, status: str = "COMPLETED", **fields: object) -> dict[str, object]:
    return {"id": pid, "status": status, **fields}


def error(
    status: int, name: str, issue: str | None = None, **fields: object
) -> tuple[int, dict[str, object]]:
    body: dict[str, object] = {"name": name, "message": f"{name} message", "debug_id": "d1"}
    if issue is not None:
        body["details"] = [{"issue": issue, "description": f"{issue} description"}]
    return status, {**body, **fields}


def unique(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:8].upper()}"


def warned(caplog: pytest.LogCaptureFixture, code: str) -> int:
    return len([r for r in caplog.records if getattr(r, "provider_code", "") == code])


Call = Callable[[PayPalAdapter, str], Awaitable[ProviderReply]]
MONEY_MOVING: dict[str, Call] = {
    "pay": lambda a, k: a.pay(charge(VAULTED), idempotency_key=k),
    "complete": lambda a, k: a.complete(APPROVAL, idempotency_key=k, capture=True),
    "capture": lambda a, k: a.capture(AUTHORIZED, EUR, idempotency_key=k),
    "refund": lambda a, k: a.refund(CAPTURED, EUR, idempotency_key=k, reason=None),
    "void": lambda a, k: a.void(AUTHORIZED, idempotency_key=k),
    "cancel_mandate": lambda a, k: a.cancel_mandate(VAULT_ID, idempotency_key=k),
}
EVERY_CALL: dict[str, Call] = {**MONEY_MOVING, "lookup": lambda a, _: a.lookup(CAPTURED)}


# --- construction, capabilities, secrets ------------------------------------------------------


def test_adapter_satisfies_the_protocol(adapter: PayPalAdapter) -> None:
    """The router accepts it, and it tells the router PayPal-Request-Id's 108-character limit."""
    assert isinstance(adapter, Adapter)
    assert adapter.idempotency_key_max_length == 108


def test_default_capabilities_are_paypal_wallets_in_paypal_currencies(
    adapter: PayPalAdapter,
) -> None:
    """Wallets only, the paypal wallet only, and only currencies PayPal takes."""
    caps = adapter.capabilities
    assert caps.methods == frozenset({PaymentMethod.WALLET})
    assert caps.wallets == frozenset({"paypal"})
    assert caps.currencies is not None
    assert {"EUR", "USD", "JPY", "HUF"} <= caps.currencies
    assert "KWD" not in caps.currencies


async def test_configured_capabilities_win(peer: ScriptedProvider) -> None:
    """Capabilities from config replace the defaults."""
    caps = Capabilities(methods=frozenset({PaymentMethod.WALLET}), currencies=frozenset({"USD"}))
    built = PayPalAdapter.from_options(
        name="pp", capabilities=caps, options=OPTIONS, transport=peer
    )
    assert built.capabilities is caps
    await built.aclose()


def test_base_url_defaults_to_the_paypal_sandbox() -> None:
    """Without base_url no live money can move by accident."""
    options = PayPalOptions(client_id=SecretStr("i"), client_secret=SecretStr("s"))
    assert options.base_url == "https://api-m.sandbox.paypal.com"


@pytest.mark.parametrize(
    "options",
    [{"client_id": CLIENT_ID}, {"client_secret": CLIENT_SECRET}, {}],
    ids=["no-secret", "no-id", "nothing"],
)
def test_missing_credentials_are_a_configuration_error_naming_the_fields(
    options: dict[str, object],
) -> None:
    """Client credentials (or a static access token) are required, and the message says so."""
    with pytest.raises(ConfigurationError, match=r"providers\[pp\]\.options\.client_secret"):
        PayPalAdapter.from_options(name="pp", capabilities=None, options=options)


def test_a_static_access_token_needs_no_client_credentials() -> None:
    """access_token alone is enough (Prism and other mocks have no token endpoint)."""
    options = PayPalOptions(access_token=SecretStr(STATIC_TOKEN))
    assert options.client_id is None


@pytest.mark.parametrize(
    "bad",
    [
        {**OPTIONS, "read_timeout_seconds": "slow"},
        {**OPTIONS, "unknown": CLIENT_SECRET},
        {"client_id": CLIENT_ID, "access_token": 42},
        {"client_secret": CLIENT_SECRET, "return_url": ""},
    ],
    ids=["bad-timeout", "unknown-option", "token-wrong-type", "no-id-empty-url"],
)
def test_configuration_error_never_shows_a_secret(bad: dict[str, object]) -> None:
    """A bad option is named, but no client id, secret or token is echoed."""
    with pytest.raises(ConfigurationError) as raised:
        PayPalAdapter.from_options(name="pp", capabilities=None, options=bad)
    text = str(raised.value) + repr(raised.value)
    assert "providers[pp].options." in text
    for secret in (CLIENT_ID, CLIENT_SECRET, STATIC_TOKEN):
        assert secret not in text


def test_repr_and_str_hide_the_credentials(adapter: PayPalAdapter) -> None:
    """Neither the adapter nor its options print the client id, secret or token."""
    options = PayPalOptions(
        client_id=SecretStr(CLIENT_ID),
        client_secret=SecretStr(CLIENT_SECRET),
        access_token=SecretStr(STATIC_TOKEN),
    )
    text = repr(adapter) + str(adapter) + repr(options) + str(options)
    for secret in (CLIENT_ID, CLIENT_SECRET, STATIC_TOKEN):
        assert secret not in text
    assert "paypal" in repr(adapter)


async def test_wallet_account_never_appears_in_replies(
    adapter: PayPalAdapter, peer: ScriptedProvider
) -> None:
    """The vault id travels in the body only, not in the reply's code or message."""
    peer.answer(*error(422, "UNPROCESSABLE_ENTITY", "INSTRUMENT_DECLINED"))
    reply = await adapter.pay(charge(VAULTED), idempotency_key=KEY)
    assert VAULT_ID not in repr(reply)


# --- OAuth2 tokens ----------------------------------------------------------------------------


async def test_token_comes_from_client_credentials_with_basic_auth(
    adapter: PayPalAdapter, peer: ScriptedProvider
) -> None:
    """POST /v1/oauth2/token with Basic id:secret and grant_type; the API gets the Bearer."""
    peer.answer(201, order())
    await adapter.pay(charge(), idempotency_key=KEY)
    token_request = tokens(peer).requests[0]
    basic = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
    assert token_request.method == "POST"
    assert token_request.headers["Authorization"] == f"Basic {basic}"
    assert token_request.content == b"grant_type=client_credentials"
    assert peer.last.headers["Authorization"] == "Bearer A21-1"


async def test_token_is_cached_until_shortly_before_it_expires(peer: ScriptedProvider) -> None:
    """One fetch serves calls until expires_in minus the margin, then a new one is fetched."""
    now = [1000.0]
    options = PayPalOptions.model_validate({**OPTIONS})
    client = httpx.AsyncClient(base_url=BASE, transport=peer)
    adapter = PayPalAdapter(name="paypal", client=client, options=options, clock=lambda: now[0])
    tokens(peer).respond(grant("A21-first", expires_in=3600))
    for _ in range(3):
        peer.answer(200, order())
        await adapter.lookup(APPROVAL)
    now[0] += 3600 - 300 - 1  # just inside the 5-minute margin
    peer.answer(200, order())
    await adapter.lookup(APPROVAL)
    now[0] += 2
    peer.answer(200, order())
    await adapter.lookup(APPROVAL)
    assert len(tokens(peer).requests) == 2
    auths = [request.headers["Authorization"] for request in peer.requests]
    assert auths == ["Bearer A21-first"] * 4 + ["Bearer A21-2"]
    await adapter.aclose()


async def test_concurrent_calls_share_one_token_fetch(
    adapter: PayPalAdapter, peer: ScriptedProvider
) -> None:
    """The asyncio.Lock makes five simultaneous first calls wait for one token."""
    for _ in range(5):
        peer.answer(200, order())
    await asyncio.gather(*(adapter.lookup(APPROVAL) for _ in range(5)))
    assert len(tokens(peer).requests) == 1
    assert {r.headers["Authorization"] for r in peer.requests} == {"Bearer A21-1"}


async def test_401_refreshes_the_token_once_and_resends_the_same_request(
    adapter: PayPalAdapter, peer: ScriptedProvider
) -> None:
    """An expired token (401) is replaced and the POST is sent again with the same key."""
    peer.answer(*error(401, "AUTHENTICATION_FAILURE"))
    peer.answer(201, order())
    reply = await adapter.pay(charge(), idempotency_key=KEY)
    assert reply.outcome is Outcome.REQUIRES_ACTION
    assert len(tokens(peer).requests) == 2
    first, second = peer.requests
    assert first.headers["Authorization"] == "Bearer A21-1"
    assert second.headers["Authorization"] == "Bearer A21-2"
    assert first.headers["PayPal-Request-Id"] == second.headers["PayPal-Request-Id"] == KEY
    assert first.content == second.content


async def test_a_second_401_is_credentials_rejected_not_a_loop(
    adapter: PayPalAdapter, peer: ScriptedProvider
) -> None:
    """A fresh token refused too means our app is at fault; no third request is sent."""
    peer.answer(*error(401, "AUTHENTICATION_FAILURE"))
    peer.answer(*error(401, "AUTHENTICATION_FAILURE"))
    reply = await adapter.pay(charge(), idempotency_key=KEY)
    assert reply.failure_kind is FailureKind.CREDENTIALS_REJECTED
    assert len(peer.requests) == 2


async def test_static_token_is_sent_as_is_and_never_refreshed(
    static: PayPalAdapter, peer: ScriptedProvider
) -> None:
    """With access_token there is no token call; its 401 is a configuration fault at once."""
    peer.answer(*error(401, "AUTHENTICATION_FAILURE", "INVALID_ACCOUNT_STATUS"))
    reply = await static.lookup(APPROVAL)
    assert peer.last.headers["Authorization"] == f"Bearer {STATIC_TOKEN}"
    assert reply.failure_kind is FailureKind.CREDENTIALS_REJECTED
    assert tokens(peer).requests == []
    assert len(peer.requests) == 1


async def test_rejected_client_credentials_send_no_payment(
    adapter: PayPalAdapter, peer: ScriptedProvider
) -> None:
    """401 invalid_client from the token endpoint: our configuration, and nothing was sent."""
    body = {"error": "invalid_client", "error_description": "Client Authentication failed"}
    tokens(peer).respond(httpx.Response(401, json=body))
    reply = await adapter.pay(charge(VAULTED), idempotency_key=KEY)
    assert reply.failure_kind is FailureKind.CREDENTIALS_REJECTED
    assert reply.provider_code == "oauth_token:invalid_client"
    assert peer.requests == []


@pytest.mark.parametrize(("code", "kind"), sorted(OAUTH_ERRORS.items()))
async def test_each_oauth_error_row(
    adapter: PayPalAdapter, peer: ScriptedProvider, code: str, kind: FailureKind
) -> None:
    """Every OAuth error row maps the token failure to its kind."""
    tokens(peer).respond(httpx.Response(400, json={"error": code}))
    reply = await adapter.pay(charge(VAULTED), idempotency_key=KEY)
    assert reply.failure_kind is kind
    assert reply.outcome is Outcome.FAILED


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (500, FailureKind.PROVIDER_DOWN),
        (502, FailureKind.PROVIDER_DOWN),
        (503, FailureKind.BUSY),
        (429, FailureKind.RATE_LIMITED),
        (418, FailureKind.INVALID_REQUEST),
    ],
)
async def test_token_endpoint_failures_are_never_unknown(
    adapter: PayPalAdapter, peer: ScriptedProvider, status: int, kind: FailureKind
) -> None:
    """No token, no payment request: a 5xx there is not 'money may have moved'."""
    tokens(peer).respond(httpx.Response(status, text="<html>", headers={"Retry-After": "3"}))
    reply = await adapter.pay(charge(VAULTED), idempotency_key=KEY)
    assert reply.failure_kind is kind
    assert reply.outcome is Outcome.FAILED
    assert reply.retry_after == (
        3.0 if kind in (FailureKind.BUSY, FailureKind.RATE_LIMITED) else None
    )
    assert peer.requests == []


@pytest.mark.parametrize(
    "exception",
    [httpx.ConnectTimeout("t"), httpx.ReadTimeout("t"), httpx.RemoteProtocolError("reset")],
)
async def test_token_transport_errors_mean_the_payment_was_not_sent(
    adapter: PayPalAdapter, peer: ScriptedProvider, exception: Exception
) -> None:
    """A timed-out token call never reached the payment endpoint: not sent, not unknown."""
    tokens(peer).fail(exception)
    reply = await adapter.pay(charge(VAULTED), idempotency_key=KEY)
    assert reply.failure_kind is FailureKind.NETWORK_BEFORE_SEND
    assert reply.provider_code == f"oauth_token:{type(exception).__name__}"
    assert peer.requests == []


async def test_unreadable_token_answer_is_provider_down(
    adapter: PayPalAdapter, peer: ScriptedProvider
) -> None:
    """A 200 without an access_token cannot authorize anything; the payment was not sent."""
    tokens(peer).respond(httpx.Response(200, json={"token_type": "Bearer"}))
    reply = await adapter.pay(charge(VAULTED), idempotency_key=KEY)
    assert reply.failure_kind is FailureKind.PROVIDER_DOWN
    assert peer.requests == []


# --- pay: the create request ------------------------------------------------------------------


async def test_pay_creates_an_order_carrying_our_reference_and_the_order_id(
    adapter: PayPalAdapter, peer: ScriptedProvider
) -> None:
    """intent CAPTURE, a decimal amount, invoice_id = reference, custom_id = order id."""
    peer.answer(201, order())
    await adapter.pay(charge(description="2 books"), idempotency_key=KEY)
    assert (peer.last.method, peer.last.url.path) == ("POST", "/v2/checkout/orders")
    assert peer.last.headers["PayPal-Request-Id"] == KEY
    assert peer.last.headers["Prefer"] == "return=representation"
    assert peer.last_json == {
        "intent": "CAPTURE",
        "purchase_units": [
            {
                "amount": {"currency_code": "EUR", "value": "10.50"},
                "invoice_id": KEY,
                "custom_id": "order-1",
                "description": "2 books",
            }
        ],
        "payment_source": {
            "paypal": {
                "experience_context": {
                    "return_url": RETURN,
                    "cancel_url": RETURN,
                    "user_action": "PAY_NOW",
                }
            }
        },
    }


async def test_authorize_only_sends_intent_authorize(
    adapter: PayPalAdapter, peer: ScriptedProvider
) -> None:
    """Charge.capture=False asks PayPal for an authorization to capture later."""
    peer.answer(201, order())
    await adapter.pay(charge(capture=False), idempotency_key=KEY)
    assert peer.last_json["intent"] == "AUTHORIZE"


async def test_charge_return_url_wins_and_cancel_url_comes_from_options(
    peer: ScriptedProvider,
) -> None:
    """The charge's return_url overrides the option; cancel_url is the configured one."""
    adapter = build(peer, cancel_url="https://shop.example/cancel")
    peer.answer(201, order())
    await adapter.pay(charge(return_url="https://shop.example/r/42"), idempotency_key=KEY)
    context = peer.last_json["payment_source"]["paypal"]["experience_context"]
    assert context["return_url"] == "https://shop.example/r/42"
    assert context["cancel_url"] == "https://shop.example/cancel"
    await adapter.aclose()


async def test_approval_without_any_return_url_is_refused_without_a_call(
    peer: ScriptedProvider,
) -> None:
    """The payer could never come back: an integration bug, caught before PayPal."""
    adapter = build(peer, return_url=None)
    reply = await adapter.pay(charge(), idempotency_key=KEY)
    assert reply.failure_kind is FailureKind.INVALID_REQUEST
    assert reply.provider_code == "return_url_required"
    assert peer.requests == []
    await adapter.aclose()


async def test_vaulted_wallet_needs_no_return_url(peer: ScriptedProvider) -> None:
    """A vault id is charged without the payer, so no experience_context is needed."""
    adapter = build(peer, return_url=None)
    peer.answer(201, completed(captures=[payment()]))
    await adapter.pay(charge(VAULTED), idempotency_key=KEY)
    assert peer.last_json["payment_source"] == {"paypal": {"vault_id": VAULT_ID}}
    await adapter.aclose()


async def test_email_account_is_prefilled_and_the_payer_still_approves(
    adapter: PayPalAdapter, peer: ScriptedProvider
) -> None:
    """An account with '@' is the payer's e-mail address, not a vault token."""
    peer.answer(201, order())
    source = WalletSource(wallet="PayPal", account=SecretStr(EMAIL))
    reply = await adapter.pay(charge(source), idempotency_key=KEY)
    assert peer.last_json["payment_source"]["paypal"]["email_address"] == EMAIL
    assert reply.outcome is Outcome.REQUIRES_ACTION


async def test_account_that_is_neither_token_nor_email_is_refused_without_a_call(
    adapter: PayPalAdapter, peer: ScriptedProvider
) -> None:
    """Nothing PayPal could parse is sent; the reply does not echo the account."""
    source = WalletSource(wallet="paypal", account=SecretStr("not a token!"))
    reply = await adapter.pay(charge(source), idempotency_key=KEY)
    assert reply.failure_kind is FailureKind.INVALID_REQUEST
    assert "not a token" not in repr(reply)
    assert peer.requests == []


@pytest.mark.parametrize(
    "source",
    [
        CardSource(token=SecretStr("tok_visa")),
        BankTransferSource(iban=SecretStr("DE89370400440532013000")),
        WalletSource(wallet="alipay"),
    ],
    ids=["card", "bank", "alipay"],
)
async def test_other_sources_are_refused_without_a_call(
    adapter: PayPalAdapter, peer: ScriptedProvider, source: object
) -> None:
    """Only PayPal wallets: anything else is the router's misconfiguration."""
    reply = await adapter.pay(charge(source), idempotency_key=KEY)
    assert reply.failure_kind is FailureKind.INVALID_REQUEST
    assert reply.provider_code == "unsupported_method"
    assert peer.requests == []


@pytest.mark.parametrize(
    ("money", "value"),
    [
        (Money(minor_units=1050, currency="EUR"), "10.50"),
        (Money(minor_units=5, currency="USD"), "0.05"),
        (Money(minor_units=500, currency="JPY"), "500"),
        (Money(minor_units=123456789012, currency="GBP"), "1234567890.12"),
    ],
)
async def test_amounts_are_exact_decimal_strings(
    adapter: PayPalAdapter, peer: ScriptedProvider, money: Money, value: str
) -> None:
    """Minor units become PayPal's decimal string with the currency's exponent, no float."""
    peer.answer(201, order())
    await adapter.pay(charge(amount=money), idempotency_key=KEY)
    amount = peer.last_json["purchase_units"][0]["amount"]
    assert amount == {"currency_code": money.currency, "value": value}


@pytest.mark.parametrize("currency", sorted(PAYPAL_EXPONENTS))
async def test_each_paypal_exponent_row_sends_whole_units(
    adapter: PayPalAdapter, peer: ScriptedProvider, currency: str
) -> None:
    """HUF and TWD go without decimals; a whole amount is sent, a fraction is refused."""
    peer.answer(201, order())
    await adapter.pay(
        charge(amount=Money(minor_units=150000, currency=currency)), idempotency_key=KEY
    )
    assert peer.last_json["purchase_units"][0]["amount"]["value"] == "1500"
    reply = await adapter.pay(
        charge(amount=Money(minor_units=150050, currency=currency)), idempotency_key=KEY
    )
    assert reply.provider_code == "amount_not_representable"
    assert len(peer.requests) == 1


async def test_long_reference_and_order_id_are_fitted_the_same_way_each_time(
    adapter: PayPalAdapter, peer: ScriptedProvider
) -> None:
    """invoice_id and custom_id stay within 127 characters, identical on a retry."""
    long_order = "o" * 200
    for _ in range(2):
        peer.answer(201, order())
        await adapter.pay(charge(order_id=long_order, reference="r" * 150), idempotency_key=KEY)
    units = [json.loads(r.content)["purchase_units"][0] for r in peer.requests]
    assert units[0] == units[1]
    assert len(units[0]["invoice_id"]) == len(units[0]["custom_id"]) == 127
    assert units[0]["custom_id"].startswith("o" * 100)


@pytest.mark.parametrize("name", sorted(MONEY_MOVING))
async def test_every_money_moving_call_sends_the_routers_key(
    adapter: PayPalAdapter, peer: ScriptedProvider, name: str
) -> None:
    """PayPal-Request-Id carries the router's key unchanged; the adapter never mints one."""
    key = unique("router-key")
    peer.answer(204)
    await MONEY_MOVING[name](adapter, key)
    assert peer.last.headers["PayPal-Request-Id"] == key


async def test_lookup_sends_no_request_id(adapter: PayPalAdapter, peer: ScriptedProvider) -> None:
    """A GET moves nothing, so it carries no idempotency key."""
    peer.answer(200, order())
    await adapter.lookup(APPROVAL)
    assert "PayPal-Request-Id" not in peer.last.headers


# --- pay and lookup: reading the order --------------------------------------------------------


async def test_approval_is_requires_action_with_the_payer_action_link(
    adapter: PayPalAdapter, peer: ScriptedProvider
) -> None:
    """PAYER_ACTION_REQUIRED sends the customer to PayPal; no money moved."""
    peer.answer(201, order())
    reply = await adapter.pay(charge(), idempotency_key=KEY)
    assert reply == ProviderReply.requires_action(
        ORDER,
        f"https://paypal.test/checkoutnow?token={ORDER}",
        provider_code="PAYER_ACTION_REQUIRED",
        http_status=201,
    )


async def test_approve_link_is_used_when_there_is_no_payer_action_link(
    adapter: PayPalAdapter, peer: ScriptedProvider
) -> None:
    """Orders created without payment_source.paypal carry rel=approve instead."""
    links = [{"href": "https://paypal.test/approve", "rel": "approve", "method": "GET"}]
    peer.answer(200, {"id": ORDER, "status": "CREATED", "links": links})
    reply = await adapter.pay(charge(), idempotency_key=KEY)
    assert (reply.outcome, reply.action_url) == (Outcome.REQUIRES_ACTION, links[0]["href"])


async def test_vaulted_capture_completes_at_once_with_the_capture_reference(
    adapter: PayPalAdapter, peer: ScriptedProvider
) -> None:
    """A vault id is charged in the create call: succeeded, referencing order and capture."""
    peer.answer(201, completed(captures=[payment()]))
    reply = await adapter.pay(charge(VAULTED), idempotency_key=KEY)
    assert reply == ProviderReply.succeeded(
        f"{ORDER}:capture:{CAPTURE}", provider_code="COMPLETED", http_status=201
    )


async def test_vaulted_authorize_only_is_a_succeeded_authorization(
    adapter: PayPalAdapter, peer: ScriptedProvider
) -> None:
    """intent AUTHORIZE holds the money: succeeded, referencing the authorization."""
    peer.answer(201, completed(authorizations=[payment(AUTH, "CREATED")]))
    reply = await adapter.pay(charge(VAULTED, capture=False), idempotency_key=KEY)
    assert reply.outcome is Outcome.SUCCEEDED
    assert reply.provider_reference == f"{ORDER}:authorization:{AUTH}"


async def test_pending_review_capture_is_pending(
    adapter: PayPalAdapter, peer: ScriptedProvider
) -> None:
    """A capture PayPal holds for review has taken the money into limbo: pending."""
    held = payment(status="PENDING", status_details={"reason": "PENDING_REVIEW"})
    peer.answer(201, completed(captures=[held]))
    reply = await adapter.pay(charge(VAULTED), idempotency_key=KEY)
    assert (reply.outcome, reply.provider_code) == (Outcome.PENDING, "PENDING_REVIEW")


async def test_capture_wins_over_the_authorization_it_came_from(
    adapter: PayPalAdapter, peer: ScriptedProvider
) -> None:
    """An authorized-then-captured order is referenced by its capture, ready for a refund."""
    peer.answer(200, completed([payment()], [payment(AUTH, "CAPTURED")]))
    reply = await adapter.lookup(AUTHORIZED)
    assert reply.provider_reference == f"{ORDER}:capture:{CAPTURE}"


@pytest.mark.parametrize(("status", "row"), sorted(ORDER_STATUSES.items()))
async def test_each_order_status_row(
    adapter: PayPalAdapter, peer: ScriptedProvider, status: str, row: StatusRow
) -> None:
    """Every order status maps to its row's outcome (COMPLETED via its capture)."""
    body = completed(captures=[payment()]) if status == "COMPLETED" else order(status)
    peer.answer(200, body)
    reply = await adapter.lookup(APPROVAL)
    assert reply.outcome is row.outcome
    assert reply.failure_kind is row.kind


async def test_approved_order_awaits_our_completion_without_a_url(
    adapter: PayPalAdapter, peer: ScriptedProvider
) -> None:
    """The payer is done; nothing moved until complete(), so there is nowhere to send them."""
    peer.answer(200, {"id": ORDER, "status": "APPROVED", "links": []})
    reply = await adapter.lookup(APPROVAL)
    assert (reply.outcome, reply.action_url, reply.provider_code) == (
        Outcome.REQUIRES_ACTION,
        None,
        "APPROVED",
    )


@pytest.mark.parametrize(("status", "row"), sorted(CAPTURE_STATUSES.items()))
async def test_each_capture_status_row(
    adapter: PayPalAdapter, peer: ScriptedProvider, status: str, row: StatusRow
) -> None:
    """Every capture status inside a completed order maps to its row."""
    peer.answer(200, completed(captures=[payment(status=status)]))
    reply = await adapter.lookup(CAPTURED)
    assert (reply.outcome, reply.failure_kind) == (row.outcome, row.kind)
    assert reply.provider_reference == f"{ORDER}:capture:{CAPTURE}"


@pytest.mark.parametrize(("status", "row"), sorted(AUTHORIZATION_STATUSES.items()))
async def test_each_authorization_status_row(
    adapter: PayPalAdapter, peer: ScriptedProvider, status: str, row: StatusRow
) -> None:
    """Every authorization status inside a completed order maps to its row."""
    peer.answer(200, completed(authorizations=[payment(AUTH, status)]))
    reply = await adapter.lookup(AUTHORIZED)
    assert (reply.outcome, reply.failure_kind) == (row.outcome, row.kind)


async def test_unmapped_order_status_is_unknown_and_warned_once(
    adapter: PayPalAdapter, peer: ScriptedProvider, caplog: pytest.LogCaptureFixture
) -> None:
    """A status PayPal adds later is not guessed at: unknown, and the row is asked for."""
    caplog.set_level(logging.WARNING, logger=LOGGER)
    status = unique("NEW_STATUS")
    for _ in range(2):
        peer.answer(200, order(status))
        reply = await adapter.lookup(APPROVAL)
        assert (reply.outcome, reply.provider_reference) == (Outcome.UNKNOWN, ORDER)
    assert warned(caplog, f"order_status:{status}") == 1


async def test_unmapped_capture_status_is_unknown_and_warned_once(
    adapter: PayPalAdapter, peer: ScriptedProvider, caplog: pytest.LogCaptureFixture
) -> None:
    """The same holds for the payment inside the order."""
    caplog.set_level(logging.WARNING, logger=LOGGER)
    status = unique("NEW_CAPTURE")
    peer.answer(200, completed(captures=[payment(status=status)]))
    reply = await adapter.lookup(CAPTURED)
    assert reply.outcome is Outcome.UNKNOWN
    assert warned(caplog, f"capture_status:{status}") == 1


async def test_completed_order_without_a_payment_is_unknown(
    adapter: PayPalAdapter, peer: ScriptedProvider
) -> None:
    """COMPLETED should carry a capture or authorization; without one we cannot say."""
    peer.answer(200, order("COMPLETED"))
    reply = await adapter.lookup(APPROVAL)
    assert (reply.outcome, reply.provider_reference) == (Outcome.UNKNOWN, ORDER)


async def test_unreadable_2xx_on_a_vaulted_create_is_unknown(
    adapter: PayPalAdapter, peer: ScriptedProvider
) -> None:
    """A vaulted create may have charged: a body we cannot read leaves that open."""
    peer.answer(201, {"unexpected": True})
    reply = await adapter.pay(charge(VAULTED), idempotency_key=KEY)
    assert reply.outcome is Outcome.UNKNOWN


async def test_unreadable_2xx_on_an_approval_create_is_busy(
    adapter: PayPalAdapter, peer: ScriptedProvider
) -> None:
    """Without the approval link nobody can approve, so nothing moved: retry the same key."""
    peer.answer(201, {"unexpected": True})
    reply = await adapter.pay(charge(), idempotency_key=KEY)
    assert reply.failure_kind is FailureKind.BUSY


# --- errors -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("code", "kind"), sorted(CODES.items()))
async def test_each_code_row_as_an_issue(
    adapter: PayPalAdapter, peer: ScriptedProvider, code: str, kind: FailureKind
) -> None:
    """Every row maps a 422 issue of a (money-moving) vaulted create to its kind."""
    peer.answer(*error(422, "UNPROCESSABLE_ENTITY", code))
    reply = await adapter.pay(charge(VAULTED), idempotency_key=KEY)
    assert reply.failure_kind is kind
    assert reply.provider_code == code
    assert reply.message == f"{code} description"


@pytest.mark.parametrize(
    ("name", "status"),
    [
        ("INVALID_REQUEST", 400),
        ("AUTHENTICATION_FAILURE", 401),
        ("NOT_AUTHORIZED", 403),
        ("RESOURCE_NOT_FOUND", 404),
        ("RESOURCE_CONFLICT", 409),
        ("UNSUPPORTED_MEDIA_TYPE", 415),
        ("UNPROCESSABLE_ENTITY", 422),
    ],
)
async def test_each_error_name_decides_without_an_issue(
    static: PayPalAdapter, peer: ScriptedProvider, name: str, status: int
) -> None:
    """PayPal's error names, with no details, map through the same table."""
    peer.answer(*error(status, name))
    reply = await static.pay(charge(VAULTED), idempotency_key=KEY)
    assert reply.failure_kind is CODES[name]
    assert reply.provider_code == name


@pytest.mark.parametrize(("status", "kind"), sorted(HTTP_STATUSES.items()))
async def test_each_http_status_row(
    static: PayPalAdapter, peer: ScriptedProvider, status: int, kind: FailureKind
) -> None:
    """A body naming nothing (a proxy's page) is classified by its status alone."""
    peer.respond(httpx.Response(status, text="<html>oops</html>"))
    reply = await static.pay(charge(VAULTED), idempotency_key=KEY)
    assert reply.failure_kind is kind
    assert reply.provider_code == f"http_{status}"


@pytest.mark.parametrize(
    ("status", "outcome", "kind"),
    [
        (429, Outcome.FAILED, FailureKind.RATE_LIMITED),
        (500, Outcome.UNKNOWN, FailureKind.UNKNOWN_OUTCOME),
        (503, Outcome.FAILED, FailureKind.BUSY),
    ],
)
async def test_429_and_5xx_are_decided_by_status_whatever_the_body_names(
    adapter: PayPalAdapter, peer: ScriptedProvider, status: int, outcome: Outcome, kind: FailureKind
) -> None:
    """A code in a 5xx body cannot prove the request was refused; the status decides."""
    peer.answer(*error(status, "INVALID_REQUEST", "INSTRUMENT_DECLINED"))
    reply = await adapter.pay(charge(VAULTED), idempotency_key=KEY)
    assert (reply.outcome, reply.failure_kind) == (outcome, kind)


@pytest.mark.parametrize(
    ("issue", "kind"),
    [
        ("INSTRUMENT_DECLINED", FailureKind.CARD_DECLINED),
        ("PAYER_ACCOUNT_LOCKED_OR_CLOSED", FailureKind.ACCOUNT_LOCKED),
        ("PAYER_ACCOUNT_RESTRICTED", FailureKind.ACCOUNT_FROZEN),
        ("PAYER_CANNOT_PAY", FailureKind.CARD_DECLINED),
        ("TRANSACTION_REFUSED", FailureKind.CARD_DECLINED),
        ("COMPLIANCE_VIOLATION", FailureKind.SUSPECTED_FRAUD),
        ("COUNTRY_NOT_SUPPORTED_BY_PAYMENT_SOURCE", FailureKind.REGION_RESTRICTED),
        ("TRANSACTION_LIMIT_EXCEEDED", FailureKind.INSUFFICIENT_FUNDS),
        ("PAYEE_ACCOUNT_RESTRICTED", FailureKind.CREDENTIALS_REJECTED),
        ("PERMISSION_DENIED", FailureKind.CREDENTIALS_REJECTED),
        ("PAYPAL_REQUEST_ID_PREVIOUSLY_USED", FailureKind.INVALID_REQUEST),
        ("MISSING_REQUIRED_PARAMETER", FailureKind.INVALID_REQUEST),
    ],
)
async def test_key_declines_and_faults_on_a_vaulted_create(
    adapter: PayPalAdapter, peer: ScriptedProvider, issue: str, kind: FailureKind
) -> None:
    """The payer's declines are declines; our account and request faults are ours."""
    peer.answer(*error(422, "UNPROCESSABLE_ENTITY", issue))
    reply = await adapter.pay(charge(VAULTED), idempotency_key=KEY)
    assert (reply.outcome, reply.failure_kind) == (Outcome.FAILED, kind)


async def test_429_is_rate_limited_with_retry_after(
    adapter: PayPalAdapter, peer: ScriptedProvider
) -> None:
    """RATE_LIMIT_REACHED carries PayPal's Retry-After for the router's backoff."""
    status, body = error(429, "RATE_LIMIT_REACHED")
    peer.answer(status, body, **{"Retry-After": "7"})
    reply = await adapter.pay(charge(VAULTED), idempotency_key=KEY)
    assert (reply.failure_kind, reply.retry_after) == (FailureKind.RATE_LIMITED, 7.0)


async def test_503_before_processing_is_busy_not_unknown(
    adapter: PayPalAdapter, peer: ScriptedProvider
) -> None:
    """SERVICE_UNAVAILABLE refuses before processing, even for a money-moving create."""
    status, body = error(503, "SERVICE_UNAVAILABLE")
    peer.answer(status, body, **{"Retry-After": "2"})
    reply = await adapter.pay(charge(VAULTED), idempotency_key=KEY)
    assert (reply.outcome, reply.failure_kind, reply.retry_after) == (
        Outcome.FAILED,
        FailureKind.BUSY,
        2.0,
    )


@pytest.mark.parametrize("status", [500, 502, 504])
async def test_5xx_after_a_vaulted_create_is_unknown(
    adapter: PayPalAdapter, peer: ScriptedProvider, status: int
) -> None:
    """A vaulted create completes in the call: a 500 may hide a capture."""
    peer.answer(*error(status, "INTERNAL_SERVER_ERROR"))
    reply = await adapter.pay(charge(VAULTED), idempotency_key=KEY)
    assert reply.outcome is Outcome.UNKNOWN


@pytest.mark.parametrize(
    "answer",
    [error(500, "INTERNAL_SERVER_ERROR"), error(409, "RESOURCE_CONFLICT"), (504, None)],
    ids=["500", "409-in-flight", "504-no-body"],
)
async def test_in_doubt_approval_create_is_busy_because_nothing_can_move(
    adapter: PayPalAdapter, peer: ScriptedProvider, answer: tuple[int, object]
) -> None:
    """An order awaiting approval moves no money: retry the same key, or fail over."""
    peer.answer(*answer)
    reply = await adapter.pay(charge(), idempotency_key=KEY)
    assert (reply.outcome, reply.failure_kind) == (Outcome.FAILED, FailureKind.BUSY)


async def test_409_request_in_flight_is_unknown_on_a_money_moving_call(
    adapter: PayPalAdapter, peer: ScriptedProvider
) -> None:
    """A request under our key still running may capture: unknown until looked up."""
    peer.answer(*error(409, "RESOURCE_CONFLICT", "PREVIOUS_REQUEST_IN_PROGRESS"))
    reply = await adapter.refund(CAPTURED, EUR, idempotency_key=KEY, reason=None)
    assert reply.outcome is Outcome.UNKNOWN


async def test_duplicate_invoice_id_stays_unknown_even_on_an_approval_create(
    adapter: PayPalAdapter, peer: ScriptedProvider
) -> None:
    """A transaction already carries our attempt reference: money moved for this attempt."""
    peer.answer(*error(422, "UNPROCESSABLE_ENTITY", "DUPLICATE_INVOICE_ID"))
    reply = await adapter.pay(charge(), idempotency_key=KEY)
    assert reply.outcome is Outcome.UNKNOWN


@pytest.mark.parametrize("status", [401, 403])
async def test_rejected_credentials_are_ours_never_the_customers(
    static: PayPalAdapter, peer: ScriptedProvider, status: int
) -> None:
    """401/403 from the API are a configuration fault."""
    peer.respond(httpx.Response(status))
    reply = await static.pay(charge(VAULTED), idempotency_key=KEY)
    assert reply.failure_kind is FailureKind.CREDENTIALS_REJECTED


async def test_unmapped_issue_falls_back_to_the_name_and_is_warned_once(
    adapter: PayPalAdapter, peer: ScriptedProvider, caplog: pytest.LogCaptureFixture
) -> None:
    """A new 422 issue is a definite failure we alert on, not a guess at a decline."""
    caplog.set_level(logging.WARNING, logger=LOGGER)
    issue = unique("NEW_ISSUE")
    for _ in range(2):
        peer.answer(*error(422, "UNPROCESSABLE_ENTITY", issue))
        reply = await adapter.pay(charge(VAULTED), idempotency_key=KEY)
        assert (reply.failure_kind, reply.provider_code) == (FailureKind.INVALID_REQUEST, issue)
    assert warned(caplog, issue) == 1


async def test_unmapped_4xx_is_invalid_request_warned_once(
    adapter: PayPalAdapter, peer: ScriptedProvider, caplog: pytest.LogCaptureFixture
) -> None:
    """An unknown name on an unknown 4xx: INVALID_REQUEST, and both gaps are logged."""
    caplog.set_level(logging.WARNING, logger=LOGGER)
    name = unique("NEW_NAME")
    peer.answer(*error(418, name))
    reply = await adapter.pay(charge(VAULTED), idempotency_key=KEY)
    assert reply.failure_kind is FailureKind.INVALID_REQUEST
    assert warned(caplog, f"name:{name}") == 1
    assert warned(caplog, "http_418") == 1


async def test_unmapped_5xx_is_unknown_and_warned_once(
    adapter: PayPalAdapter, peer: ScriptedProvider, caplog: pytest.LogCaptureFixture
) -> None:
    """A 5xx no row knows may have acted: unknown."""
    caplog.set_level(logging.WARNING, logger=LOGGER)
    peer.respond(httpx.Response(507, text="full"))
    reply = await adapter.pay(charge(VAULTED), idempotency_key=KEY)
    assert reply.outcome is Outcome.UNKNOWN
    assert warned(caplog, "http_507") == 1


# --- lookup and complete ----------------------------------------------------------------------


async def test_lookup_gets_the_order_named_in_the_reference(
    adapter: PayPalAdapter, peer: ScriptedProvider
) -> None:
    """Whatever payment the reference names, the lookup is one GET of its order."""
    peer.answer(200, completed(captures=[payment()]))
    reply = await adapter.lookup(CAPTURED)
    assert (peer.last.method, peer.last.url.path) == ("GET", f"/v2/checkout/orders/{ORDER}")
    assert reply.outcome is Outcome.SUCCEEDED


async def test_lookup_of_a_missing_order_is_not_found(
    adapter: PayPalAdapter, peer: ScriptedProvider
) -> None:
    """404 RESOURCE_NOT_FOUND / INVALID_RESOURCE_ID: there is nothing under that order."""
    peer.answer(*error(404, "RESOURCE_NOT_FOUND", "INVALID_RESOURCE_ID"))
    reply = await adapter.lookup(APPROVAL)
    assert reply.failure_kind is FailureKind.NOT_FOUND


async def test_lookup_without_an_order_id_is_unknown_without_a_call(
    adapter: PayPalAdapter, peer: ScriptedProvider
) -> None:
    """Orders v2 cannot search by invoice_id: say so rather than claim NOT_FOUND."""
    reply = await adapter.lookup(NO_ORDER)
    assert (reply.outcome, reply.provider_code) == (Outcome.UNKNOWN, "lookup_needs_order_id")
    assert peer.requests == []


@pytest.mark.parametrize(
    ("capture", "path", "reference"),
    [
        (True, "capture", f"{ORDER}:capture:{CAPTURE}"),
        (False, "authorize", f"{ORDER}:authorization:{AUTH}"),
    ],
)
async def test_complete_takes_the_approved_order(
    adapter: PayPalAdapter, peer: ScriptedProvider, capture: bool, path: str, reference: str
) -> None:
    """After approval, /capture (or /authorize) moves the money; the reply names the payment."""
    body = completed([payment()]) if capture else completed(None, [payment(AUTH, "CREATED")])
    peer.answer(201, body)
    reply = await adapter.complete(APPROVAL, idempotency_key="complete-key", capture=capture)
    assert peer.last.url.path == f"/v2/checkout/orders/{ORDER}/{path}"
    assert peer.last.headers["Prefer"] == "return=representation"
    assert peer.last.headers["PayPal-Request-Id"] == "complete-key"
    assert (reply.outcome, reply.provider_reference) == (Outcome.SUCCEEDED, reference)


@pytest.mark.parametrize("issue", sorted(ACTION_ISSUES))
async def test_each_action_issue_on_complete_is_requires_action(
    adapter: PayPalAdapter, peer: ScriptedProvider, issue: str
) -> None:
    """The payer still has to act: requires_action on the order, never a failure."""
    links = [{"href": "https://paypal.test/act", "rel": "payer-action", "method": "GET"}]
    peer.answer(*error(422, "UNPROCESSABLE_ENTITY", issue, links=links))
    reply = await adapter.complete(APPROVAL, idempotency_key=KEY)
    assert reply == ProviderReply.requires_action(
        ORDER, "https://paypal.test/act", provider_code=issue, http_status=422
    )


INSTRUMENT_DECLINED_LINKS = [
    {
        "href": "https://developer.paypal.com/docs/api/orders/v2/#error-INSTRUMENT_DECLINED",
        "rel": "information_link",
        "method": "GET",
    },
    {"href": f"https://paypal.test/checkoutnow?token={ORDER}", "rel": "redirect", "method": "GET"},
]


@pytest.mark.parametrize("capture", [True, False], ids=["capture", "authorize"])
async def test_a_funding_source_declined_on_complete_sends_the_payer_back_to_pick_another(
    adapter: PayPalAdapter, peer: ScriptedProvider, capture: bool
) -> None:
    """INSTRUMENT_DECLINED on completing an approved order: PayPal says restart the payment so
    the payer picks another source; requires_action at its redirect link, nothing declined."""
    peer.answer(
        *error(422, "UNPROCESSABLE_ENTITY", "INSTRUMENT_DECLINED", links=INSTRUMENT_DECLINED_LINKS)
    )
    reply = await adapter.complete(APPROVAL, idempotency_key=KEY, capture=capture)
    assert reply == ProviderReply.requires_action(
        ORDER,
        f"https://paypal.test/checkoutnow?token={ORDER}",
        provider_code="INSTRUMENT_DECLINED",
        http_status=422,
    )


async def test_a_funding_source_declined_without_a_redirect_link_still_awaits_the_payer(
    adapter: PayPalAdapter, peer: ScriptedProvider
) -> None:
    """The router keeps the approval link it already has when a reply names none."""
    peer.answer(*error(422, "UNPROCESSABLE_ENTITY", "INSTRUMENT_DECLINED"))
    reply = await adapter.complete(APPROVAL, idempotency_key=KEY, capture=True)
    assert (reply.outcome, reply.provider_reference) == (Outcome.REQUIRES_ACTION, ORDER)
    assert reply.action_url is None


async def test_a_funding_source_declined_outside_a_completion_stays_a_decline(
    adapter: PayPalAdapter, peer: ScriptedProvider
) -> None:
    """A vaulted create or a Payments v2 capture has no payer to send back."""
    for _ in range(2):
        peer.answer(
            *error(
                422, "UNPROCESSABLE_ENTITY", "INSTRUMENT_DECLINED", links=INSTRUMENT_DECLINED_LINKS
            )
        )
    created = await adapter.pay(charge(VAULTED), idempotency_key=KEY)
    captured = await adapter.capture(AUTHORIZED, EUR, idempotency_key=KEY)
    assert {(r.outcome, r.failure_kind) for r in (created, captured)} == {
        (Outcome.FAILED, FailureKind.CARD_DECLINED)
    }


@pytest.mark.parametrize("issue", ["ORDER_ALREADY_CAPTURED", "ORDER_COMPLETION_IN_PROGRESS"])
async def test_complete_that_already_happened_is_unknown(
    adapter: PayPalAdapter, peer: ScriptedProvider, issue: str
) -> None:
    """An earlier completion took the money (PayPal forgets order keys after 6 hours)."""
    peer.answer(*error(422, "UNPROCESSABLE_ENTITY", issue))
    reply = await adapter.complete(APPROVAL, idempotency_key=KEY)
    assert (reply.outcome, reply.provider_reference) == (Outcome.UNKNOWN, ORDER)


async def test_500_on_complete_is_unknown(adapter: PayPalAdapter, peer: ScriptedProvider) -> None:
    """Completion moves money; a server error there may hide a capture."""
    peer.answer(*error(500, "INTERNAL_SERVER_ERROR"))
    reply = await adapter.complete(APPROVAL, idempotency_key=KEY)
    assert reply.outcome is Outcome.UNKNOWN


async def test_complete_without_an_order_is_not_found_without_a_call(
    adapter: PayPalAdapter, peer: ScriptedProvider
) -> None:
    """No order id, nothing to complete: look the payment up first."""
    reply = await adapter.complete(NO_ORDER, idempotency_key=KEY)
    assert reply.failure_kind is FailureKind.NOT_FOUND
    assert peer.requests == []


# --- follow-ups: capture, refund, void, mandate -----------------------------------------------


async def test_capture_posts_the_amount_to_the_authorization(
    adapter: PayPalAdapter, peer: ScriptedProvider
) -> None:
    """The whole authorized amount is the final capture; the reply names the new capture."""
    peer.answer(201, payment())
    reply = await adapter.capture(AUTHORIZED, EUR, idempotency_key="cap-key")
    assert peer.last.url.path == f"/v2/payments/authorizations/{AUTH}/capture"
    assert peer.last_json == {
        "amount": {"currency_code": "EUR", "value": "10.50"},
        "final_capture": True,
    }
    assert reply == ProviderReply.succeeded(
        f"{ORDER}:capture:{CAPTURE}", provider_code="COMPLETED", http_status=201
    )


async def test_partial_capture_leaves_the_authorization_open(
    adapter: PayPalAdapter, peer: ScriptedProvider
) -> None:
    """Less than authorized is not final, so later captures stay possible."""
    peer.answer(201, payment(status="PENDING"))
    reply = await adapter.capture(
        AUTHORIZED, Money(minor_units=500, currency="EUR"), idempotency_key=KEY
    )
    assert peer.last_json["final_capture"] is False
    assert reply.outcome is Outcome.PENDING


@pytest.mark.parametrize("handle", [APPROVAL, CAPTURED, NO_ORDER], ids=["order", "capture", "none"])
async def test_capture_and_void_need_an_authorization_reference(
    adapter: PayPalAdapter, peer: ScriptedProvider, handle: PaymentHandle
) -> None:
    """Without the authorization id nothing is sent; the caller looks the payment up."""
    captured = await adapter.capture(handle, EUR, idempotency_key=KEY)
    voided = await adapter.void(handle, idempotency_key=KEY)
    assert captured.failure_kind is voided.failure_kind is FailureKind.NOT_FOUND
    assert captured.provider_code == "no_authorization"
    assert peer.requests == []


@pytest.mark.parametrize("status", [500, 502])
async def test_follow_up_5xx_is_unknown(
    adapter: PayPalAdapter, peer: ScriptedProvider, status: int
) -> None:
    """Captures, refunds and voids move money: a server error leaves the outcome open, and
    the reply still names the payment it was about."""
    for _ in range(3):
        peer.answer(*error(status, "INTERNAL_SERVER_ERROR"))
    replies = [
        await adapter.capture(AUTHORIZED, EUR, idempotency_key=KEY),
        await adapter.refund(CAPTURED, EUR, idempotency_key=KEY, reason=None),
        await adapter.void(AUTHORIZED, idempotency_key=KEY),
    ]
    assert {reply.outcome for reply in replies} == {Outcome.UNKNOWN}
    references = [reply.provider_reference for reply in replies]
    expected = [AUTHORIZED, CAPTURED, AUTHORIZED]
    assert references == [handle.provider_reference for handle in expected]


async def test_refund_posts_amount_order_id_and_reason(
    adapter: PayPalAdapter, peer: ScriptedProvider
) -> None:
    """The order id rides in custom_id, the reason in note_to_payer; the reply names it."""
    peer.answer(201, payment("1JU08902781691411"))
    reply = await adapter.refund(CAPTURED, EUR, idempotency_key="ref-key", reason="damaged")
    assert peer.last.url.path == f"/v2/payments/captures/{CAPTURE}/refund"
    assert peer.last_json == {
        "amount": {"currency_code": "EUR", "value": "10.50"},
        "custom_id": "order-1",
        "note_to_payer": "damaged",
    }
    assert reply.provider_reference == f"{ORDER}:refund:1JU08902781691411"
    assert reply.outcome is Outcome.SUCCEEDED


@pytest.mark.parametrize(("status", "row"), sorted(REFUND_STATUSES.items()))
async def test_each_refund_status_row(
    adapter: PayPalAdapter, peer: ScriptedProvider, status: str, row: StatusRow
) -> None:
    """Every refund status maps to its row."""
    peer.answer(201, payment("R1", status))
    reply = await adapter.refund(CAPTURED, EUR, idempotency_key=KEY, reason=None)
    assert (reply.outcome, reply.failure_kind) == (row.outcome, row.kind)


@pytest.mark.parametrize("handle", [APPROVAL, AUTHORIZED], ids=["order", "authorization"])
async def test_refund_needs_a_capture_reference(
    adapter: PayPalAdapter, peer: ScriptedProvider, handle: PaymentHandle
) -> None:
    """Only a capture can be refunded; nothing is sent without one."""
    reply = await adapter.refund(handle, EUR, idempotency_key=KEY, reason=None)
    assert (reply.failure_kind, reply.provider_code) == (FailureKind.NOT_FOUND, "no_capture")
    assert peer.requests == []


async def test_void_204_releases_the_authorization(
    adapter: PayPalAdapter, peer: ScriptedProvider
) -> None:
    """PayPal's default minimal answer to a void is 204 No Content."""
    peer.answer(204)
    reply = await adapter.void(AUTHORIZED, idempotency_key=KEY)
    assert peer.last.url.path == f"/v2/payments/authorizations/{AUTH}/void"
    assert peer.last.content == b""
    assert reply == ProviderReply.succeeded(
        f"{ORDER}:authorization:{AUTH}", provider_code="VOIDED", http_status=204
    )


@pytest.mark.parametrize(
    ("answer", "outcome"),
    [
        ((200, payment(AUTH, "VOIDED")), Outcome.SUCCEEDED),
        (error(422, "UNPROCESSABLE_ENTITY", "PREVIOUSLY_VOIDED"), Outcome.SUCCEEDED),
        ((200, payment(AUTH, "CAPTURED")), Outcome.UNKNOWN),
        (error(422, "UNPROCESSABLE_ENTITY", "PREVIOUSLY_CAPTURED"), Outcome.FAILED),
    ],
    ids=["representation", "already-voided", "unexpected-status", "already-captured"],
)
async def test_void_answers(
    adapter: PayPalAdapter, peer: ScriptedProvider, answer: tuple[int, object], outcome: Outcome
) -> None:
    """A voided authorization is the void's success, however PayPal says it."""
    peer.answer(*answer)
    reply = await adapter.void(AUTHORIZED, idempotency_key=KEY)
    assert reply.outcome is outcome


@pytest.mark.parametrize(
    ("answer", "outcome", "kind"),
    [
        ((204, None), Outcome.SUCCEEDED, None),
        (error(404, "RESOURCE_NOT_FOUND", "INVALID_RESOURCE_ID"), Outcome.FAILED, "not_found"),
        (error(500, "INTERNAL_SERVER_ERROR"), Outcome.UNKNOWN, "unknown_outcome"),
    ],
    ids=["deleted", "no-such-token", "server-error"],
)
async def test_cancel_mandate_deletes_the_vault_token(
    adapter: PayPalAdapter,
    peer: ScriptedProvider,
    answer: tuple[int, object],
    outcome: Outcome,
    kind: str,
) -> None:
    """DELETE /v3/vault/payment-tokens/{id}: 204 gone, 404 unknown token, 500 open."""
    peer.answer(*answer)
    reply = await adapter.cancel_mandate(VAULT_ID, idempotency_key=KEY)
    assert (peer.last.method, peer.last.url.path) == (
        "DELETE",
        f"/v3/vault/payment-tokens/{VAULT_ID}",
    )
    assert (reply.outcome, reply.failure_kind) == (outcome, kind and FailureKind(kind))


# --- transport errors -------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(EVERY_CALL))
@pytest.mark.parametrize("exception", [httpx.ConnectTimeout("t"), httpx.ReadTimeout("t")])
async def test_transport_errors_of_the_payment_call_propagate(
    adapter: PayPalAdapter, peer: ScriptedProvider, name: str, exception: Exception
) -> None:
    """The router maps timeouts of the real call itself (connect: not sent; read: unknown)."""
    peer.respond(exception)
    with pytest.raises(type(exception)):
        await EVERY_CALL[name](adapter, KEY)


@pytest.mark.parametrize(("intent", "action"), [("CAPTURE", "capture"), ("AUTHORIZE", "authorize")])
async def test_completing_without_an_intent_keeps_the_one_the_order_was_made_with(
    adapter: PayPalAdapter, peer: ScriptedProvider, intent: str, action: str
) -> None:
    """The router completes approved orders on refresh and reconcile without knowing the
    request's capture flag: an authorize-only order must never be captured."""
    peer.answer(200, order("APPROVED", intent=intent))
    peer.answer(201, completed(captures=[payment()]))
    await adapter.complete(APPROVAL, idempotency_key=KEY)
    assert [request.method for request in peer.requests] == ["GET", "POST"]
    assert peer.last.url.path == f"/v2/checkout/orders/{ORDER}/{action}"
    assert peer.last.headers["PayPal-Request-Id"] == KEY
