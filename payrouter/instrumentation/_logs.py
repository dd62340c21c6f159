"""Structured logs: one JSON line per router decision, redacted before it leaves the process.

Built on structlog (a core dependency) so merchants can plug the same processors into their
own structlog setup; the stdlib side gets `RedactingFilter`, so both log paths share one
redaction pass (`_redact.redact`).
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Mapping, MutableMapping
from dataclasses import fields, is_dataclass
from typing import Any, Final, TextIO

import structlog

from ._redact import redact, redact_text

__all__ = [
    "RedactingFilter",
    "StructlogHook",
    "describe",
    "json_logger",
    "level",
    "redact_processor",
]


def _get(event: object, name: str, default: object = None) -> Any:
    return getattr(event, name, default)


def _value(item: object) -> object:
    return getattr(item, "value", item)


_SKIPPED: Final = {
    "rate_limited": "it is at its rate limit, so this payment is shed from it (no money moved)",
    "bulkhead_full": (
        "it already has as many calls in flight as allowed, so this payment is shed from it "
        "(no money moved)"
    ),
    "breaker_open": "its breaker is open after repeated failures",
    "maintenance": "it is in an announced maintenance window",
    "deadline": "the payment's deadline has passed",
}
_BREAKER: Final = {
    "open": (
        "{p} keeps failing {m} payments, so its breaker opened: the router stops calling it "
        "for {m} and sends those payments to the next provider until a trial call succeeds"
    ),
    "half-open": "{p}'s {m} breaker lets one trial payment through to see if {p} recovered",
    "closed": "{p} is taking {m} payments again: its breaker closed",
}

_REATTEMPT: Final = {
    "reattempted": "{f} soft-declined order {o}'s card, so it goes once to {t}, which holds a "
    "credential for the same card",
    "card_limit": "{f} soft-declined order {o}'s card, and {t} could take it, but the card "
    "reached its cap of reattempts in the window: not sent",
    "advice": "{f} soft-declined order {o}'s card, and {t} could take it, but the network's "
    "advice forbids another attempt now: not sent",
}


def _shed(event: object) -> bool:
    """A payment that ended `failed` without a single provider call: shed, not refused."""
    return _value(_get(event, "status")) == "failed" and _get(event, "attempts") == 0


def level(event: object) -> int:
    """The stdlib level an event is logged at: what an operator must see is INFO or above.

    WARNING: a breaker opening, shared state lost or restored, anything carrying `alert`.
    INFO: a failover, a soft decline's reattempt (or why not), a breaker half-opening or
    closing, a payment or provider call shed at capacity. DEBUG: the rest of a payment's
    step-by-step story.
    """
    name = type(event).__name__
    if bool(_get(event, "alert", False)) or name == "SharedStateChanged":
        return logging.WARNING
    if name == "BreakerStateChanged":
        return logging.WARNING if _get(event, "new_state") == "open" else logging.INFO
    if name in ("FailedOver", "PaymentShed", "DeclineReattempt") or (
        name == "PaymentFinished" and _shed(event)
    ):
        return logging.INFO
    if name == "CandidateSkipped" and _get(event, "reason") in ("rate_limited", "bulkhead_full"):
        return logging.INFO
    return logging.DEBUG


# The highest level `level` gives any event of each type: a type whose ceiling the logger
# ignores never needs building. Types not listed may log at any level.
_CEILING: Final[dict[str, int]] = {
    "AttemptStarted": logging.DEBUG,
    "AttemptFinished": logging.DEBUG,
    "RetryScheduled": logging.DEBUG,
    "RoutePlanned": logging.DEBUG,
    "WebhookReceived": logging.DEBUG,
    "FailedOver": logging.INFO,
    "DeclineReattempt": logging.INFO,
    "CandidateSkipped": logging.INFO,
    "PaymentShed": logging.INFO,
    "BreakerStateChanged": logging.WARNING,
    "PaymentFinished": logging.WARNING,
    "FollowUpFinished": logging.WARNING,
    "AmountMismatch": logging.WARNING,
    "SharedStateChanged": logging.WARNING,
}


def ceiling(event_type: type) -> int:
    """The highest level `level` can give an event of `event_type` (CRITICAL if unknown).

    A logger that is not enabled for it would drop every such event, so the router need
    not build them (`LoggingHook.wants`).
    """
    return _CEILING.get(event_type.__name__, logging.CRITICAL)


# Why-sentences per event type: a table, so a new event needs one line here, and events not
# listed still log with their fields (see `describe`).
_WHY: Final[dict[str, Callable[[object], str]]] = {
    "AttemptStarted": lambda e: (
        f"trying {_get(e, 'provider')} for {_value(_get(e, 'method'))}: attempt "
        f"{_get(e, 'attempt')} is recorded, the call goes out now"
    ),
    "AttemptFinished": lambda e: (
        f"{_get(e, 'provider')} answered {_value(_get(e, 'outcome'))}"
        + (f" ({_value(_get(e, 'failure_kind'))})" if _get(e, "failure_kind") else "")
        + f" after {_get(e, 'tries')} tries"
    ),
    "RetryScheduled": lambda e: (
        f"retrying {_get(e, 'provider')} with the same idempotency key in "
        f"{_get(e, 'wait_seconds')}s"
        + (f": {_value(_get(e, 'failure_kind'))} may pass" if _get(e, "failure_kind") else "")
    ),
    "FailedOver": lambda e: (
        f"{_get(e, 'from_provider')} could not take order {_get(e, 'order_id')}"
        + (f" ({_value(_get(e, 'failure_kind'))})" if _get(e, "failure_kind") else "")
        + " and no money moved there, so the payment goes to the next provider"
    ),
    "DeclineReattempt": lambda e: (
        _REATTEMPT.get(str(_get(e, "outcome")), "{o}").format(
            f=_get(e, "from_provider"), t=_get(e, "to_provider"), o=_get(e, "order_id")
        )
        + (f" (advice: {_get(e, 'advice')})" if _get(e, "advice") else "")
    ),
    "RoutePlanned": lambda e: (
        "route "
        + " > ".join(_get(e, "route") or ())
        + (f" by {', '.join(_get(e, 'strategies'))}" if _get(e, "strategies") else "")
        + (f"; excluded {'; '.join(_get(e, 'excluded'))}" if _get(e, "excluded") else "")
    ),
    "CandidateSkipped": lambda e: (
        f"not calling {_get(e, 'provider')} for {_value(_get(e, 'method'))}: "
        + _SKIPPED.get(str(_get(e, "reason")), str(_get(e, "reason")))
    ),
    "BreakerStateChanged": lambda e: _BREAKER.get(
        str(_get(e, "new_state")), "breaker {p}/{m} {old} -> {new}"
    ).format(
        p=_get(e, "provider"),
        m=_value(_get(e, "method")),
        old=_get(e, "old_state"),
        new=_get(e, "new_state"),
    ),
    "PaymentFinished": lambda e: (
        f"order {_get(e, 'order_id')} was sent to no provider (each was at its rate limit, "
        "concurrency cap, breaker or maintenance window), so no money moved: the customer "
        "may try again shortly or pick another method"
        if _shed(e)
        else f"payment {_value(_get(e, 'status'))}"
        + (f" at {_get(e, 'provider')}" if _get(e, "provider") else "")
        + f" after {_get(e, 'attempts')} attempts"
    ),
    "PaymentShed": lambda e: (
        f"order {_get(e, 'order_id')} was shed before any provider call: this process "
        f"already has {_get(e, 'in_flight')} payments in flight (its limit is "
        f"{_get(e, 'limit')}, the event loop runs {_get(e, 'lag_ms'):.0f} ms late), so no "
        "money moved and the customer may try again shortly"
    ),
    "FollowUpFinished": lambda e: (
        f"{_value(_get(e, 'kind'))} {_get(e, 'followup_id')} at {_get(e, 'provider')} is "
        f"{_value(_get(e, 'status'))}"
        + (f" ({_value(_get(e, 'failure_kind'))})" if _get(e, "failure_kind") else "")
        + f" after {_get(e, 'tries')} tries"
    ),
    "WebhookReceived": lambda e: (
        f"{_get(e, 'provider')} notification {_get(e, 'type')} {_get(e, 'event_id')}: "
        f"{_get(e, 'result')}"
    ),
    "AmountMismatch": lambda e: (
        f"{_get(e, 'provider')} reported {_get(e, 'reported_minor')} "
        f"{_get(e, 'reported_currency')} for "
        + (
            f"follow-up {_get(e, 'followup_id')}"
            if _get(e, "followup_id")
            else f"payment {_get(e, 'order_id')}"
        )
        + f" of {_get(e, 'expected_minor')} {_get(e, 'expected_currency')} "
        f"({_get(e, 'source')} {_get(e, 'reference')}): {_get(e, 'result')}, "
        + ("not marked done" if _get(e, "followup_id") else "not marked paid")
    ),
    "SharedStateChanged": lambda e: (
        "shared state restored"
        if _get(e, "available")
        else f"shared state unreachable, running on local state: {_get(e, 'reason')}"
    ),
}


def describe(event: object) -> str:
    """One sentence saying what the router decided and why; the event type for unknown events."""
    name = type(event).__name__
    why = _WHY.get(name)
    return redact_text(why(event)) if why else name


def _fields(event: object) -> dict[str, object]:
    """The event's fields, redacted; shallow (events are flat), which is 3x cheaper than asdict."""
    raw = (
        {field.name: getattr(event, field.name) for field in fields(event)}
        if (is_dataclass(event) and not isinstance(event, type))
        else {}
    )
    safe = redact(raw)
    return dict(safe) if isinstance(safe, Mapping) else {}


