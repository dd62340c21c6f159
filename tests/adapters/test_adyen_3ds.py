"""Adyen and 3-D Secure: a shopper-present card payment is challenged by redirect (a URL the
checkout can follow), and an issuer's "Authentication required" is its own decline."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest
from pydantic import SecretStr

from payrouter import CardSource, Money
from payrouter.provider import Charge, DeclineType, FailureKind
from payrouter.testing import ScriptedProvider
from payrouter_adapters.adyen import AdyenAdapter
from payrouter_adapters.adyen._codes import REFUSAL_DECLINE_TYPES, REFUSALS

OPTIONS: dict[str, object] = {
    "base_url": "https://checkout-test.adyen.com/v72",
    "api_key": "AQE-key",
    "merchant_account": "PayrouterECOM",
    "return_url": "https://shop.example/return",
}


@pytest.fixture
def peer() -> ScriptedProvider:
    return ScriptedProvider()


@pytest.fixture
async def adapter(peer: ScriptedProvider) -> AsyncIterator[AdyenAdapter]:
    built = AdyenAdapter.from_options(
        name="adyen", capabilities=None, options=OPTIONS, transport=peer
    )
    yield built
    await built.aclose()


def card(*, off_session: bool = False) -> Charge:
    return Charge(
        "attempt-1",
        "order-1",
        Money(minor_units=1050, currency="EUR"),
        CardSource(token=SecretStr("M5N7TQ4TG5PFWR50")),
        "NL",
        customer_id="cust-42",
        off_session=off_session,
    )


def refused(reason: str, code: str | None) -> dict[str, object]:
    body: dict[str, object] = {
        "resultCode": "Refused",
        "pspReference": "PSP38",
        "refusalReason": reason,
    }
    if code is not None:
        body["refusalReasonCode"] = code
    return body


@pytest.mark.parametrize("code", ["38", None])
async def test_authentication_required_is_its_own_decline(
    adapter: AdyenAdapter, peer: ScriptedProvider, code: str | None
) -> None:
    """Refusal 38 (by code, or by text alone): the issuer wants the shopper to authenticate
    and Adyen did not challenge here (a payment without the shopper). The payment is over at
    Adyen; the merchant brings the customer back to pay with 3-D Secure."""
    peer.answer(200, refused("Authentication required", code))
    reply = await adapter.pay(card(off_session=True), idempotency_key="k1")
    assert reply.failure_kind is FailureKind.AUTHENTICATION_REQUIRED
    assert reply.provider_reference == "PSP38"


async def test_a_failed_challenge_is_authentication_failed(
    adapter: AdyenAdapter, peer: ScriptedProvider
) -> None:
    """Refusal 11: the shopper did not pass 3-D Secure; not "bring them back"."""
    peer.answer(200, refused("3D Not Authenticated", "11"))
    reply = await adapter.pay(card(), idempotency_key="k1")
    assert reply.failure_kind is FailureKind.AUTHENTICATION_FAILED


async def test_a_shopper_present_card_is_challenged_by_redirect(
    adapter: AdyenAdapter, peer: ScriptedProvider
) -> None:
    """Native 3-D Secure needs Adyen's component and an action object no redirect URL
    carries; payrouter hands the checkout a URL, so it asks for the redirect flow."""
    peer.answer(200, {"resultCode": "Authorised", "pspReference": "PSP1"})
    await adapter.pay(card(), idempotency_key="k1")
    sent = json.loads(peer.requests[-1].content)
    assert sent["authenticationData"] == {"threeDSRequestData": {"nativeThreeDS": "disabled"}}


async def test_a_charge_without_the_shopper_asks_for_no_challenge(
    adapter: AdyenAdapter, peer: ScriptedProvider
) -> None:
    """Merchant-initiated (ContAuth): nobody could answer a challenge, so none is asked for."""
    peer.answer(200, {"resultCode": "Authorised", "pspReference": "PSP1"})
    await adapter.pay(card(off_session=True), idempotency_key="k1")
    assert "authenticationData" not in json.loads(peer.requests[-1].content)


def test_no_authentication_refusal_is_a_soft_decline() -> None:
    """A soft decline may be retried at another acquirer; a refusal about authentication never
    may, or the card would be sent there unauthenticated."""
    authentication = {FailureKind.AUTHENTICATION_FAILED, FailureKind.AUTHENTICATION_REQUIRED}
    codes = {code for code, kind in REFUSALS.items() if kind in authentication}
    assert codes
    assert all(REFUSAL_DECLINE_TYPES.get(code) is not DeclineType.SOFT for code in codes)
