"""PayPal responses → `ProviderReply`, through the tables in `_codes`.

Bodies are parsed leniently (unknown fields ignored). A 2xx body we cannot read is unknown
when the call could have moved money, and BUSY when it could not (an order awaiting the
payer's approval): nothing moved, and a retry under the same PayPal-Request-Id gets PayPal's
answer again.
"""

from __future__ import annotations

from collections.abc import Mapping, Set
from types import MappingProxyType
from typing import Final, TypeVar

import httpx
from pydantic import BaseModel, ConfigDict, ValidationError

from payrouter.provider import FailureKind, Outcome, ProviderReply

from .._amounts import with_amount
from .._common import parse_retry_after, warn_unmapped_once
from ._codes import (
    ACTION_ISSUES,
    AUTHORIZATION_STATUSES,
    CAPTURE_STATUSES,
    CODES,
    HTTP_STATUSES,
    ORDER_STATUSES,
    REFUND_STATUSES,
    StatusRow,
)
from ._requests import PaymentKind, Reference

__all__ = [
    "delete_reply",
    "error_reply",
    "load_body",
    "mapped_kind",
    "order_reply",
    "payment_reply",
    "retry_after",
    "void_reply",
]

_LENIENT = ConfigDict(extra="ignore", frozen=True)
_WAIT_KINDS: Final = (FailureKind.RATE_LIMITED, FailureKind.BUSY)
_ACTION_RELS: Final = ("payer-action", "approve", "redirect")
"""HATEOAS link relations that send the payer somewhere, most specific first."""
_ALREADY_VOIDED: Final = "PREVIOUSLY_VOIDED"
"""A void's issue when the authorization is voided already: the void's goal is met."""

BodyT = TypeVar("BodyT", bound=BaseModel)


class _Link(BaseModel):
    model_config = _LENIENT

    href: str | None = None
    rel: str | None = None


class _StatusDetails(BaseModel):
    model_config = _LENIENT

    reason: str | None = None


class _Amount(BaseModel):
    model_config = _LENIENT

    currency_code: str | None = None
    value: str | None = None


class _RelatedIds(BaseModel):
    model_config = _LENIENT
    order_id: str | None = None


class _SupplementaryData(BaseModel):
    model_config = _LENIENT
    related_ids: _RelatedIds | None = None


class _Payment(BaseModel):
    """A capture, authorization or refund (Payments v2, or inside an order)."""

    model_config = _LENIENT

    id: str | None = None
    status: str | None = None
    status_details: _StatusDetails | None = None
    amount: _Amount | None = None
    """A capture's or refund's own amount: compared with the follow-up's."""
    supplementary_data: _SupplementaryData | None = None
    """Payments v2 only: the order the payment belongs to (`related_ids.order_id`)."""


class _Payments(BaseModel):
    model_config = _LENIENT

    captures: list[_Payment] = []
    authorizations: list[_Payment] = []


class _Unit(BaseModel):
    model_config = _LENIENT

    amount: _Amount | None = None
    """What the order is for: the router compares it with the charge."""
    payments: _Payments | None = None


class _Order(BaseModel):
    model_config = _LENIENT

    id: str | None = None
    status: str | None = None
    purchase_units: list[_Unit] = []
    links: list[_Link] = []


class _Detail(BaseModel):
    model_config = _LENIENT

    issue: str | None = None
    description: str | None = None


class _Error(BaseModel):
    model_config = _LENIENT

    name: str | None = None
    message: str | None = None
    details: list[_Detail] = []
    links: list[_Link] = []


def load_body(model: type[BodyT], response: httpx.Response) -> BodyT | None:
    try:
        return model.model_validate_json(response.content)
    except ValidationError:
        return None


def _action_url(links: list[_Link]) -> str | None:
    by_rel = {link.rel: link.href for link in links if link.href}
    return next((by_rel[rel] for rel in _ACTION_RELS if rel in by_rel), None)


def _unreadable(response: httpx.Response, *, could_move_money: bool) -> ProviderReply:
    message = "2xx body without a readable PayPal resource"
    if could_move_money:
        return ProviderReply.unknown(
            provider_code="unreadable_body", http_status=response.status_code, message=message
        )
    return ProviderReply.failed(
        FailureKind.BUSY,
        provider_code="unreadable_body",
        http_status=response.status_code,
        message=message,
    )


