"""The Stripe adapter translates: one call, one HTTP exchange, one ProviderReply per table row."""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any
from urllib.parse import parse_qsl

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
    currency_exponent,
)
from payrouter.provider import (
    Adapter,
    Capabilities,
    Charge,
    FailureKind,
    NextAction,
    Outcome,
    PaymentHandle,
    ProviderReply,
)
from payrouter.testing import ScriptedProvider
from payrouter_adapters.stripe import StripeAdapter, StripeOptions
from payrouter_adapters.stripe._codes import (
    CANCELLATION_REASONS,
    CAPTURE_STATUSES,
    DECLINE_CODES,
    ERROR_CODES,
    ERROR_TYPES,
    HTTP_STATUSES,
    INTENT_STATUSES,
    PARAM_ERRORS,
    REFUND_FAILURES,
    REFUND_STATUSES,
    SHOULD_RETRY,
    STRIPE_EXPONENTS,
    VOID_STATUSES,
)
from tests.peers import SPECS_DIR

API_KEY = "sk_test_stripe-secret-do-not-print"
CARD_TOKEN = "pm_1SecretCardToken"
KEY = "attempt-key-0001"
BASE = "https://api.stripe.test"
OPTIONS: dict[str, object] = {"base_url": BASE, "api_key": API_KEY}
EUR = Money(minor_units=1050, currency="EUR")
PI = "pi_3Test0001"
HANDLE = PaymentHandle(KEY, "order-1", PaymentMethod.CARD, EUR, PI)
NO_PI = PaymentHandle(KEY, "order-1", PaymentMethod.CARD, EUR)
LOGGER = "payrouter.adapters"


@pytest.fixture
def peer() -> ScriptedProvider:
    return ScriptedProvider()


@pytest.fixture
async def adapter(peer: ScriptedProvider) -> AsyncIterator[StripeAdapter]:
    built = StripeAdapter.from_options(
        name="stripe", capabilities=None, options=OPTIONS, transport=peer
    )
    yield built
    await built.aclose()


def charge(
    source: CardSource | WalletSource | BankTransferSource | None = None, **kw: Any
) -> Charge:
    fields: dict[str, Any] = {
        "reference": KEY,
        "order_id": "order-1",
        "amount": EUR,
        "source": source or CardSource(token=SecretStr(CARD_TOKEN)),
        "customer_country": "DE",
    }
    fields.update(kw)
    return Charge(**fields)


def intent(status: str = "succeeded", **fields: object) -> dict[str, object]:
    return {"id": PI, "object": "payment_intent", "status": status, **fields}


def error(status_type: str = "card_error", **fields: object) -> dict[str, object]:
    return {"error": {"type": status_type, "message": "Your card was declined.", **fields}}


def refund(status: str = "succeeded", **fields: object) -> dict[str, object]:
    return {"id": "re_1", "object": "refund", "status": status, **fields}


def unique(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:8]}"


def warned(caplog: pytest.LogCaptureFixture, code: str) -> int:
    return len([r for r in caplog.records if getattr(r, "provider_code", "") == code])


Call = Callable[[StripeAdapter, str], Awaitable[ProviderReply]]
MONEY_MOVING: dict[str, Call] = {
    "pay": lambda a, k: a.pay(charge(), idempotency_key=k),
    "capture": lambda a, k: a.capture(HANDLE, EUR, idempotency_key=k),
    "refund": lambda a, k: a.refund(HANDLE, EUR, idempotency_key=k, reason=None),
    "void": lambda a, k: a.void(HANDLE, idempotency_key=k),
    "cancel_mandate": lambda a, k: a.cancel_mandate("pm_saved", idempotency_key=k),
}
EVERY_CALL: dict[str, Call] = {
    **MONEY_MOVING,
    "lookup_by_id": lambda a, _: a.lookup(HANDLE),
    "lookup_by_search": lambda a, _: a.lookup(NO_PI),
}


# --- construction, capabilities, secrets ------------------------------------------------------


def test_adapter_satisfies_the_protocol(adapter: StripeAdapter) -> None:
    """The router accepts it, and it tells the router Stripe's 255-character key limit."""
    assert isinstance(adapter, Adapter)
    assert adapter.idempotency_key_max_length == 255


def test_default_capabilities_are_cards_and_token_wallets(adapter: StripeAdapter) -> None:
    """Without configured capabilities: cards, and Apple Pay and Google Pay only with a Stripe
    credential for them, in any currency."""
    assert adapter.capabilities.methods == frozenset({PaymentMethod.CARD, PaymentMethod.WALLET})
    assert adapter.capabilities.wallets == frozenset({"applepay", "googlepay"})
    assert adapter.capabilities.credentials.wallet_tokens == frozenset({"applepay", "googlepay"})
    assert adapter.capabilities.currencies is None


async def test_configured_capabilities_win() -> None:
    """Capabilities from config replace the defaults."""
    custom = Capabilities(methods=frozenset({PaymentMethod.CARD}), currencies=frozenset({"USD"}))
    built = StripeAdapter.from_options(name="stripe-us", capabilities=custom, options=OPTIONS)
    await built.aclose()
    assert built.capabilities is custom
    assert built.name == "stripe-us"


def test_base_url_defaults_to_stripe() -> None:
    """Only the API key is required; the base URL defaults to api.stripe.com."""
    assert StripeOptions.model_validate({"api_key": API_KEY}).base_url == "https://api.stripe.com"


def test_missing_api_key_is_a_configuration_error_naming_the_field() -> None:
    """A missing key fails at startup, naming the option."""
    with pytest.raises(ConfigurationError, match=r"providers\[stripe\]\.options\.api_key"):
        StripeAdapter.from_options(name="stripe", capabilities=None, options={"base_url": BASE})


@pytest.mark.parametrize(
    "bad",
    [{"api_key": 12345}, {"api_version": ""}, {"return_url": ""}, {"unexpected": API_KEY}],
)
def test_configuration_error_never_shows_the_api_key(bad: dict[str, object]) -> None:
    """Bad options raise without echoing the key or any input value."""
    with pytest.raises(ConfigurationError) as caught:
        StripeAdapter.from_options(name="stripe", capabilities=None, options={**OPTIONS, **bad})
    assert API_KEY not in str(caught.value)
    assert "12345" not in str(caught.value)


def test_repr_and_str_hide_the_api_key(adapter: StripeAdapter) -> None:
    """Neither the adapter nor its options print the key."""
    options = StripeOptions.model_validate(OPTIONS)
    for text in (repr(adapter), str(adapter), repr(options), str(options)):
        assert API_KEY not in text
    assert BASE in repr(adapter)


