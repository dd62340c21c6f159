"""What a simulated provider does with one call: a script the tests write, one `Behavior` each.

Kept apart from the simulator itself so the vocabulary a test reads (`Behavior.succeed()`,
`Behavior.timeout_after_charging()`, ...) is one short file.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from .._taxonomy import Advice, DeclineType, FailureKind

__all__ = ["Behavior"]


class _Action(enum.Enum):
    SUCCEED = "succeed"
    DECLINE = "decline"
    RATE_LIMITED = "rate_limited"
    OVERLOADED = "overloaded"
    UNAVAILABLE = "unavailable"
    MAINTENANCE = "maintenance"
    REFUSE_CONNECTION = "refuse_connection"
    TIMEOUT_AFTER_CHARGING = "timeout_after_charging"
    TIMEOUT_BEFORE_CHARGING = "timeout_before_charging"
    ERROR_AFTER_CHARGING = "error_after_charging"
    HANG_AFTER_CHARGING = "hang_after_charging"
    REQUIRES_ACTION = "requires_action"
    PENDING = "pending"
    CREDENTIALS_REJECTED = "credentials_rejected"
    INVALID = "invalid"


@dataclass(frozen=True, slots=True)
class Behavior:
    """What the simulated provider does with one payment call. Build with the class methods."""

    action: _Action
    decline: FailureKind | None = None
    retry_after: float | None = None
    delay: float = 0.0
    decline_type: DeclineType | None = None
    advice: Advice | None = None

    @classmethod
    def succeed(cls, *, delay: float = 0.0) -> Behavior:
        return cls(_Action.SUCCEED, delay=delay)

    @classmethod
    def decline_with(
        cls,
        kind: FailureKind,
        *,
        decline_type: DeclineType | None = None,
        advice: Advice | None = None,
    ) -> Behavior:
        """A decline such as `FailureKind.INSUFFICIENT_FUNDS`: hard unless `decline_type`
        says soft, with the card network's `advice` when given."""
        return cls(_Action.DECLINE, decline=kind, decline_type=decline_type, advice=advice)

    @classmethod
    def rate_limited(cls, retry_after: float = 1.0) -> Behavior:
        """429 with Retry-After; nothing processed."""
        return cls(_Action.RATE_LIMITED, retry_after=retry_after)

    @classmethod
    def overloaded(cls) -> Behavior:
        """503 "busy" before processing."""
        return cls(_Action.OVERLOADED)

    @classmethod
    def unavailable(cls) -> Behavior:
        """503 "down" before processing."""
        return cls(_Action.UNAVAILABLE)

    @classmethod
    def maintenance(cls) -> Behavior:
        return cls(_Action.MAINTENANCE)

    @classmethod
    def refuse_connection(cls) -> Behavior:
        """Nothing listens: `httpx.ConnectError`, nothing sent."""
        return cls(_Action.REFUSE_CONNECTION)

    @classmethod
    def timeout_after_charging(cls, *, delay: float = 0.0) -> Behavior:
        """Money taken, then the response is lost: `httpx.ReadTimeout`."""
        return cls(_Action.TIMEOUT_AFTER_CHARGING, delay=delay)

    @classmethod
    def timeout_before_charging(cls) -> Behavior:
        """The request was lost before processing, but the client cannot know: ReadTimeout."""
        return cls(_Action.TIMEOUT_BEFORE_CHARGING)

    @classmethod
    def error_after_charging(cls) -> Behavior:
        """Money taken, then a 500: an unknown outcome by this provider's table."""
        return cls(_Action.ERROR_AFTER_CHARGING)

    @classmethod
    def hang_after_charging(cls, seconds: float = 3600.0) -> Behavior:
        """Money taken, then no answer for `seconds`: for killing a worker mid-call."""
        return cls(_Action.HANG_AFTER_CHARGING, delay=seconds)

    @classmethod
    def requires_action(cls) -> Behavior:
        return cls(_Action.REQUIRES_ACTION)

    @classmethod
    def pending(cls) -> Behavior:
        """Accepted; settles later (`SimulatedProvider.settle`)."""
        return cls(_Action.PENDING)

    @classmethod
    def credentials_rejected(cls) -> Behavior:
        return cls(_Action.CREDENTIALS_REJECTED)

    @classmethod
    def invalid(cls) -> Behavior:
        return cls(_Action.INVALID)
