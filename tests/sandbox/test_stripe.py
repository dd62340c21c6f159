"""The real Stripe adapter, unchanged, against the Stripe stand-in."""

from __future__ import annotations

import httpx
import pytest

from payrouter import Money
from payrouter.provider import FailureKind, Outcome
from payrouter_lab.sandbox import Sandbox
from tests.sandbox.kit import add_fault, books, charge, handle, stripe_adapter

EUR5 = Money(minor_units=500, currency="EUR")

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def test_pay_lookup_refund_and_books(sandbox: Sandbox, admin: httpx.AsyncClient) -> None:
    """A card payment succeeds, is found by id and by search, refunds never exceed the take."""
    client = stripe_adapter(sandbox)
    paid = await client.pay(charge("stripe"), idempotency_key="k1")
    by_id = await client.lookup(handle(paid))
    first = await client.refund(handle(paid), EUR5, idempotency_key="r1", reason=None)
    second = await client.refund(handle(paid), EUR5, idempotency_key="r2", reason=None)
    too_much = await client.refund(handle(paid), EUR5, idempotency_key="r3", reason=None)
    await client.aclose()
    assert paid.outcome is by_id.outcome is Outcome.SUCCEEDED
    assert first.outcome is second.outcome is Outcome.SUCCEEDED
    assert too_much.failure_kind is FailureKind.INVALID_REQUEST
    assert (await books(admin, "stripe"))["orders"] == {
        "order-1": {"taken": 1050, "refunded": 1000}
    }


async def test_lookup_searches_metadata_when_the_intent_id_is_unknown(sandbox: Sandbox) -> None:
    """Without a provider reference the adapter searches our reference; none found is NOT_FOUND."""
    client = stripe_adapter(sandbox)
    paid = await client.pay(charge("stripe"), idempotency_key="k1")
    found = await client.lookup(handle(None))
    missing = await client.lookup(handle(None, "other"))
    await client.aclose()
    assert found.provider_reference == paid.provider_reference
    assert missing.failure_kind is FailureKind.NOT_FOUND


@pytest.mark.parametrize(
    ("fault", "kind", "code"),
    [
        ("insufficient_funds", FailureKind.INSUFFICIENT_FUNDS, "insufficient_funds"),
        ("account_locked", FailureKind.ACCOUNT_LOCKED, "pickup_card"),
        ("account_frozen", FailureKind.ACCOUNT_LOCKED, "restricted_card"),
        ("account_closed", FailureKind.ACCOUNT_CLOSED, "new_account_information_available"),
        ("region_restricted", FailureKind.CARD_DECLINED, "not_permitted"),
        ("declined", FailureKind.CARD_DECLINED, "generic_decline"),
    ],
)
async def test_declines_carry_stripes_decline_code(
    sandbox: Sandbox, admin: httpx.AsyncClient, fault: str, kind: FailureKind, code: str
) -> None:
    """A decline answers 402 with Stripe's decline_code; nothing is booked; lookup agrees."""
    await add_fault(admin, "stripe", kind=fault)
    client = stripe_adapter(sandbox)
    reply = await client.pay(charge("stripe"), idempotency_key="k1")
    await admin.delete("/stripe/faults")
    looked = await client.lookup(handle(reply))
    await client.aclose()
    assert (reply.failure_kind, reply.provider_code, reply.http_status) == (kind, code, 402)
    assert looked.failure_kind is kind
    assert (await books(admin, "stripe"))["entries"] == []


async def test_three_d_secure_redirect_then_success(sandbox: Sandbox) -> None:
    """A 3-D Secure card needs action with a redirect URL; after it, lookup says succeeded."""
    client = stripe_adapter(sandbox, return_url="https://shop.example/back")
    reply = await client.pay(
        charge("stripe", token="pm_card_authenticationRequired"), idempotency_key="k1"
    )
    assert reply.outcome is Outcome.REQUIRES_ACTION
    assert reply.action_url
    async with httpx.AsyncClient() as browser:
        assert (await browser.get(reply.action_url)).status_code == 200
    looked = await client.lookup(handle(reply))
    await client.aclose()
    assert looked.outcome is Outcome.SUCCEEDED


async def test_manual_capture_void_and_detach(sandbox: Sandbox, admin: httpx.AsyncClient) -> None:
    """Authorise, capture part, void another hold; cancel_fails refuses; detach works once."""
    client = stripe_adapter(sandbox)
    held = await client.pay(charge("stripe", "o1", capture=False), idempotency_key="k1")
    captured = await client.capture(handle(held, "o1"), EUR5, idempotency_key="c1")
    other = await client.pay(charge("stripe", "o2", capture=False), idempotency_key="k2")
    await add_fault(admin, "stripe", kind="cancel_fails", count=1)
    refused = await client.void(handle(other, "o2"), idempotency_key="v1")
    voided = await client.void(handle(other, "o2"), idempotency_key="v2")
    detached = await client.cancel_mandate("pm_card_visa", idempotency_key="d1")
    twice = await client.cancel_mandate("pm_card_visa", idempotency_key="d2")
    await client.aclose()
    assert held.outcome is captured.outcome is voided.outcome is Outcome.SUCCEEDED
    assert refused.failure_kind is FailureKind.INVALID_REQUEST
    assert detached.outcome is Outcome.SUCCEEDED
    assert twice.failure_kind is FailureKind.INVALID_REQUEST
    kinds = [e["kind"] for e in (await books(admin, "stripe"))["entries"]]  # type: ignore[union-attr]
    assert kinds == ["authorization", "capture", "authorization", "release"]


async def test_pending_payment_settles_later(sandbox: Sandbox, admin: httpx.AsyncClient) -> None:
    """`pending` answers processing; after settle_after_seconds lookup says succeeded."""
    await add_fault(admin, "stripe", kind="pending", settle_after_seconds=0.0)
    client = stripe_adapter(sandbox)
    reply = await client.pay(charge("stripe"), idempotency_key="k1")
    looked = await client.lookup(handle(reply))
    await client.aclose()
    assert reply.outcome is Outcome.PENDING
    assert looked.outcome is Outcome.SUCCEEDED


async def test_idempotency_replays_bytes_and_refuses_another_body(
    sandbox: Sandbox, admin: httpx.AsyncClient
) -> None:
    """Same key and body: the same bytes, one booking. Same key, other body: idempotency_error,
    which proves an earlier request under the key arrived: unknown, never a refusal."""
    form = {
        "amount": "1050",
        "currency": "eur",
        "confirm": "true",
        "payment_method": "pm_card_visa",
    }
    headers = {"Authorization": "Bearer sk_x", "Idempotency-Key": "k1"}
    async with httpx.AsyncClient(base_url=sandbox.urls["stripe"], headers=headers) as raw:
        first = await raw.post("/v1/payment_intents", data=form)
        again = await raw.post("/v1/payment_intents", data=form)
        other = await raw.post("/v1/payment_intents", data={**form, "amount": "999"})
        anonymous = await raw.get("/v1/payment_intents/x", headers={"Authorization": ""})
    assert again.content == first.content
    assert (other.status_code, other.json()["error"]["type"]) == (400, "idempotency_error")
    assert anonymous.status_code == 401
    assert len((await books(admin, "stripe"))["entries"]) == 1  # type: ignore[arg-type]
    client = stripe_adapter(sandbox)
    conflict = await client.pay(
        charge("stripe", amount=Money(minor_units=1, currency="EUR")), idempotency_key="k1"
    )
    await client.aclose()
    assert conflict.failure_kind is FailureKind.UNKNOWN_OUTCOME