def redact_processor(
    logger: object, method_name: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """structlog processor: put it last before the renderer (after `format_exc_info`), so
    rendered tracebacks and every field are masked, whoever logged them."""
    safe = redact(dict(event_dict))
    assert isinstance(safe, dict)
    return safe


def json_logger(stream: TextIO | None = None) -> Any:
    """A structlog logger printing one redacted JSON object per line to `stream` (stdout).

    Independent of the global structlog configuration, so payrouter's lines stay JSON even
    when the merchant's own logs are configured differently.
    """
    return structlog.wrap_logger(
        structlog.PrintLogger(stream or sys.stdout),
        processors=[
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            redact_processor,
            structlog.processors.JSONRenderer(sort_keys=False),
        ],
        context_class=dict,
    )


class StructlogHook:
    """One structured log event per router event: `event` is the type, `why` the decision,
    the event's fields (redacted) follow. What `level` calls a warning logs at warning (a
    breaker opening, shared state lost, alerts), the rest at info."""

    def __init__(self, logger: Any = None) -> None:
        self._logger = logger if logger is not None else structlog.get_logger("payrouter")

    def __call__(self, event: object) -> None:
        name = type(event).__name__
        log = self._logger.warning if level(event) >= logging.WARNING else self._logger.info
        log(name, why=describe(event), **_fields(event))


class RedactingFilter(logging.Filter):
    """stdlib filter that masks a record's message, arguments, traceback and extra fields.

    payrouter installs it on the `payrouter` logger; add it to a handler to cover other
    loggers too. The traceback is rendered and masked here (and `exc_info` dropped), because
    an exception's message may quote a provider reply.
    """

    _STANDARD: Final = frozenset(vars(logging.makeLogRecord({})).keys()) | {"message", "asctime"}

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "_payrouter_redacted", False):
            return True
        record.msg = redact_text(record.getMessage())
        record.args = None
        if record.exc_info:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
            record.exc_info = None
        if record.exc_text:
            record.exc_text = redact_text(record.exc_text)
        if record.stack_info:
            record.stack_info = redact_text(record.stack_info)
        for key, value in list(vars(record).items()):
            if key not in self._STANDARD:
                masked = redact({key: value})
                setattr(record, key, masked[key] if isinstance(masked, dict) else None)
        record._payrouter_redacted = True
        return True
