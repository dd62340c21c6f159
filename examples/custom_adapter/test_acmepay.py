"""AcmePay's adapter: valid against AcmePay's spec, conformant, and the router fails over.

The contract half runs every call against a Prism mock of `acmepay.openapi.yaml`: Prism
answers 422 (with the violation in `sl-violations`) for any request the spec forbids, so a
wrong field name, a missing header or a bad type fails here, not in production. The
conformance half describes AcmePay's answers to payrouter's adapter conformance suite, which
checks the three outcomes, the idempotency keys and the secrets. The behaviour half scripts
AcmePay's answers with respx and runs real payments through the router.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import respx

from payrouter import CardSource, Money, PaymentMethod, PaymentRequest, PaymentResult, Router
from payrouter.provider import Charge, FailureKind, Outcome, PaymentHandle
from payrouter.testing import HttpAnswer
from payrouter.testing.conformance import (
    AdapterCase,
    AdapterConformance,
    FollowUpCase,
    LookupCase,
)
from payrouter_lab.testing import prism_mock

from .acmepay import AcmePayAdapter

SPEC = Path(__file__).with_name("acmepay.openapi.yaml")
EUR = Money(minor_units=2490, currency="EUR")
CHARGE = Charge(
    reference="payrouter:order-1:1",
    order_id="order-1",
    amount=EUR,
    source=CardSource(token="tok_visa"),
    customer_country="DE",
)
HANDLE = PaymentHandle("payrouter:order-1:1", "order-1", PaymentMethod.CARD, EUR, "ch_1001")


@pytest.fixture
def prism_url(tmp_path: Path) -> Iterator[str]:
    with prism_mock(SPEC, tmp_path) as url:
        yield url


def adapter(name: str, base_url: str) -> AcmePayAdapter:
    return AcmePayAdapter.from_options(
        name=name, capabilities=None, options={"api_key": "sk_test", "base_url": base_url}
    )


def declined(code: str) -> HttpAnswer:
    return HttpAnswer(402, {"error": {"code": code}})


def over(transport: httpx.AsyncBaseTransport) -> AcmePayAdapter:
    """AcmePay's adapter with a scripted AcmePay under its client."""
    options = {"api_key": "sk_test_acme-secret", "base_url": "https://eu.acmepay.example"}
    return AcmePayAdapter.from_options(
        name="acme", capabilities=None, options=options, transport=transport
    )


CHARGED = HttpAnswer(201, {"id": "ch_1001", "status": "succeeded"})


class TestAcmePayConformance(AdapterConformance):
    """payrouter's conformance suite, run with AcmePay's answers as its spec documents them."""

    case = AdapterCase(
        build=over,
        charge=CHARGE,
        succeeded=CHARGED,
        failures={
            FailureKind.BUSY: HttpAnswer(503, {}),
            FailureKind.RATE_LIMITED: HttpAnswer(429, {}, {"Retry-After": "2"}),
            FailureKind.CREDENTIALS_REJECTED: HttpAnswer(401, {}),
            FailureKind.INSUFFICIENT_FUNDS: declined("insufficient_funds"),
            FailureKind.ACCOUNT_LOCKED: declined("card_blocked"),
            FailureKind.REGION_RESTRICTED: declined("country_not_supported"),
            FailureKind.SUSPECTED_FRAUD: declined("fraud_suspected"),
            FailureKind.CARD_DECLINED: declined("card_declined"),
            FailureKind.INVALID_REQUEST: HttpAnswer(400, {}),
            FailureKind.NOT_FOUND: HttpAnswer(404, {}),
        },
        not_reported={
            FailureKind.PROVIDER_DOWN: "AcmePay documents only 503 (busy, nothing processed)",
            FailureKind.MAINTENANCE: "AcmePay announces no maintenance windows in its API",
            FailureKind.ACCOUNT_FROZEN: "no AcmePay decline code says frozen",
            FailureKind.ACCOUNT_CLOSED: "no AcmePay decline code says closed",
            FailureKind.AUTHENTICATION_FAILED: "3-D Secure is requires_action, not a decline",
            FailureKind.AUTHENTICATION_REQUIRED: "AcmePay challenges every card it needs to",
        },
        after_submission_5xx=HttpAnswer(504, {}),
        in_doubt={"409 same key in flight": HttpAnswer(409, {})},
        replay=None,
        lookup=LookupCase(
            handle=HANDLE,
            found=HttpAnswer(200, {"data": [{"id": "ch_1001", "status": "succeeded"}]}),
            missing=HttpAnswer(200, {"data": []}),
        ),
        capture=FollowUpCase(HANDLE, HttpAnswer(200, {"id": "ch_1001", "status": "succeeded"})),
        refund=FollowUpCase(HANDLE, HttpAnswer(200, {"id": "ch_1001", "status": "refunded"})),
        void=FollowUpCase(HANDLE, HttpAnswer(200, {"id": "ch_1001", "status": "voided"})),
        secrets=("sk_test_acme-secret", "tok_visa"),
    )


