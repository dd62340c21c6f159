"""Stripe refunds → `ProviderReply`: the refund's status through `REFUND_STATUSES`, its
failure reason through `REFUND_FAILURES`, and its amount (ISO minor units), which the router
holds to the follow-up's."""

from __future__ import annotations

from dataclasses import replace

import httpx

from payrouter.provider import Outcome, ProviderReply

from .._common import warn_unmapped_once
from ._codes import REFUND_FAILURES, REFUND_STATUSES
from ._replies import Object, amount_of, error_reply, kind_for, read_object, unreadable

__all__ = ["refund_reply"]


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


def _refund_outcome(provider: str, refund: Object, status: int) -> ProviderReply:
    assert refund.id is not None
    code = refund.status or ""
    row = REFUND_STATUSES.get(code)
    if row is None:
        warn_unmapped_once(provider, f"refund_status:{code}")
        return ProviderReply.unknown(
            provider_code=code or "no_status", http_status=status, provider_reference=refund.id
        )
    match row.outcome:
        case Outcome.SUCCEEDED:
            return ProviderReply.succeeded(refund.id, provider_code=code, http_status=status)
        case Outcome.PENDING:
            return ProviderReply.pending(refund.id, provider_code=code, http_status=status)
        case Outcome.REQUIRES_ACTION:
            return ProviderReply.requires_action(
                refund.id, None, provider_code=code, http_status=status
            )
        case _:
            reason = refund.failure_reason
            return ProviderReply.failed(
                kind_for(provider, "failure_reason", REFUND_FAILURES, reason, row),
                provider_code=reason or code,
                http_status=status,
                provider_reference=refund.id,
            )
