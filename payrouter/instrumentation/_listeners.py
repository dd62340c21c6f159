"""Listeners for paging: run a merchant's callback for the few events a human must hear about.

Hooks already receive every event; these helpers only filter by type (and breaker target
state), so paging code reads as what it pages on and never sees unrelated events.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Generic, TypeVar

from ._events import BreakerStateChanged, Event, FailedOver, Hook

__all__ = ["listen", "on_breaker_change", "on_failover"]

_E = TypeVar("_E")


class _Listener(Generic[_E]):
    """Calls `callback` with each event of `event_type`, and wants no other type, so the
    router does not build events only a listener would ignore (see `Hook`)."""

    def __init__(self, event_type: type[_E], callback: Callable[[_E], object]) -> None:
        self._type, self._callback = event_type, callback

    def wants(self, event_type: type[Event]) -> bool:
        return issubclass(event_type, self._type)

    def __call__(self, event: Event) -> None:
        if isinstance(event, self._type):
            self._callback(event)

    def __repr__(self) -> str:
        return f"listen({self._type.__name__}, {getattr(self._callback, '__name__', '?')})"


def listen(event_type: type[_E], callback: Callable[[_E], object]) -> Hook:
    """A hook calling `callback` with each event of `event_type` (subclasses included)."""
    return _Listener(event_type, callback)


def on_breaker_change(
    callback: Callable[[BreakerStateChanged], object],
    *,
    to: Iterable[str] | None = ("open",),
) -> Hook:
    """Call `callback` when a breaker moves into one of the states in `to` (default: it
    opened, i.e. a provider is being avoided); `to=None` for every transition."""
    targets = None if to is None else frozenset(to)

    def page(event: BreakerStateChanged) -> None:
        if targets is None or event.new_state in targets:
            callback(event)

    return listen(BreakerStateChanged, page)


def on_failover(callback: Callable[[FailedOver], object]) -> Hook:
    """Call `callback` each time a payment moves on from a provider."""
    return listen(FailedOver, callback)
