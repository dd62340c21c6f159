"""Stripe refunds → `ProviderReply`: the refund's status through `REFUND_STATUSES`, its
failure reason through `REFUND_FAILURES`, and its amount (ISO minor units), which the router
holds to the follow-up's."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Final

import httpx
from pydantic import BaseModel, ConfigDict, ValidationError

from payrouter.provider import Outcome, ProviderReply

from ._codes import REFUND_FAILURES, REFUND_STATUSES, StatusRow
from ._replies import Object, amount_of, error_reply, kind_for, load, read_object, unreadable
from ._requests import METADATA_REFERENCE
from ._statuses import StatusReader, read_status

__all__ = ["listed_refund_reply", "refund_reply"]


class _Listed(BaseModel):
    """A refund in `GET /v1/refunds`: its object and the metadata we sent with it."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    metadata: dict[str, str] = {}


class _RefundList(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    data: list[dict[str, object]]


def refund_reply(provider: str, response: httpx.Response) -> ProviderReply:
    """Translate `POST /v1/refunds`; the reply's reference is the refund's id (`re_...`), and
    an accepted refund carries its amount, for the router to compare with the follow-up's."""
    if not response.is_success:
        return error_reply(provider, response)
    refund = read_object(response)
    if refund is None:
        return unreadable(response)
    assert refund.id is not None
    reply = _refund_outcome(provider, refund, response.status_code)
    if reply.outcome in (Outcome.FAILED, Outcome.UNKNOWN):
        return reply
    try:
        return replace(reply, amount=amount_of(refund))
    except ValueError as error:  # a refund, but of nothing we could have asked for
        return replace(reply, outcome=Outcome.PENDING, provider_code="amount_mismatch",
                       message=str(error))  # fmt: skip


def listed_refund_reply(provider: str, response: httpx.Response, key: str) -> ProviderReply | None:
    """The refund made under `key`, from `GET /v1/refunds?payment_intent=...`: the list is
    read from Stripe's records (not its lagging search), so a refund it made is in it; None
    when no listed refund carries the key, or the list could not be read."""
    if not response.is_success:
        return None
    listed = load(_RefundList, response)
    for item in listed.data if listed is not None else []:
        try:
            mine = _Listed.model_validate(item).metadata.get(METADATA_REFERENCE) == key
        except ValidationError:
            continue
        if mine:
            found = httpx.Response(200, content=json.dumps(item).encode())
            return refund_reply(provider, found)
    return None


def _refund_outcome(provider: str, refund: Object, status: int) -> ProviderReply:
    return read_status(_REFUND, provider, refund, status)


def _refund_failed(provider: str, refund: Object, row: StatusRow, status: int) -> ProviderReply:
    reason = refund.failure_reason
    return ProviderReply.failed(
        kind_for(provider, "failure_reason", REFUND_FAILURES, reason, row),
        provider_code=reason or refund.status or "",
        http_status=status,
        provider_reference=refund.id,
    )


_REFUND: Final = StatusReader(REFUND_STATUSES, "refund_status", {Outcome.FAILED: _refund_failed})
