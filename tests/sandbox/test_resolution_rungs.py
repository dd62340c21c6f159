"""The stand-ins play every rung of the resolution ladder as the providers document it: keys
replay within each provider's window and not after, Stripe's search lags, and an Adyen answer
lost after processing is recovered by the replay, not by a lookup Adyen does not have."""

from __future__ import annotations

import time

import httpx
import pytest

from payrouter import (
    CardSource,
    Money,
    PaymentRequest,
    PaymentStatus,
    Router,
    RouterSettings,
)
from payrouter.provider import FailureKind, Outcome
from payrouter_lab.sandbox import Sandbox
from tests.sandbox.kit import add_fault, adyen_adapter, books, charge, handle, stripe_adapter

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def test_stripe_search_lag_hides_a_fresh_intent_and_retrieve_does_not(
    sandbox: Sandbox, admin: httpx.AsyncClient
) -> None:
    """While search lags, a new intent is not found by our reference; by its id it is."""
    await add_fault(admin, "stripe", kind="search_lag", delay_seconds=600)
    client = stripe_adapter(sandbox)
    paid = await client.pay(charge("stripe"), idempotency_key="k-lag")
    searched = await client.lookup(handle(None))
    retrieved = await client.lookup(handle(paid))
    await client.aclose()
    assert paid.outcome is Outcome.SUCCEEDED
    assert searched.failure_kind is FailureKind.NOT_FOUND
    assert retrieved.outcome is Outcome.SUCCEEDED


async def test_a_key_replays_within_stripes_window_and_is_new_after_it(
    sandbox: Sandbox, admin: httpx.AsyncClient
) -> None:
    """Within 24 hours the same key answers the same intent; a day later it is a new request."""
    standin = sandbox.standins["stripe"]
    client = stripe_adapter(sandbox)
    try:
        first = await client.pay(charge("stripe"), idempotency_key="k-window")
        again = await client.pay(charge("stripe"), idempotency_key="k-window")
        standin.clock = lambda: time.time() + 24 * 3600 + 60
        late = await client.pay(charge("stripe"), idempotency_key="k-window")
    finally:
        standin.clock = time.time
        await client.aclose()
    assert again.provider_reference == first.provider_reference
    assert late.provider_reference != first.provider_reference
    assert len((await books(admin, "stripe"))["entries"]) == 2  # type: ignore[arg-type]


async def test_adyen_answer_lost_after_processing_is_recovered_by_replay(
    sandbox: Sandbox, admin: httpx.AsyncClient
) -> None:
    """Adyen charged and the answer was lost: pay replays the same request, charging once."""
    await add_fault(admin, "adyen", kind="success_after_timeout", abort=True, count=1)
    settings = RouterSettings(lookup_tries=1, lookup_wait_seconds=0)
    request = PaymentRequest(
        order_id="order-adyen-lost",
        amount=Money.of("10.50", "EUR"),
        sources=[CardSource(token="stored_card_1", provider="adyen")],  # type: ignore[arg-type]
        customer_country="DE",
        customer_id="shopper-1",
    )
    async with Router(
        [adyen_adapter(sandbox)], ledger="sqlite://", hooks=(), settings=settings
    ) as r:
        result = await r.pay(request)
    assert result.status is PaymentStatus.SUCCEEDED
    assert [a.outcome for a in result.attempts] == [Outcome.SUCCEEDED]
    entries = (await books(admin, "adyen"))["entries"]
    assert len(entries) == 1  # type: ignore[arg-type]
