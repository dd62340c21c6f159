"""The process-wide testing switch, read in the one place a wait is computed.

Kept apart from `payrouter.testing` so that the core can read it without importing the
simulated providers.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass

__all__ = ["is_testing", "set_testing"]


@dataclass(slots=True)
class _Mode:
    active: bool = False


_MODE = _Mode()


def is_testing() -> bool:
    """True while `set_testing(True)` is in force."""
    return _MODE.active


def set_testing(active: bool) -> AbstractContextManager[None]:
    """Turn backoff and lookup waits off for the whole process, and keep admission's limit
    from following how late the machine runs (its configured limits still apply).

    Breaker reset timeouts are settings of their own (`BreakerSettings`), so a test can pin
    an open breaker's behaviour without this switch changing it.

    Usable as a call or as a `with` block; the block restores the previous mode on exit.
    """
    previous = _MODE.active
    _MODE.active = active
    return _restoring(previous)


@contextlib.contextmanager
def _restoring(previous: bool) -> Iterator[None]:
    try:
        yield
    finally:
        _MODE.active = previous
