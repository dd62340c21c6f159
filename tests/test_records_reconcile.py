"""`router.compare_records`: the ledger of a period against the providers' own records.

Stripe runs on the sandbox stand-in, whose `GET /v1/payment_intents` list is compared both
ways; the simulated card provider has no list API and is checked attempt by attempt with
`lookup`. Each mismatch kind is made the way it happens in life: a charge made outside the
router, a ledger row edited or restored from the wrong backup.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import pytest_asyncio
from pydantic import SecretStr
from typer.testing import CliRunner

from payrouter import (
    CardSource,
    Mismatch,
    MismatchKind,
    Money,
    PaymentRequest,
    PaymentStatus,
    Router,
    SyncRouter,
)
from payrouter._cli._app import app
from payrouter.provider import Charge, RecordsSource
from payrouter.testing import SimulatedAdapter, SimulatedProvider
from payrouter_adapters.stripe import StripeAdapter
from payrouter_lab.sandbox import Sandbox, serve
from tests.records.kit import edit, plant_payment


@pytest_asyncio.fixture
async def sandbox() -> AsyncIterator[Sandbox]:
    async with serve(seed=3) as running:
        yield running


def stripe(sandbox: Sandbox) -> StripeAdapter:
    return StripeAdapter.from_options(
        name="stripe",
        capabilities=None,
        options={"base_url": sandbox.urls["stripe"], "api_key": "sk_test_x"},
    )


def request(order_id: str, amount: str = "10.00") -> PaymentRequest:
    return PaymentRequest(
        order_id=order_id,
        amount=Money.of(amount, "EUR"),
        sources=[CardSource(token=SecretStr("pm_card_visa"))],
        customer_country="DE",
    )


def today() -> tuple[datetime, datetime]:
    now = datetime.now(UTC)
    return now - timedelta(minutes=5), now + timedelta(minutes=5)


def kinds(mismatches: tuple[Mismatch, ...]) -> list[tuple[MismatchKind, str | None]]:
    return sorted((m.kind, m.order_id) for m in mismatches)


async def test_the_stripe_adapter_lists_records_and_the_simulated_one_does_not(
    sandbox: Sandbox,
) -> None:
    adapter = stripe(sandbox)
    assert isinstance(adapter, RecordsSource)
    assert not isinstance(SimulatedAdapter(SimulatedProvider("card")), RecordsSource)
    await adapter.aclose()


async def test_a_ledger_that_matches_stripe_reports_no_mismatch(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    since, until = today()
    async with Router([stripe(sandbox)], ledger=f"sqlite:///{tmp_path / 'l.db'}") as router:
        for order in ("order-1", "order-2"):
            assert (await router.pay(request(order))).status is PaymentStatus.SUCCEEDED
        report = await router.compare_records(since, until)

    assert report.ok
    assert report.compared == 4  # two intents listed, two attempts in the ledger
    assert report.unlisted_providers == ()


async def test_each_kind_of_mismatch_with_stripe_is_found(sandbox: Sandbox, tmp_path: Path) -> None:
    database = tmp_path / "l.db"
    since, until = today()
    adapter = stripe(sandbox)
    async with Router([adapter], ledger=f"sqlite:///{database}") as router:
        for order in ("order-amount", "order-status", "order-fine"):
            await router.pay(request(order))
        # Someone charged through Stripe's dashboard, outside the router.
        outside = await adapter.pay(
            Charge(
                reference="manual-1",
                order_id="order-outside",
                amount=Money.of("7.00", "EUR"),
                source=CardSource(token=SecretStr("pm_card_visa")),
                customer_country="DE",
            ),
            idempotency_key="manual-1",
        )
        edit(
            database,
            "UPDATE payrouter_payments SET amount_minor = 999 WHERE order_id = 'order-amount'",
        )
        edit(
            database,
            "UPDATE payrouter_attempts SET outcome = 'failed' WHERE order_id = 'order-status'",
        )
        plant_payment(database, "order-ghost", "stripe", "pi_never_made")
        report = await router.compare_records(since, until)

    assert kinds(report.mismatches) == [
        (MismatchKind.AMOUNT_DIFFERS, "order-amount"),
        (MismatchKind.MISSING_AT_PROVIDER, "order-ghost"),
        (MismatchKind.MISSING_IN_LEDGER, "order-outside"),
        (MismatchKind.STATUS_DIFFERS, "order-status"),
    ]
    by_kind = {m.kind: m for m in report.mismatches}
    assert by_kind[MismatchKind.AMOUNT_DIFFERS].ledger == "9.99 EUR"
    assert by_kind[MismatchKind.AMOUNT_DIFFERS].provider_side == "10.00 EUR"
    assert by_kind[MismatchKind.STATUS_DIFFERS].ledger == "failed"
    assert by_kind[MismatchKind.STATUS_DIFFERS].provider_side == "succeeded"
    assert by_kind[MismatchKind.MISSING_IN_LEDGER].provider_reference == outside.provider_reference
    assert report.as_json()["mismatches"] == [m.as_json() for m in report.mismatches]


async def test_payments_outside_the_period_are_not_compared(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    async with Router([stripe(sandbox)], ledger=f"sqlite:///{tmp_path / 'l.db'}") as router:
        await router.pay(request("order-1"))
        last_week = datetime.now(UTC) - timedelta(days=7)
        report = await router.compare_records(last_week, last_week + timedelta(hours=1))

    assert report.ok
    assert report.compared == 0


async def test_a_provider_without_a_list_api_is_checked_by_lookup(tmp_path: Path) -> None:
    database = tmp_path / "l.db"
    since, until = today()
    card = SimulatedProvider("card")
    async with Router([SimulatedAdapter(card)], ledger=f"sqlite:///{database}") as router:
        await router.pay(request("order-fine"))
        await router.pay(request("order-status"))
        edit(
            database,
            "UPDATE payrouter_attempts SET outcome = 'failed' WHERE order_id = 'order-status'",
        )
        plant_payment(database, "order-ghost", "card", "sim_never_made")
        report = await router.compare_records(since, until)

    assert report.unlisted_providers == ("card",)
    assert kinds(report.mismatches) == [
        (MismatchKind.MISSING_AT_PROVIDER, "order-ghost"),
        (MismatchKind.STATUS_DIFFERS, "order-status"),
    ]


async def test_a_period_needs_time_zones_and_the_right_order(tmp_path: Path) -> None:
    card = SimulatedAdapter(SimulatedProvider("card"))
    now = datetime.now(UTC)
    async with Router([card], ledger=f"sqlite:///{tmp_path / 'l.db'}") as router:
        with pytest.raises(ValueError, match="since has no time zone"):
            await router.compare_records(now.replace(tzinfo=None), now)
        with pytest.raises(ValueError, match="until is before since"):
            await router.compare_records(now, now - timedelta(days=1))


def test_the_sync_router_compares_records_too(tmp_path: Path) -> None:
    since, until = today()
    router = Router(
        [SimulatedAdapter(SimulatedProvider("card"))], ledger=f"sqlite:///{tmp_path}/l.db"
    )
    with SyncRouter(router) as payments:
        payments.pay(request("order-1"))
        report = payments.compare_records(since, until)
    assert report.ok
    assert report.compared == 1


def test_the_records_command_prints_a_table_writes_json_and_exits_1_on_mismatch(
    tmp_path: Path,
) -> None:
    config = tmp_path / "payrouter.yaml"
    database = tmp_path / "ledger.db"
    config.write_text(
        f"ledger: sqlite:///{database}\n"
        "providers:\n"
        "  - {name: card, type: simulated, methods: [card]}\n"
    )
    SyncRouter(Router.from_config(config, hooks=())).close()  # creates the ledger's tables
    plant_payment(database, "order-ghost", "card", "sim_never_made")
    since, until = today()
    report_file = tmp_path / "records.json"

    found = CliRunner().invoke(
        app,
        [
            *("records", "--config", str(config), "--json", str(report_file)),
            *("--since", since.isoformat(), "--until", until.isoformat()),
        ],
        env={"COLUMNS": "200"},
    )
    quiet = CliRunner().invoke(
        app,
        ["records", "--config", str(config), "--since", "2020-01-01", "--until", "2020-01-02"],
    )
    wrong = CliRunner().invoke(
        app, ["records", "--config", str(config), "--since", "soon", "--until", "2020-01-02"]
    )

    assert found.exit_code == 1, found.output
    assert "missing_at_provider" in found.output
    assert "order-ghost" in found.output
    assert "card: no records source" in found.output
    written = json.loads(report_file.read_text())
    assert [m["kind"] for m in written["mismatches"]] == ["missing_at_provider"]
    assert written["unlisted_providers"] == ["card"]
    assert quiet.exit_code == 0, quiet.output
    assert wrong.exit_code == 2
    assert "--since" in wrong.output


async def test_the_period_is_read_the_same_way_from_postgresql(postgres_url: str) -> None:
    since, until = today()
    card = SimulatedProvider("card")
    async with Router([SimulatedAdapter(card)], ledger=postgres_url, hooks=()) as router:
        await router.pay(request("order-1"))
        await router.pay(request("order-2", "3.00"))
        report = await router.compare_records(since, until)
        earlier = await router.compare_records(since - timedelta(days=2), since - timedelta(days=1))

    assert report.ok
    assert report.compared == 2
    assert earlier.compared == 0


async def test_attempts_read_to_match_near_the_edge_are_not_counted_as_compared(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    """The ledger is read two days beyond the period to match records near its edges; the
    attempts outside the period are neither compared nor reported missing."""
    async with Router([stripe(sandbox)], ledger=f"sqlite:///{tmp_path / 'l.db'}") as router:
        await router.pay(request("order-1"))
        hour_ago = datetime.now(UTC) - timedelta(hours=1)
        report = await router.compare_records(hour_ago - timedelta(hours=1), hour_ago)

    assert report.ok
    assert report.compared == 0