async def test_api_key_is_a_bearer_token_and_the_version_is_pinned(
    adapter: StripeAdapter, peer: ScriptedProvider
) -> None:
    """Stripe authenticates by Bearer key; Stripe-Version keeps replies in the shape we read."""
    peer.answer(200, intent())
    await adapter.pay(charge(), idempotency_key=KEY)
    assert peer.last.headers["Authorization"] == f"Bearer {API_KEY}"
    assert peer.last.headers["Stripe-Version"] == "2023-08-16"


async def test_card_token_never_appears_in_replies(
    adapter: StripeAdapter, peer: ScriptedProvider
) -> None:
    """Stripe quotes the payment method id in messages; the reply redacts it."""
    message = f"No such PaymentMethod: '{CARD_TOKEN}'"
    peer.answer(400, error("invalid_request_error", code="resource_missing", message=message))
    reply = await adapter.pay(charge(), idempotency_key=KEY)
    assert CARD_TOKEN not in repr(reply)
    assert reply.message == "No such PaymentMethod: '<redacted>'"


# --- what pay sends ---------------------------------------------------------------------------


async def test_pay_creates_and_confirms_with_reference_and_order_in_metadata(
    adapter: StripeAdapter, peer: ScriptedProvider
) -> None:
    """One POST creates and confirms the intent; our reference is where lookup searches."""
    peer.answer(200, intent())
    await adapter.pay(charge(description="2 books"), idempotency_key=KEY)
    assert peer.last.method == "POST"
    assert peer.last.url.path == "/v1/payment_intents"
    assert peer.last.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert peer.last_form == {
        "amount": "1050",
        "currency": "eur",
        "confirm": "true",
        "payment_method": CARD_TOKEN,
        "payment_method_types[0]": "card",
        "capture_method": "automatic",
        "metadata[payrouter_reference]": KEY,
        "metadata[order_id]": "order-1",
        "description": "2 books",
    }


async def test_authorize_only_sends_manual_capture(
    adapter: StripeAdapter, peer: ScriptedProvider
) -> None:
    """Charge.capture=False holds the funds for a later capture."""
    peer.answer(200, intent("requires_capture"))
    await adapter.pay(charge(capture=False), idempotency_key=KEY)
    assert peer.last_form["capture_method"] == "manual"


@pytest.mark.parametrize(
    ("option", "given", "sent"),
    [
        (None, "https://shop.example/charge", "https://shop.example/charge"),
        (
            "https://shop.example/default",
            "https://shop.example/charge",
            "https://shop.example/charge",
        ),
        ("https://shop.example/default", None, "https://shop.example/default"),
        (None, None, None),
    ],
)
async def test_return_url_of_the_charge_wins_over_the_option(
    peer: ScriptedProvider, option: str | None, given: str | None, sent: str | None
) -> None:
    """The charge's return_url first, then the configured one; none at all sends none."""
    options = {**OPTIONS, "return_url": option} if option else OPTIONS
    built = StripeAdapter.from_options(
        name="stripe", capabilities=None, options=options, transport=peer
    )
    peer.answer(200, intent())
    await built.pay(charge(return_url=given), idempotency_key=KEY)
    await built.aclose()
    assert peer.last_form.get("return_url") == sent


async def test_stripe_customer_is_sent_as_customer(
    adapter: StripeAdapter, peer: ScriptedProvider
) -> None:
    """A cus_ id is a Stripe customer, needed to charge a card saved to it."""
    peer.answer(200, intent())
    await adapter.pay(charge(customer_id="cus_42"), idempotency_key=KEY)
    assert peer.last_form["customer"] == "cus_42"
    assert "metadata[customer_id]" not in peer.last_form


async def test_other_customer_ids_go_to_metadata(
    adapter: StripeAdapter, peer: ScriptedProvider
) -> None:
    """The merchant's own customer id is no Stripe customer: Stripe would answer 404."""
    peer.answer(200, intent())
    await adapter.pay(charge(customer_id="shop-customer-42"), idempotency_key=KEY)
    assert "customer" not in peer.last_form
    assert peer.last_form["metadata[customer_id]"] == "shop-customer-42"


async def test_merchant_metadata_is_kept_but_cannot_override_our_reference(
    adapter: StripeAdapter, peer: ScriptedProvider
) -> None:
    """The charge's metadata travels along; our reference and order id always win."""
    peer.answer(200, intent())
    metadata = {"cart": "c-9", "payrouter_reference": "forged", "order_id": "forged"}
    await adapter.pay(charge(metadata=metadata), idempotency_key=KEY)
    assert peer.last_form["metadata[cart]"] == "c-9"
    assert peer.last_form["metadata[payrouter_reference]"] == KEY
    assert peer.last_form["metadata[order_id]"] == "order-1"


async def test_metadata_key_with_brackets_is_refused_without_a_call(
    adapter: StripeAdapter, peer: ScriptedProvider
) -> None:
    """Stripe metadata keys cannot hold square brackets; the form would be misread."""
    reply = await adapter.pay(charge(metadata={"a[b]": "c"}), idempotency_key=KEY)
    assert peer.requests == []
    assert reply.failure_kind is FailureKind.INVALID_REQUEST
    assert reply.provider_code == "metadata_key_invalid"


@pytest.mark.parametrize("wallet", ["applepay", "googlepay"])
async def test_a_token_wallet_is_paid_by_the_payment_method_stripe_made_of_it(
    adapter: StripeAdapter, peer: ScriptedProvider, wallet: str
) -> None:
    """Apple Pay / Google Pay at Stripe: the PaymentMethod Stripe.js made of the wallet's token
    goes as `payment_method`, charged as a card."""
    peer.answer(200, intent())
    source = WalletSource(wallet=wallet, account=SecretStr("pm_1ApplePayMethod"))
    reply = await adapter.pay(charge(source), idempotency_key=KEY)
    assert reply.outcome is Outcome.SUCCEEDED
    assert peer.last_form == {
        "amount": "1050",
        "currency": "eur",
        "confirm": "true",
        "payment_method": "pm_1ApplePayMethod",
        "payment_method_types[0]": "card",
        "capture_method": "automatic",
        "metadata[payrouter_reference]": KEY,
        "metadata[order_id]": "order-1",
    }


@pytest.mark.parametrize(
    "account",
    [None, "ewogICJ2ZXJzaW9uIjogIkVDX3YxIiwKICAiZGF0YSI6ICIuLi4iCn0="],
    ids=["none", "adyens_apple_pay_token"],
)
async def test_a_token_wallet_without_a_stripe_credential_is_refused_without_a_call(
    adapter: StripeAdapter, peer: ScriptedProvider, account: str | None
) -> None:
    """The raw wallet token (another provider's) is not Stripe's: nothing is sent."""
    source = WalletSource(
        wallet="applepay", account=SecretStr(account) if account is not None else None
    )
    reply = await adapter.pay(charge(source), idempotency_key=KEY)
    assert peer.requests == []
    assert (reply.failure_kind, reply.provider_code) == (
        FailureKind.INVALID_REQUEST,
        "wallet_token_required",
    )
    assert "ewogICJ2ZXJz" not in repr(reply)