def order_reply(
    provider: str, response: httpx.Response, *, could_move_money: bool
) -> ProviderReply:
    """Translate an order from create, lookup, or completion (capture/authorize).

    `could_move_money` is False only for a create that awaits the payer's approval.
    """
    if not response.is_success:
        return error_reply(provider, response, could_move_money=could_move_money)
    order = load_body(_Order, response)
    if order is None or not order.id:
        return _unreadable(response, could_move_money=could_move_money)
    status = response.status_code
    code = order.status or ""
    row = ORDER_STATUSES.get(code)
    if row is None:
        warn_unmapped_once(provider, f"order_status:{code}")
        return ProviderReply.unknown(
            provider_code=code or "no_status", http_status=status, provider_reference=order.id
        )
    match row.outcome:
        case Outcome.SUCCEEDED:
            return _completed(provider, order.id, order, status)
        case Outcome.REQUIRES_ACTION:
            return ProviderReply.requires_action(
                order.id, _action_url(order.links), provider_code=code, http_status=status
            )
        case _:
            return _row_reply(row, code, order.id, status)


def _completed(provider: str, order_id: str, order: _Order, status: int) -> ProviderReply:
    """A completed order: its latest capture, else its latest authorization, says the rest."""
    payments = [unit.payments for unit in order.purchase_units if unit.payments]
    captures = [capture for found in payments for capture in found.captures if capture.id]
    authorizations = [auth for found in payments for auth in found.authorizations if auth.id]
    if captures:
        reply = _payment_outcome(provider, "capture", order_id, captures[-1], status)
    elif authorizations:
        reply = _payment_outcome(provider, "authorization", order_id, authorizations[-1], status)
    else:
        return ProviderReply.unknown(
            provider_code="COMPLETED",
            http_status=status,
            provider_reference=order_id,
            message="completed order without a capture or authorization",
        )
    units = order.purchase_units
    ordered = units[0].amount if units else None
    if reply.outcome is not Outcome.SUCCEEDED or ordered is None:
        return reply
    return with_amount(reply, ordered.value, ordered.currency_code, status)


_TABLES: Final[Mapping[PaymentKind, Mapping[str, StatusRow]]] = MappingProxyType(
    {
        "capture": CAPTURE_STATUSES,
        "authorization": AUTHORIZATION_STATUSES,
        "refund": REFUND_STATUSES,
    }
)


def _payment_outcome(
    provider: str, kind: PaymentKind, order_id: str | None, payment: _Payment, status: int
) -> ProviderReply:
    assert payment.id is not None
    reference = str(Reference(order_id, kind, payment.id))
    code = payment.status or ""
    row = _TABLES[kind].get(code)
    if row is None:
        warn_unmapped_once(provider, f"{kind}_status:{code}")
        return ProviderReply.unknown(
            provider_code=code or "no_status", http_status=status, provider_reference=reference
        )
    reason = payment.status_details.reason if payment.status_details else None
    detail = reason if reason and row.outcome is not Outcome.SUCCEEDED else code
    return _row_reply(row, detail, reference, status)


def _row_reply(row: StatusRow, code: str, reference: str, status: int) -> ProviderReply:
    match row.outcome:
        case Outcome.SUCCEEDED:
            return ProviderReply.succeeded(reference, provider_code=code, http_status=status)
        case Outcome.PENDING:
            return ProviderReply.pending(reference, provider_code=code, http_status=status)
        case Outcome.FAILED:
            kind = row.kind or FailureKind.CARD_DECLINED
            return ProviderReply.failed(
                kind, provider_code=code, http_status=status, provider_reference=reference
            )
        case _:
            return ProviderReply.unknown(
                provider_code=code, http_status=status, provider_reference=reference
            )


def payment_reply(
    provider: str, response: httpx.Response, kind: PaymentKind, source: Reference
) -> ProviderReply:
    """Translate a Payments v2 capture (of an authorization) or refund (of a capture) made
    from the payment `source`, or the `source` payment itself when looked up; the reply
    references the payment in the same order (the one PayPal names when `source` has none)."""
    if not response.is_success:
        return error_reply(provider, response, reference=str(source))
    payment = load_body(_Payment, response)
    if payment is None or not payment.id:
        return _unreadable(response, could_move_money=True)
    status = response.status_code
    related = payment.supplementary_data.related_ids if payment.supplementary_data else None
    order_id = source.order_id or (related.order_id if related else None) or None
    reply = _payment_outcome(provider, kind, order_id, payment, status)
    if reply.outcome in (Outcome.FAILED, Outcome.UNKNOWN) or payment.amount is None:
        return reply
    return with_amount(reply, payment.amount.value, payment.amount.currency_code, status)


