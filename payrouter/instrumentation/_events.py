"""Instrumentation as data: the router emits frozen events; hooks decide what to do with them.

Events carry no secrets by construction (no sources, no tokens, no IBANs), so a hook can log
or export them as they are. A failing hook is reported once per type and never breaks a payment.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Final

from .._models import PaymentMethod, PaymentStatus
from .._taxonomy import FailureKind, Outcome
from ._logs import RedactingFilter, ceiling, describe, level
from ._redact import redact

__all__ = [
    "AmountMismatch",
    "AttemptFinished",
    "AttemptStarted",
    "BreakerStateChanged",
    "CandidateSkipped",
    "DeclineReattempt",
    "Event",
    "FailedOver",
    "FollowUpFinished",
    "Hook",
    "LoggingHook",
    "PaymentFinished",
    "PaymentShed",
    "RetryScheduled",
    "RoutePlanned",
    "SharedStateChanged",
    "WebhookReceived",
    "emit",
    "listening",
]

_LOG: Final = logging.getLogger("payrouter")
# Every record payrouter logs (hook failures' tracebacks included) is masked on the way out.
# Logger filters do not apply to child loggers' records, so the adapters' logger gets its own.
for _name in ("payrouter", "payrouter.adapters"):
    logging.getLogger(_name).addFilter(RedactingFilter())


@dataclass(frozen=True, slots=True)
class AttemptStarted:
    """An attempt was written to the ledger and its first call is about to be sent."""

    order_id: str
    attempt: int
    provider: str
    method: PaymentMethod


@dataclass(frozen=True, slots=True)
class AttemptFinished:
    """An attempt's outcome was written to the ledger."""

    order_id: str
    attempt: int
    provider: str
    method: PaymentMethod
    outcome: Outcome
    failure_kind: FailureKind | None
    provider_code: str | None
    tries: int
    latency_ms: float


@dataclass(frozen=True, slots=True)
class RetryScheduled:
    """The same provider will be tried again with the same idempotency key after `wait`."""

    order_id: str
    attempt: int
    provider: str
    try_number: int
    wait_seconds: float
    failure_kind: FailureKind | None


@dataclass(frozen=True, slots=True)
class FailedOver:
    """The router moves on from `from_provider` because the money provably did not move."""

    order_id: str
    from_provider: str
    method: PaymentMethod
    failure_kind: FailureKind | None


@dataclass(frozen=True, slots=True)
class DeclineReattempt:
    """A soft-declined card and the next acquirer holding a credential for it.

    `outcome` is `reattempted` (the card goes there now), `card_limit` (not sent: the card
    reached the merchant's cap of reattempts over its window, every process counted) or
    `advice` (not sent: the network's advice forbids another attempt now).
    """

    order_id: str
    from_provider: str
    to_provider: str
    method: PaymentMethod
    outcome: str
    advice: str | None = None


@dataclass(frozen=True, slots=True)
class RoutePlanned:
    """The providers a payment will try, in order, and the ones a routing rule excluded.

    `route` holds `provider/method` entries with the expected fee in minor units when the
    provider has a fee rule (`stripe/card fee=39`); `excluded` holds `provider: why`.
    """

    order_id: str
    strategies: tuple[str, ...]
    route: tuple[str, ...]
    excluded: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class CandidateSkipped:
    """A candidate was not called, e.g. because its breaker is open."""

    order_id: str
    provider: str
    method: PaymentMethod
    reason: str


@dataclass(frozen=True, slots=True)
class BreakerStateChanged:
    """A provider's breaker for one method moved between closed, open and half-open."""

    provider: str
    method: PaymentMethod
    old_state: str
    new_state: str


@dataclass(frozen=True, slots=True)
class PaymentFinished:
    """A payment reached a status other than `processing`."""

    order_id: str
    status: PaymentStatus
    provider: str | None
    attempts: int
    failure_kind: FailureKind | None
    alert: bool = False


@dataclass(frozen=True, slots=True)
class PaymentShed:
    """A payment was refused at admission (`CapacityExhaustedError`): this process had
    `in_flight` payments at its adaptive `limit` while running `lag_ms` late. Nothing was
    written or sent; the checkout may ask the customer to try again."""

    order_id: str
    limit: int
    in_flight: int
    lag_ms: float


