"""A Stripe answer that is Stripe's own 500 after the charge or refund was made: the replay
under the same key repeats the saved 500 and settles nothing, so the payment stays open
with the reason (search may lag) until search shows the intent, is never failed, and the
customer's retry is not charged again; a refund is found in the intent's refund list."""

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
    PaymentStatus,
    Router,
    RouterSettings,
)
from payrouter.provider import Outcome
from payrouter_lab.sandbox import Sandbox
from tests.sandbox.kit import add_fault, books, stripe_adapter

pytestmark = pytest.mark.asyncio(loop_scope="session")

SETTINGS = RouterSettings(
    lookup_tries=1,
    lookup_wait_seconds=0,
    outbox=OutboxSettings(initial_backoff_seconds=0, max_backoff_seconds=0),
)


def request(order_id: str) -> PaymentRequest:
    return PaymentRequest(
        order_id=order_id,
        amount=Money.of("10.50", "EUR"),
        sources=[CardSource(token=SecretStr("pm_card_visa"))],
        customer_country="DE",
    )


def charges(book: dict[str, object], order_id: str) -> int:
    entries = book["entries"]
    assert isinstance(entries, list)
    return sum(1 for e in entries if e["order_id"] == order_id and e["kind"] == "charge")


@pytest_asyncio.fixture(loop_scope="session")
async def router(sandbox: Sandbox) -> AsyncIterator[Router]:
    async with Router(
        [stripe_adapter(sandbox)], ledger="sqlite://", hooks=(), settings=SETTINGS
    ) as built:
        yield built


async def test_a_saved_500_while_search_lags_stays_open_and_is_never_charged_again(
    router: Router, admin: httpx.AsyncClient
) -> None:
    """Replay repeats the 500, search does not show the intent yet: open with the reason,
    not failed; the customer's retry answers pending and Stripe charged once."""
    await add_fault(admin, "stripe", kind="search_lag", delay_seconds=600)
    await add_fault(admin, "stripe", kind="error", processed=True, count=1, operations=["pay"])

    paid = await router.pay(request("order-saved-500"))
    report = await router.reconcile()
    retried = await router.pay(request("order-saved-500"))

    assert paid.status is PaymentStatus.PENDING
    assert [a.outcome for a in paid.attempts] == [Outcome.UNKNOWN]
    (still,) = report.open
    assert still.order_id == "order-saved-500"
    assert "repeats the 500 stripe saved" in still.reason
    assert "stripe search may lag until" in still.next_step
    assert not still.overdue
    assert retried.status is PaymentStatus.PENDING
    assert charges(await books(admin, "stripe"), "order-saved-500") == 1


async def test_a_saved_500_is_settled_by_search_once_it_catches_up(
    router: Router, admin: httpx.AsyncClient
) -> None:
    """Once Stripe's search shows the intent, reconcile settles the payment from the hit."""
    await add_fault(admin, "stripe", kind="search_lag", delay_seconds=600)
    await add_fault(admin, "stripe", kind="error", processed=True, count=1, operations=["pay"])
    paid = await router.pay(request("order-caught-up"))
    assert paid.status is PaymentStatus.PENDING

    assert (await admin.delete("/stripe/faults")).status_code == 204  # search caught up
    report = await router.reconcile()
    settled = await router.lookup("order-caught-up")

    assert report.open == ()
    assert settled is not None
    assert settled.status is PaymentStatus.SUCCEEDED
    assert settled.provider_reference is not None
    assert charges(await books(admin, "stripe"), "order-caught-up") == 1


async def test_a_refund_answered_by_a_saved_500_is_found_in_the_intents_refunds(
    router: Router, admin: httpx.AsyncClient
) -> None:
    """Stripe refunded and answered its own 500, which a resend would repeat for 24 hours:
    the intent's refund list (current, unlike search) shows the refund, once."""
    paid = await router.pay(request("order-refund-500"))
    await add_fault(admin, "stripe", kind="error", processed=True, count=1, operations=["refund"])

    refunded = await router.refund(paid)

    assert refunded.status is FollowUpStatus.SUCCEEDED
    assert refunded.provider_reference is not None
    assert (await books(admin, "stripe"))["orders"]["order-refund-500"] == {
        "taken": 1050,
        "refunded": 1050,
    }


async def test_a_refund_whose_500_came_before_it_ran_stays_queued_then_is_sent(
    router: Router, admin: httpx.AsyncClient
) -> None:
    """A 500 before Stripe refunded anything is not saved: the list shows no refund, the
    follow-up stays queued, and the outbox's resend under the same key refunds once."""
    paid = await router.pay(request("order-refund-early"))
    await add_fault(admin, "stripe", kind="error", count=1, operations=["refund"])

    queued = await router.refund(paid)
    (done,) = await router.process_outbox()

    assert queued.status is FollowUpStatus.QUEUED
    assert done.status is FollowUpStatus.SUCCEEDED
    assert (await books(admin, "stripe"))["orders"]["order-refund-early"] == {
        "taken": 1050,
        "refunded": 1050,
    }
