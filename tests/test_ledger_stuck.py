"""A stuck or failing ledger never freezes the process and never lies about money.

- A SQLite file locked by another process is waited for off the event loop, at most until the
  payment's deadline, and then blamed: `LedgerUnavailableError`, no provider called.
- A write that fails after a provider was called raises `OutcomeNotRecordedError` ("the
  provider may have charged"), never `LedgerUnavailableError` ("no provider was called").
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from payrouter import (
    CardSource,
    LedgerUnavailableError,
    Money,
    OutcomeNotRecordedError,
    PaymentRequest,
    PaymentStatus,
    Router,
    RouterSettings,
)
from payrouter._ledger import AttemptOutcome, PaymentUpdate, SqlLedger
from payrouter._models import PaymentResult
from payrouter.provider import Resolution
from payrouter.testing import Behavior, SimulatedAdapter, SimulatedProvider


def request(order_id: str) -> PaymentRequest:
    return PaymentRequest(
        order_id=order_id,
        amount=Money.of("10.00", "EUR"),
        sources=[CardSource(token=SecretStr("pm_card_visa"))],
        customer_country="DE",
    )


@contextmanager
def write_lock(path: Path) -> Iterator[None]:
    """Another connection (as another process would) holds the file's write lock."""
    holder = sqlite3.connect(path, isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")
        yield
    finally:
        holder.execute("ROLLBACK")
        holder.close()


# -- a locked SQLite file ---------------------------------------------------------------------


async def test_a_locked_ledger_does_not_freeze_the_event_loop(tmp_path: Path) -> None:
    """While another process holds the write lock, the loop keeps serving; pay then finishes."""
    path = tmp_path / "ledger.db"
    adapter = SimulatedAdapter(SimulatedProvider("card_a"))
    settings = RouterSettings(deadline_seconds=60)
    async with Router([adapter], ledger=f"sqlite:///{path}", hooks=(), settings=settings) as router:
        with write_lock(path):
            paying = asyncio.create_task(router.pay(request("order-1")))
            await asyncio.sleep(0.01)  # returns only if the loop is free while pay waits
            assert not paying.done()
            assert adapter.provider.calls == 0
        result = await paying
    assert result.status is PaymentStatus.SUCCEEDED


async def test_a_ledger_locked_past_the_deadline_is_the_ledgers_fault(tmp_path: Path) -> None:
    """Pay gives up at its deadline with LedgerUnavailableError, calls nobody, keeps no claim."""
    path = tmp_path / "ledger.db"
    adapter = SimulatedAdapter(SimulatedProvider("card_a"))
    settings = RouterSettings(deadline_seconds=0.5)
    async with Router([adapter], ledger=f"sqlite:///{path}", hooks=(), settings=settings) as router:
        with write_lock(path), pytest.raises(LedgerUnavailableError) as raised:
            await router.pay(request("order-1"))
        message = str(raised.value)
        assert str(path) in message
        assert "deadline" in message
        assert "no provider was called" in message
        assert adapter.provider.calls == 0
        # The claim the lock held back was abandoned, not left to block the customer's retry.
        # The lookup waits (unbounded) behind the abandoned work on the ledger's thread, so
        # the retry's own deadline does not also cover SQLite's wait for the freed lock.
        assert await router.lookup("order-1") is None
        assert (await router.pay(request("order-1"))).status is PaymentStatus.SUCCEEDED


# -- a write that fails after the provider was called -----------------------------------------


class FailingAfterCall:
    """A ledger whose database goes away right after the provider answered."""

    def __init__(self, inner: SqlLedger) -> None:
        self.inner = inner
        self.down = False

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    async def finish_attempt(
        self,
        order_id: str,
        number: int,
        outcome: AttemptOutcome,
        payment: PaymentUpdate | None = None,
    ) -> PaymentResult | None:
        if self.down:
            raise LedgerUnavailableError("the ledger failed while writing: connection lost")
        return await self.inner.finish_attempt(order_id, number, outcome, payment)

    async def finish_payment(self, order_id: str, update: PaymentUpdate) -> PaymentResult:
        if self.down:
            raise LedgerUnavailableError("the ledger failed while writing: connection lost")
        return await self.inner.finish_payment(order_id, update)


class DownAfterPaying(SimulatedAdapter):
    def __init__(self, provider: SimulatedProvider, ledger: FailingAfterCall) -> None:
        # A lookup is authoritative here and search has no lag: "no such payment" settles it.
        super().__init__(provider, resolution=Resolution(lookup=True, search_lag_seconds=0))
        self.ledger = ledger

    async def pay(self, *args: Any, **kwargs: Any) -> Any:
        reply = await super().pay(*args, **kwargs)
        self.ledger.down = True
        return reply


@pytest.mark.parametrize(
    "behavior", [Behavior.succeed(), Behavior.unavailable()], ids=["charged", "failed-over"]
)
async def test_a_write_failing_after_the_call_says_the_provider_may_have_charged(
    tmp_path: Path, behavior: Behavior
) -> None:
    """OutcomeNotRecordedError, not LedgerUnavailableError; reconcile settles the payment."""
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    ledger = FailingAfterCall(SqlLedger(url))
    provider = SimulatedProvider("card_a")
    provider.script(behavior)
    adapter = DownAfterPaying(provider, ledger)
    async with Router([adapter], ledger=ledger, hooks=()) as router:
        with pytest.raises(OutcomeNotRecordedError) as raised:
            await router.pay(request("order-1"))
        error = raised.value
        assert not isinstance(error, LedgerUnavailableError)
        assert (error.order_id, error.provider, error.attempt) == ("order-1", "card_a", 1)
        assert "do not retry under another order id" in str(error)
        assert "reconcile" in str(error).lower()
        assert provider.calls == 1

        ledger.down = False  # the database is back; the payment's lease runs out
        expire = sqlite3.connect(tmp_path / "ledger.db")
        with expire:
            expire.execute("UPDATE payrouter_payments SET lease_until = 0")
        expire.close()
        await router.reconcile()
        settled = await router.lookup("order-1")
        charged = bool(provider.charges("order-1"))
    assert settled is not None
    assert settled.status is (PaymentStatus.SUCCEEDED if charged else PaymentStatus.FAILED)


class SlowClaims:
    """A ledger that answers the claim only after `delay` seconds (a slow or locked database
    that does answer in the end)."""

    def __init__(self, inner: SqlLedger, delay: float, *, after_writing: bool) -> None:
        self.inner = inner
        self.delay = delay
        self.after_writing = after_writing

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    async def claim(self, *args: Any, **kwargs: Any) -> Any:
        if not self.after_writing:
            await asyncio.sleep(self.delay)  # longer than the payment's whole deadline
        claim = await self.inner.claim(*args, **kwargs)
        if self.after_writing:
            await asyncio.sleep(self.delay)  # written, but answered after the deadline
        return claim


@pytest.mark.parametrize("after_writing", [False, True], ids=["slow-to-write", "slow-to-answer"])
async def test_a_claim_answered_after_the_deadline_blames_the_ledger_not_the_providers(
    after_writing: bool,
) -> None:
    """The ledger used up the deadline: LedgerUnavailableError, no call, the order stays free."""
    adapter = SimulatedAdapter(SimulatedProvider("card_a"))
    ledger = SlowClaims(SqlLedger("sqlite://"), delay=0.3, after_writing=after_writing)
    settings = RouterSettings(deadline_seconds=0.2)
    async with Router([adapter], ledger=ledger, hooks=(), settings=settings) as router:
        with pytest.raises(LedgerUnavailableError) as raised:
            await router.pay(request("order-1"))
        assert "deadline" in str(raised.value)
        assert adapter.provider.calls == 0
        ledger.delay = 0.0
        assert (await router.pay(request("order-1"))).status is PaymentStatus.SUCCEEDED