@dataclass(frozen=True, slots=True)
class FollowUpFinished:
    """A capture, refund, void or mandate cancellation got its provider's answer this time:
    `status` is `succeeded`, `pending` (confirmed later), `refused` (`alert`: a person must
    look) or `queued` again (the provider is busy or down; the outbox sends it later)."""

    followup_id: str
    kind: str
    provider: str
    order_id: str | None
    status: str
    failure_kind: FailureKind | None
    tries: int
    alert: bool = False


@dataclass(frozen=True, slots=True)
class WebhookReceived:
    """A verified notification was applied, recognised as a replay, or ignored: `result`
    says which (applied, replayed, out_of_order, no_match, dispute, unknown_type)."""

    provider: str
    event_id: str
    type: str
    result: str
    order_id: str | None


@dataclass(frozen=True, slots=True)
class AmountMismatch:
    """A provider reported another amount or currency for a payment than the ledger holds,
    so the payment was not marked paid (`result` amount_mismatch), or an authorisation for
    less than asked made it `partially_authorised` (`result` partially_authorised). Both
    figures are here and in the ledger: a person decides (capture the part, void, refund).
    `source` says where the figure came from (webhook, reply); `reference` is the event's
    id or the attempt's. `followup_id` names the refund or capture whose notification
    reported other figures than its own (it was not marked done); None for a payment."""

    order_id: str
    provider: str
    source: str
    reference: str
    result: str
    expected_minor: int
    expected_currency: str
    reported_minor: int | None
    reported_currency: str | None
    alert: bool = True
    followup_id: str | None = None


@dataclass(frozen=True, slots=True)
class SharedStateChanged:
    """Shared state (Redis) became unreachable, so this process runs on its own state, or
    became reachable again. Payments go on either way; the ledger is never affected."""

    available: bool
    reason: str


Event = (
    AttemptStarted
    | AttemptFinished
    | RetryScheduled
    | FailedOver
    | DeclineReattempt
    | CandidateSkipped
    | RoutePlanned
    | BreakerStateChanged
    | PaymentFinished
    | PaymentShed
    | FollowUpFinished
    | WebhookReceived
    | AmountMismatch
    | SharedStateChanged
)
Hook = Callable[[Event], None]
"""Anything callable with one event; it runs inline, so it must be quick and not block.

A hook may also have a `wants(event_type) -> bool` method: False says it would ignore every
event of that type right now, and when no hook of a router wants a type, the router does not
build those events at all (`LoggingHook` wants what its logger's level lets through). A hook
without `wants` receives every event."""


class LoggingHook:
    """The default hook: one stdlib log record per event, `Type: why` as the message (see
    `describe`), the redacted fields in `extra["event"]`. Failovers, breaker changes and
    payments shed at capacity log at INFO or above (see `level`), so a default INFO setup
    shows what an operator on call needs; each step of a payment logs at DEBUG."""

    def __init__(self, logger: logging.Logger = _LOG) -> None:
        self._logger = logger

    def wants(self, event_type: type[Event]) -> bool:
        """False while the logger drops every event of `event_type` (DEBUG off, say)."""
        return self._logger.isEnabledFor(ceiling(event_type))

    def __call__(self, event: Event) -> None:
        if not self._logger.isEnabledFor(ceiling(type(event))):
            return
        at = level(event)
        if self._logger.isEnabledFor(at):
            self._logger.log(
                at,
                "%s: %s",
                type(event).__name__,
                describe(event),
                extra={"event": redact(asdict(event))},
            )


_BROKEN_HOOKS: set[type[object]] = set()


def listening(hooks: Sequence[Hook], event_type: type[Event]) -> bool:
    """True when some hook may act on an event of `event_type`: build the event only then.

    With the default `LoggingHook` and DEBUG off, a happy payment's step-by-step events
    (`RoutePlanned`, `AttemptStarted`, `AttemptFinished`) cost one level check each.
    """
    for hook in hooks:
        wants = getattr(hook, "wants", None)
        if wants is None or wants(event_type):
            return True
    return False


def emit(hooks: Sequence[Hook], event: Event) -> None:
    """Deliver `event` to every hook; a hook that raises is logged once and skipped."""
    for hook in hooks:
        try:
            hook(event)
        except Exception:
            if type(hook) not in _BROKEN_HOOKS:
                _BROKEN_HOOKS.add(type(hook))
                _LOG.exception("payrouter hook %r failed; further failures are not logged", hook)
