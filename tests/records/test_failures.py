"""A provider whose records cannot be read does not sink the comparison of the others."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest_asyncio

from payrouter import Router
from payrouter_lab.sandbox import Sandbox, serve
from tests.records.kit import plant_payment
from tests.records.test_every_kind import PROVIDERS, card


@pytest_asyncio.fixture
async def sandbox() -> AsyncIterator[Sandbox]:
    async with serve(seed=31) as running:
        yield running


async def test_an_unreachable_provider_is_named_and_the_others_are_compared(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    """Adyen's Customer Area is down: Adyen is reported not read (and its open discrepancy
    left open), Stripe is compared as usual, and the report is not ok."""
    stripe, adyen = (next(p for p in PROVIDERS if p.name == n) for n in ("stripe", "adyen"))
    database = tmp_path / "l.db"
    since = datetime.now(UTC) - timedelta(minutes=1)
    async with Router(
        [stripe.adapter(sandbox), adyen.adapter(sandbox)], ledger=f"sqlite:///{database}", hooks=()
    ) as router:
        await router.pay(card("order-1"))
        plant_payment(database, "order-ghost", "adyen", "PSPNEVERMADE0001")
        until = datetime.now(UTC)
        first = await router.compare_records(since, until)
        async with httpx.AsyncClient(base_url=sandbox.admin_url) as admin:
            down = await admin.post("/_admin/adyen/faults", json={"kind": "down"})
            assert down.status_code == 201
        second = await router.compare_records(since, until)
        still_open = await router.discrepancies()

    assert [m.order_id for m in first.mismatches] == ["order-ghost"]
    assert set(second.failed) == {"adyen"}
    assert "ConnectError" in second.failed["adyen"]
    assert not second.ok
    assert second.mismatches == ()  # Stripe agrees
    assert second.compared == 2  # Stripe's one intent and one attempt
    assert [d.order_id for d in still_open] == ["order-ghost"]
    assert second.as_json()["failed"] == second.failed
