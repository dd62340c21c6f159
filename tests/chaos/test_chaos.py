"""Chaos: four checkout processes pay overlapping orders against one ledger while every
provider cycles through every fault the stand-ins can play; one process is SIGKILLed mid-run;
`payrouter reconcile` then runs in a fresh process. Judged from the providers' books: no
order charged twice, no take the ledger does not know, no caller told "failed" about money
that moved, every refund applied once, nothing left open that the books can answer, and what
stays open (Berlin Group initiations whose answer was lost and whose credit never arrived)
listed by reconcile with its reason, within its provider's bound.

Runs on SQLite and on PostgreSQL, through the real adapters against the sandbox stand-ins.
Phases and the kill follow progress, not the clock, so a loaded machine slows the run but
does not change what it checks. The figures are printed (`pytest -s` shows them).
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import pytest

from payrouter import CardSource, FollowUp, PaymentResult, PaymentStatus, Router, WalletSource
from payrouter_lab.testing import SandboxControl, running_sandbox
from tests.chaos.books import OPEN, Verdict, judge, takes
from tests.chaos.plan import (
    FAULT_CYCLE,
    LEASE_SECONDS,
    PROVIDERS,
    RECONCILE_READ_TIMEOUT_SECONDS,
    SEED,
    WORKERS,
    Order,
    assignments,
    orders,
    write_config,
)
from tests.chaos.run import VICTIM, Conductor, Run, fault_label

pytestmark = pytest.mark.slow

PAYROUTER = Path(sys.executable).with_name("payrouter")


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.peer("postgres"))])
def ledger_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'ledger.db'}"
    url: str = request.getfixturevalue("postgres_url")
    return url


async def _ledger(
    config: Path, all_orders: Sequence[Order]
) -> tuple[dict[str, PaymentResult | None], dict[str, list[FollowUp]]]:
    """Each order's payment and follow-ups as the ledger has them (read, never judged by)."""
    async with Router.from_config(config, hooks=()) as router:
        payments = {o.order_id: await router.lookup(o.order_id) for o in all_orders}
        followups = {o.order_id: await router.followups(o.order_id) for o in all_orders}
    return payments, {order: found for order, found in followups.items() if found}