@pytest.mark.parametrize(
    "source",
    [
        WalletSource(wallet="paypal", account=SecretStr("payer-secret")),
        BankTransferSource(iban=SecretStr("DE89370400440532013000")),
    ],
    ids=["wallet", "bank_transfer"],
)
async def test_non_card_sources_are_refused_without_a_call(
    adapter: StripeAdapter, peer: ScriptedProvider, source: WalletSource | BankTransferSource
) -> None:
    """A wallet other than Apple/Google Pay, or a bank account, is our routing bug, not a
    decline."""
    reply = await adapter.pay(charge(source), idempotency_key=KEY)
    assert peer.requests == []
    assert reply.failure_kind is FailureKind.INVALID_REQUEST
    assert reply.provider_code == "unsupported_method"
    assert "payer-secret" not in repr(reply)
    assert "DE89370400440532013000" not in repr(reply)


@pytest.mark.parametrize(
    ("money", "sent"),
    [
        (Money(minor_units=1050, currency="EUR"), "1050"),
        (Money(minor_units=500, currency="JPY"), "500"),
        (Money(minor_units=5120, currency="KWD"), "5120"),
        (Money(minor_units=5, currency="ISK"), "500"),
        (Money(minor_units=1000, currency="MGA"), "10"),
    ],
    ids=["EUR", "JPY", "KWD", "ISK", "MGA"],
)
async def test_amounts_are_sent_in_stripe_minor_units(
    adapter: StripeAdapter, peer: ScriptedProvider, money: Money, sent: str
) -> None:
    """ISO minor units, except where Stripe's unit differs (ISK two-decimal, MGA zero)."""
    peer.answer(200, intent())
    await adapter.pay(charge(amount=money), idempotency_key=KEY)
    assert peer.last_form["amount"] == sent
    assert peer.last_form["currency"] == money.currency.lower()


@pytest.mark.parametrize(("currency", "exponent"), sorted(STRIPE_EXPONENTS.items()))
async def test_each_stripe_exponent_row_scales_whole_units(
    adapter: StripeAdapter, peer: ScriptedProvider, currency: str, exponent: int
) -> None:
    """One whole unit of each special currency is 10**exponent at Stripe."""
    peer.answer(200, intent())
    one = Money(minor_units=10 ** currency_exponent(currency), currency=currency)
    await adapter.pay(charge(amount=one), idempotency_key=KEY)
    assert peer.last_form["amount"] == str(10**exponent)


async def test_fractional_mga_is_refused_without_a_call(
    adapter: StripeAdapter, peer: ScriptedProvider
) -> None:
    """Stripe takes MGA in whole units; rounding money silently is not ours to do."""
    reply = await adapter.pay(
        charge(amount=Money(minor_units=1050, currency="MGA")), idempotency_key=KEY
    )
    assert peer.requests == []
    assert reply.failure_kind is FailureKind.INVALID_REQUEST
    assert reply.provider_code == "amount_not_representable"


@pytest.mark.parametrize("operation", sorted(MONEY_MOVING))
async def test_every_money_moving_call_sends_the_routers_key(
    adapter: StripeAdapter, peer: ScriptedProvider, operation: str
) -> None:
    """The router's key goes out unchanged as Idempotency-Key; the adapter never mints one."""
    body = refund() if operation == "refund" else intent()
    peer.answer(200, body)
    await MONEY_MOVING[operation](adapter, "router-key-7")
    assert peer.last.method == "POST"
    assert peer.last.headers["Idempotency-Key"] == "router-key-7"


# --- pay outcomes -----------------------------------------------------------------------------


async def test_succeeded_intent_is_succeeded(
    adapter: StripeAdapter, peer: ScriptedProvider
) -> None:
    """A captured payment answers succeeded with the intent id as provider reference."""
    peer.answer(200, intent())
    reply = await adapter.pay(charge(), idempotency_key=KEY)
    assert reply == ProviderReply.succeeded(PI, provider_code="succeeded", http_status=200)


async def test_requires_capture_is_a_succeeded_authorization(
    adapter: StripeAdapter, peer: ScriptedProvider
) -> None:
    """An authorized, uncaptured intent has taken the payment as far as routing goes."""
    peer.answer(200, intent("requires_capture"))
    reply = await adapter.pay(charge(capture=False), idempotency_key=KEY)
    assert reply == ProviderReply.succeeded(PI, provider_code="requires_capture", http_status=200)


async def test_processing_is_pending(adapter: StripeAdapter, peer: ScriptedProvider) -> None:
    """Stripe is still processing: accepted, settles later."""
    peer.answer(200, intent("processing"))
    reply = await adapter.pay(charge(), idempotency_key=KEY)
    assert reply == ProviderReply.pending(PI, provider_code="processing", http_status=200)


async def test_3ds_redirect_is_requires_action_with_the_url(
    adapter: StripeAdapter, peer: ScriptedProvider
) -> None:
    """3-D Secure with a return_url gives a redirect the checkout sends the customer to."""
    url = "https://hooks.stripe.com/3d_secure_2/hosted?merchant=acct_1"
    next_action = {"type": "redirect_to_url", "redirect_to_url": {"url": url}}
    peer.answer(200, intent("requires_action", next_action=next_action))
    reply = await adapter.pay(charge(return_url="https://shop.example/back"), idempotency_key=KEY)
    action = NextAction(kind="redirect", provider_type="redirect_to_url", url=url)
    assert reply == ProviderReply.requires_action(
        PI, url, provider_code="redirect_to_url", http_status=200, action=action
    )


async def test_3ds_for_stripe_js_is_requires_action_without_url(
    adapter: StripeAdapter, peer: ScriptedProvider
) -> None:
    """Without a return_url Stripe wants Stripe.js to act: still requires_action, no URL."""
    next_action = {"type": "use_stripe_sdk", "use_stripe_sdk": {"type": "three_d_secure_redirect"}}
    peer.answer(
        200, intent("requires_action", next_action=next_action, client_secret=f"{PI}_secret_1")
    )
    reply = await adapter.pay(charge(), idempotency_key=KEY)
    assert reply.outcome is Outcome.REQUIRES_ACTION
    assert reply.action_url is None
    assert reply.provider_reference == PI
    assert reply.action == NextAction(
        kind="sdk", provider_type="use_stripe_sdk", client_secret=SecretStr(f"{PI}_secret_1")
    )


