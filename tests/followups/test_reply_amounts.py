"""A provider's answer to a capture or refund is held to the follow-up's amount, like every
answer about a payment: one for another amount never marks the follow-up done. It waits
(`pending`) for a person, with an open discrepancy, an `AmountMismatch` event and the metric.
"""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import SecretStr

from payrouter import (
    CardSource,
    FollowUpStatus,
    Money,
    PaymentRequest,
    Router,
    WalletSource,
)
from payrouter.instrumentation import AmountMismatch, Event
from payrouter.provider import Adapter
from payrouter.testing import ScriptedProvider
from payrouter_adapters.adyen import AdyenAdapter
from payrouter_adapters.paypal import PayPalAdapter
from payrouter_adapters.stripe import StripeAdapter

FOUR = Money.of("4.00", "EUR")


def _stripe(peer: ScriptedProvider) -> Adapter:
    peer.answer(
        200,
        {
            "id": "pi_1",
            "object": "payment_intent",
            "status": "succeeded",
            "amount": 1000,
            "currency": "eur",
        },
    )
    return StripeAdapter.from_options(
        name="stripe",
        capabilities=None,
        options={"api_key": "sk_test_123", "base_url": "https://stripe.test"},
        transport=peer,
    )


def _stripe_refund(amount: int) -> dict[str, Any]:
    return {"id": "re_1", "object": "refund", "status": "succeeded", "amount": amount,
            "currency": "eur"}  # fmt: skip


def _adyen(peer: ScriptedProvider) -> Adapter:
    peer.answer(
        200,
        {"resultCode": "Authorised", "pspReference": "PSP1",
         "amount": {"value": 1000, "currency": "EUR"}},
    )  # fmt: skip
    return AdyenAdapter.from_options(
        name="adyen",
        capabilities=None,
        options={
            "api_key": "AQE_test",
            "base_url": "https://adyen.test",
            "merchant_account": "ShopECOM",
            "return_url": "https://shop.example/return",
        },
        transport=peer,
    )


def _adyen_refund(value: int) -> dict[str, Any]:
    return {"status": "received", "pspReference": "REF1",
            "amount": {"value": value, "currency": "EUR"}}  # fmt: skip


def _paypal(peer: ScriptedProvider) -> Adapter:
    peer.answer(
        201,
        {
            "id": "ORDER-1",
            "status": "COMPLETED",
            "purchase_units": [
                {
                    "amount": {"currency_code": "EUR", "value": "10.00"},
                    "payments": {"captures": [{"id": "CAP-1", "status": "COMPLETED"}]},
                }
            ],
        },
    )
    return PayPalAdapter.from_options(
        name="paypal",
        capabilities=None,
        options={"base_url": "https://paypal.test", "access_token": "A21AA-test"},
        transport=peer,
    )


def _paypal_refund(value: str) -> dict[str, Any]:
    return {"id": "REF-1", "status": "COMPLETED",
            "amount": {"currency_code": "EUR", "value": value}}  # fmt: skip


_PROVIDERS = {
    "stripe": (_stripe, lambda right: _stripe_refund(400 if right else 1000), 200),
    "adyen": (_adyen, lambda right: _adyen_refund(400 if right else 1000), 201),
    "paypal": (_paypal, lambda right: _paypal_refund("4.00" if right else "10.00"), 201),
}


def _request(provider: str) -> PaymentRequest:
    source = (
        WalletSource(wallet="paypal", account=SecretStr("vault-1"))
        if provider == "paypal"
        else CardSource(token=SecretStr("pm_card_visa" if provider == "stripe" else "card_1"),
                        provider=provider)
    )  # fmt: skip
    return PaymentRequest(
        order_id="order-1",
        amount=Money.of("10.00", "EUR"),
        sources=[source],
        customer_country="DE",
        customer_id="customer-7",
    )


async def _refund(provider: str, right: bool) -> tuple[FollowUpStatus, list[Event], list[Any]]:
    build, answer, status = _PROVIDERS[provider]
    peer = ScriptedProvider()
    adapter = build(peer)
    peer.answer(status, answer(right))
    seen: list[Event] = []
    async with Router([adapter], ledger="sqlite://", hooks=[seen.append]) as router:
        await router.pay(_request(provider))
        refund = await router.refund("order-1", FOUR)
        listed = await router.discrepancies()
    return refund.status, seen, listed


@pytest.mark.parametrize("provider", sorted(_PROVIDERS))
async def test_a_refund_answered_for_another_amount_is_never_done(provider: str) -> None:
    status, seen, listed = await _refund(provider, right=False)

    assert status is FollowUpStatus.PENDING
    (event,) = [e for e in seen if isinstance(e, AmountMismatch)]
    assert event.followup_id == "order-1/refund/1"
    assert (event.expected_minor, event.reported_minor, event.source) == (400, 1000, "reply")
    (difference,) = listed
    assert (difference.ledger_side, difference.reference) == ("4.00 EUR", "order-1/refund/1")
    assert "not marked done" in difference.action


@pytest.mark.parametrize("provider", sorted(_PROVIDERS))
async def test_a_refund_answered_for_its_own_amount_goes_on_as_before(provider: str) -> None:
    status, seen, listed = await _refund(provider, right=True)

    assert status is not FollowUpStatus.REFUSED
    assert not [e for e in seen if isinstance(e, AmountMismatch)]
    assert listed == []


def _stripe_authorized(peer: ScriptedProvider) -> Adapter:
    peer.answer(
        200,
        {"id": "pi_1", "object": "payment_intent", "status": "requires_capture",
         "amount": 1000, "currency": "eur", "capture_method": "manual"},
    )  # fmt: skip
    return StripeAdapter.from_options(
        name="stripe",
        capabilities=None,
        options={"api_key": "sk_test_123", "base_url": "https://stripe.test"},
        transport=peer,
    )


@pytest.mark.parametrize(("received", "done"), [(400, True), (1000, False)])
async def test_a_stripe_capture_is_held_to_the_amount_it_received(
    received: int, done: bool
) -> None:
    """Stripe's captured intent keeps `amount` (what was authorized) and says in
    `amount_received` what the capture took: that is what the follow-up is held to."""
    peer = ScriptedProvider()
    adapter = _stripe_authorized(peer)
    peer.answer(
        200,
        {"id": "pi_1", "object": "payment_intent", "status": "succeeded", "amount": 1000,
         "amount_received": received, "currency": "eur"},
    )  # fmt: skip
    seen: list[Event] = []
    request = _request("stripe").model_copy(update={"capture": False})
    async with Router([adapter], ledger="sqlite://", hooks=[seen.append]) as router:
        await router.pay(request)
        capture = await router.capture("order-1", FOUR)

    mismatches = [e for e in seen if isinstance(e, AmountMismatch)]
    if done:
        assert (capture.status, mismatches) == (FollowUpStatus.SUCCEEDED, [])
    else:
        assert capture.status is FollowUpStatus.PENDING
        assert [(e.followup_id, e.reported_minor) for e in mismatches] == [
            ("order-1/capture/1", 1000)
        ]
