"""A capture or void answered by Stripe's own 500, settled from the PaymentIntent itself.

Stripe saves its 500 under the Idempotency-Key ("retries with the same key return the saved
response, including 500 errors"), so resending a capture or cancel under that key repeats
the 500 for 24 hours. The intent (`GET /v1/payment_intents/{id}`, read from Stripe's records,
not its lagging search) says what became of it: captured (with `amount_received`, which the
router holds to the capture's amount), canceled, or still `requires_capture`.

Still `requires_capture` means nothing was done. A resend under a new key is then safe only
when the 500 is known to be the saved one: Stripe marks a replay `Idempotent-Replayed: true`.
A first 500 without that mark may be one Stripe never saved (it failed before the endpoint
ran), which the same key can still complete, so that reply stays as it was. A refund is
looked for in the intent's refunds (`GET /v1/refunds?payment_intent=`, as current as the
intent): none carrying the key, behind a replayed 500, spends the key the same way.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Final, Literal

import httpx

from payrouter.provider import FailureKind, ProviderReply

from ._codes import CAPTURE_STATUSES
from ._followup_replies import capture_reply, void_reply
from ._refund_replies import listed_refund_reply
from ._replies import read_object, stated_code

__all__ = ["REPLAYED_HEADER", "after_saved_500", "refund_after_saved_500"]

REPLAYED_HEADER: Final = "Idempotent-Replayed"
"""Stripe's mark on an answer replayed from the key's saved response."""

FollowUpOperation = Literal["capture", "void"]


def _replayed(answered: httpx.Response) -> bool:
    return str(answered.headers.get(REPLAYED_HEADER, "")).lower() == "true"


def _spent(reply: ProviderReply, operation: str, why: str) -> ProviderReply:
    return replace(
        reply,
        key_spent=True,
        message=f"Stripe saved a 500 under this key and did not {operation}: {why}; send it "
        "again under a new key",
    )


def refund_after_saved_500(
    provider: str, reply: ProviderReply, answered: httpx.Response, listed: httpx.Response, key: str
) -> ProviderReply:
    """What the intent's refunds (`listed`, read after `answered`, a saved 500) make of the
    refund sent under `key`: the refund they show, or not made; `reply` when they cannot
    tell (not read, or more refunds than one page holds)."""
    found = listed_refund_reply(provider, listed, key)
    if found is not None:
        return found
    if not (listed.is_success and _replayed(answered)):
        return reply
    try:
        whole = listed.json().get("has_more") is False
    except ValueError:
        whole = False
    return _spent(reply, "refund", "the intent lists no refund under it") if whole else reply


def after_saved_500(
    provider: str,
    operation: FollowUpOperation,
    reply: ProviderReply,
    answered: httpx.Response,
    intent: httpx.Response,
) -> ProviderReply:
    """What `intent` (the PaymentIntent read after `answered`, a saved 500) makes of the
    capture or void: done, impossible, or not done; `reply` when it cannot tell."""
    found = read_object(intent) if intent.is_success else None
    if found is None or found.id is None:
        return reply
    status = found.status or ""
    if operation == "capture" and status in CAPTURE_STATUSES:
        return capture_reply(provider, intent)
    if operation == "void" and status == "canceled":
        return void_reply(provider, intent)
    if status == "requires_capture":
        if not _replayed(answered):
            return reply  # maybe never saved: the same key may still do it
        spent = _spent(reply, operation, "the intent is still requires_capture")
        return replace(spent, provider_reference=found.id)
    undone_by = status == "canceled" if operation == "capture" else status in CAPTURE_STATUSES
    if undone_by:  # the opposite follow-up came first
        done = "canceled" if operation == "capture" else "captured"
        return ProviderReply.failed(
            FailureKind.INVALID_REQUEST,
            provider_reference=found.id,
            provider_code=stated_code("payment_intent_unexpected_state", found),
            http_status=intent.status_code,
            message=f"the intent is {done} ({status}): it can no longer take a {operation}",
        )
    return reply