async def test_402_decline_keeps_the_intent_id_and_decline_code(
    adapter: StripeAdapter, peer: ScriptedProvider
) -> None:
    """A declined confirm answers 402 with the intent inside; its id stays findable."""
    body = error(
        code="card_declined",
        decline_code="insufficient_funds",
        payment_intent=intent("requires_payment_method"),
    )
    peer.answer(402, body)
    reply = await adapter.pay(charge(), idempotency_key=KEY)
    assert reply == ProviderReply.failed(
        FailureKind.INSUFFICIENT_FUNDS,
        provider_code="insufficient_funds",
        http_status=402,
        provider_reference=PI,
        message="Your card was declined.",
    )


async def test_decline_code_is_looked_up_before_code(
    adapter: StripeAdapter, peer: ScriptedProvider
) -> None:
    """card_declined says little; the issuer's decline_code says why."""
    peer.answer(402, error(code="card_declined", decline_code="stolen_card"))
    reply = await adapter.pay(charge(), idempotency_key=KEY)
    assert reply.failure_kind is FailureKind.SUSPECTED_FRAUD


@pytest.mark.parametrize(("decline_code", "kind"), sorted(DECLINE_CODES.items()))
async def test_each_decline_code_row(
    adapter: StripeAdapter, peer: ScriptedProvider, decline_code: str, kind: FailureKind
) -> None:
    """Every decline_code row yields its kind, as a definite failure."""
    peer.answer(402, error(code="card_declined", decline_code=decline_code))
    reply = await adapter.pay(charge(), idempotency_key=KEY)
    assert reply.failure_kind is kind
    assert reply.outcome is Outcome.FAILED
    assert reply.provider_code == decline_code


@pytest.mark.parametrize(("code", "kind"), sorted(ERROR_CODES.items()))
async def test_each_error_code_row(
    adapter: StripeAdapter, peer: ScriptedProvider, code: str, kind: FailureKind
) -> None:
    """Every error code row yields its kind, whatever the 4xx status it came with."""
    peer.answer(400, error("invalid_request_error", code=code))
    reply = await adapter.pay(charge(), idempotency_key=KEY)
    assert reply.failure_kind is kind
    assert reply.provider_code == code


@pytest.mark.parametrize(("code_param", "kind"), sorted(PARAM_ERRORS.items()))
async def test_each_param_error_row(
    adapter: StripeAdapter, peer: ScriptedProvider, code_param: tuple[str, str], kind: FailureKind
) -> None:
    """A code about the object a param names: an unknown PaymentMethod refuses the request."""
    code, param = code_param
    peer.answer(400, error("invalid_request_error", code=code, param=param))
    reply = await adapter.pay(charge(), idempotency_key=KEY)
    assert (reply.failure_kind, reply.provider_code) == (kind, code)


async def test_an_unknown_payment_method_is_a_refused_request_not_a_missing_payment(
    adapter: StripeAdapter, peer: ScriptedProvider
) -> None:
    """400 `resource_missing` on `payment_method` (another provider's token): INVALID_REQUEST,
    so the router moves on; without the param it stays NOT_FOUND."""
    message = "No such PaymentMethod: 'pm_x'"
    peer.answer(
        400, error("invalid_request_error", code="resource_missing", param="payment_method",
                   message=message)
    )  # fmt: skip
    refused = await adapter.pay(charge(), idempotency_key=KEY)
    peer.answer(404, error("invalid_request_error", code="resource_missing"))
    missing = await adapter.pay(charge(), idempotency_key=KEY)
    assert refused.failure_kind is FailureKind.INVALID_REQUEST
    assert missing.failure_kind is FailureKind.NOT_FOUND


@pytest.mark.parametrize(("status", "kind"), sorted(HTTP_STATUSES.items()))
async def test_each_http_status_row(
    adapter: StripeAdapter, peer: ScriptedProvider, status: int, kind: FailureKind
) -> None:
    """Every status row applies when the body has no code and no Stripe-Should-Retry."""
    peer.answer(status, {"error": {"type": "api_error", "message": "x"}})
    reply = await adapter.pay(charge(), idempotency_key=KEY)
    assert reply.failure_kind is kind
    assert reply.http_status == status
    assert reply.provider_code == f"http_{status}"


@pytest.mark.parametrize(("header", "kind"), sorted(SHOULD_RETRY.items()))
@pytest.mark.parametrize("status", [500, 502, 503, 504])
async def test_each_should_retry_row_decides_a_5xx(
    adapter: StripeAdapter, peer: ScriptedProvider, status: int, header: str, kind: FailureKind
) -> None:
    """On a 5xx, Stripe-Should-Retry overrides the status row."""
    peer.answer(status, {"error": {"type": "api_error"}}, **{"Stripe-Should-Retry": header})
    reply = await adapter.pay(charge(), idempotency_key=KEY)
    assert reply.failure_kind is kind


async def test_503_before_processing_is_busy_not_unknown(
    adapter: StripeAdapter, peer: ScriptedProvider
) -> None:
    """Stripe's load shedders answer 503 before the API runs: retry or fail over is safe."""
    peer.answer(503, {"error": {"type": "api_error"}}, **{"Retry-After": "2"})
    reply = await adapter.pay(charge(), idempotency_key=KEY)
    assert reply.outcome is Outcome.FAILED
    assert reply.failure_kind is FailureKind.BUSY
    assert reply.retry_after == 2.0


async def test_500_is_unknown_even_when_it_carries_a_code(
    adapter: StripeAdapter, peer: ScriptedProvider
) -> None:
    """Stripe says a 500 is indeterminate: a code in its body proves nothing."""
    peer.answer(500, error("api_error", code="card_declined"))
    reply = await adapter.pay(charge(), idempotency_key=KEY)
    assert reply.outcome is Outcome.UNKNOWN


async def test_500_stripe_says_to_retry_is_busy(
    adapter: StripeAdapter, peer: ScriptedProvider
) -> None:
    """Should-Retry true on a 500: no result was cached, so the request never ran."""
    peer.answer(500, {"error": {"type": "api_error"}}, **{"Stripe-Should-Retry": "true"})
    reply = await adapter.pay(charge(), idempotency_key=KEY)
    assert reply.failure_kind is FailureKind.BUSY


async def test_503_stripe_says_not_to_retry_is_unknown(
    adapter: StripeAdapter, peer: ScriptedProvider
) -> None:
    """Should-Retry false: a retry would replay a result, so the request did run."""
    peer.answer(503, {"error": {"type": "api_error"}}, **{"Stripe-Should-Retry": "false"})
    reply = await adapter.pay(charge(), idempotency_key=KEY)
    assert reply.outcome is Outcome.UNKNOWN


async def test_409_key_in_use_is_unknown_whatever_should_retry_says(
    adapter: StripeAdapter, peer: ScriptedProvider
) -> None:
    """A concurrent request under our key is still running and may move money."""
    body = error("idempotency_error", code="idempotency_key_in_use")
    peer.answer(409, body, **{"Stripe-Should-Retry": "true"})
    reply = await adapter.pay(charge(), idempotency_key=KEY)
    assert reply.outcome is Outcome.UNKNOWN
    assert reply.provider_code == "idempotency_key_in_use"


