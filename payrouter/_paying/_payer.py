"""The door of the pay path: admission, the claim on the order id, takeover, waiting.

    PaymentRequest -> admission (shed: CapacityExhaustedError, nothing written)
        -> ledger.claim(order id): NEW / RETAKEN -> CandidateLoop.pay (`_candidates.py`)
                                   EXISTING -> take over an expired lease, or wait for it
                                   CONFLICT -> IdempotencyConflictError

`Router` owns the lifecycle and the public surface; this module decides who may pay an order
now, and `_candidates.py` pays it.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from .._adapter import Adapter
from .._errors import (
    CapacityExhaustedError,
    IdempotencyConflictError,
    LedgerUnavailableError,
    PaymentInProgressError,
)
from .._health._admission import Admission
from .._health._breakers import BreakerBoard
from .._health._maintenance import MaintenanceSchedule
from .._health._protection import Protection
from .._ledger import (
    ClaimKind,
    LeaseLostError,
    Ledger,
    PaymentUpdate,
    held_by,
    payment_deadline,
)
from .._models import PaymentMethod, PaymentRequest, PaymentResult, PaymentStatus
from .._settings import AdmissionSettings, RouterSettings
from ..instrumentation._events import (
    Hook,
    PaymentShed,
    emit,
)
from ._candidates import CandidateLoop
from ._claiming import ClaimRefusedError, FirstClaim, claiming
from ._decide import (
    failure_error,
)
from ._routing import RoutingPolicy

__all__ = ["Payer"]

T = TypeVar("T")


class Payer:
    """Pays payments for one router: its adapters, ledger, breakers, settings and hooks."""

    def __init__(
        self,
        *,
        adapters: tuple[Adapter, ...],
        ledger: Ledger,
        settings: RouterSettings,
        hooks: tuple[Hook, ...],
        board: BreakerBoard,
        protection: Protection,
        maintenance: MaintenanceSchedule,
        sleep: Callable[[float], Awaitable[None]],
        owner: str,
        routing: RoutingPolicy | None = None,
        admission: Admission | None = None,
        take_over: Callable[[str, float], Awaitable[bool]] | None = None,
    ) -> None:
        self._take_over = take_over
        self._owner = owner
        self._claims = itertools.count(1)
        self._ledger = ledger
        self.settings = settings
        self._hooks = hooks
        self._admission = admission or Admission(AdmissionSettings(enabled=False))
        self._loop = CandidateLoop(
            adapters=adapters,
            ledger=ledger,
            settings=settings,
            hooks=hooks,
            board=board,
            protection=protection,
            maintenance=maintenance,
            sleep=sleep,
            routing=routing,
            admission=self._admission,
        )

    async def pay(self, request: PaymentRequest) -> PaymentResult:
        """The pay path behind `Router.pay`, whose docstring lists its results and errors.

        Admission comes first: a payment this process cannot pay in time is refused before
        the ledger or any provider sees it.
        """
        self.settings.check_ceiling(request.amount)  # before the claim: no row, no call
        admitted_at = self._admission.admit()
        if admitted_at is None:
            raise self._shed(request.order_id)
        try:
            return await self._pay_admitted(request, admitted_at)
        finally:
            self._admission.release()

    def _shed(self, order_id: str) -> CapacityExhaustedError:
        state = self._admission.state()
        emit(self._hooks, PaymentShed(order_id, state.limit, state.in_flight, state.lag_ms))
        return CapacityExhaustedError(
            f"this process already has {state.in_flight} payments in flight, its limit while "
            f"running {state.lag_ms:.0f} ms late; order {order_id!r} was refused before "
            "anything was written or sent: retry shortly or offer another method",
            order_id=order_id,
        )

    async def _pay_admitted(
        self, request: PaymentRequest, admitted_at: float, *, took_over: bool = False
    ) -> PaymentResult:
        deadline = time.monotonic() + self.settings.deadline_seconds
        # This claim's own, for the fence: a count, not random bytes (no system call per
        # payment); `p` keeps it apart from reconcile's hex holders under the same owner.
        holder = f"{self._owner}#p{next(self._claims)}"
        first = FirstClaim(
            self._ledger,
            request,
            holder,
            self.settings.lease_seconds,
            deadline,
            self.settings.deadline_seconds,
        )
        with payment_deadline(deadline):  # the ledger's waits are bounded by it too
            try:
                # The claim is made with attempt 1's row (`_claiming`): one ledger trip.
                with held_by(holder), claiming(first):
                    return await self._loop.pay(request, 1, deadline, admitted_at)
            except ClaimRefusedError as refused:
                claim = refused.claim
            except LeaseLostError:
                raise PaymentInProgressError(request.order_id) from None
            if claim.kind is ClaimKind.CONFLICT:
                raise IdempotencyConflictError(request.order_id)
            if claim.kind is ClaimKind.EXISTING:
                assert claim.payment is not None
                if not took_over and await self._taken_over(claim.payment, deadline):
                    # Its open attempt is resolved at its own provider: claim again, to
                    # answer with what it found, or to pay on if no money moved.
                    return await self._pay_admitted(request, admitted_at, took_over=True)
                return await self._wait_for_other(claim.payment)
            if time.monotonic() >= deadline:  # retaken, but too late to call anyone
                raise await self._ledger_too_slow(request, holder)
            try:
                with held_by(holder):  # a worker that lost its lease writes and sends nothing
                    return await self._loop.pay(request, claim.next_attempt, deadline, admitted_at)
            except LeaseLostError:
                raise PaymentInProgressError(request.order_id) from None

    async def _ledger_too_slow(
        self, request: PaymentRequest, holder: str
    ) -> LedgerUnavailableError | PaymentInProgressError:
        """The claim came back after the whole deadline: the ledger's fault, not the
        providers'. The claim is released (failed, nothing moved), so a retry may pay; but
        only while this claim still holds it: if it came back past its lease too, another
        worker may have taken the order over and be paying it, and `failed` written over
        that would free the order id for a second charge."""
        try:
            with held_by(holder):
                await self._ledger.finish_payment(
                    request.order_id, PaymentUpdate(PaymentStatus.FAILED)
                )
        except LeaseLostError:
            return PaymentInProgressError(request.order_id)
        return LedgerUnavailableError(
            f"the ledger took longer than the payment's deadline ({self.settings.deadline_seconds}"
            f" s) to claim order {request.order_id!r}: no provider was called, and the order "
            "may be paid again; a slow or locked database is the likely cause"
        )

    async def _taken_over(self, payment: PaymentResult, deadline: float) -> bool:
        """Take over a payment whose worker's lease ran out (a crash) and resolve it within
        `deadline`; False when a live worker still holds it, or it is not processing."""
        if payment.status is not PaymentStatus.PROCESSING or self._take_over is None:
            return False
        return await self._take_over(payment.order_id, deadline)

    def healthy_methods(self, request: PaymentRequest) -> tuple[PaymentMethod, ...]:
        """Methods that could take `request` right now (an eligible provider, breaker closed)."""
        return self._loop.healthy_methods(request)

    async def _wait_for_other(self, payment: PaymentResult) -> PaymentResult:
        """Another call holds the order: wait (bounded) for its result rather than pay twice."""
        give_up = time.monotonic() + self.settings.in_progress_wait_seconds
        pause = 0.005
        while payment.status is PaymentStatus.PROCESSING:
            if time.monotonic() >= give_up:
                bound = time.monotonic() + self.settings.deadline_seconds
                if await self._taken_over(payment, bound):  # its worker died while we waited
                    latest = await self._ledger.get(payment.order_id)
                    assert latest is not None
                    return await self._wait_for_other(latest)
                raise PaymentInProgressError(payment.order_id)
            await asyncio.sleep(pause)  # polling another worker's progress: real time
            pause = min(pause * 2, 0.2)
            latest = await self._ledger.get(payment.order_id)
            assert latest is not None
            payment = latest
        if payment.status is PaymentStatus.FAILED:
            raise failure_error(payment, ())
        return payment
