"""Turning NextGenPSD2 responses into `ProviderReply`s; the tables live in `_codes`.

Decisions (the module docstring of the package says why):
- 429 is `RATE_LIMITED` with `Retry-After`; 503 is `BUSY` (the ASPSP refuses before processing).
- 500, 502, 504 and any other 5xx, 408 and anything outside 2xx/4xx are `unknown`: the
  specification does not say whether the request was processed.
- A 409 on an initiation is `unknown`: the only thing a create can conflict with is our own
  earlier request under the same `X-Request-ID`, which may still be executing.
- Any other 4xx goes through the call's table (`FAILURE_BY_CODE`; `STATUS_FAILURE_BY_CODE` for
  a status request, whose errors are never a decline); an unmapped code is logged once and
  becomes `CREDENTIALS_REJECTED` for 401/403 and `INVALID_REQUEST` otherwise (nothing was
  created).
- The banks' free text (`tppMessages[].text`, `detail`) is never copied into a reply: it can
  echo account data, and replies end up in logs.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

import httpx

from payrouter.provider import FailureKind, Outcome, ProviderReply

from .._amounts import with_amount
from .._common import parse_retry_after, warn_unmapped_once
from ._codes import FAILURE_BY_CODE, SCA_LINKS, TRANSACTION_STATUS

__all__ = [
    "amount_unread",
    "cancellation_reply",
    "error_reply",
    "initiation_reply",
    "status_reply",
    "with_instructed_amount",
]

_CREDENTIAL_STATUSES: Final = frozenset({401, 403})


def _body(response: httpx.Response) -> dict[str, object]:
    try:
        data: object = response.json()
    except ValueError:  # not JSON (or not UTF-8): an HTML error page, an empty body
        return {}
    return data if isinstance(data, dict) else {}


def _error_code(body: dict[str, object]) -> str | None:
    """The first ERROR-category `tppMessages` code, else any message's, else RFC 7807 `code`."""
    messages = body.get("tppMessages")
    if isinstance(messages, list):
        entries = [entry for entry in messages if isinstance(entry, dict)]
        ordered = sorted(entries, key=lambda entry: entry.get("category") != "ERROR")
        for entry in ordered:
            code = entry.get("code")
            if isinstance(code, str) and code:
                return code
    code = body.get("code")
    return code if isinstance(code, str) and code else None


def _sca_link(body: dict[str, object]) -> tuple[str, str] | None:
    """The first `_links` entry that asks for customer authorisation, as (name, href)."""
    links = body.get("_links")
    if not isinstance(links, dict):
        return None
    for name in SCA_LINKS:
        link = links.get(name)
        href = link.get("href") if isinstance(link, dict) else None
        if isinstance(href, str) and href:
            return name, href
    return None


def _rejection_kind(provider: str, body: dict[str, object]) -> FailureKind:
    """Why a payment was rejected; a rejection without a reason is a generic decline."""
    code = _error_code(body)
    if code is None:
        funds_missing = body.get("fundsAvailable") is False
        return FailureKind.INSUFFICIENT_FUNDS if funds_missing else FailureKind.CARD_DECLINED
    kind = FAILURE_BY_CODE.get(code)
    if kind is None:
        warn_unmapped_once(provider, code)
        return FailureKind.CARD_DECLINED
    return kind


def status_reply(provider: str, response: httpx.Response, payment_id: str) -> ProviderReply:
    """A 2xx body carrying `transactionStatus` (initiation or status request)."""
    body = _body(response)
    http_status = response.status_code
    status = body.get("transactionStatus")
    if not isinstance(status, str):
        return ProviderReply.unknown(
            provider_code="unexpected_body", http_status=http_status, provider_reference=payment_id
        )
    outcome = TRANSACTION_STATUS.get(status)
    if outcome is None:
        warn_unmapped_once(provider, status)
        return ProviderReply.unknown(
            provider_code=status, http_status=http_status, provider_reference=payment_id
        )
    if outcome is Outcome.FAILED:
        return ProviderReply.failed(
            _rejection_kind(provider, body),
            provider_code=status,
            http_status=http_status,
            provider_reference=payment_id,
        )
    if outcome is Outcome.SUCCEEDED:
        return ProviderReply.succeeded(payment_id, provider_code=status, http_status=http_status)
    link = _sca_link(body)
    if link is not None:
        name, href = link
        return ProviderReply.requires_action(
            payment_id, href, provider_code=name, http_status=http_status
        )
    if outcome is Outcome.REQUIRES_ACTION:  # a status lookup carries no links
        return ProviderReply.requires_action(
            payment_id, None, provider_code=status, http_status=http_status
        )
    return ProviderReply.pending(payment_id, provider_code=status, http_status=http_status)