@pytest.mark.parametrize(("error_type", "kind"), sorted(ERROR_TYPES.items()))
async def test_each_error_type_row(
    adapter: StripeAdapter, peer: ScriptedProvider, error_type: str, kind: FailureKind
) -> None:
    """A 4xx without a code is classified by its type, which becomes the provider code."""
    peer.answer(400, error(error_type))
    reply = await adapter.pay(charge(), idempotency_key=KEY)
    assert (reply.failure_kind, reply.provider_code) == (kind, error_type)


async def test_a_key_reused_with_other_parameters_is_unknown_never_a_refusal(
    adapter: StripeAdapter, peer: ScriptedProvider
) -> None:
    """400 `idempotency_error`: Stripe already holds a request under this attempt's key, which
    may have charged, so it is looked up, never failed over as an invalid request."""
    message = (
        "Keys for idempotent requests can only be used with the same parameters they were "
        "first used with. Try using a key other than 'attempt-key-0001' if you meant to "
        "execute a different request."
    )
    peer.answer(400, {"error": {"type": "idempotency_error", "message": message}})
    reply = await adapter.pay(charge(), idempotency_key=KEY)
    assert reply.outcome is Outcome.UNKNOWN
    assert reply.failure_kind is FailureKind.UNKNOWN_OUTCOME
    assert reply.provider_code == "idempotency_error"


async def test_429_is_rate_limited_with_retry_after(
    adapter: StripeAdapter, peer: ScriptedProvider
) -> None:
    """Too many requests: the router waits what Retry-After says, then may fail over."""
    peer.answer(429, error("invalid_request_error", code="rate_limit"), **{"Retry-After": "3"})
    reply = await adapter.pay(charge(), idempotency_key=KEY)
    assert reply.failure_kind is FailureKind.RATE_LIMITED
    assert reply.retry_after == 3.0


async def test_lock_timeout_is_busy_with_retry_after(
    adapter: StripeAdapter, peer: ScriptedProvider
) -> None:
    """A 429 lock_timeout is contention on the object, refused before acting."""
    peer.answer(429, error("invalid_request_error", code="lock_timeout"), **{"Retry-After": "1"})
    reply = await adapter.pay(charge(), idempotency_key=KEY)
    assert reply.failure_kind is FailureKind.BUSY
    assert reply.retry_after == 1.0


@pytest.mark.parametrize("status", [401, 403])
async def test_rejected_api_key_is_our_credentials(
    adapter: StripeAdapter, peer: ScriptedProvider, status: int
) -> None:
    """A wrong or under-privileged key is a configuration fault, never the customer's."""
    peer.answer(status, error("invalid_request_error", message="Invalid API Key provided"))
    reply = await adapter.pay(charge(), idempotency_key=KEY)
    assert reply.failure_kind is FailureKind.CREDENTIALS_REJECTED


async def test_unmapped_decline_code_falls_back_to_code_and_is_warned_once(
    adapter: StripeAdapter, peer: ScriptedProvider, caplog: pytest.LogCaptureFixture
) -> None:
    """A new issuer reason still declines through card_declined, and names the missing row."""
    caplog.set_level(logging.WARNING, logger=LOGGER)
    code = unique("new_decline")
    for _ in range(2):
        peer.answer(402, error(code="card_declined", decline_code=code))
        reply = await adapter.pay(charge(), idempotency_key=KEY)
        assert reply.failure_kind is FailureKind.CARD_DECLINED
        assert reply.provider_code == code
    assert warned(caplog, f"decline_code:{code}") == 1


async def test_unmapped_code_on_402_is_a_card_decline_warned_once(
    adapter: StripeAdapter, peer: ScriptedProvider, caplog: pytest.LogCaptureFixture
) -> None:
    """402 means the request was valid but failed: a definite decline."""
    caplog.set_level(logging.WARNING, logger=LOGGER)
    code = unique("new_card_error")
    for _ in range(2):
        peer.answer(402, error(code=code))
        reply = await adapter.pay(charge(), idempotency_key=KEY)
        assert reply.failure_kind is FailureKind.CARD_DECLINED
    assert warned(caplog, code) == 1


async def test_unmapped_4xx_is_invalid_request_warned_once(
    adapter: StripeAdapter, peer: ScriptedProvider, caplog: pytest.LogCaptureFixture
) -> None:
    """A status and code no row knows: Stripe refused our request, nothing moved."""
    caplog.set_level(logging.WARNING, logger=LOGGER)
    code = unique("new_code")
    peer.answer(418, error("invalid_request_error", code=code))
    reply = await adapter.pay(charge(), idempotency_key=KEY)
    assert reply.failure_kind is FailureKind.INVALID_REQUEST
    assert warned(caplog, code) == 1
    assert warned(caplog, "http_418") == 1


async def test_unmapped_5xx_is_unknown(
    adapter: StripeAdapter, peer: ScriptedProvider, caplog: pytest.LogCaptureFixture
) -> None:
    """A 5xx no row knows may have run: unknown, and the missing row is named."""
    caplog.set_level(logging.WARNING, logger=LOGGER)
    peer.respond(httpx.Response(507))
    reply = await adapter.pay(charge(), idempotency_key=KEY)
    assert reply.outcome is Outcome.UNKNOWN
    assert reply.provider_code == "http_507"
    assert warned(caplog, "http_507") == 1


async def test_non_json_error_body_is_classified_by_status(
    adapter: StripeAdapter, peer: ScriptedProvider
) -> None:
    """An HTML 502 from a gateway is still a 502: unknown."""
    peer.respond(httpx.Response(502, content=b"<html>bad gateway</html>"))
    reply = await adapter.pay(charge(), idempotency_key=KEY)
    assert reply.outcome is Outcome.UNKNOWN


@pytest.mark.parametrize("operation", ["pay", "capture", "refund", "void", "cancel_mandate"])
@pytest.mark.parametrize("body", [b"not json", b"{}", b'{"id": null}'])
async def test_unreadable_2xx_body_is_unknown(
    adapter: StripeAdapter, peer: ScriptedProvider, operation: str, body: bytes
) -> None:
    """A 2xx we cannot read on a money-moving call: Stripe may have acted, so unknown."""
    peer.respond(httpx.Response(200, content=body))
    reply = await MONEY_MOVING[operation](adapter, KEY)
    assert reply.outcome is Outcome.UNKNOWN
    assert reply.provider_code == "unreadable_body"


@pytest.mark.parametrize(("status", "row"), sorted(INTENT_STATUSES.items()))
async def test_each_intent_status_row(
    adapter: StripeAdapter, peer: ScriptedProvider, status: str, row: Any
) -> None:
    """Every payment intent status yields its outcome (failures with the row's default kind)."""
    peer.answer(200, intent(status))
    reply = await adapter.pay(charge(), idempotency_key=KEY)
    assert reply.outcome is row.outcome
    assert reply.provider_reference == PI
    if row.outcome is Outcome.FAILED:
        assert reply.failure_kind is row.default_kind