async def pay_eu_then_us(folder: Path, order_id: str) -> PaymentResult:
    """One card payment through a router with two AcmePay accounts, EU first."""
    adapters = [
        adapter("acme_eu", "https://eu.acmepay.example"),
        adapter("acme_us", "https://us.acmepay.example"),
    ]
    async with Router(adapters, ledger=f"sqlite:///{folder / 'ledger.db'}", hooks=()) as router:
        return await router.pay(
            PaymentRequest(
                order_id=order_id,
                amount=EUR,
                customer_country="DE",
                sources=(CardSource(token="tok_visa"),),
            )
        )


@pytest.mark.slow
@pytest.mark.peer("prism")
async def test_every_call_is_valid_against_acmepays_spec(prism_url: str) -> None:
    acme = adapter("acme", prism_url)
    try:
        paid = await acme.pay(CHARGE, idempotency_key="key-1")
        found = await acme.lookup(HANDLE)
        captured = await acme.capture(HANDLE, EUR, idempotency_key="key-2")
        refunded = await acme.refund(HANDLE, EUR, idempotency_key="key-3", reason="returned")
        voided = await acme.void(HANDLE, idempotency_key="key-4")
        cancelled = await acme.cancel_mandate("md_1", idempotency_key="key-5")
    finally:
        await acme.aclose()
    # A request the spec refused would have come back as Prism's 422: invalid_request.
    assert paid.outcome is Outcome.SUCCEEDED
    assert paid.provider_reference == "ch_1001"
    assert found.outcome is Outcome.SUCCEEDED
    assert [captured.outcome, refunded.outcome, voided.outcome, cancelled.outcome] == [
        Outcome.SUCCEEDED
    ] * 4


@respx.mock
async def test_a_busy_acmepay_fails_over_to_the_second_account(tmp_path: Path) -> None:
    respx.post("https://eu.acmepay.example/v1/charges").respond(503)
    respx.post("https://us.acmepay.example/v1/charges").respond(
        201, json={"id": "ch_2002", "status": "succeeded"}
    )
    result = await pay_eu_then_us(tmp_path, "order-7")
    assert (result.status, result.provider, result.provider_reference) == (
        "succeeded",
        "acme_us",
        "ch_2002",
    )
    assert [attempt.failure_kind for attempt in result.attempts] == [FailureKind.BUSY, None]


@respx.mock
async def test_a_gateway_timeout_is_unknown_so_the_router_asks_acmepay_instead_of_moving_on(
    tmp_path: Path,
) -> None:
    respx.post("https://eu.acmepay.example/v1/charges").respond(504)
    respx.get("https://eu.acmepay.example/v1/charges").respond(
        200, json={"data": [{"id": "ch_3003", "status": "succeeded"}]}
    )
    second = respx.post("https://us.acmepay.example/v1/charges")
    result = await pay_eu_then_us(tmp_path, "order-8")
    assert (result.status, result.provider_reference) == ("succeeded", "ch_3003")
    assert not second.called  # the money may have moved at acme_eu: never charge elsewhere


@respx.mock
async def test_declines_map_through_the_table() -> None:
    respx.post("https://eu.acmepay.example/v1/charges").respond(
        402, json={"error": {"code": "insufficient_funds"}}
    )
    acme = adapter("acme_eu", "https://eu.acmepay.example")
    reply = await acme.pay(CHARGE, idempotency_key="key-1")
    await acme.aclose()
    assert (reply.outcome, reply.failure_kind) == (Outcome.FAILED, FailureKind.INSUFFICIENT_FUNDS)


def test_a_missing_api_key_names_the_field() -> None:
    with pytest.raises(Exception, match=r"providers\[acme\]\.options\.api_key: Field required"):
        AcmePayAdapter.from_options(name="acme", capabilities=None, options={})
