"""Recurring payments: a charge against a saved mandate goes to the mandate's provider only,
off-session, and the mandate travels in the request instead of payment sources."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import httpx
import pytest
import pytest_asyncio
import respx
from pydantic import SecretStr, ValidationError

from payrouter import (
    AllProvidersUnavailableError,
    BankTransferSource,
    CardSource,
    Mandate,
    NoEligibleProviderError,
    PaymentMethod,
    PaymentRequest,
    PaymentStatus,
    Router,
)
from payrouter.testing import Behavior
from payrouter_adapters.stripe import StripeAdapter

from .kit import eur, router, simulated

SAVED_CARD = Mandate(provider="card_b", mandate_id="pm_saved_1", method=PaymentMethod.CARD)


def renewal(mandate: Mandate, order_id: str = "sub-7-2026-12") -> PaymentRequest:
    return PaymentRequest(
        order_id=order_id,
        amount=eur("9.99"),
        mandate=mandate,
        customer_country="DE",
        customer_id="cus_shopper1",
    )


async def test_a_mandate_is_charged_only_at_its_provider_even_when_it_fails() -> None:
    card_a, card_b = simulated("card_a", "card_b")
    card_b.provider.script(Behavior.unavailable())
    async with router([card_a, card_b]) as payments:
        with pytest.raises(AllProvidersUnavailableError) as down:
            await payments.pay(renewal(SAVED_CARD, "sub-down"))
        assert {a.provider for a in down.value.attempts} == {"card_b"}
        paid = await payments.pay(renewal(SAVED_CARD))
        assert card_a.provider.calls == 0  # card_a never holds card_b's mandate
        assert [c.order_id for c in card_b.provider.charges()] == ["sub-7-2026-12"]

    assert paid.status is PaymentStatus.SUCCEEDED
    assert paid.provider == "card_b"


async def test_a_mandate_at_an_unconfigured_provider_is_named() -> None:
    elsewhere = Mandate(provider="card_z", mandate_id="pm_saved_1", method=PaymentMethod.CARD)
    async with router(simulated("card_a")) as payments:
        with pytest.raises(NoEligibleProviderError, match="mandate's provider 'card_z'"):
            await payments.pay(renewal(elsewhere))


def test_a_request_takes_sources_or_a_mandate_not_both() -> None:
    with pytest.raises(ValidationError, match="either sources or a mandate"):
        PaymentRequest(
            order_id="o",
            amount=eur("1.00"),
            mandate=SAVED_CARD,
            sources=[CardSource(token=SecretStr("pm_card_visa"))],
            customer_country="DE",
        )
    with pytest.raises(ValidationError, match="at least one payment source, or a mandate"):
        PaymentRequest(order_id="o", amount=eur("1.00"), customer_country="DE")


def test_a_bank_mandate_is_cancelled_not_charged() -> None:
    standing_order = Mandate(provider="bank", mandate_id="so-1", method=PaymentMethod.BANK_TRANSFER)
    with pytest.raises(ValidationError, match="standing order the bank executes"):
        renewal(standing_order)
    assert not isinstance(SAVED_CARD.as_source(), BankTransferSource)


def test_the_mandates_provider_is_part_of_the_order_fingerprint() -> None:
    same_card_elsewhere = SAVED_CARD.model_copy(update={"provider": "card_a"})
    assert renewal(SAVED_CARD).fingerprint() != renewal(same_card_elsewhere).fingerprint()


@pytest_asyncio.fixture
async def stripe_router() -> AsyncIterator[tuple[Router, respx.MockRouter]]:
    with respx.mock(base_url="https://api.stripe.test", assert_all_called=False) as mock:
        adapter = StripeAdapter.from_options(
            name="stripe",
            capabilities=None,
            options={"base_url": "https://api.stripe.test", "api_key": "sk_test_x"},
        )
        async with Router([adapter], ledger="sqlite://", hooks=()) as built:
            yield built, mock


async def test_stripe_charges_a_saved_card_off_session_for_its_customer(
    stripe_router: tuple[Router, respx.MockRouter],
) -> None:
    payments, mock = stripe_router
    created = mock.post("/v1/payment_intents").mock(
        return_value=httpx.Response(
            200, json={"id": "pi_1", "object": "payment_intent", "status": "succeeded"}
        )
    )
    mandate = Mandate(provider="stripe", mandate_id="pm_saved_1", method=PaymentMethod.CARD)

    paid = await payments.pay(renewal(mandate))

    assert paid.status is PaymentStatus.SUCCEEDED
    form = dict(httpx.QueryParams(created.calls.last.request.content.decode()))
    assert form["off_session"] == "true"
    assert form["confirm"] == "true"
    assert (form["payment_method"], form["customer"]) == ("pm_saved_1", "cus_shopper1")
    assert json.dumps(form).count("pm_saved_1") == 1