async def test_failed_attempt_is_classified_by_last_payment_error(
    adapter: StripeAdapter, peer: ScriptedProvider
) -> None:
    """requires_payment_method after a confirm: last_payment_error says why, ids redacted."""
    last_error = {
        "type": "card_error",
        "code": "payment_intent_authentication_failure",
        "message": f"The provided PaymentMethod {CARD_TOKEN} has failed authentication.",
    }
    peer.answer(200, intent("requires_payment_method", last_payment_error=last_error))
    reply = await adapter.pay(charge(), idempotency_key=KEY)
    assert reply.failure_kind is FailureKind.AUTHENTICATION_FAILED
    assert reply.provider_code == "payment_intent_authentication_failure"
    assert reply.message is not None
    assert CARD_TOKEN not in reply.message


async def test_unmapped_intent_status_is_unknown_and_warned_once(
    adapter: StripeAdapter, peer: ScriptedProvider, caplog: pytest.LogCaptureFixture
) -> None:
    """A status Stripe adds later is not guessed at."""
    caplog.set_level(logging.WARNING, logger=LOGGER)
    status = unique("new_status")
    peer.answer(200, intent(status))
    reply = await adapter.pay(charge(), idempotency_key=KEY)
    assert reply.outcome is Outcome.UNKNOWN
    assert warned(caplog, f"status:{status}") == 1


# --- lookup -----------------------------------------------------------------------------------


async def test_lookup_by_provider_reference_retrieves_the_intent(
    adapter: StripeAdapter, peer: ScriptedProvider
) -> None:
    """With the intent id, lookup is one GET, without an idempotency key."""
    peer.answer(200, intent("requires_capture"))
    reply = await adapter.lookup(HANDLE)
    assert peer.last.method == "GET"
    assert peer.last.url.path == f"/v1/payment_intents/{PI}"
    assert "Idempotency-Key" not in peer.last.headers
    assert reply == ProviderReply.succeeded(PI, provider_code="requires_capture", http_status=200)


async def test_lookup_without_provider_reference_searches_our_metadata(
    adapter: StripeAdapter, peer: ScriptedProvider
) -> None:
    """A lost pay reply: search the intent carrying our reference in its metadata."""
    peer.answer(200, {"object": "search_result", "data": [intent("processing")]})
    reply = await adapter.lookup(NO_PI)
    assert peer.last.method == "GET"
    assert peer.last.url.path == "/v1/payment_intents/search"
    assert peer.last.url.params["query"] == f"metadata['payrouter_reference']:'{KEY}'"
    assert reply == ProviderReply.pending(PI, provider_code="processing", http_status=200)


async def test_search_query_escapes_quotes(adapter: StripeAdapter, peer: ScriptedProvider) -> None:
    """A quote in the reference cannot break out of the search string."""
    peer.answer(200, {"data": []})
    await adapter.lookup(PaymentHandle("it's\\", "order-1", PaymentMethod.CARD, EUR))
    assert peer.last.url.params["query"] == "metadata['payrouter_reference']:'it\\'s\\\\'"


async def test_search_without_a_match_is_not_found(
    adapter: StripeAdapter, peer: ScriptedProvider
) -> None:
    """Nothing carries our reference: NOT_FOUND, which the router trusts only after a delay."""
    peer.answer(200, {"object": "search_result", "data": []})
    reply = await adapter.lookup(NO_PI)
    assert reply == ProviderReply.failed(
        FailureKind.NOT_FOUND, provider_code="search_no_match", http_status=200
    )


async def test_search_match_without_an_id_is_unknown(
    adapter: StripeAdapter, peer: ScriptedProvider
) -> None:
    """A match we cannot read may still be the payment: unknown, not not-found."""
    peer.answer(200, {"data": [{"object": "payment_intent"}]})
    reply = await adapter.lookup(NO_PI)
    assert reply.outcome is Outcome.UNKNOWN
    assert reply.provider_code == "unreadable_body"


async def test_search_with_two_matches_is_unknown(
    adapter: StripeAdapter, peer: ScriptedProvider
) -> None:
    """Two intents under one reference: an operator must look, not the router guess."""
    peer.answer(200, {"data": [intent(), intent("canceled")]})
    reply = await adapter.lookup(NO_PI)
    assert reply.outcome is Outcome.UNKNOWN
    assert reply.provider_code == "search_ambiguous"


async def test_lookup_of_a_missing_intent_is_not_found(
    adapter: StripeAdapter, peer: ScriptedProvider
) -> None:
    """Stripe's 404 resource_missing means no such payment at Stripe."""
    peer.answer(404, error("invalid_request_error", code="resource_missing"))
    reply = await adapter.lookup(HANDLE)
    assert reply.failure_kind is FailureKind.NOT_FOUND


@pytest.mark.parametrize(("reason", "kind"), sorted(CANCELLATION_REASONS.items()))
async def test_each_cancellation_reason_row(
    adapter: StripeAdapter, peer: ScriptedProvider, reason: str, kind: FailureKind
) -> None:
    """A canceled intent found by lookup failed for the reason its row names."""
    peer.answer(200, intent("canceled", cancellation_reason=reason))
    reply = await adapter.lookup(HANDLE)
    assert reply.failure_kind is kind
    assert reply.provider_code == reason


async def test_canceled_without_reason_is_a_decline(
    adapter: StripeAdapter, peer: ScriptedProvider
) -> None:
    """No reason given: nothing was captured, the row's default kind applies."""
    peer.answer(200, intent("canceled", cancellation_reason=None))
    reply = await adapter.lookup(HANDLE)
    assert reply.failure_kind is FailureKind.CARD_DECLINED
    assert reply.provider_code == "canceled"


# --- follow-ups -------------------------------------------------------------------------------


async def test_capture_sends_amount_to_capture(
    adapter: StripeAdapter, peer: ScriptedProvider
) -> None:
    """Capture posts the amount to the intent's /capture."""
    peer.answer(200, intent())
    reply = await adapter.capture(
        HANDLE, Money(minor_units=800, currency="EUR"), idempotency_key=KEY
    )
    assert peer.last.url.path == f"/v1/payment_intents/{PI}/capture"
    assert peer.last_form == {"amount_to_capture": "800"}
    assert reply == ProviderReply.succeeded(PI, provider_code="succeeded", http_status=200)


@pytest.mark.parametrize(("status", "row"), sorted(CAPTURE_STATUSES.items()))
async def test_each_capture_status_row(
    adapter: StripeAdapter, peer: ScriptedProvider, status: str, row: Any
) -> None:
    """Every status a capture can leave the intent in yields its outcome."""
    peer.answer(200, intent(status))
    reply = await adapter.capture(HANDLE, EUR, idempotency_key=KEY)
    assert reply.outcome is row.outcome


