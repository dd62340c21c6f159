"""One pybreaker circuit breaker per (provider, method), fed only by provider-health failures.

Customer declines say nothing about a provider's health, so only failures whose policy row
`counts_against_breaker` reach pybreaker: the router raises `ProviderFault` inside
`breaker.calling()` for those, and pybreaker is told to ignore every other exception.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from contextlib import AbstractContextManager
from types import TracebackType
from typing import TYPE_CHECKING

import pybreaker

from .._adapter import ProviderReply
from .._models import PaymentMethod
from .._settings import BreakerSettings
from ..instrumentation._events import BreakerStateChanged, Hook, emit

if TYPE_CHECKING:
    from ._shared import SharedState

__all__ = ["BreakerBoard", "BreakerOpen", "ProviderFault"]


class ProviderFault(Exception):  # noqa: N818 - a signal to pybreaker, not an error for users
    """Carries a reply that counts against the provider's breaker."""

    def __init__(self, reply: ProviderReply) -> None:
        super().__init__(reply.failure_kind)
        self.reply = reply


class BreakerOpen(Exception):  # noqa: N818
    """The breaker refused the call: nothing was sent."""


class _Listener(pybreaker.CircuitBreakerListener):
    def __init__(self, board: BreakerBoard, provider: str, method: PaymentMethod) -> None:
        self._board, self._provider, self._method = board, provider, method

    def state_change(
        self,
        cb: pybreaker.CircuitBreaker,
        old_state: pybreaker.CircuitBreakerState | None,
        new_state: pybreaker.CircuitBreakerState,
    ) -> None:
        old = old_state.name if old_state is not None else "none"
        key = (self._provider, self._method)
        if new_state.name == pybreaker.STATE_OPEN:
            self._board.opened_at[key] = time.monotonic()
            self._board.open_signal(*key).set()
            if self._board.shared is not None:
                self._board.shared.opened(key, self._board.reset_timeout)
        else:
            self._board.open_signal(*key).clear()
        event = BreakerStateChanged(self._provider, self._method, old, new_state.name)
        emit(self._board.hooks, event)


class _Guard:
    """pybreaker's `calling()` with its refusal as `BreakerOpen`: a plain class, not one
    more generator-based context manager around pybreaker's own (one per provider call)."""

    __slots__ = ("_breaker", "_calling")

    def __init__(self, breaker: pybreaker.CircuitBreaker) -> None:
        self._breaker = breaker
        self._calling: AbstractContextManager[None] = breaker.calling()

    def __enter__(self) -> None:
        try:
            self._calling.__enter__()
        except pybreaker.CircuitBreakerError:
            # Only entering `calling()` raises it (throw_new_error_on_trip is off): not sent.
            raise BreakerOpen(self._breaker.name) from None

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> bool | None:
        return self._calling.__exit__(exc_type, exc, traceback)


def _not_a_provider_fault(error: BaseException) -> bool:
    return not isinstance(error, ProviderFault)


class BreakerBoard:
    """The breakers of one router, created on first use."""

    def __init__(
        self,
        settings: BreakerSettings,
        hooks: Sequence[Hook],
        shared: SharedState | None = None,
    ) -> None:
        self._settings = settings
        self.hooks = hooks
        self.shared = shared
        """Other workers' breakers (Redis); None when this process is on its own."""
        if shared is not None:
            shared.on_opened = lambda key: self.open_signal(*key).set()
        self.opened_at: dict[tuple[str, PaymentMethod], float] = {}
        self._open_signals: dict[tuple[str, PaymentMethod], asyncio.Event] = {}
        self._breakers: dict[tuple[str, PaymentMethod], pybreaker.CircuitBreaker] = {}

    def _breaker(self, provider: str, method: PaymentMethod) -> pybreaker.CircuitBreaker:
        key = (provider, method)
        breaker = self._breakers.get(key)
        if breaker is None:
            breaker = pybreaker.CircuitBreaker(
                fail_max=self._settings.fail_max,
                reset_timeout=self._settings.reset_timeout_seconds,
                exclude=[_not_a_provider_fault],
                listeners=[_Listener(self, provider, method)],
                name=f"{provider}/{method}",
                throw_new_error_on_trip=False,
            )
            self._breakers[key] = breaker
        return breaker

    def guard(self, provider: str, method: PaymentMethod) -> AbstractContextManager[None]:
        """Run the block under the breaker; raises `BreakerOpen` if it refuses the call.

        Raise `ProviderFault` inside the block for a failure that counts; it propagates.
        """
        return _Guard(self._breaker(provider, method))

    def open_signal(self, provider: str, method: PaymentMethod) -> asyncio.Event:
        """Set while the breaker is open: a retry waiting on this provider wakes up at once
        when other payments open the breaker, and fails over instead of sleeping on."""
        key = (provider, method)
        signal = self._open_signals.get(key)
        if signal is None:
            signal = self._open_signals[key] = asyncio.Event()
        return signal

    def state(self, provider: str, method: PaymentMethod) -> str:
        """ "closed", "open" or "half-open"."""
        key = (provider, method)
        return self._breakers[key].current_state if key in self._breakers else "closed"

    def admits(self, provider: str, method: PaymentMethod) -> bool:
        """True unless the breaker is open and its reset timeout has not yet passed.

        Checked before an attempt is written, so a refused call costs no ledger row. With
        shared state, a breaker another worker opened refuses here too.
        """
        if self.shared is not None:
            self.shared.watch((provider, method))
            if self.shared.is_open((provider, method)):
                return False
        if self.state(provider, method) != pybreaker.STATE_OPEN:
            return True
        opened = self.opened_at.get((provider, method), 0.0)
        return time.monotonic() >= opened + self._settings.reset_timeout_seconds

    @property
    def reset_timeout(self) -> float:
        """Seconds an opened breaker refuses calls before it lets a trial through."""
        return self._settings.reset_timeout_seconds

    def is_open(self, provider: str, method: PaymentMethod) -> bool:
        """True while the breaker refuses calls."""
        return not self.admits(provider, method)

    def states(self) -> dict[tuple[str, PaymentMethod], str]:
        """Every breaker created so far and its state."""
        return {key: breaker.current_state for key, breaker in self._breakers.items()}
