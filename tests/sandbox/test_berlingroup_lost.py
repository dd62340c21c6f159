"""A Berlin Group initiation whose answer was lost before a paymentId: PIS cannot be asked
about it (no search, no idempotent replay), so the merchant's own account settles it. A
credit booked with our `endToEndId` proves the transfer executed; its absence proves nothing
until SEPA's longest execution time has passed."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

import httpx
import pytest

from payrouter import (
    BankTransferSource,
    Money,
    PaymentRequest,
    PaymentStatus,
    Router,
    RouterSettings,
)
from payrouter.provider import FailureKind, Outcome
from payrouter_lab.sandbox import Sandbox
from tests.sandbox.kit import AIS_ACCESS, IBAN, add_fault, berlingroup_adapter, books

pytestmark = pytest.mark.asyncio(loop_scope="session")

SETTINGS = RouterSettings(lookup_tries=1, lookup_wait_seconds=0)
EIGHT_DAYS = 8 * 24 * 3600


def transfer(order_id: str) -> PaymentRequest:
    return PaymentRequest(
        order_id=order_id,
        amount=Money.of("10.50", "EUR"),
        sources=[BankTransferSource(iban=IBAN, holder_name="Erika Mustermann")],  # type: ignore[arg-type]
        customer_country="DE",
        return_url="https://shop.example/return",
    )


async def lose_the_initiation(admin: httpx.AsyncClient, router: Router, order_id: str) -> None:
    """The bank creates the payment; its answer never arrives, so no paymentId is known."""
    await add_fault(admin, "berlingroup", kind="success_after_timeout", abort=True, count=1)
    result = await router.pay(transfer(order_id))
    assert result.status is PaymentStatus.PENDING
    (attempt,) = result.attempts
    assert (attempt.outcome, attempt.provider_reference) == (Outcome.UNKNOWN, None)


async def authorise_at_the_bank(sandbox: Sandbox) -> None:
    """The customer authorises in their banking app (decoupled SCA, no link of ours needed)."""
    standin = sandbox.standins["berlingroup"]
    (payment_id,) = standin._transfers  # type: ignore[attr-defined]  # the bank's own state
    root = sandbox.urls["berlingroup"]
    async with httpx.AsyncClient() as customer:
        assert (await customer.get(f"{root}/sandbox/sca/{payment_id}")).status_code == 200


def age_attempts(ledger: Path, seconds: float) -> None:
    """Move the payment's attempts `seconds` into the past (time passing, without waiting)."""
    with closing(sqlite3.connect(ledger)) as db, db:  # closed too: 3.13 warns of open ones
        db.execute("UPDATE payrouter_attempts SET started_at = started_at - ?", (seconds,))


async def test_a_lost_initiation_the_customer_authorised_is_settled_by_the_booked_credit(
    sandbox: Sandbox, admin: httpx.AsyncClient, tmp_path: Path
) -> None:
    """The credit with our endToEndId on the merchant's account proves the transfer executed."""
    adapter = berlingroup_adapter(sandbox, **AIS_ACCESS)
    ledger = f"sqlite:///{tmp_path / 'ledger.db'}"
    async with Router([adapter], ledger=ledger, hooks=(), settings=SETTINGS) as router:
        await lose_the_initiation(admin, router, "order-lost-paid")
        await authorise_at_the_bank(sandbox)
        report = await router.reconcile()
        result = await router.lookup("order-lost-paid")
    assert [(c.before, c.after) for c in report.changes] == [
        (PaymentStatus.PENDING, PaymentStatus.SUCCEEDED)
    ]
    assert result is not None
    (entry,) = (await books(admin, "berlingroup"))["entries"]  # type: ignore[misc]
    assert result.status is PaymentStatus.SUCCEEDED
    assert entry["order_id"] == "order-lost-paid"


async def test_a_lost_initiation_never_executed_stays_open_until_sepas_bound_then_fails(
    sandbox: Sandbox, admin: httpx.AsyncClient, tmp_path: Path
) -> None:
    """No credit is no proof while a SEPA transfer may still arrive; past the bound it is."""
    adapter = berlingroup_adapter(sandbox, **AIS_ACCESS)
    path = tmp_path / "ledger.db"
    async with Router([adapter], ledger=f"sqlite:///{path}", hooks=(), settings=SETTINGS) as r:
        await lose_the_initiation(admin, r, "order-lost-never")
        early = await r.reconcile()
        age_attempts(path, EIGHT_DAYS)
        late = await r.reconcile()
        result = await r.lookup("order-lost-never")
    (still,) = early.open
    assert "berlingroup" in still.reason
    assert not still.overdue
    assert "until" in still.next_step
    assert [(c.before, c.after) for c in late.changes] == [
        (PaymentStatus.PENDING, PaymentStatus.FAILED)
    ]
    assert result is not None
    (attempt,) = result.attempts
    assert (attempt.outcome, attempt.failure_kind) == (Outcome.FAILED, FailureKind.NOT_FOUND)
    assert (await books(admin, "berlingroup"))["entries"] == []


async def test_without_access_to_the_account_a_lost_initiation_stays_open_with_its_reason(
    sandbox: Sandbox, admin: httpx.AsyncClient, tmp_path: Path
) -> None:
    """No AIS consent: nothing authoritative can be asked, so it stays open and says so."""
    adapter = berlingroup_adapter(sandbox)
    path = tmp_path / "ledger.db"
    async with Router([adapter], ledger=f"sqlite:///{path}", hooks=(), settings=SETTINGS) as r:
        await lose_the_initiation(admin, r, "order-lost-blind")
        age_attempts(path, EIGHT_DAYS)
        report = await r.reconcile()
    (still,) = report.open
    assert still.overdue
    assert "no reference of theirs" in still.reason