async def test_capture_leaving_an_unexpected_status_is_unknown(
    adapter: StripeAdapter, peer: ScriptedProvider
) -> None:
    """A 200 that still says requires_capture did not capture: let reconcile find out."""
    peer.answer(200, intent("requires_capture"))
    reply = await adapter.capture(HANDLE, EUR, idempotency_key=KEY)
    assert reply.outcome is Outcome.UNKNOWN


async def test_void_cancels_the_intent(adapter: StripeAdapter, peer: ScriptedProvider) -> None:
    """Void posts an empty form to /cancel; a canceled intent means it is done."""
    peer.answer(200, intent("canceled", cancellation_reason=None))
    reply = await adapter.void(HANDLE, idempotency_key=KEY)
    assert peer.last.url.path == f"/v1/payment_intents/{PI}/cancel"
    assert peer.last_form == {}
    assert reply == ProviderReply.succeeded(PI, provider_code="canceled", http_status=200)


@pytest.mark.parametrize(("status", "row"), sorted(VOID_STATUSES.items()))
async def test_each_void_status_row(
    adapter: StripeAdapter, peer: ScriptedProvider, status: str, row: Any
) -> None:
    """Every status a cancel can leave the intent in yields its outcome."""
    peer.answer(200, intent(status))
    reply = await adapter.void(HANDLE, idempotency_key=KEY)
    assert reply.outcome is row.outcome


async def test_void_of_a_captured_payment_is_refused(
    adapter: StripeAdapter, peer: ScriptedProvider
) -> None:
    """Stripe cannot cancel a succeeded intent: a definite, alerting refusal; without the
    intent in the error, the code is Stripe's own."""
    peer.answer(400, error("invalid_request_error", code="payment_intent_unexpected_state"))
    reply = await adapter.void(HANDLE, idempotency_key=KEY)
    assert reply.failure_kind is FailureKind.INVALID_REQUEST
    assert reply.provider_code == "payment_intent_unexpected_state"


def unexpected_state(action: str, status: str, **fields: object) -> dict[str, object]:
    message = f"This PaymentIntent could not be {action} because it has a status of {status}."
    return error(
        "invalid_request_error",
        code="payment_intent_unexpected_state",
        message=message,
        payment_intent=intent(status, **fields),
    )


async def test_a_capture_refused_for_its_intents_state_names_the_state_and_amount_received(
    adapter: StripeAdapter, peer: ScriptedProvider
) -> None:
    """The refusal carries the intent: its status goes into the code, which `already_done`
    lists for a done capture, and its `amount_received`, for the router to compare."""
    peer.answer(
        400,
        unexpected_state(
            "captured", "succeeded", amount=1050, amount_received=1050, currency="eur"
        ),
    )
    reply = await adapter.capture(HANDLE, EUR, idempotency_key=KEY)
    assert reply.failure_kind is FailureKind.INVALID_REQUEST
    assert reply.provider_code == "payment_intent_unexpected_state:succeeded"
    assert (reply.provider_reference, reply.amount) == (PI, EUR)
    assert ("capture", reply.provider_code) in adapter.resolution.already_done


@pytest.mark.parametrize("status", ["canceled", "requires_payment_method"])
async def test_a_capture_refused_for_an_intent_that_cannot_be_captured_is_never_done(
    adapter: StripeAdapter, peer: ScriptedProvider, status: str
) -> None:
    """The same code for an intent that was never captured: refused, and not listed."""
    answered = unexpected_state("captured", status, amount=1050, amount_received=0, currency="eur")
    peer.answer(400, answered)
    reply = await adapter.capture(HANDLE, EUR, idempotency_key=KEY)
    assert reply.provider_code == f"payment_intent_unexpected_state:{status}"
    assert (reply.failure_kind, reply.amount) == (FailureKind.INVALID_REQUEST, None)
    assert ("capture", reply.provider_code) not in adapter.resolution.already_done


async def test_a_cancel_refused_for_an_intent_already_canceled_is_listed_as_done(
    adapter: StripeAdapter, peer: ScriptedProvider
) -> None:
    """A cancel answered with the intent `canceled` names it; a `succeeded` one is refused."""
    peer.answer(400, unexpected_state("canceled", "canceled"))
    canceled = await adapter.void(HANDLE, idempotency_key=KEY)
    peer.answer(400, unexpected_state("canceled", "succeeded"))
    captured = await adapter.void(HANDLE, idempotency_key=KEY)
    assert ("void", canceled.provider_code) in adapter.resolution.already_done
    assert ("void", captured.provider_code) not in adapter.resolution.already_done
    assert captured.failure_kind is FailureKind.INVALID_REQUEST


async def test_refund_posts_intent_amount_and_metadata(
    adapter: StripeAdapter, peer: ScriptedProvider
) -> None:
    """A refund names the intent and amount; its own key and the order ride in metadata."""
    peer.answer(200, refund())
    reply = await adapter.refund(
        HANDLE, Money(minor_units=300, currency="EUR"), idempotency_key="refund-key", reason=None
    )
    assert peer.last.url.path == "/v1/refunds"
    assert peer.last_form == {
        "payment_intent": PI,
        "amount": "300",
        "metadata[payrouter_reference]": "refund-key",
        "metadata[order_id]": "order-1",
    }
    assert reply == ProviderReply.succeeded("re_1", provider_code="succeeded", http_status=200)


async def test_refund_reason_uses_stripes_enum_or_metadata(
    adapter: StripeAdapter, peer: ScriptedProvider
) -> None:
    """Stripe's own reasons go in `reason`; free text goes in metadata instead."""
    peer.answer(200, refund())
    await adapter.refund(HANDLE, EUR, idempotency_key=KEY, reason="requested_by_customer")
    assert peer.last_form["reason"] == "requested_by_customer"
    peer.answer(200, refund())
    await adapter.refund(HANDLE, EUR, idempotency_key=KEY, reason="size did not fit")
    assert "reason" not in peer.last_form
    assert peer.last_form["metadata[reason]"] == "size did not fit"


@pytest.mark.parametrize(("status", "row"), sorted(REFUND_STATUSES.items()))
async def test_each_refund_status_row(
    adapter: StripeAdapter, peer: ScriptedProvider, status: str, row: Any
) -> None:
    """Every refund status yields its outcome, with the refund id as reference."""
    peer.answer(200, refund(status))
    reply = await adapter.refund(HANDLE, EUR, idempotency_key=KEY, reason=None)
    assert reply.outcome is row.outcome
    assert reply.provider_reference == "re_1"


