"""Stripe responses → `ProviderReply`, through the tables in `_codes`.

Bodies are parsed leniently (unknown fields ignored); a 2xx body we cannot read on a
money-moving call is unknown, because Stripe may have acted on the request.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace
from typing import Final, TypeVar

import httpx
from pydantic import BaseModel, ConfigDict, ValidationError

from payrouter import Money
from payrouter.provider import FailureKind, Outcome, ProviderReply

from .._common import parse_retry_after, warn_unmapped_once
from ._amounts import iso_amount
from ._authentication import awaiting_customer, awaits_authentication, intent_action
from ._codes import (
    CANCELLATION_REASONS,
    DECLINE_CODES,
    ERROR_CODES,
    ERROR_TYPES,
    HTTP_STATUSES,
    INTENT_STATUSES,
    PARAM_ERRORS,
    SHOULD_RETRY,
    STATE_ERRORS,
    StatusRow,
)
from ._declines import DeclineDetails, decline_fields
from ._statuses import StatusReader, read_status

__all__ = [
    "Object",
    "amount_of",
    "error_reply",
    "intent_outcome",
    "intent_reply",
    "kind_for",
    "load",
    "read_object",
    "received_amount",
    "search_reply",
    "stated_code",
    "unreadable",
]

LENIENT = ConfigDict(extra="ignore", frozen=True)
_WAIT_KINDS = (FailureKind.RATE_LIMITED, FailureKind.BUSY)
_SOURCE_ID: Final = re.compile(r"\b(?:pm|tok|card|src|ba|btok)_[A-Za-z0-9_]+")
"""Payment source ids, which Stripe quotes in messages ("No such PaymentMethod: 'pm_...'")."""

BodyT = TypeVar("BodyT", bound=BaseModel)


class _Redirect(BaseModel):
    model_config = LENIENT

    url: str | None = None


class _NextAction(BaseModel):
    model_config = LENIENT

    type: str | None = None
    redirect_to_url: _Redirect | None = None


class _Problem(DeclineDetails):
    """Stripe's error object: an API error, or an intent's `last_payment_error`."""

    model_config = LENIENT

    type: str | None = None
    param: str | None = None
    message: str | None = None
    payment_intent: Object | None = None


class Object(BaseModel):
    """Any Stripe object we read: payment intent, refund or payment method."""

    model_config = LENIENT

    id: str | None = None
    status: str | None = None
    amount: int | None = None
    amount_received: int | None = None
    """A captured intent's amount taken (its `amount` stays what was authorized)."""
    currency: str | None = None
    client_secret: str | None = None
    """An intent's secret for Stripe.js; it goes only into a requires_action reply's action."""
    next_action: _NextAction | None = None
    last_payment_error: _Problem | None = None
    cancellation_reason: str | None = None
    failure_reason: str | None = None


_Problem.model_rebuild()


class _Envelope(BaseModel):
    model_config = LENIENT

    error: _Problem | None = None


class _SearchResult(BaseModel):
    model_config = LENIENT

    data: list[Object]


def _scrub(message: str | None) -> str | None:
    """Stripe's text without payment source ids: replies may be logged and stored."""
    return _SOURCE_ID.sub("<redacted>", message) if message else None


def load(model: type[BodyT], response: httpx.Response) -> BodyT | None:
    try:
        return model.model_validate_json(response.content)
    except ValidationError:
        return None


def read_object(response: httpx.Response) -> Object | None:
    body = load(Object, response)
    return body if body is not None and body.id else None


def unreadable(response: httpx.Response) -> ProviderReply:
    return ProviderReply.unknown(
        provider_code="unreadable_body",
        http_status=response.status_code,
        message="2xx body without a readable Stripe object",
    )


def intent_reply(provider: str, response: httpx.Response) -> ProviderReply:
    """Translate a payment intent returned by create (with confirm) or retrieve."""
    if not response.is_success:
        return error_reply(provider, response)
    intent = read_object(response)
    if intent is None:
        return unreadable(response)
    return intent_outcome(provider, intent, response.status_code)


