"""The claim on a new order id, made together with attempt 1 when the payment gets that far.

Each trip to the ledger's thread and back costs more than the statements it carries (the
queue, the thread's wake-up, its commit, waking the event loop again), and the claim and
attempt 1 were two such trips on every payment. So the payer does not claim up front: it lets
the candidate loop plan the route and admit the first candidate, and the claim goes to the
ledger with that attempt's row, both written in one transaction (`Ledger.claim`'s
`first_attempt`). Write-before-call holds: the loop calls the provider only after that
transaction committed.

Only when the order id turns out taken (a retry of a payment in progress or finished, a
conflict, a failed one to retake) does the loop's work stop there: `ClaimRefusedError` carries the
claim back to the payer, which handles it as before; nothing was written for the attempt and
no provider was called. The loop claims alone first (`claimed`) before anything a taken
order id must not cause: a skip's event, a rate-limit token (never given back), or an ending
written on the payment's row (no eligible provider, every candidate skipped). What runs
before the claim is the route's plan, the breaker's and maintenance's answers, and a bulkhead
place given back at once.

The pending claim rides in a context variable, like the payment's deadline and its lease
holder, so the loop's writes find it without widening every signature.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Final

from .._errors import LedgerUnavailableError
from .._ledger import (
    RECORD_GRACE_SECONDS,
    AttemptOutcome,
    AttemptRow,
    Claim,
    ClaimKind,
    Ledger,
    PaymentUpdate,
    payment_deadline,
)
from .._models import PaymentRequest, PaymentStatus
from .._taxonomy import FailureKind, Outcome

__all__ = ["ClaimRefusedError", "FirstClaim", "claimed", "claiming", "record_attempt"]

_PENDING: ContextVar[FirstClaim | None] = ContextVar("payrouter_first_claim", default=None)
_NOT_SENT: Final = AttemptOutcome(
    outcome=Outcome.FAILED,
    failure_kind=FailureKind.NETWORK_BEFORE_SEND,
    provider_code="ledger_too_slow",
    provider_reference=None,
    action_url=None,
    tries=0,
    latency_ms=0.0,
)


class ClaimRefusedError(Exception):
    """The order id was not free: the payer goes on from `claim` (exists, conflict, retaken)."""

    def __init__(self, claim: Claim) -> None:
        super().__init__(claim.kind.value)
        self.claim = claim


class FirstClaim:
    """A payment's claim, not yet made: made with attempt 1, or alone when none comes."""

    def __init__(
        self,
        ledger: Ledger,
        request: PaymentRequest,
        holder: str,
        lease_seconds: float,
        deadline: float,
        deadline_seconds: float,
    ) -> None:
        self._ledger = ledger
        self._request = request
        self._holder = holder
        self._lease_seconds = lease_seconds
        self._deadline = deadline
        self._deadline_seconds = deadline_seconds
        self.made = False

    async def _claim(self, row: AttemptRow | None) -> Claim:
        request = self._request
        claim = await self._ledger.claim(
            request.order_id,
            request.fingerprint(),
            request.amount,
            self._holder,
            self._lease_seconds,
            authorize_only=not request.capture,
            first_attempt=row,
        )
        if claim.kind is not ClaimKind.NEW:
            raise ClaimRefusedError(claim)  # nothing written for the attempt, nothing sent
        self.made = True
        return claim

    async def alone(self) -> None:
        """Claim without an attempt, to write how the payment ended before calling anyone.
        No call follows, so like the outcome writes it may run past the deadline (by
        `RECORD_GRACE_SECONDS`): a payment out of time still ends with its reason."""
        with payment_deadline(max(self._deadline, time.monotonic() + RECORD_GRACE_SECONDS)):
            await self._claim(None)

    async def with_attempt(self, row: AttemptRow) -> None:
        """Claim and write attempt 1 in one transaction; raise unless both are durable and
        there is still time to call its provider."""
        claim = await self._claim(row)
        if not claim.attempt_recorded:  # a ledger that cannot write both at once
            await self._ledger.record_attempt(row)
        if time.monotonic() >= self._deadline:
            raise await self._too_slow(row.number)

    async def _too_slow(self, number: int) -> LedgerUnavailableError:
        """The writes came back after the whole deadline: the ledger's fault, not the
        providers'. The attempt ends unsent and the payment failed (nothing moved), so a
        retry may pay."""
        order_id = self._request.order_id
        failed = PaymentUpdate(PaymentStatus.FAILED)
        await self._ledger.finish_attempt(order_id, number, _NOT_SENT, payment=failed)
        return LedgerUnavailableError(
            f"the ledger took longer than the payment's deadline ({self._deadline_seconds}"
            f" s) to claim order {order_id!r}: no provider was called, and the order "
            "may be paid again; a slow or locked database is the likely cause"
        )


@contextmanager
def claiming(first: FirstClaim) -> Iterator[None]:
    """The candidate loop inside the block makes `first` with its first write."""
    token = _PENDING.set(first)
    try:
        yield
    finally:
        _PENDING.reset(token)


async def record_attempt(ledger: Ledger, row: AttemptRow) -> None:
    """Write an attempt before its call; the payment's first one carries the claim."""
    first = _PENDING.get()
    if first is None or first.made:
        await ledger.record_attempt(row)
    else:
        await first.with_attempt(row)


async def claimed() -> None:
    """Make the pending claim, if any, before writing the payment's ending without an attempt."""
    first = _PENDING.get()
    if first is not None and not first.made:
        await first.alone()
