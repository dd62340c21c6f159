"""An issuer that authorises less than asked: Adyen answers `PartiallyAuthorised` with the
authorised amount, in the pay answer or when the request is replayed. The payment becomes
`partially_authorised` with that amount, never `succeeded` and never `pending`, exactly as
the notification path makes it; the merchant's policy then captures the part or voids it."""

from __future__ import annotations

import httpx
import pytest
from pydantic import SecretStr

from payrouter import (
    CardSource,
    FollowUpNotAllowedError,
    Money,
    PaymentRequest,
    PaymentStatus,
    Router,
)
from payrouter.instrumentation import AmountMismatch, Event
from payrouter.provider import Charge, Outcome
from payrouter.testing import ScriptedProvider
from payrouter_adapters.adyen import AdyenAdapter

OPTIONS = {
    "api_key": "AQE_test",
    "base_url": "https://adyen.test",
    "merchant_account": "ShopECOM",
    "return_url": "https://shop.example/return",
}
PARTIAL = {
    "resultCode": "PartiallyAuthorised",
    "pspReference": "PSP1",
    "amount": {"value": 500, "currency": "EUR"},
}


def _adyen(peer: ScriptedProvider) -> AdyenAdapter:
    return AdyenAdapter.from_options(
        name="adyen", capabilities=None, options=OPTIONS, transport=peer
    )


def _request(capture: bool = True) -> PaymentRequest:
    return PaymentRequest(
        order_id="order-1",
        amount=Money.of("10.00", "EUR"),
        sources=[CardSource(token=SecretStr("stored_card_1"), provider="adyen")],
        customer_country="DE",
        customer_id="customer-7",  # Adyen stores card tokens per shopper
        capture=capture,
    )


async def test_the_adapter_reads_a_partial_authorisation_with_its_amount() -> None:
    reply = await _adyen(ScriptedProvider.always(httpx.Response(200, json=PARTIAL))).pay(
        _charge(), idempotency_key="k"
    )

    assert reply.outcome is Outcome.PARTIALLY_AUTHORISED
    assert reply.amount == Money.of("5.00", "EUR")
    assert reply.provider_reference == "PSP1"


async def test_a_partial_authorisation_without_its_amount_is_unknown() -> None:
    """What was authorised cannot be told: never a state a capture could be sized from."""
    body = {"resultCode": "PartiallyAuthorised", "pspReference": "PSP1"}
    reply = await _adyen(ScriptedProvider.always(httpx.Response(200, json=body))).pay(
        _charge(), idempotency_key="k"
    )

    assert reply.outcome is Outcome.UNKNOWN
    assert reply.provider_reference == "PSP1"


async def test_a_partial_pay_answer_makes_the_payment_partially_authorised() -> None:
    peer = ScriptedProvider()
    peer.answer(200, PARTIAL)
    peer.answer(201, {"status": "received", "pspReference": "CAP1"})  # the capture
    seen: list[Event] = []
    async with Router([_adyen(peer)], ledger="sqlite://", hooks=[seen.append]) as router:
        result = await router.pay(_request(capture=False))
        (listed,) = await router.discrepancies()
        with pytest.raises(FollowUpNotAllowedError, match=r"only 5\.00 EUR was authorized"):
            await router.capture("order-1", Money.of("6.00", "EUR"))
        captured = await router.capture("order-1")
        again = await router.pay(_request(capture=False))

    assert result.status is PaymentStatus.PARTIALLY_AUTHORISED
    assert again.status is PaymentStatus.PARTIALLY_AUTHORISED  # the first answer, no new call
    assert captured.amount == Money.of("5.00", "EUR")
    assert peer.last_json["amount"] == {"value": 500, "currency": "EUR"}
    (event,) = [e for e in seen if isinstance(e, AmountMismatch)]
    assert (event.source, event.result, event.reported_minor, event.expected_minor) == (
        "reply",
        "partially_authorised",
        500,
        1000,
    )
    assert (listed.kind, listed.ledger_side, listed.provider) == (
        "amount_differs",
        "10.00 EUR",
        "adyen",
    )
    assert listed.provider_side is not None
    assert listed.provider_side.startswith("5.00 EUR")
    assert "capture that part" in listed.action
    assert listed.discrepancy_id == "amount_differs:adyen:PSP1"


@pytest.mark.parametrize(
    "amount",
    [{"value": 1000, "currency": "USD"}, {"value": 1500, "currency": "EUR"}],
    ids=["other-currency", "more-than-asked"],
)
async def test_a_partial_answer_for_no_part_of_the_charge_is_a_mismatch(
    amount: dict[str, object],
) -> None:
    peer = ScriptedProvider(
        otherwise=lambda _: httpx.Response(200, json=PARTIAL | {"amount": amount})
    )
    seen: list[Event] = []
    async with Router([_adyen(peer)], ledger="sqlite://", hooks=[seen.append]) as router:
        result = await router.pay(_request())

    assert result.status is PaymentStatus.PENDING
    assert result.attempts[-1].provider_code == "amount_mismatch"
    (event,) = [e for e in seen if isinstance(e, AmountMismatch)]
    assert event.result == "amount_mismatch"


async def test_a_partial_authorisation_learned_by_replay_is_partially_authorised() -> None:
    """The pay answer is lost; Adyen replays the same key's answer: a partial one."""
    peer = ScriptedProvider()
    peer.fail(httpx.ReadTimeout("lost after sending"))
    peer.answer(200, PARTIAL)
    async with Router([_adyen(peer)], ledger="sqlite://", hooks=()) as router:
        result = await router.pay(_request())

    assert result.status is PaymentStatus.PARTIALLY_AUTHORISED
    assert len({r.headers["Idempotency-Key"] for r in peer.requests}) == 1


async def test_reconcile_settles_a_lost_answer_as_partially_authorised() -> None:
    """Nothing answered while paying (the call and its replay); reconcile's replay learns
    of the partial authorisation, and the capture is sized from it."""
    peer = ScriptedProvider()
    peer.fail(httpx.ReadTimeout("lost after sending"))
    peer.fail(httpx.ReadTimeout("the replay is lost too"))
    peer.answer(200, PARTIAL)
    peer.answer(201, {"status": "received", "pspReference": "CAP1"})
    async with Router([_adyen(peer)], ledger="sqlite://", hooks=()) as router:
        first = await router.pay(_request(capture=False))
        report = await router.reconcile()
        after = await router.lookup("order-1")
        captured = await router.capture("order-1")

    assert first.status is PaymentStatus.PENDING
    assert [c.after for c in report.changes] == [PaymentStatus.PARTIALLY_AUTHORISED]
    assert after is not None
    assert after.status is PaymentStatus.PARTIALLY_AUTHORISED
    assert captured.amount == Money.of("5.00", "EUR")


def _charge() -> Charge:
    return Charge(
        "shop:order-1:1",
        "order-1",
        Money.of("10.00", "EUR"),
        CardSource(token=SecretStr("pm_card_visa")),
        "DE",
        customer_id="customer-7",
    )
