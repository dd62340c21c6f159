"""A Berlin Group transfer's amount is checked like every other provider's: the status request
carries none, so a success is read together with the payment initiation resource
(`GET .../{paymentId}`, whose `instructedAmount` the specification requires), and the router
settles only the amount it asked for."""

from __future__ import annotations

import httpx
import pytest
from pydantic import SecretStr

from payrouter import BankTransferSource, Money, PaymentRequest, PaymentStatus, Router
from payrouter.instrumentation import AmountMismatch, Event
from payrouter.provider import Outcome
from payrouter.testing import ScriptedProvider

from .test_berlingroup import (
    DEBTOR_IBAN,
    PAYMENT_ID,
    PAYMENTS,
    adapter_for,
    initiated,
    make_charge,
    make_handle,
)


def resource(value: str, currency: str = "EUR", **extra: object) -> httpx.Response:
    """The payment initiation resource as the ASPSP returns it (`GET .../{paymentId}`)."""
    body = {
        "debtorAccount": {"iban": DEBTOR_IBAN},
        "instructedAmount": {"currency": currency, "amount": value},
        "creditorAccount": {"iban": "DE02100100109307118603"},
        "creditorName": "Example Shop GmbH",
        **extra,
    }
    return httpx.Response(200, json=body)


def settled() -> httpx.Response:
    return httpx.Response(200, json={"transactionStatus": "ACSC"})


async def test_a_successful_lookup_reads_the_instructed_amount_from_the_resource() -> None:
    peer = ScriptedProvider()
    peer.respond(settled(), resource("10.50"))
    reply = await adapter_for(peer).lookup(make_handle())

    assert reply.outcome is Outcome.SUCCEEDED
    assert reply.amount == Money(minor_units=1050, currency="EUR")
    assert [r.url.path for r in peer.requests] == [
        f"{PAYMENTS}/{PAYMENT_ID}/status",
        f"{PAYMENTS}/{PAYMENT_ID}",
    ]
    assert all(r.method == "GET" for r in peer.requests)


async def test_a_pending_lookup_asks_for_the_status_only() -> None:
    """Only a success settles a payment, so only a success needs its amount read."""
    peer = ScriptedProvider()
    peer.respond(httpx.Response(200, json={"transactionStatus": "ACSP"}))
    reply = await adapter_for(peer).lookup(make_handle())

    assert reply.outcome is Outcome.PENDING
    assert len(peer.requests) == 1


@pytest.mark.parametrize(
    "answer",
    [
        httpx.Response(500),
        httpx.Response(200, json={"transactionStatus": "ACSC"}),  # no instructedAmount
        httpx.Response(200, text="<html>"),
        httpx.ReadTimeout("slow"),
    ],
    ids=["5xx", "no-amount", "not-json", "timeout"],
)
async def test_a_success_whose_amount_cannot_be_read_is_unknown(
    answer: httpx.Response | Exception,
) -> None:
    """Never a success the router cannot check: asked again later (unknown moves nothing)."""
    peer = ScriptedProvider()
    peer.respond(settled())
    if isinstance(answer, Exception):
        peer.fail(answer)
    else:
        peer.respond(answer)
    reply = await adapter_for(peer).lookup(make_handle())

    assert reply.outcome is Outcome.UNKNOWN
    assert reply.provider_reference == PAYMENT_ID
    assert reply.provider_code == "amount_unread"


@pytest.mark.parametrize("value", ["10.505", "abc", "-10.50", "1e400"])
async def test_an_instructed_amount_that_is_no_amount_of_ours_is_a_mismatch(value: str) -> None:
    peer = ScriptedProvider()
    peer.respond(settled(), resource(value))
    reply = await adapter_for(peer).lookup(make_handle())

    assert reply.outcome is Outcome.UNKNOWN
    assert reply.provider_code == "amount_mismatch"


async def test_an_initiation_executed_at_once_has_its_amount_read_too() -> None:
    """ACSC in the initiation answer (an SCA exemption) is a success like a lookup's."""
    peer = ScriptedProvider()
    peer.respond(initiated("ACSC"), resource("10.50"))
    reply = await adapter_for(peer).pay(make_charge(), idempotency_key="shop:order-17:1")

    assert reply.outcome is Outcome.SUCCEEDED
    assert reply.amount == Money(minor_units=1050, currency="EUR")


async def test_a_transfer_the_bank_executed_for_another_amount_never_settles_the_payment() -> None:
    """The customer approved at the bank; the bank's resource says 1.00 EUR for our 10.50."""
    peer = ScriptedProvider()
    peer.respond(initiated("RCVD", {"scaRedirect": "https://bank.example/sca/1"}))
    for _ in range(10):  # reconcile's lookups, as many as it makes
        peer.respond(settled(), resource("1.00"))
    seen: list[Event] = []
    request = PaymentRequest(
        order_id="order-17",
        amount=Money.of("10.50", "EUR"),
        sources=[BankTransferSource(iban=SecretStr(DEBTOR_IBAN))],
        customer_country="DE",
        return_url="https://shop.example/return",
    )
    async with Router([adapter_for(peer)], ledger="sqlite://", hooks=[seen.append]) as router:
        first = await router.pay(request)
        await router.reconcile()
        await router.reconcile()  # the same difference again: still one discrepancy
        after = await router.lookup("order-17")
        (listed,) = await router.discrepancies()

    assert first.status is PaymentStatus.REQUIRES_ACTION
    assert after is not None
    assert after.status is PaymentStatus.PENDING  # money moved, not what was asked
    assert after.attempts[-1].provider_code == "amount_mismatch"
    assert (listed.ledger_side, listed.provider_side) == (
        "10.50 EUR",
        "1.00 EUR in a reconcile (amount_mismatch)",
    )
    (event,) = [e for e in seen if isinstance(e, AmountMismatch)]  # raised once, when new
    assert (event.source, event.reported_minor, event.expected_minor) == ("reconcile", 100, 1050)