def search_reply(provider: str, response: httpx.Response) -> ProviderReply:
    """Translate a `/v1/payment_intents/search` result: none found is `NOT_FOUND`."""
    if not response.is_success:
        return error_reply(provider, response)
    result = load(_SearchResult, response)
    if result is None:
        return unreadable(response)
    status = response.status_code
    match result.data:
        case []:
            return ProviderReply.failed(
                FailureKind.NOT_FOUND, provider_code="search_no_match", http_status=status
            )
        case [intent] if intent.id:
            return intent_outcome(provider, intent, status)
        case [_]:
            return unreadable(response)
        case _:
            return ProviderReply.unknown(
                provider_code="search_ambiguous",
                http_status=status,
                message=f"{len(result.data)} payment intents carry this reference",
            )


def intent_outcome(provider: str, intent: Object, status: int) -> ProviderReply:
    """An intent's reply by its status (`INTENT_STATUSES`), through the shared reader."""
    return read_status(_INTENT, provider, intent, status)


def _taken(provider: str, intent: Object, row: StatusRow, status: int) -> ProviderReply:
    assert intent.id is not None
    code = intent.status or ""
    try:
        taken = amount_of(intent)
    except ValueError as error:  # money moved, but not in a form we asked for
        return ProviderReply.unknown(
            provider_code="amount_mismatch",
            http_status=status,
            provider_reference=intent.id,
            message=str(error),
        )
    return ProviderReply.succeeded(intent.id, provider_code=code, http_status=status, amount=taken)


def _to_authenticate(provider: str, intent: Object, row: StatusRow, status: int) -> ProviderReply:
    assert intent.id is not None
    action = intent.next_action
    redirect = action.redirect_to_url if action else None
    url = redirect.url if redirect else None
    action_type = action.type if action and action.type else None
    return ProviderReply.requires_action(
        intent.id,
        url,
        provider_code=action_type or intent.status,
        http_status=status,
        action=intent_action(action_type, url, intent.client_secret),
    )


def _not_taken(provider: str, intent: Object, row: StatusRow, status: int) -> ProviderReply:
    assert intent.id is not None
    if intent.status == "canceled":
        reason = intent.cancellation_reason
        kind = kind_for(provider, "cancellation_reason", CANCELLATION_REASONS, reason, row)
        return ProviderReply.failed(
            kind,
            provider_code=reason or intent.status,
            http_status=status,
            provider_reference=intent.id,
        )
    if _awaits_authentication(intent.last_payment_error):
        return awaiting_customer(intent.id, intent.client_secret, status)
    return _failed_attempt(provider, intent, row, status)


_INTENT: Final = StatusReader(
    INTENT_STATUSES,
    "status",
    {
        Outcome.SUCCEEDED: _taken,
        Outcome.REQUIRES_ACTION: _to_authenticate,
        Outcome.FAILED: _not_taken,
    },
)


def _awaits_authentication(problem: _Problem | None) -> bool:
    return problem is not None and awaits_authentication(problem.decline_code, problem.code)


def amount_of(intent: Object) -> Money | None:
    """An intent's or a refund's amount in ISO minor units, for the router to compare;
    None when Stripe's answer does not say.

    Raises:
        ValueError: it says something no payment of ours could be (a currency we do not
            know, an ISK amount that is no whole krona).
    """
    if intent.amount is None or intent.currency is None:
        return None
    minor, currency = iso_amount(intent.amount, intent.currency)
    if minor is None or currency is None:
        raise ValueError(f"{intent.amount} {intent.currency} is no amount of a payment of ours")
    return Money(minor_units=minor, currency=currency)


def _failed_attempt(provider: str, intent: Object, row: StatusRow, status: int) -> ProviderReply:
    problem = intent.last_payment_error or _Problem()
    kind = _problem_kind(provider, problem) or row.default_kind or FailureKind.CARD_DECLINED
    return ProviderReply.failed(
        kind,
        provider_code=problem.decline_code or problem.code or intent.status,
        http_status=status,
        provider_reference=intent.id,
        message=_scrub(problem.message),
        **decline_fields(kind, problem),
    )


