"""3-D Secure step-up against the Adyen stand-in, through the real adapters and the Router: a
merchant that skips 3-D Secure where Adyen may (`attempt_authentication: never`) gets refusal
38 from an issuer that wants it; with 3-D Secure enabled for Adyen (`three_d_secure`), the
router resends to Adyen asking for it, under a key of its own, and the payment waits for the
customer instead of ending declined. Never another provider, and never for a payment without
the customer."""

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
    PaymentStatus,
    ProviderRouting,
    Router,
    RoutingPolicy,
)
from payrouter.provider import FailureKind, Outcome
from payrouter_lab.sandbox import Sandbox
from tests.sandbox.kit import adyen_adapter, books, stripe_adapter

pytestmark = pytest.mark.asyncio(loop_scope="session")

CHALLENGED = "3ds2_visa"
"""A card stored from one of Adyen's 3-D Secure 2 test cards: its issuer wants authentication."""


def routing(*, three_d_secure: bool) -> RoutingPolicy:
    return RoutingPolicy(providers={"adyen": ProviderRouting(three_d_secure=three_d_secure)})


@pytest_asyncio.fixture(loop_scope="session")
async def stepping(sandbox: Sandbox) -> AsyncIterator[Router]:
    """Adyen skipping 3-D Secure where it may, with 3-D Secure enabled; Stripe second."""
    adapters = [adyen_adapter(sandbox, attempt_authentication="never"), stripe_adapter(sandbox)]
    policy = routing(three_d_secure=True)
    async with Router(adapters, ledger="sqlite://", hooks=(), routing=policy) as built:
        yield built


def card_payment(order_id: str) -> PaymentRequest:
    """Tokenized at both providers: only the rule, not a missing credential, keeps Stripe out."""
    return PaymentRequest(
        order_id=order_id,
        amount=Money.of("10.50", "EUR"),
        sources=[
            CardSource(tokens={"adyen": SecretStr(CHALLENGED), "stripe": SecretStr("pm_card_visa")})
        ],
        customer_country="DE",
        customer_id="shopper-1",
    )


async def test_refusal_38_is_resent_asking_for_authentication_and_waits_for_the_customer(
    stepping: Router, admin: httpx.AsyncClient
) -> None:
    """Refused 38, then the same card at Adyen with `attemptAuthentication: always`: the
    challenge (requires_action, with its action), under a new attempt and key; Stripe,
    next in line for the card, is never called and nothing is booked anywhere yet."""
    result = await stepping.pay(card_payment("o-step"))
    assert result.status is PaymentStatus.REQUIRES_ACTION
    assert [(a.provider, a.outcome, a.provider_code) for a in result.attempts] == [
        ("adyen", Outcome.FAILED, "38"),
        ("adyen", Outcome.REQUIRES_ACTION, "RedirectShopper"),
    ]
    first, second = result.attempts
    assert first.idempotency_key != second.idempotency_key
    assert result.action is not None
    assert result.action_url is not None
    assert (await books(admin, "stripe"))["entries"] == []
    assert (await books(admin, "adyen"))["entries"] == []


async def test_the_stepped_up_challenge_completes_on_return(
    stepping: Router, admin: httpx.AsyncClient
) -> None:
    """The customer passes the challenge and comes back: Adyen authorises, once."""
    result = await stepping.pay(card_payment("o-step-done"))
    assert result.action_url is not None
    async with httpx.AsyncClient() as browser:
        assert (await browser.get(result.action_url)).status_code == 200
    done = await stepping.refresh(
        "o-step-done", details={"redirectResult": str(result.provider_reference)}
    )
    assert done is not None
    assert done.status is PaymentStatus.SUCCEEDED
    assert len((await books(admin, "adyen"))["entries"]) == 1  # type: ignore[arg-type]


async def test_a_merchant_initiated_payment_stays_declined_with_its_reason(
    stepping: Router,
) -> None:
    """A mandate's charge has nobody to authenticate: refusal 38 stands, one attempt."""
    result = await stepping.pay(
        PaymentRequest(
            order_id="o-step-mit",
            amount=Money.of("10.50", "EUR"),
            mandate=Mandate(provider="adyen", mandate_id=CHALLENGED, method=PaymentMethod.CARD),
            customer_country="DE",
            customer_id="shopper-1",
        )
    )
    assert result.status is PaymentStatus.DECLINED
    assert result.failure_kind is FailureKind.AUTHENTICATION_REQUIRED
    assert [a.provider for a in result.attempts] == ["adyen"]


async def test_without_three_d_secure_enabled_refusal_38_is_a_decline(
    sandbox: Sandbox, admin: httpx.AsyncClient
) -> None:
    """The merchant did not enable 3-D Secure for Adyen: no step-up, declined saying so."""
    adapters = [adyen_adapter(sandbox, attempt_authentication="never"), stripe_adapter(sandbox)]
    policy = routing(three_d_secure=False)
    async with Router(adapters, ledger="sqlite://", hooks=(), routing=policy) as router:
        result = await router.pay(card_payment("o-no-step"))
    assert result.status is PaymentStatus.DECLINED
    assert result.failure_kind is FailureKind.AUTHENTICATION_REQUIRED
    assert [a.provider for a in result.attempts] == ["adyen"]
    assert (await books(admin, "stripe"))["entries"] == []


async def test_an_adyen_charging_stored_cards_merchant_initiated_never_steps_up(
    sandbox: Sandbox,
) -> None:
    """With a merchant-initiated recurring model every stored card goes out ContAuth: the
    adapter declares no step-up, so refusal 38 is one attempt, not a second futile one."""
    adyen = adyen_adapter(sandbox, recurring_processing_model="UnscheduledCardOnFile")
    assert not adyen.capabilities.step_up
    policy = routing(three_d_secure=True)
    async with Router([adyen], ledger="sqlite://", hooks=(), routing=policy) as router:
        result = await router.pay(card_payment("o-mit-model"))
    assert result.status is PaymentStatus.DECLINED
    assert [a.provider_code for a in result.attempts] == ["38"]
