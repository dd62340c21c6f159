"""The Stripe adapter drives a stateful Stripe stand-in (localstripe) through whole flows.

Prism proves request shapes; localstripe keeps state, so a capture finds the authorization it
captures and a lookup finds the intent `pay` created. Its differences from Stripe (see
CI-RECIPES.md): declines are 402 with type invalid_request_error and no intent inside,
3-D Secure answers next_action=use_stripe_sdk (no redirect URL), refunds take no `reason`,
search is not implemented, and Idempotency-Key is ignored, so no test here relies on replay.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr

from payrouter import CardSource, Money, PaymentMethod
from payrouter.provider import Charge, FailureKind, Outcome, PaymentHandle, ProviderReply
from payrouter_adapters.stripe import StripeAdapter
from tests.peers import localstripe

pytestmark = [pytest.mark.slow, pytest.mark.peer("localstripe")]

API_KEY = "sk_test_localstripe"
EUR = Money(minor_units=2500, currency="EUR")
DECLINING_CARD = "4000000000000341"
THREE_D_SECURE_CARD = "4000002500003155"


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with localstripe(Path(tmp_path_factory.mktemp("localstripe"))) as url:
        yield url


@pytest.fixture
async def adapter(root: str) -> AsyncIterator[StripeAdapter]:
    built = StripeAdapter.from_options(
        name="stripe", capabilities=None, options={"base_url": root, "api_key": API_KEY}
    )
    yield built
    await built.aclose()


async def card_payment_method(root: str, number: str) -> str:
    """A PaymentMethod for a test card number, made directly (the router never sees numbers)."""
    card = {"number": number, "exp_month": "12", "exp_year": "2030", "cvc": "123"}
    async with httpx.AsyncClient(base_url=root) as client:
        response = await client.post(
            "/v1/payment_methods",
            headers={"Authorization": f"Bearer {API_KEY}"},
            data={"type": "card", **{f"card[{key}]": value for key, value in card.items()}},
        )
    response.raise_for_status()
    method_id: str = response.json()["id"]
    return method_id


def charge(token: str, *, capture: bool = True, reference: str = "attempt-1") -> Charge:
    return Charge(
        reference=reference,
        order_id="order-1",
        amount=EUR,
        source=CardSource(token=SecretStr(token)),
        customer_country="DE",
        capture=capture,
    )


def handle(reply: ProviderReply) -> PaymentHandle:
    return PaymentHandle("attempt-1", "order-1", PaymentMethod.CARD, EUR, reply.provider_reference)


async def test_visa_payment_succeeds_and_is_found_by_lookup(adapter: StripeAdapter) -> None:
    """pm_card_visa is taken at once; looking it up by intent id says the same."""
    reply = await adapter.pay(charge("pm_card_visa"), idempotency_key="ls-visa")
    assert reply.outcome is Outcome.SUCCEEDED
    assert reply.provider_code == "succeeded"
    assert reply.provider_reference is not None
    assert reply.provider_reference.startswith("pi_")
    assert await adapter.lookup(handle(reply)) == reply


async def test_named_declining_method_is_a_card_decline(adapter: StripeAdapter) -> None:
    """pm_card_chargeCustomerFail: a 402 card_declined, a definite decline."""
    reply = await adapter.pay(charge("pm_card_chargeCustomerFail"), idempotency_key="ls-fail")
    assert reply.outcome is Outcome.FAILED
    assert reply.failure_kind is FailureKind.CARD_DECLINED
    assert reply.provider_code == "card_declined"
    assert reply.http_status == 402


async def test_declining_card_number_is_a_card_decline(adapter: StripeAdapter, root: str) -> None:
    """A PaymentMethod made from 4000000000000341 declines the same way."""
    method = await card_payment_method(root, DECLINING_CARD)
    reply = await adapter.pay(charge(method), idempotency_key="ls-0341")
    assert reply.failure_kind is FailureKind.CARD_DECLINED


async def test_3ds_card_requires_action(adapter: StripeAdapter, root: str) -> None:
    """4000002500003155 needs 3-D Secure: requires_action, and lookup agrees."""
    method = await card_payment_method(root, THREE_D_SECURE_CARD)
    reply = await adapter.pay(charge(method), idempotency_key="ls-3ds")
    assert reply.outcome is Outcome.REQUIRES_ACTION
    assert reply.provider_code == "use_stripe_sdk"
    looked_up = await adapter.lookup(handle(reply))
    assert looked_up.outcome is Outcome.REQUIRES_ACTION


async def test_authorization_then_manual_capture(adapter: StripeAdapter) -> None:
    """capture=False holds the funds (requires_capture); capture then takes them."""
    authorized = await adapter.pay(charge("pm_card_visa", capture=False), idempotency_key="ls-a")
    assert authorized.outcome is Outcome.SUCCEEDED
    assert authorized.provider_code == "requires_capture"
    captured = await adapter.capture(handle(authorized), EUR, idempotency_key="ls-cap")
    assert captured == ProviderReply.succeeded(
        authorized.provider_reference or "", provider_code="succeeded", http_status=200
    )
    looked_up = await adapter.lookup(handle(authorized))
    assert looked_up.provider_code == "succeeded"


async def test_void_releases_an_authorization(adapter: StripeAdapter) -> None:
    """An uncaptured authorization is canceled; lookup then reads it as not taken."""
    authorized = await adapter.pay(charge("pm_card_visa", capture=False), idempotency_key="ls-v")
    voided = await adapter.void(handle(authorized), idempotency_key="ls-void")
    assert voided.outcome is Outcome.SUCCEEDED
    assert voided.provider_code == "canceled"
    looked_up = await adapter.lookup(handle(authorized))
    assert looked_up.outcome is Outcome.FAILED


async def test_partial_refund_of_a_captured_payment(adapter: StripeAdapter) -> None:
    """A refund of part of a captured payment succeeds with its own re_ id."""
    paid = await adapter.pay(charge("pm_card_visa"), idempotency_key="ls-r")
    part = Money(minor_units=1000, currency="EUR")
    refunded = await adapter.refund(handle(paid), part, idempotency_key="ls-ref", reason=None)
    assert refunded.outcome is Outcome.SUCCEEDED
    assert refunded.provider_reference is not None
    assert refunded.provider_reference.startswith("re_")


async def test_lookup_of_an_unknown_intent_is_not_found(adapter: StripeAdapter) -> None:
    """An intent id localstripe never issued: NOT_FOUND."""
    missing = PaymentHandle("attempt-1", "order-1", PaymentMethod.CARD, EUR, "pi_missing")
    reply = await adapter.lookup(missing)
    assert reply.failure_kind is FailureKind.NOT_FOUND


async def test_cancel_mandate_detaches_a_saved_card(adapter: StripeAdapter, root: str) -> None:
    """Detaching a PaymentMethod answers succeeded with its id."""
    method = await card_payment_method(root, "4242424242424242")
    reply = await adapter.cancel_mandate(method, idempotency_key="ls-detach")
    assert reply == ProviderReply.succeeded(method, provider_code="detached", http_status=200)
