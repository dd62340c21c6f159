"""A payment waiting for 3-D Secure carries what the checkout's front end needs, through the
real adapters against the stand-ins: Stripe's client secret for Stripe.js (with or without a
redirect URL), Adyen's action object for its Drop-in; and the ledger gives it back on `get`,
`refresh` and a second `pay` of the order."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
import pytest_asyncio
from pydantic import SecretStr

from payrouter import (
    CardSource,
    Mandate,
    Money,
    PaymentMethod,
    PaymentRequest,
    PaymentResult,
    PaymentStatus,
    Router,
)
from payrouter_lab.sandbox import Sandbox
from tests.sandbox.kit import adyen_adapter, stripe_adapter

pytestmark = pytest.mark.asyncio(loop_scope="session")

RETURN_URL = "https://shop.example/back"
CHALLENGED = "pm_card_threeDSecure2Required"


@pytest_asyncio.fixture(loop_scope="session")
async def sdk_router(sandbox: Sandbox) -> AsyncIterator[Router]:
    """Stripe without a return URL (Stripe.js finishes challenges), Adyen second."""
    adapters = [stripe_adapter(sandbox), adyen_adapter(sandbox)]
    async with Router(adapters, ledger="sqlite://", hooks=()) as built:
        yield built


@pytest_asyncio.fixture(loop_scope="session")
async def redirect_router(sandbox: Sandbox) -> AsyncIterator[Router]:
    adapters = [stripe_adapter(sandbox, return_url=RETURN_URL), adyen_adapter(sandbox)]
    async with Router(adapters, ledger="sqlite://", hooks=()) as built:
        yield built


def card(order_id: str, tokens: dict[str, str]) -> PaymentRequest:
    return PaymentRequest(
        order_id=order_id,
        amount=Money.of("10.50", "EUR"),
        sources=[CardSource(tokens={name: SecretStr(t) for name, t in tokens.items()})],
        customer_country="DE",
        customer_id="shopper-1",
    )


async def intent_secret(sandbox: Sandbox, intent_id: str) -> str:
    """The PaymentIntent's client secret, as Stripe itself holds it."""
    async with httpx.AsyncClient(
        base_url=sandbox.urls["stripe"], headers={"Authorization": "Bearer sk_x"}
    ) as stripe:
        response = await stripe.get(f"/v1/payment_intents/{intent_id}")
    secret = response.json()["client_secret"]
    assert isinstance(secret, str)
    return secret


def secret_of(result: PaymentResult) -> str | None:
    assert result.action is not None
    secret = result.action.client_secret
    return None if secret is None else secret.get_secret_value()


async def test_use_stripe_sdk_hands_the_checkout_the_intents_client_secret(
    sdk_router: Router, sandbox: Sandbox
) -> None:
    """Without a return URL Stripe answers `use_stripe_sdk` (no URL): the action is for
    Stripe.js, with the intent's own client secret, and it never shows in a repr."""
    result = await sdk_router.pay(card("o-sdk", {"stripe": CHALLENGED}))
    assert result.status is PaymentStatus.REQUIRES_ACTION
    assert result.action is not None
    assert result.provider_reference is not None
    assert (result.action.kind, result.action.provider_type, result.action.url) == (
        "sdk",
        "use_stripe_sdk",
        None,
    )
    secret = await intent_secret(sandbox, result.provider_reference)
    assert secret_of(result) == secret
    assert secret not in repr(result)
    assert result.attempts[-1].action == result.action


async def test_the_action_is_given_back_by_lookup_a_second_pay_and_refresh(
    sdk_router: Router, sandbox: Sandbox
) -> None:
    """A reloaded checkout page finds the same action: the ledger keeps it with the attempt."""
    request = card("o-again", {"stripe": CHALLENGED})
    first = await sdk_router.pay(request)
    assert first.provider_reference is not None
    secret = await intent_secret(sandbox, first.provider_reference)
    read = await sdk_router.lookup("o-again")
    replayed = await sdk_router.pay(request)
    refreshed = await sdk_router.refresh("o-again")  # the customer is not back yet
    for result in (read, replayed, refreshed):
        assert result is not None
        assert result.status is PaymentStatus.REQUIRES_ACTION
        assert result.action is not None
        assert result.action.kind == "sdk"
        assert secret_of(result) == secret


async def test_a_stripe_redirect_carries_its_url_and_the_client_secret(
    redirect_router: Router, sandbox: Sandbox
) -> None:
    """With a return URL Stripe answers `redirect_to_url`: a plain redirect, whose URL is
    also `action_url`; the client secret comes too, for a checkout using Stripe.js."""
    result = await redirect_router.pay(card("o-redirect", {"stripe": CHALLENGED}))
    assert result.action is not None
    assert result.provider_reference is not None
    assert (result.action.kind, result.action.provider_type) == (
        "redirect",
        "redirect_to_url",
    )
    assert result.action.url == result.action_url
    assert result.action_url is not None
    assert "/sandbox/3ds/" in result.action_url
    assert secret_of(result) == await intent_secret(sandbox, result.provider_reference)


async def test_an_off_session_authentication_required_is_for_stripe_js_to_confirm(
    redirect_router: Router, sandbox: Sandbox
) -> None:
    """Stripe's `authentication_required` on a saved card keeps the intent for the customer:
    the action has no URL, only the client secret `stripe.confirmCardPayment` takes."""
    result = await redirect_router.pay(
        PaymentRequest(
            order_id="o-mit-action",
            amount=Money.of("10.50", "EUR"),
            mandate=Mandate(provider="stripe", mandate_id=CHALLENGED, method=PaymentMethod.CARD),
            customer_country="DE",
            customer_id="cus_Saved1",
        )
    )
    assert result.status is PaymentStatus.REQUIRES_ACTION
    assert result.action is not None
    assert result.provider_reference is not None
    assert (result.action.kind, result.action.provider_type, result.action.url) == (
        "sdk",
        "authentication_required",
        None,
    )
    assert secret_of(result) == await intent_secret(sandbox, result.provider_reference)


async def test_adyen_hands_the_drop_in_its_action_object_as_sent(sdk_router: Router) -> None:
    """Adyen's challenge: the action object goes to the front end whole (Drop-in's
    `createFromAction`), and its GET redirect is also a plain redirect URL."""
    result = await sdk_router.pay(card("o-adyen", {"adyen": "3ds2_visa"}))
    assert result.status is PaymentStatus.REQUIRES_ACTION
    assert result.provider == "adyen"
    action = result.action
    assert action is not None
    assert action.provider_data is not None
    assert (action.kind, action.provider_type) == ("redirect", "redirect")
    assert action.provider_data == {
        "type": "redirect",
        "method": "GET",
        "paymentMethodType": "scheme",
        "url": result.action_url,
    }
    assert action.client_secret is None
    read = await sdk_router.lookup("o-adyen")
    assert read is not None
    assert read.action == action