def kind_for(
    provider: str, field: str, table: Mapping[str, FailureKind], code: str | None, row: StatusRow
) -> FailureKind:
    kind = table.get(code) if code else None
    if kind is None and code:
        warn_unmapped_once(provider, f"{field}:{code}")
    return kind or row.default_kind or FailureKind.CARD_DECLINED


def _problem_kind(provider: str, problem: _Problem) -> FailureKind | None:
    """`decline_code` first, then `code`; every code no row maps is logged once."""
    kind = None
    if problem.decline_code:
        kind = DECLINE_CODES.get(problem.decline_code)
        if kind is None:
            warn_unmapped_once(provider, f"decline_code:{problem.decline_code}")
    if kind is None and problem.code and problem.param:
        kind = PARAM_ERRORS.get((problem.code, problem.param))
    if kind is None and problem.code:
        kind = ERROR_CODES.get(problem.code)
        if kind is None:
            warn_unmapped_once(provider, problem.code)
    return kind


def received_amount(intent: Object) -> Money | None:
    """`amount_received` as Money; None when not said, nothing (a canceled intent's 0), or
    not an amount of ours (then the follow-up is judged by its notification)."""
    minor, currency = iso_amount(intent.amount_received, intent.currency)
    return None if not minor or currency is None else Money(minor_units=minor, currency=currency)


def error_reply(provider: str, response: httpx.Response) -> ProviderReply:
    """Translate a non-2xx answer.

    On a 5xx, `Stripe-Should-Retry` decides, then the status (codes are not trusted to prove
    a rejection there); on a 4xx, `decline_code`, then `code`, then `type`, then the status.
    A code no row maps is logged once; a status no row maps is unknown on 5xx and
    INVALID_REQUEST on 4xx. A refusal for the state of the intent it carries names that state
    and what it received (`stated_code`, `_received`).
    """
    status = response.status_code
    envelope = load(_Envelope, response)
    problem = envelope.error if envelope and envelope.error else _Problem()
    intent = problem.payment_intent
    if status < 500 and intent and intent.id and _awaits_authentication(problem):
        return awaiting_customer(intent.id, intent.client_secret, status)
    if status >= 500:
        should_retry = response.headers.get("Stripe-Should-Retry", "").strip().lower()
        kind = SHOULD_RETRY.get(should_retry) or HTTP_STATUSES.get(status)
        default = FailureKind.UNKNOWN_OUTCOME
    else:
        kind = (
            _problem_kind(provider, problem)
            or ERROR_TYPES.get(problem.type or "")
            or HTTP_STATUSES.get(status)
        )
        default = FailureKind.INVALID_REQUEST
    if kind is None:
        warn_unmapped_once(provider, f"http_{status}")
        kind = default
    retry_after = None
    if kind in _WAIT_KINDS:
        retry_after = parse_retry_after(response.headers.get("Retry-After"))
    reply = ProviderReply.failed(
        kind,
        provider_code=_error_code(problem, status),
        http_status=status,
        retry_after=retry_after,
        provider_reference=intent.id if intent else None,
        message=_scrub(problem.message),
        **decline_fields(kind, problem),
    )
    if intent is None or problem.code not in STATE_ERRORS:
        return reply
    return replace(reply, amount=received_amount(intent))


def _error_code(problem: _Problem, status: int) -> str:
    """The reply's `provider_code`: the row that decided, most specific first."""
    if problem.decline_code:
        return problem.decline_code
    if problem.code:
        return stated_code(problem.code, problem.payment_intent)
    if problem.type and problem.type in ERROR_TYPES:
        return problem.type
    return f"http_{status}"


def stated_code(code: str, intent: Object | None) -> str:
    """`code`, naming the state of the intent it refused for (`STATE_ERRORS`):
    `payment_intent_unexpected_state:succeeded`, which `Resolution.already_done` can list
    for a capture (done) without listing the same code with `canceled` (never possible)."""
    if code in STATE_ERRORS and intent is not None and intent.status:
        return f"{code}:{intent.status}"
    return code
