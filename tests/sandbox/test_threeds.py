"""3-D Secure through the Router with the real adapters against the providers' stand-ins: a
card that needs authentication waits for the customer (`requires_action`) at the provider
that asked, is never sent to another provider, and completes or declines afterwards."""

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
from payrouter.provider import FailureKind, Outcome
from payrouter_lab.sandbox import Sandbox
from tests.sandbox.kit import adyen_adapter, books, charge, handle, stripe_adapter

pytestmark = pytest.mark.asyncio(loop_scope="session")

RETURN_URL = "https://shop.example/back"
CHALLENGED = "pm_card_threeDSecure2Required"


@pytest_asyncio.fixture(loop_scope="session")
async def router(sandbox: Sandbox) -> AsyncIterator[Router]:
    """Stripe first, Adyen second: both take cards, so a failover would reach Adyen."""
    adapters = [stripe_adapter(sandbox, return_url=RETURN_URL), adyen_adapter(sandbox)]
    async with Router(adapters, ledger="sqlite://", hooks=()) as built:
        yield built


def card_payment(order_id: str, token: str) -> PaymentRequest:
    """A card tokenized at both providers (Adyen's a good card), so that only the rule, not a
    missing credential, keeps a challenged card away from Adyen."""
    tokens = {"stripe": SecretStr(token), "adyen": SecretStr("stored_card_1")}
    return PaymentRequest(
        order_id=order_id,
        amount=Money.of("10.50", "EUR"),
        sources=[CardSource(tokens=tokens)],
        customer_country="DE",
        customer_id="shopper-1",
    )


async def stripe_confirm(sandbox: Sandbox, intent_id: str, **form: str) -> dict[str, object]:
    """What the checkout's Stripe.js does once the customer is back: confirm the intent."""
    async with httpx.AsyncClient(
        base_url=sandbox.urls["stripe"], headers={"Authorization": "Bearer sk_x"}
    ) as stripe:
        response = await stripe.post(f"/v1/payment_intents/{intent_id}/confirm", data=form)
    assert response.status_code == 200, response.text
    body: dict[str, object] = response.json()
    return body


async def challenge(url: str, *, passed: bool = True) -> None:
    """The customer on the issuer's challenge page."""
    async with httpx.AsyncClient() as browser:
        page = await browser.get(url, params=None if passed else {"outcome": "fail"})
    assert page.status_code == 200


async def test_a_challenge_is_requires_action_and_never_reaches_another_provider(
    router: Router, admin: httpx.AsyncClient
) -> None:
    """Stripe asks for 3-D Secure: the payment waits for the customer there, with the
    challenge's URL; Adyen, next in line for cards, is never called."""
    result = await router.pay(card_payment("o-3ds", CHALLENGED))
    assert result.status is PaymentStatus.REQUIRES_ACTION
    assert result.provider == "stripe"
    assert result.action_url is not None
    assert "/sandbox/3ds/" in result.action_url
    assert [a.provider for a in result.attempts] == ["stripe"]
    assert (await books(admin, "adyen"))["entries"] == []


async def test_a_passed_challenge_is_succeeded_on_refresh(router: Router) -> None:
    """The customer passes the challenge and returns: refresh asks Stripe, which took it."""
    result = await router.pay(card_payment("o-pass", CHALLENGED))
    assert result.action_url is not None
    await challenge(result.action_url)
    refreshed = await router.refresh("o-pass")
    assert refreshed is not None
    assert refreshed.status is PaymentStatus.SUCCEEDED
    assert refreshed.provider_reference == result.provider_reference


async def test_a_failed_challenge_is_declined_and_no_other_provider_is_tried(
    router: Router, admin: httpx.AsyncClient
) -> None:
    """The customer fails the challenge: declined for authentication, nothing charged, and
    the card is not sent to Adyen unauthenticated."""
    result = await router.pay(card_payment("o-fail", CHALLENGED))
    assert result.action_url is not None
    await challenge(result.action_url, passed=False)
    refreshed = await router.refresh("o-fail")
    assert refreshed is not None
    assert refreshed.status is PaymentStatus.DECLINED
    assert refreshed.failure_kind is FailureKind.AUTHENTICATION_FAILED
    assert [a.provider for a in refreshed.attempts] == ["stripe"]
    assert (await books(admin, "stripe"))["entries"] == []
    assert (await books(admin, "adyen"))["entries"] == []


