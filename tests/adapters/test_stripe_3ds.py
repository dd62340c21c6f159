"""Stripe's 3-D Secure answers: a card that needs authentication waits for the customer at
Stripe (`requires_action`), and only a failed authentication is a decline."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from pydantic import SecretStr

from payrouter import CardSource, Money, PaymentMethod
from payrouter.provider import (
    Charge,
    DeclineType,
    FailureKind,
    NextAction,
    Outcome,
    PaymentHandle,
    ProviderReply,
)
from payrouter.testing import ScriptedProvider
from payrouter_adapters.stripe import StripeAdapter
from payrouter_adapters.stripe._codes import (
    AWAITING_AUTHENTICATION,
    DECLINE_CODES,
    DECLINE_TYPES,
    ERROR_CODES,
)

PI = "pi_3Auth0001"
EUR = Money(minor_units=1050, currency="EUR")
HANDLE = PaymentHandle("attempt-1", "order-1", PaymentMethod.CARD, EUR, PI)
PROBLEM = {
    "type": "card_error",
    "code": "authentication_required",
    "decline_code": "authentication_required",
    "message": "Your card was declined. This transaction requires authentication.",
}


@pytest.fixture
def peer() -> ScriptedProvider:
    return ScriptedProvider()


@pytest.fixture
async def adapter(peer: ScriptedProvider) -> AsyncIterator[StripeAdapter]:
    built = StripeAdapter.from_options(
        name="stripe",
        capabilities=None,
        options={"base_url": "https://api.stripe.test", "api_key": "sk_test_x"},
        transport=peer,
    )
    yield built
    await built.aclose()


def off_session_charge() -> Charge:
    return Charge(
        "attempt-1",
        "order-1",
        EUR,
        CardSource(token=SecretStr("pm_card_authenticationRequired")),
        "DE",
        customer_id="cus_Saved1",
        off_session=True,
    )


SECRET = f"{PI}_secret_Zk3"


def waiting_intent(**problem: object) -> dict[str, object]:
    return {
        "id": PI,
        "object": "payment_intent",
        "status": "requires_payment_method",
        "client_secret": SECRET,
        "last_payment_error": {**PROBLEM, **problem},
    }


def awaiting_customer(http_status: int) -> ProviderReply:
    """Stripe.js confirms the kept intent on session, from its client secret."""
    action = NextAction(
        kind="sdk", provider_type="authentication_required", client_secret=SecretStr(SECRET)
    )
    return ProviderReply.requires_action(
        PI, None, provider_code="authentication_required", http_status=http_status, action=action
    )


async def test_off_session_authentication_required_waits_for_the_customer(
    adapter: StripeAdapter, peer: ScriptedProvider
) -> None:
    """Stripe's 402 `authentication_required` leaves the intent for the customer to confirm on
    session: requires_action on that intent, never a decline that invites another provider."""
    peer.answer(402, {"error": {**PROBLEM, "payment_intent": waiting_intent()}})
    reply = await adapter.pay(off_session_charge(), idempotency_key="k1")
    assert reply == awaiting_customer(402)


async def test_lookup_of_an_intent_still_awaiting_authentication_is_requires_action(
    adapter: StripeAdapter, peer: ScriptedProvider
) -> None:
    """Until the customer comes back, the intent reads requires_payment_method with the same
    error: still requires_action, so refresh and reconcile leave the payment open."""
    peer.answer(200, waiting_intent())
    assert await adapter.lookup(HANDLE) == awaiting_customer(200)


@pytest.mark.parametrize("field", ["decline_code", "code"])
async def test_either_field_saying_authentication_required_is_enough(
    adapter: StripeAdapter, peer: ScriptedProvider, field: str
) -> None:
    """Stripe sets `code` (and, for an issuer soft decline, `decline_code`): either says it."""
    problem = {"type": "card_error", "code": "card_declined", "decline_code": "generic_decline"}
    problem[field] = "authentication_required"
    peer.answer(200, {**waiting_intent(), "last_payment_error": problem})
    reply = await adapter.lookup(HANDLE)
    assert reply.outcome is Outcome.REQUIRES_ACTION


async def test_authentication_required_without_an_intent_is_a_decline(
    adapter: StripeAdapter, peer: ScriptedProvider
) -> None:
    """Without an intent nothing waits for the customer: a decline saying the customer must
    authenticate (bring them back), not that they failed to."""
    peer.answer(402, {"error": PROBLEM})
    reply = await adapter.pay(off_session_charge(), idempotency_key="k1")
    assert reply.outcome is Outcome.FAILED
    assert reply.failure_kind is FailureKind.AUTHENTICATION_REQUIRED


async def test_failed_authentication_is_a_decline(
    adapter: StripeAdapter, peer: ScriptedProvider
) -> None:
    """The customer failed (or abandoned) the challenge: Stripe's
    `payment_intent_authentication_failure` is a decline, not another wait."""
    peer.answer(
        200,
        waiting_intent(code="payment_intent_authentication_failure", decline_code=None),
    )
    reply = await adapter.lookup(HANDLE)
    assert reply.failure_kind is FailureKind.AUTHENTICATION_FAILED


def test_only_authentication_required_awaits_the_customer() -> None:
    """One row: the codes by which Stripe keeps an intent for the customer to authenticate."""
    assert frozenset({"authentication_required"}) == AWAITING_AUTHENTICATION


def test_no_authentication_decline_is_a_soft_decline() -> None:
    """A soft decline may be retried at another acquirer; one about authentication never may,
    or the card would be sent there unauthenticated."""
    authentication = {FailureKind.AUTHENTICATION_FAILED, FailureKind.AUTHENTICATION_REQUIRED}
    codes = {c for table in (DECLINE_CODES, ERROR_CODES) for c, k in table.items()}
    codes = {c for c in codes if {DECLINE_CODES.get(c), ERROR_CODES.get(c)} & authentication}
    assert "authentication_required" in codes
    assert all(DECLINE_TYPES.get(code) is not DeclineType.SOFT for code in codes)