@pytest.mark.parametrize(("reason", "kind"), sorted(REFUND_FAILURES.items()))
async def test_each_refund_failure_row(
    adapter: StripeAdapter, peer: ScriptedProvider, reason: str, kind: FailureKind
) -> None:
    """A failed refund's failure_reason picks its kind."""
    peer.answer(200, refund("failed", failure_reason=reason))
    reply = await adapter.refund(HANDLE, EUR, idempotency_key=KEY, reason=None)
    assert reply.failure_kind is kind
    assert reply.provider_code == reason


async def test_unmapped_refund_failure_is_a_decline_warned_once(
    adapter: StripeAdapter, peer: ScriptedProvider, caplog: pytest.LogCaptureFixture
) -> None:
    """A failure reason no row knows still fails the refund, and names the missing row."""
    caplog.set_level(logging.WARNING, logger=LOGGER)
    reason = unique("new_reason")
    peer.answer(200, refund("failed", failure_reason=reason))
    reply = await adapter.refund(HANDLE, EUR, idempotency_key=KEY, reason=None)
    assert reply.failure_kind is FailureKind.CARD_DECLINED
    assert warned(caplog, f"failure_reason:{reason}") == 1


@pytest.mark.parametrize("operation", ["capture", "refund", "void"])
async def test_follow_up_without_intent_id_is_not_found_without_a_call(
    adapter: StripeAdapter, peer: ScriptedProvider, operation: str
) -> None:
    """Follow-ups address the intent by id; without one, nothing is sent."""
    calls: dict[str, Call] = {
        "capture": lambda a, k: a.capture(NO_PI, EUR, idempotency_key=k),
        "refund": lambda a, k: a.refund(NO_PI, EUR, idempotency_key=k, reason=None),
        "void": lambda a, k: a.void(NO_PI, idempotency_key=k),
    }
    reply = await calls[operation](adapter, KEY)
    assert peer.requests == []
    assert reply.failure_kind is FailureKind.NOT_FOUND
    assert reply.provider_code == "no_payment_intent"


async def test_cancel_mandate_detaches_the_saved_card(
    adapter: StripeAdapter, peer: ScriptedProvider
) -> None:
    """Detaching the PaymentMethod from its customer stops further charges on it."""
    peer.answer(200, {"id": "pm_saved", "object": "payment_method", "customer": None})
    reply = await adapter.cancel_mandate("pm_saved", idempotency_key=KEY)
    assert peer.last.url.path == "/v1/payment_methods/pm_saved/detach"
    assert reply == ProviderReply.succeeded("pm_saved", provider_code="detached", http_status=200)


async def test_cancel_mandate_of_unknown_method_is_not_found(
    adapter: StripeAdapter, peer: ScriptedProvider
) -> None:
    """No such PaymentMethod: NOT_FOUND."""
    peer.answer(404, error("invalid_request_error", code="resource_missing"))
    reply = await adapter.cancel_mandate("pm_gone", idempotency_key=KEY)
    assert reply.failure_kind is FailureKind.NOT_FOUND


# --- transport --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "failure",
    [
        httpx.ConnectTimeout("connect timed out"),
        httpx.ConnectError("refused"),
        httpx.ReadTimeout("read timed out"),
        httpx.RemoteProtocolError("reset"),
    ],
    ids=["connect-timeout", "connect-error", "read-timeout", "reset"],
)
@pytest.mark.parametrize("operation", sorted(EVERY_CALL))
async def test_transport_errors_propagate_for_the_router_to_map(
    adapter: StripeAdapter, peer: ScriptedProvider, operation: str, failure: httpx.TransportError
) -> None:
    """Connect and read failures are raised unchanged: the router alone decides their outcome."""
    peer.fail(failure)
    with pytest.raises(type(failure)):
        await EVERY_CALL[operation](adapter, KEY)


def _request_fields(node: object, path: str = "") -> Iterator[str]:
    """Every parameter path of a request schema (`payment_method_options/card/network`)."""
    if isinstance(node, dict):
        for key, value in node.get("properties", {}).items():
            yield f"{path}/{key}"
            yield from _request_fields(value, f"{path}/{key}")
        for branch in node.get("anyOf", []):
            yield from _request_fields(branch, path)


def test_stripe_takes_no_network_tokens_because_its_api_has_no_field_for_them() -> None:
    """Stripe's public PaymentIntent and PaymentMethod APIs take no token PAN or cryptogram, so
    a network-token card is never sent to Stripe (the router skips it, with the reason)."""
    spec_file = SPECS_DIR / "stripe" / "spec3.json"
    if not spec_file.exists():
        pytest.skip(f"Stripe spec absent at {spec_file}")
    paths = json.loads(spec_file.read_text())["paths"]
    fields = [
        field
        for path in ("/v1/payment_intents", "/v1/payment_methods")
        for field in _request_fields(
            paths[path]["post"]["requestBody"]["content"]["application/x-www-form-urlencoded"][
                "schema"
            ]
        )
    ]
    assert "/payment_method_options/card/network" in fields  # the walk reaches card options
    assert not [f for f in fields if "network_token" in f or "cryptogram" in f]
    assert StripeAdapter.default_capabilities.credentials.network_tokens is False


async def test_a_wallet_card_token_is_made_into_a_payment_method_before_the_intent(
    adapter: StripeAdapter, peer: ScriptedProvider
) -> None:
    """A legacy `tok_...` of the Google Pay sheet: `POST /v1/payment_methods` with
    `card[token]` under a key derived from the attempt's, then the intent paid with its pm."""
    peer.answer(200, {"id": "pm_1MadeOfToken", "object": "payment_method", "type": "card"})
    peer.answer(200, intent())
    source = WalletSource(wallet="googlepay", account=SecretStr("tok_1LegacyToken"))
    reply = await adapter.pay(charge(source), idempotency_key=KEY)
    made, paid = peer.requests
    assert reply.outcome is Outcome.SUCCEEDED
    assert (made.url.path, made.headers["Idempotency-Key"]) == ("/v1/payment_methods", f"{KEY}:pm")
    assert dict(parse_qsl(made.content.decode())) == {
        "type": "card",
        "card[token]": "tok_1LegacyToken",
    }
    assert (paid.url.path, peer.last_form["payment_method"]) == (
        "/v1/payment_intents",
        "pm_1MadeOfToken",
    )


async def test_a_payment_method_step_that_fails_is_definite_and_sends_no_intent(
    adapter: StripeAdapter, peer: ScriptedProvider
) -> None:
    """Making a PaymentMethod moves no money: a 500 there is busy (never unknown), and the
    intent is not sent."""
    peer.answer(500, {"error": {"type": "api_error", "message": "boom"}})
    source = WalletSource(wallet="applepay", account=SecretStr("tok_1LegacyToken"))
    reply = await adapter.pay(charge(source), idempotency_key=KEY)
    assert len(peer.requests) == 1
    assert reply.failure_kind is FailureKind.BUSY
