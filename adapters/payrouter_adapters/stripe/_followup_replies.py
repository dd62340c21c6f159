"""Stripe's answers to the follow-ups on a PaymentIntent (capture, cancel) and to detaching
a saved payment method, as `ProviderReply`s; their errors are `_replies.error_reply`'s."""

from __future__ import annotations

from collections.abc import Callable, Mapping

import httpx

from payrouter.provider import Outcome, ProviderReply

from ._codes import CAPTURE_STATUSES, VOID_STATUSES, StatusRow
from ._replies import error_reply, read_object, received_amount, unreadable

__all__ = ["capture_reply", "detach_reply", "void_reply"]


def _follow_up(
    table: Mapping[str, StatusRow], *, received: bool = False
) -> Callable[[str, httpx.Response], ProviderReply]:
    """A follow-up's translation; with `received`, a success carries `amount_received` (what
    a capture took), for the router to compare with the follow-up's amount."""

    def translate(provider: str, response: httpx.Response) -> ProviderReply:
        if not response.is_success:
            return error_reply(provider, response)
        intent = read_object(response)
        if intent is None:
            return unreadable(response)
        assert intent.id is not None
        code = intent.status or ""
        status = response.status_code
        match table.get(code):
            case StatusRow(outcome=Outcome.SUCCEEDED):
                taken = received_amount(intent) if received else None
                return ProviderReply.succeeded(
                    intent.id, provider_code=code, http_status=status, amount=taken
                )
            case StatusRow(outcome=Outcome.PENDING):
                return ProviderReply.pending(intent.id, provider_code=code, http_status=status)
            case _:
                return ProviderReply.unknown(
                    provider_code=code or "no_status",
                    http_status=status,
                    provider_reference=intent.id,
                    message="unexpected payment intent status after the follow-up",
                )

    return translate


capture_reply = _follow_up(CAPTURE_STATUSES, received=True)
"""Translate `/capture`: succeeded, or pending while an asynchronous capture settles."""
void_reply = _follow_up(VOID_STATUSES)
"""Translate `/cancel`: a canceled intent means the authorization was released."""


def detach_reply(provider: str, response: httpx.Response) -> ProviderReply:
    """Translate `/v1/payment_methods/{id}/detach`: the returned method is detached."""
    if not response.is_success:
        return error_reply(provider, response)
    method = read_object(response)
    if method is None:
        return unreadable(response)
    assert method.id is not None
    return ProviderReply.succeeded(
        method.id, provider_code="detached", http_status=response.status_code
    )
