"""Stripe's payment intent list, as the adapter pages through it and the sandbox serves it.

The sandbox's list responses are validated against Stripe's official OpenAPI document (the
same check `tests/sandbox/test_schemas.py` runs for every other route), so records
reconciliation is tested against the shape the real API answers with.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import pytest_asyncio
from pydantic import SecretStr

from payrouter import CardSource, Money
from payrouter.provider import Charge, Outcome
from payrouter_adapters.stripe import StripeAdapter
from payrouter_lab.sandbox import Sandbox, serve
from tests.peers import SPECS_DIR
from tests.sandbox.test_schemas import Recorder, validate


@pytest_asyncio.fixture
async def sandbox() -> AsyncIterator[Sandbox]:
    async with serve(seed=5) as running:
        yield running


def charge(order_id: str, token: str = "pm_card_visa") -> Charge:
    return Charge(
        reference=f"ref-{order_id}",
        order_id=order_id,
        amount=Money.of("12.34", "EUR"),
        source=CardSource(token=SecretStr(token)),
        customer_country="DE",
    )


async def test_the_adapter_follows_every_page_and_translates_each_intent(
    sandbox: Sandbox,
) -> None:
    recorder = Recorder()
    adapter = StripeAdapter.from_options(
        name="stripe",
        capabilities=None,
        options={"base_url": sandbox.urls["stripe"], "api_key": "sk_test_x"},
        transport=recorder,
    )
    for number in range(101):  # one more than a page of 100
        await adapter.pay(charge(f"order-{number}"), idempotency_key=f"k{number}")
    await adapter.pay(charge("order-declined", "pm_card_visa_chargeDeclined"), idempotency_key="d")
    now = datetime.now(UTC)
    records = [r async for r in adapter.list_payments(now - timedelta(minutes=1), now)]
    await adapter.aclose()

    lists = [e for e in recorder.exchanges if e.path == "/v1/payment_intents" and e.method == "GET"]
    fees = [e for e in recorder.exchanges if e.path == "/v1/balance_transactions"]
    assert len(lists) == 2
    assert len(fees) == 2  # 101 captured charges: two pages of balance transactions
    assert "starting_after" in lists[1].query
    assert lists[0].query["expand[]"] == "data.latest_charge"
    assert len(records) == 102
    assert len({r.provider_reference for r in records}) == 102
    by_order = {r.order_id: r for r in records}
    assert by_order["order-7"].amount == Money.of("12.34", "EUR")
    assert by_order["order-7"].reference == "ref-order-7"
    assert by_order["order-7"].outcome is Outcome.SUCCEEDED
    assert by_order["order-declined"].outcome is Outcome.FAILED
    # 1.5 % + 0.25 EUR, the stand-in's list price, on 12.34 EUR: 19 + 25 cents
    assert (by_order["order-7"].captured, by_order["order-7"].fee) == (1234, 44)
    assert by_order["order-7"].refunded == 0
    assert by_order["order-declined"].fee is None
    if not SPECS_DIR.is_dir():
        pytest.skip(f"specs dir {SPECS_DIR} absent (set PAYROUTER_SPECS_DIR)")
    assert validate("stripe", lists) == 2
    assert validate("stripe", fees) == 2


async def test_the_sandbox_list_honours_the_created_range(sandbox: Sandbox) -> None:
    adapter = StripeAdapter.from_options(
        name="stripe",
        capabilities=None,
        options={"base_url": sandbox.urls["stripe"], "api_key": "sk_test_x"},
    )
    await adapter.pay(charge("order-1"), idempotency_key="k1")
    tomorrow = datetime.now(UTC) + timedelta(days=1)
    later = [r async for r in adapter.list_payments(tomorrow, tomorrow + timedelta(days=1))]
    await adapter.aclose()
    async with httpx.AsyncClient(base_url=sandbox.urls["stripe"]) as raw:
        refused = await raw.get(
            "/v1/payment_intents",
            params={"created[gte]": "yesterday"},
            headers={"Authorization": "Bearer sk_test_x"},
        )

    assert later == []
    assert refused.status_code == 400