def with_instructed_amount(reply: ProviderReply, response: httpx.Response) -> ProviderReply:
    """A success with the `instructedAmount` of the payment initiation resource
    (`GET .../{paymentId}`), for the router to compare with the charge; `amount_mismatch`
    when it is no amount of ours, `amount_unread` when the resource does not say."""
    amount = _body(response).get("instructedAmount") if response.is_success else None
    value = amount.get("amount") if isinstance(amount, dict) else None
    currency = amount.get("currency") if isinstance(amount, dict) else None
    if not isinstance(value, str) or not isinstance(currency, str):
        return amount_unread(reply, response.status_code)
    return with_amount(reply, value, currency, response.status_code)


def amount_unread(reply: ProviderReply, http_status: int | None) -> ProviderReply:
    """A success whose amount could not be read: unknown, so it is looked up again later and
    never settled unchecked (the transfer's paymentId is kept for that lookup)."""
    return ProviderReply.unknown(
        provider_code="amount_unread",
        http_status=http_status,
        provider_reference=reply.provider_reference,
        message="the payment's instructedAmount could not be read",
    )


def initiation_reply(provider: str, response: httpx.Response) -> ProviderReply:
    """A 2xx answer to a payment initiation; without a `paymentId` the outcome is unknown."""
    payment_id = _body(response).get("paymentId")
    if not isinstance(payment_id, str) or not payment_id:
        return ProviderReply.unknown(
            provider_code="unexpected_body", http_status=response.status_code
        )
    return status_reply(provider, response, payment_id)


def cancellation_reply(response: httpx.Response, payment_id: str) -> ProviderReply:
    """A 2xx answer to a cancellation: 204 is done, 202 may need the customer's own SCA."""
    http_status = response.status_code
    if http_status == httpx.codes.NO_CONTENT:
        return ProviderReply.succeeded(payment_id, provider_code="CANC", http_status=http_status)
    body = _body(response)
    link = _sca_link(body)
    if link is not None:
        name, href = link
        return ProviderReply.requires_action(
            payment_id, href, provider_code=name, http_status=http_status
        )
    status = body.get("transactionStatus")
    if status == "CANC":
        return ProviderReply.succeeded(payment_id, provider_code=status, http_status=http_status)
    code = status if isinstance(status, str) else None
    return ProviderReply.pending(payment_id, provider_code=code, http_status=http_status)


def error_reply(
    provider: str,
    response: httpx.Response,
    codes: Mapping[str, FailureKind] = FAILURE_BY_CODE,
    *,
    creating: bool,
) -> ProviderReply:
    """Any non-2xx answer; `codes` is the call's table, `creating` marks a payment initiation
    (money may move). A row of kind `UNKNOWN_OUTCOME` makes the reply `unknown`."""
    http_status = response.status_code
    code = _error_code(_body(response))
    if http_status in (httpx.codes.TOO_MANY_REQUESTS, httpx.codes.SERVICE_UNAVAILABLE):
        kind = (
            FailureKind.RATE_LIMITED
            if http_status == httpx.codes.TOO_MANY_REQUESTS
            else FailureKind.BUSY
        )
        return ProviderReply.failed(
            kind,
            provider_code=code,
            http_status=http_status,
            retry_after=parse_retry_after(response.headers.get("Retry-After")),
        )
    undetermined = (
        http_status >= httpx.codes.INTERNAL_SERVER_ERROR
        or http_status < httpx.codes.BAD_REQUEST
        or http_status == httpx.codes.REQUEST_TIMEOUT
        or (creating and http_status == httpx.codes.CONFLICT)
    )
    if undetermined:
        return ProviderReply.unknown(provider_code=code, http_status=http_status)
    mapped = codes.get(code or "")
    if mapped is None and code is not None:
        warn_unmapped_once(provider, code)
    default = (
        FailureKind.CREDENTIALS_REJECTED
        if http_status in _CREDENTIAL_STATUSES
        else FailureKind.INVALID_REQUEST
    )
    return ProviderReply.failed(mapped or default, provider_code=code, http_status=http_status)