async def off_session(router: Router, order_id: str) -> PaymentResult:
    return await router.pay(
        PaymentRequest(
            order_id=order_id,
            amount=Money.of("10.50", "EUR"),
            mandate=Mandate(provider="stripe", mandate_id=CHALLENGED, method=PaymentMethod.CARD),
            customer_country="DE",
            customer_id="cus_Saved1",
        )
    )


async def test_an_off_session_charge_needing_authentication_waits_for_the_customer(
    router: Router, sandbox: Sandbox, admin: httpx.AsyncClient
) -> None:
    """A saved card charged without the customer, whose issuer wants 3-D Secure: Stripe
    declines it with `authentication_required` and keeps the intent. The payment is
    requires_action on that intent (no URL: the customer must be brought back), and once
    the customer confirms and passes the challenge, refresh finds it succeeded."""
    result = await off_session(router, "o-mit")
    assert (result.status, result.provider, result.action_url) == (
        PaymentStatus.REQUIRES_ACTION,
        "stripe",
        None,
    )
    assert result.attempts[-1].provider_code == "authentication_required"
    assert result.provider_reference is not None
    again = await router.refresh("o-mit")  # the customer is not back yet
    assert again is not None
    assert again.status is PaymentStatus.REQUIRES_ACTION
    confirmed = await stripe_confirm(
        sandbox, result.provider_reference, payment_method=CHALLENGED, return_url=RETURN_URL
    )
    next_action = confirmed["next_action"]
    assert isinstance(next_action, dict)
    await challenge(next_action["redirect_to_url"]["url"])
    done = await router.refresh("o-mit")
    assert done is not None
    assert done.status is PaymentStatus.SUCCEEDED
    assert [e["kind"] for e in (await books(admin, "stripe"))["entries"]] == ["charge"]  # type: ignore[union-attr]


async def test_stand_in_declines_off_session_authentication_as_stripe_does(
    sandbox: Sandbox,
) -> None:
    """Off session, Stripe's 3-D Secure test cards answer 402 `authentication_required`, the
    intent back in requires_payment_method; on session, Stripe.js gets `use_stripe_sdk`."""
    client = stripe_adapter(sandbox)
    off = await client.pay(
        charge("stripe", "o1", token=CHALLENGED, customer_id="cus_Saved1", off_session=True),
        idempotency_key="k1",
    )
    on = await client.pay(charge("stripe", "o2", token=CHALLENGED), idempotency_key="k2")
    looked = await client.lookup(handle(off, "o1"))
    await client.aclose()
    assert (off.outcome, off.http_status, off.provider_code) == (
        Outcome.REQUIRES_ACTION,
        402,
        "authentication_required",
    )
    assert looked.outcome is Outcome.REQUIRES_ACTION
    assert (on.outcome, on.action_url, on.provider_code) == (
        Outcome.REQUIRES_ACTION,
        None,
        "use_stripe_sdk",
    )


@pytest.mark.parametrize(
    "token",
    ["pm_card_authenticationRequiredOnSetup", "pm_card_authenticationRequiredSetupForOffSession"],
)
async def test_cards_set_up_for_later_are_challenged_only_on_session(
    sandbox: Sandbox, token: str
) -> None:
    """Stripe's cards set up for off-session use: challenged with the customer there, charged
    without them (the stand-in counts every saved card as set up)."""
    client = stripe_adapter(sandbox, return_url=RETURN_URL)
    on = await client.pay(charge("stripe", "o1", token=token), idempotency_key="k1")
    off = await client.pay(
        charge("stripe", "o2", token=token, customer_id="cus_Saved1", off_session=True),
        idempotency_key="k2",
    )
    await client.aclose()
    assert on.outcome is Outcome.REQUIRES_ACTION
    assert off.outcome is Outcome.SUCCEEDED


async def test_a_card_declined_after_authentication_is_declined_for_its_reason(
    sandbox: Sandbox, admin: httpx.AsyncClient
) -> None:
    """`pm_card_authenticationRequiredChargeDeclinedInsufficientFunds`: challenged, and once
    the customer passed, declined for insufficient funds; nothing is booked."""
    client = stripe_adapter(sandbox, return_url=RETURN_URL)
    token = "pm_card_authenticationRequiredChargeDeclinedInsufficientFunds"
    reply = await client.pay(charge("stripe", token=token), idempotency_key="k1")
    assert reply.action_url is not None
    await challenge(reply.action_url)
    looked = await client.lookup(handle(reply))
    await client.aclose()
    assert looked.failure_kind is FailureKind.INSUFFICIENT_FUNDS
    assert (await books(admin, "stripe"))["entries"] == []