def void_reply(provider: str, response: httpx.Response, reference: str) -> ProviderReply:
    """Translate a void: 204 (or 200 with a VOIDED authorization) means released."""
    status = response.status_code
    if status == httpx.codes.NO_CONTENT:
        return ProviderReply.succeeded(reference, provider_code="VOIDED", http_status=status)
    if not response.is_success:
        error = load_body(_Error, response)
        if error and any(detail.issue == _ALREADY_VOIDED for detail in error.details):
            return ProviderReply.succeeded(
                reference, provider_code=_ALREADY_VOIDED, http_status=status
            )
        return error_reply(provider, response, reference=reference)
    payment = load_body(_Payment, response)
    if payment is not None and payment.status == "VOIDED":
        return ProviderReply.succeeded(reference, provider_code="VOIDED", http_status=status)
    return ProviderReply.unknown(
        provider_code=payment.status if payment and payment.status else "unreadable_body",
        http_status=status,
        provider_reference=reference,
        message="unexpected authorization status after the void",
    )


def delete_reply(provider: str, response: httpx.Response, token_id: str) -> ProviderReply:
    """Translate `DELETE /v3/vault/payment-tokens/{id}`: 204 means the token is gone."""
    if not response.is_success:
        return error_reply(provider, response)
    return ProviderReply.succeeded(
        token_id, provider_code="deleted", http_status=response.status_code
    )


def error_reply(
    provider: str,
    response: httpx.Response,
    *,
    reference: str | None = None,
    could_move_money: bool = True,
    action_issues: Set[str] = ACTION_ISSUES,
) -> ProviderReply:
    """Translate a non-2xx answer: the first `details[].issue`, then `name`, then the status
    (429 and 5xx by their status alone).

    An issue asking the payer to act (`action_issues`: completing an order passes
    `COMPLETION_ACTION_ISSUES`) is `requires_action` on a known order. A code no row
    maps is logged once and the next, coarser, code decides; a status no row maps is unknown
    on a 5xx and INVALID_REQUEST on a 4xx. When the call could not have moved money (an order
    awaiting approval), an unknown 5xx or 409 becomes BUSY: nothing moved, and a retry under
    the same PayPal-Request-Id returns the order PayPal made, if it made one.
    """
    status = response.status_code
    error = load_body(_Error, response) or _Error()
    issue = next((detail.issue for detail in error.details if detail.issue), None)
    description = next((d.description for d in error.details if d.description), None)
    by_status = (
        status >= httpx.codes.INTERNAL_SERVER_ERROR or status == httpx.codes.TOO_MANY_REQUESTS
    )
    if issue in action_issues and reference is not None and not by_status:
        parsed = Reference.parse(reference)
        return ProviderReply.requires_action(
            parsed.order_id if parsed and parsed.order_id else reference,
            _action_url(error.links),
            provider_code=issue,
            http_status=status,
        )
    kind = None
    if not by_status:
        kind = mapped_kind(provider, CODES, issue, "") or mapped_kind(
            provider, CODES, error.name, "name:"
        )
    if kind is None:
        kind = HTTP_STATUSES.get(status)
    if kind is None:
        warn_unmapped_once(provider, f"http_{status}")
        kind = FailureKind.UNKNOWN_OUTCOME if status >= 500 else FailureKind.INVALID_REQUEST
    if kind is FailureKind.UNKNOWN_OUTCOME and not could_move_money and _in_doubt(status):
        kind = FailureKind.BUSY
    return ProviderReply.failed(
        kind,
        provider_code=issue or error.name or f"http_{status}",
        http_status=status,
        retry_after=retry_after(kind, response),
        provider_reference=reference,
        message=description or error.message,
    )


def mapped_kind(
    provider: str, table: Mapping[str, FailureKind], code: str | None, label: str
) -> FailureKind | None:
    """`code`'s row in `table`; a code no row maps is logged once (as `label` + code)."""
    if not code:
        return None
    kind = table.get(code)
    if kind is None:
        warn_unmapped_once(provider, f"{label}{code}")
    return kind


def _in_doubt(status: int) -> bool:
    return status >= 500 or status == httpx.codes.CONFLICT


def retry_after(kind: FailureKind, response: httpx.Response) -> float | None:
    if kind in _WAIT_KINDS:
        return parse_retry_after(response.headers.get("Retry-After"))
    return None
