"""A Stripe capture or void answered by Stripe's own 500, which a resend under the same key
repeats for 24 hours: the adapter reads the PaymentIntent before any resend. Captured or
canceled settles the follow-up at once; an intent still `requires_capture` behind a 500 that
Stripe replayed (`Idempotent-Replayed: true`, so known to be saved) is resent under a new key,
never under the spent one."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
import pytest_asyncio
from pydantic import SecretStr

from payrouter import (
    CardSource,
    FollowUpStatus,
    Money,
    OutboxSettings,
    PaymentRequest,
    PaymentResult,
    PaymentStatus,
    Router,
    RouterSettings,
)
from payrouter_lab.sandbox import Sandbox
from tests.sandbox.kit import add_fault, books, stripe_adapter

pytestmark = pytest.mark.asyncio(loop_scope="session")

SETTINGS = RouterSettings(
    lookup_tries=1,
    lookup_wait_seconds=0,
    outbox=OutboxSettings(initial_backoff_seconds=0, max_backoff_seconds=0),
)


@pytest_asyncio.fixture(loop_scope="session")
async def router(sandbox: Sandbox) -> AsyncIterator[Router]:
    async with Router(
        [stripe_adapter(sandbox)], ledger="sqlite://", hooks=(), settings=SETTINGS
    ) as built:
        yield built


async def hold(router: Router, order_id: str) -> PaymentResult:
    held = await router.pay(
        PaymentRequest(
            order_id=order_id,
            amount=Money.of("10.50", "EUR"),
            sources=[CardSource(token=SecretStr("pm_card_visa"))],
            customer_country="DE",
            capture=False,
        )
    )
    assert held.status is PaymentStatus.SUCCEEDED
    return held


async def test_a_capture_answered_by_a_saved_500_is_found_captured(
    router: Router, admin: httpx.AsyncClient
) -> None:
    """Stripe captured and answered its own 500: the intent says succeeded with the amount
    received, so the capture succeeded, once, without waiting for a resend."""
    held = await hold(router, "order-capture-500")
    await add_fault(admin, "stripe", kind="error", processed=True, count=1, operations=["capture"])

    captured = await router.capture(held, Money.of("8.00", "EUR"))

    assert captured.status is FollowUpStatus.SUCCEEDED
    assert captured.provider_reference == held.provider_reference
    assert (await books(admin, "stripe"))["orders"]["order-capture-500"] == {
        "taken": 800,
        "refunded": 0,
    }


async def test_a_void_answered_by_a_saved_500_is_found_canceled(
    router: Router, admin: httpx.AsyncClient
) -> None:
    """Stripe canceled the intent and answered its own 500: the void succeeded."""
    held = await hold(router, "order-void-500")
    await add_fault(admin, "stripe", kind="error", processed=True, count=1, operations=["void"])

    voided = await router.void(held)

    assert voided.status is FollowUpStatus.SUCCEEDED
    assert "order-void-500" not in (await books(admin, "stripe"))["orders"]


async def test_a_capture_whose_saved_500_did_nothing_is_resent_under_a_new_key(
    router: Router, admin: httpx.AsyncClient
) -> None:
    """Stripe began the capture, failed and saved its 500: the intent stays requires_capture.
    The first answer may not be a saved one, so the outbox resends under the same key; that
    resend is Stripe's replay of the 500 (known saved), so the next send goes under a new key
    and captures, once."""
    held = await hold(router, "order-capture-spent")
    await add_fault(admin, "stripe", kind="error", saved=True, count=1, operations=["capture"])

    queued = await router.capture(held)
    (still,) = await router.process_outbox()
    (done,) = await router.process_outbox()

    assert queued.status is still.status is FollowUpStatus.QUEUED
    assert still.idempotency_key != queued.idempotency_key  # the spent key is left behind
    assert done.status is FollowUpStatus.SUCCEEDED
    assert done.idempotency_key == still.idempotency_key
    assert (await books(admin, "stripe"))["orders"]["order-capture-spent"] == {
        "taken": 1050,
        "refunded": 0,
    }


async def test_a_refund_whose_saved_500_did_nothing_is_resent_under_a_new_key(
    router: Router, admin: httpx.AsyncClient
) -> None:
    """The intent lists no refund under the key; once Stripe replays the 500 the key is
    spent, and the refund goes again under a new key and is made once."""
    paid = await router.pay(
        PaymentRequest(
            order_id="order-refund-spent",
            amount=Money.of("10.50", "EUR"),
            sources=[CardSource(token=SecretStr("pm_card_visa"))],
            customer_country="DE",
        )
    )
    await add_fault(admin, "stripe", kind="error", saved=True, count=1, operations=["refund"])

    queued = await router.refund(paid)
    (still,) = await router.process_outbox()
    (done,) = await router.process_outbox()

    assert queued.status is still.status is FollowUpStatus.QUEUED
    assert still.idempotency_key != queued.idempotency_key
    assert done.status is FollowUpStatus.SUCCEEDED
    assert (await books(admin, "stripe"))["orders"]["order-refund-spent"] == {
        "taken": 1050,
        "refunded": 1050,
    }
