"""The real Berlin Group adapter, unchanged, against the NextGenPSD2 PIS stand-in."""

from __future__ import annotations

import httpx
import pytest

from payrouter.provider import FailureKind, Outcome, ProviderReply
from payrouter_lab.sandbox import Sandbox
from tests.sandbox.kit import add_fault, berlingroup_adapter, books, charge, handle

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def authorise(reply: ProviderReply) -> None:
    """The customer completes SCA at the bank (the scaRedirect page)."""
    assert reply.action_url is not None
    async with httpx.AsyncClient() as browser:
        assert (await browser.get(reply.action_url)).status_code == 200


async def test_transfer_needs_sca_then_settles(sandbox: Sandbox, admin: httpx.AsyncClient) -> None:
    """Initiation needs the customer's SCA (scaRedirect); then ACSC, booked once."""
    client = berlingroup_adapter(sandbox)
    reply = await client.pay(charge("berlingroup"), idempotency_key="k1")
    assert (reply.outcome, reply.provider_code) == (Outcome.REQUIRES_ACTION, "scaRedirect")
    await authorise(reply)
    looked = await client.lookup(handle(reply))
    await client.aclose()
    assert (looked.outcome, looked.provider_code) == (Outcome.SUCCEEDED, "ACSC")
    assert (await books(admin, "berlingroup"))["orders"] == {
        "order-1": {"taken": 1050, "refunded": 0}
    }


async def test_paid_but_not_arrived_until_settlement(
    sandbox: Sandbox, admin: httpx.AsyncClient
) -> None:
    """With `pending`, the transfer is ACSP (pending, booked as pending) until it settles."""
    await add_fault(admin, "berlingroup", kind="pending", settle_after_seconds=60)
    client = berlingroup_adapter(sandbox)
    reply = await client.pay(charge("berlingroup"), idempotency_key="k1")
    await authorise(reply)
    looked = await client.lookup(handle(reply))
    await client.aclose()
    assert (looked.outcome, looked.provider_code) == (Outcome.PENDING, "ACSP")
    entries = (await books(admin, "berlingroup"))["entries"]
    assert [e["status"] for e in entries] == ["pending"]  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("fault", "kind"),
    [
        ("insufficient_funds", FailureKind.INSUFFICIENT_FUNDS),
        ("account_locked", FailureKind.ACCOUNT_LOCKED),
        ("account_frozen", FailureKind.ACCOUNT_LOCKED),
        ("account_closed", FailureKind.CARD_DECLINED),
        ("region_restricted", FailureKind.CARD_DECLINED),
        ("declined", FailureKind.CARD_DECLINED),
    ],
)
async def test_rejections_carry_tpp_message_codes(
    sandbox: Sandbox, admin: httpx.AsyncClient, fault: str, kind: FailureKind
) -> None:
    """RJCT with tppMessages, or 403 SERVICE_BLOCKED / PRODUCT_INVALID, by IBAN prefix."""
    await add_fault(admin, "berlingroup", kind=fault, payer_prefix="DE89")
    client = berlingroup_adapter(sandbox)
    reply = await client.pay(charge("berlingroup"), idempotency_key="k1")
    await client.aclose()
    assert reply.failure_kind is kind


async def test_cancel_before_execution_only(sandbox: Sandbox, admin: httpx.AsyncClient) -> None:
    """DELETE cancels an unauthorised transfer (204); an executed one cannot be cancelled."""
    client = berlingroup_adapter(sandbox)
    open_one = await client.pay(charge("berlingroup", "o1"), idempotency_key="k1")
    executed = await client.pay(charge("berlingroup", "o2"), idempotency_key="k2")
    await authorise(executed)
    await add_fault(admin, "berlingroup", kind="cancel_fails", operations=["cancel_mandate"])
    cancelled = await client.void(handle(open_one, "o1"), idempotency_key="v1")
    too_late = await client.void(handle(executed, "o2"), idempotency_key="v2")
    standing = await client.cancel_mandate("so-1", idempotency_key="m1")
    await client.aclose()
    assert cancelled.outcome is Outcome.SUCCEEDED
    assert too_late.failure_kind is FailureKind.INVALID_REQUEST
    assert standing.failure_kind is FailureKind.INVALID_REQUEST


async def test_request_id_replays_and_conflicts(sandbox: Sandbox, admin: httpx.AsyncClient) -> None:
    """The same key (X-Request-ID) returns the same payment; another body is FORMAT_ERROR."""
    await add_fault(admin, "berlingroup", kind="busy", status=503, count=1)
    client = berlingroup_adapter(sandbox)
    busy = await client.pay(charge("berlingroup"), idempotency_key="k1")
    first = await client.pay(charge("berlingroup"), idempotency_key="k1")
    again = await client.pay(charge("berlingroup"), idempotency_key="k1")
    other = await client.pay(charge("berlingroup", "o2"), idempotency_key="k1")
    await client.aclose()
    assert busy.failure_kind is FailureKind.BUSY
    assert again.provider_reference == first.provider_reference
    assert (other.failure_kind, other.provider_code) == (
        FailureKind.INVALID_REQUEST,
        "FORMAT_ERROR",
    )


async def test_missing_token_is_401(sandbox: Sandbox) -> None:
    """No Authorization header: 401 TOKEN_INVALID."""
    async with httpx.AsyncClient(base_url=sandbox.urls["berlingroup"]) as raw:
        response = await raw.get("/v1/payments/sepa-credit-transfers/x/status")
    assert response.status_code == 401
    assert response.json()["tppMessages"][0]["code"] == "TOKEN_INVALID"
