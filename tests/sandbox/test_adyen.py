"""The real Adyen adapter, unchanged, against the Adyen Checkout v72 stand-in."""

from __future__ import annotations

import httpx
import pytest

from payrouter import Money, WalletSource
from payrouter.provider import FailureKind, Outcome
from payrouter_lab.sandbox import Sandbox
from tests.sandbox.kit import add_fault, adyen_adapter, books, charge, handle

EUR5 = Money(minor_units=500, currency="EUR")

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def test_card_payment_capture_refund_and_void(
    sandbox: Sandbox, admin: httpx.AsyncClient
) -> None:
    """Authorised, then modifications answer pending (`received`); refunds never exceed captures."""
    client = adyen_adapter(sandbox)
    sale = await client.pay(charge("adyen", "o1"), idempotency_key="k1")
    held = await client.pay(charge("adyen", "o2", capture=False), idempotency_key="k2")
    capture = await client.capture(handle(held, "o2"), EUR5, idempotency_key="c1")
    refund = await client.refund(handle(held, "o2"), EUR5, idempotency_key="r1", reason=None)
    too_much = await client.refund(handle(held, "o2"), EUR5, idempotency_key="r2", reason=None)
    voided = await client.void(handle(held, "o2"), idempotency_key="v1")
    by_reference = await client.void(handle(None, "o1"), idempotency_key="v2")
    await client.aclose()
    assert sale.outcome is held.outcome is Outcome.SUCCEEDED
    assert (
        capture.outcome
        is refund.outcome
        is voided.outcome
        is by_reference.outcome
        is Outcome.PENDING
    )
    assert too_much.failure_kind is FailureKind.INVALID_REQUEST
    kinds = [e["kind"] for e in (await books(admin, "adyen"))["entries"]]  # type: ignore[union-attr]
    assert kinds == ["charge", "authorization", "capture", "refund", "release"]


async def test_wallet_redirect_then_details_authorises(sandbox: Sandbox) -> None:
    """A redirect wallet needs action with a URL; after approval, /payments/details authorises."""
    client = adyen_adapter(sandbox)
    reply = await client.pay(
        charge("adyen", source=WalletSource(wallet="paypal")), idempotency_key="k1"
    )
    assert reply.outcome is Outcome.REQUIRES_ACTION
    assert reply.action_url
    async with httpx.AsyncClient() as browser:
        page = await browser.get(reply.action_url)
    done = await client.submit_details(
        {"redirectResult": str(reply.provider_reference)}, idempotency_key="k2"
    )
    await client.aclose()
    assert page.status_code == 200
    assert done.outcome is Outcome.SUCCEEDED


@pytest.mark.parametrize(
    ("fault", "kind", "code"),
    [
        ("insufficient_funds", FailureKind.INSUFFICIENT_FUNDS, "12"),
        ("account_locked", FailureKind.ACCOUNT_LOCKED, "18"),
        ("account_frozen", FailureKind.ACCOUNT_LOCKED, "5"),
        ("account_closed", FailureKind.CARD_DECLINED, "6"),
        ("region_restricted", FailureKind.REGION_RESTRICTED, "25"),
        ("declined", FailureKind.CARD_DECLINED, "2"),
    ],
)
async def test_refusals_carry_adyens_refusal_reason(
    sandbox: Sandbox, admin: httpx.AsyncClient, fault: str, kind: FailureKind, code: str
) -> None:
    """A refusal is `Refused` with Adyen's refusalReasonCode; nothing is booked."""
    await add_fault(admin, "adyen", kind=fault, payer_prefix="stored_card")
    client = adyen_adapter(sandbox)
    reply = await client.pay(charge("adyen"), idempotency_key="k1")
    await client.aclose()
    assert (reply.failure_kind, reply.provider_code) == (kind, code)
    assert (await books(admin, "adyen"))["entries"] == []


async def test_sepa_debit_is_received_pending(sandbox: Sandbox) -> None:
    """A SEPA direct debit answers Received: pending, as at Adyen."""
    client = adyen_adapter(sandbox)
    reply = await client.pay(charge("berlingroup"), idempotency_key="k1")
    await client.aclose()
    assert reply.outcome is Outcome.PENDING


async def test_stored_method_deletion_and_its_failure(
    sandbox: Sandbox, admin: httpx.AsyncClient
) -> None:
    """DELETE storedPaymentMethods succeeds once; cancel_fails answers Adyen's error."""
    client = adyen_adapter(sandbox)
    await add_fault(admin, "adyen", kind="cancel_fails", count=1)
    refused = await client.cancel_mandate("shopper-1:stored_card_1", idempotency_key="m1")
    deleted = await client.cancel_mandate("shopper-1:stored_card_1", idempotency_key="m2")
    gone = await client.cancel_mandate("shopper-1:stored_card_1", idempotency_key="m3")
    await client.aclose()
    assert refused.failure_kind is FailureKind.INVALID_REQUEST
    assert deleted.outcome is Outcome.SUCCEEDED
    assert gone.failure_kind is FailureKind.NOT_FOUND


async def test_idempotency_replays_bytes_and_refuses_another_body(
    sandbox: Sandbox, admin: httpx.AsyncClient
) -> None:
    """Same key and body: same bytes, one booking; other body: 422 errorCode 704."""
    body = {
        "amount": {"value": 1050, "currency": "EUR"},
        "merchantAccount": "ShopECOM",
        "reference": "r1",
        "shopperReference": "shopper-1",
        "paymentMethod": {"type": "scheme", "storedPaymentMethodId": "stored_card_1"},
        "returnUrl": "https://shop.example",
    }
    headers = {"X-API-Key": "key", "Idempotency-Key": "k1"}
    async with httpx.AsyncClient(base_url=sandbox.urls["adyen"], headers=headers) as raw:
        first = await raw.post("/payments", json=body)
        again = await raw.post("/payments", json=body)
        other = await raw.post("/payments", json={**body, "reference": "r2"})
        anonymous = await raw.post("/payments", json=body, headers={"X-API-Key": ""})
    assert again.content == first.content
    assert (other.status_code, other.json()["errorCode"]) == (422, "704")
    assert (anonymous.status_code, anonymous.json()["errorType"]) == (401, "security")
    assert len((await books(admin, "adyen"))["entries"]) == 1  # type: ignore[arg-type]