def _reconcile(config: Path) -> subprocess.CompletedProcess[str]:
    """`payrouter reconcile` in a fresh process, as an operator runs it after an incident."""
    return subprocess.run(
        [str(PAYROUTER), "reconcile", "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, "COLUMNS": "250"},
    )


def _figures(
    run: Run,
    all_orders: Sequence[Order],
    before: dict[str, PaymentResult | None],
    after: dict[str, PaymentResult | None],
    books: dict[str, list[dict[str, object]]],
) -> dict[str, object]:
    def opened(ledger: dict[str, PaymentResult | None]) -> int:
        return sum(1 for p in ledger.values() if p is not None and p.status in OPEN)

    taken = takes(books)
    return {
        "orders": len(all_orders),
        "pay calls": sum(len(mine) for mine in run.answered.values()) + run.in_flight_at_kill,
        "answers": Counter(str(a["status"]) for a in run.answers),
        "charges (books)": Counter(t.provider for t in taken),
        "refunds (books)": sum(
            1 for entries in books.values() for e in entries if e["kind"] == "refund"
        ),
        "kills": int(run.killed_at is not None),
        "in flight at the kill": run.in_flight_at_kill,
        "down windows": run.down_windows,
        "fault hits": dict(sorted(run.hits.items())),
        "pending before reconcile": opened(before),
        "pending after reconcile": opened(after),
        "final statuses": Counter(p.status.value for p in after.values() if p is not None),
    }


@pytest.mark.usefixtures("payrouter_sandbox_env")
async def test_overlapping_workers_under_every_fault_charge_once_and_settle(
    ledger_url: str, tmp_path: Path
) -> None:
    """Rule 1 and rule 3 under chaos: once per order, every take recorded, all settled."""
    all_orders = orders()
    with running_sandbox(seed=SEED) as sandbox:
        issue_cards(sandbox, all_orders)
        config = write_config(tmp_path, ledger_url, sandbox.urls)
        run = await Conductor(sandbox, config, tmp_path).pay(assignments(all_orders))
        _assert_workers_ran(run, tmp_path)
        before, _ = await _ledger(config, all_orders)
        # The victim's leases (payments and follow-ups) run out LEASE_SECONDS after its last
        # write, which came before the kill: only then may a reconciler take them over.
        await asyncio.sleep(max(0.0, run.killed_at + LEASE_SECONDS - time.monotonic()))
        after_incident = write_config(
            tmp_path,
            ledger_url,
            sandbox.urls,
            name="reconcile.yaml",
            read_timeout=RECONCILE_READ_TIMEOUT_SECONDS,
        )
        reconciled = _reconcile(after_incident)
        after, followups = await _ledger(config, all_orders)
        books = {provider: sandbox.books(provider)["entries"] for provider in PROVIDERS}
    figures = _figures(run, all_orders, before, after, books)
    print(f"\nchaos on {ledger_url.split(':')[0]}:")
    for name, value in figures.items():
        print(f"  {name}: {value}")
    print(reconciled.stdout)
    verdict = judge(books, after, followups, run.answers)
    _assert_kept(verdict, run, after, followups, reconciled)


def issue_cards(sandbox: SandboxControl, all_orders: Sequence[Order]) -> None:
    """Tokenize each card order's card at both providers and vault each wallet order's PayPal
    wallet, as the checkout would have: the stand-ins charge only the credentials they issued
    (Adyen's per shopper)."""
    for order in all_orders:
        if order.kind == "wallet":
            wallet = order.request().sources[0]
            assert isinstance(wallet, WalletSource)
            assert wallet.account is not None
            sandbox.credential("paypal", credential_id=wallet.account.get_secret_value())
        if order.kind == "card":
            card = order.request().sources[0]
            assert isinstance(card, CardSource)
            customer = order.request().customer_id
            for provider, token in card.tokens.items():
                sandbox.credential(
                    provider,
                    customer=customer if provider == "adyen" else None,
                    credential_id=token.get_secret_value(),
                )


def _assert_workers_ran(run: Run, folder: Path) -> None:
    """The victim died of the kill mid-run; every other worker paid all it was given."""
    errors = {n: (folder / f"worker-{n}.stderr").read_text()[-3000:] for n in range(WORKERS)}
    assert run.killed_at is not None, "the victim finished before it could be killed"
    assert run.exit_codes[VICTIM] == -9, errors[VICTIM]
    for number in range(WORKERS):
        assert number == VICTIM or run.exit_codes[number] == 0, errors[number]


def _assert_kept(
    verdict: Verdict,
    run: Run,
    after: dict[str, PaymentResult | None],
    followups: dict[str, list[FollowUp]],
    reconciled: subprocess.CompletedProcess[str],
) -> None:
    assert reconciled.returncode == 0, "open past a provider's bound:\n" + reconciled.stdout
    assert verdict.double_charged == {}
    assert verdict.unrecorded == []
    assert verdict.told_failed_but_charged == []
    assert verdict.refunded_twice == []
    assert verdict.refunds_disagreeing == []
    assert verdict.open_but_answered == []
    assert verdict.settled_against_books == []
    still_open = [o for o, p in after.items() if p is not None and p.status in OPEN]
    unexplained = [o for o in still_open if o not in reconciled.stdout]
    assert unexplained == [], "open payments reconcile did not list with a reason"
    queued = [
        f.followup_id
        for mine in followups.values()
        for f in mine
        if f.status.value in ("queued", "sending")
    ]
    assert queued == [], "follow-ups reconcile did not send"
    played = {fault_label(spec) for spec in FAULT_CYCLE}
    assert {label for label in played if run.hits[label] == 0} == set(), "modes never met"
    assert run.down_windows >= len(PROVIDERS), "every provider's port closed once"
    assert PaymentStatus.PROCESSING not in {p.status for p in after.values() if p is not None}
