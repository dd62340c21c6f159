"""Rule 3 under SIGKILL: a worker killed at any instant of a payment leaves an attempt row that
reconcile finishes with the outcome the provider's books prove, and never a second charge.

Each case runs `tests/crash_worker.py` in a subprocess, kills it with SIGKILL at one instant,
then opens a router on the same ledger file, with a provider reading the same books file.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import pytest

from payrouter import (
    FollowUpStatus,
    OutboxSettings,
    PaymentStatus,
    ReconcileReport,
    Router,
    RouterSettings,
)
from payrouter.provider import FailureKind, Outcome, Resolution
from payrouter.testing import SimulatedAdapter, SimulatedProvider
from tests.crash_worker import (
    ADAPTER_BLOCKED,
    FOLLOW_UP_RECEIVED,
    LEASE_SECONDS,
    ORDER_ID,
    PROVIDER,
    PROVIDER_RECEIVED,
    payment_request,
)

pytestmark = pytest.mark.slow

WORKER = Path(__file__).with_name("crash_worker.py")
READY_TIMEOUT_SECONDS = 20.0  # worker start-up (imports) included; the instant itself is ~ms
FINISHED_OUTCOMES = (Outcome.SUCCEEDED, Outcome.FAILED)


@dataclass(frozen=True)
class Crash:
    """One instant to kill the worker at, and what the books and reconcile must then show."""

    instant: str
    marker: str
    """The line the worker prints right before it blocks."""
    charged: bool
    """Whether the provider took the money before the kill."""
    final: PaymentStatus
    refunded: bool = False
    """Whether the provider carried out a refund of the payment before the kill."""


CRASHES = [
    Crash("hang_after_charging", PROVIDER_RECEIVED, charged=True, final=PaymentStatus.SUCCEEDED),
    Crash("block_before_send", ADAPTER_BLOCKED, charged=False, final=PaymentStatus.FAILED),
    Crash("slow_before_charging", PROVIDER_RECEIVED, charged=False, final=PaymentStatus.FAILED),
]


@contextlib.contextmanager
def _showing_worker_stderr(path: Path) -> Iterator[None]:
    """On any failure, print what the worker wrote to stderr (pytest shows it with the error)."""
    try:
        yield
    except BaseException:
        text = path.read_text() if path.exists() else "(no stderr file)"
        print(f"--- crash worker stderr ---\n{text or '(empty)'}\n--- end ---")
        raise


async def _collect_markers(stream: asyncio.StreamReader, markers: set[str]) -> None:
    async for line in stream:
        markers.add(line.decode().strip())


async def _instant_reached(
    crash: Crash, router: Router, books: SimulatedProvider, markers: set[str]
) -> bool:
    """The marker was printed and the ledger (and books, when charged) show the instant."""
    if crash.marker not in markers:
        return False
    payment = await router.lookup(ORDER_ID)
    if payment is None or not payment.attempts:
        return False
    if crash.refunded and not books.followups():
        return False
    return not crash.charged or bool(books.charges(ORDER_ID))


async def _kill_at(
    crash: Crash,
    ledger: str,
    books_path: Path,
    books: SimulatedProvider,
    stderr: IO[str],
    router: Router,
) -> None:
    """Start the worker, wait for the instant, SIGKILL it, and check it died of the kill."""
    worker = await asyncio.create_subprocess_exec(
        *(sys.executable, str(WORKER), crash.instant, str(ledger), str(books_path)),
        stdout=asyncio.subprocess.PIPE,
        stderr=stderr,
    )
    assert worker.stdout is not None
    markers: set[str] = set()
    reader = asyncio.create_task(_collect_markers(worker.stdout, markers))
    try:
        give_up = time.monotonic() + READY_TIMEOUT_SECONDS
        while not await _instant_reached(crash, router, books, markers):
            assert worker.returncode is None, f"worker exited ({worker.returncode}) too early"
            assert time.monotonic() < give_up, f"worker never reached {crash.instant}"
            await asyncio.sleep(0.005)
        assert worker.returncode is None, "worker must still be blocked at the instant"
        os.kill(worker.pid, signal.SIGKILL)  # the parent kills; the worker is not asked
        returncode = await asyncio.wait_for(worker.wait(), timeout=10)
        assert returncode == -signal.SIGKILL, "the worker must die of the kill"
    finally:
        if worker.returncode is None:
            worker.kill()
            await worker.wait()
        await asyncio.wait_for(reader, timeout=10)


async def _reconcile_once_lease_expired(router: Router) -> ReconcileReport:
    """Reconcile takes a crashed payment over only after its lease ran out: keep asking."""
    give_up = time.monotonic() + LEASE_SECONDS + 10
    while True:
        report = await router.reconcile()
        if report.examined:
            return report
        assert time.monotonic() < give_up, "reconcile never took the orphaned payment over"
        await asyncio.sleep(0.05)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.peer("postgres"))])
def ledger_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The same crashes against the embedded ledger and against real PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'ledger.db'}"
    url: str = request.getfixturevalue("postgres_url")
    return url


@pytest.mark.parametrize("crash", CRASHES, ids=[crash.instant for crash in CRASHES])
async def test_reconcile_finishes_a_payment_whose_worker_was_sigkilled(
    crash: Crash, ledger_url: str, tmp_path: Path
) -> None:
    """The attempt row outlives SIGKILL; reconcile settles it as the books say, charging once."""
    ledger, books_path = ledger_url, tmp_path / "books.db"
    stderr_path = tmp_path / "worker.stderr"
    provider = SimulatedProvider(PROVIDER, books_path=books_path)
    adapter = SimulatedAdapter(provider, resolution=Resolution(lookup=True, search_lag_seconds=0))
    router = Router([adapter], ledger=ledger, hooks=())
    with _showing_worker_stderr(stderr_path), stderr_path.open("w") as stderr:
        async with router:  # creates the tables before the worker starts
            await _kill_at(crash, ledger, books_path, provider, stderr, router)

            orphan = await router.lookup(ORDER_ID)
            assert orphan is not None
            assert orphan.status is PaymentStatus.PROCESSING
            (attempt,) = orphan.attempts
            assert attempt.outcome is None  # written before the call, never finished
            taken = provider.charges(ORDER_ID)
            assert [c.reference for c in taken] == ([attempt.idempotency_key] * crash.charged)

            report = await _reconcile_once_lease_expired(router)
            assert [(c.order_id, c.before, c.after) for c in report.changes] == [
                (ORDER_ID, PaymentStatus.PROCESSING, crash.final)
            ]
            assert report.still_open == ()

            result = await router.lookup(ORDER_ID)
            assert result is not None
            assert result.status is crash.final
            (finished,) = result.attempts
            assert all(a.outcome in FINISHED_OUTCOMES for a in result.attempts)
            assert (await router.reconcile()).examined == 0  # nothing left unresolved
            taken = provider.charges(ORDER_ID)
            assert provider.calls == 0  # reconcile only looks up
            if crash.charged:
                assert finished.outcome is Outcome.SUCCEEDED
                (charge,) = taken
                assert result.provider_reference == charge.provider_reference
                return
            assert (finished.outcome, finished.failure_kind) == (
                Outcome.FAILED,
                FailureKind.NOT_FOUND,
            )
            assert taken == []

            again = await router.pay(payment_request())
            assert again.status is PaymentStatus.SUCCEEDED
            assert [a.number for a in again.attempts] == [1, 2]
            (charge,) = provider.charges(ORDER_ID)
            assert again.provider_reference == charge.provider_reference
            assert provider.calls == 1


REFUND_CRASH = Crash(
    "hang_after_refunding",
    FOLLOW_UP_RECEIVED,
    charged=True,
    final=PaymentStatus.SUCCEEDED,
    refunded=True,
)


async def test_a_refund_whose_sender_was_sigkilled_is_finished_by_the_outbox_once(
    ledger_url: str, tmp_path: Path
) -> None:
    """The refund row outlives SIGKILL as `sending`; once its lease runs out the outbox sends
    it again with the same key, and the provider's books show one refund."""
    ledger, books_path = ledger_url, tmp_path / "books.db"
    stderr_path = tmp_path / "worker.stderr"
    provider = SimulatedProvider(PROVIDER, books_path=books_path)
    settings = RouterSettings(outbox=OutboxSettings(initial_backoff_seconds=0))
    router = Router([SimulatedAdapter(provider)], ledger=ledger, settings=settings, hooks=())
    with _showing_worker_stderr(stderr_path), stderr_path.open("w") as stderr:
        async with router:
            await _kill_at(REFUND_CRASH, ledger, books_path, provider, stderr, router)

            (orphan,) = await router.followups(ORDER_ID)
            assert orphan.status is FollowUpStatus.SENDING  # written before the call
            assert len(provider.followups()) == 1  # the provider refunded before the kill

            give_up = time.monotonic() + LEASE_SECONDS + 10
            while not (sent := await router.process_outbox()):
                assert time.monotonic() < give_up, "the outbox never took the refund over"
                await asyncio.sleep(0.05)

            (done,) = sent
            assert done.followup_id == orphan.followup_id
            assert done.status is FollowUpStatus.SUCCEEDED
            (refund,) = provider.followups()  # replayed under the same key: refunded once
            assert refund.idempotency_key == orphan.idempotency_key
            assert refund.amount_minor == 1000
