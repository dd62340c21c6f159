"""A capture or void answered by Stripe's own 500, settled from the PaymentIntent itself.

Stripe saves its 500 under the Idempotency-Key ("retries with the same key return the saved
response, including 500 errors"), so resending a capture or cancel under that key repeats
the 500 for 24 hours. The intent (`GET /v1/payment_intents/{id}`, read from Stripe's records,
not its lagging search) says what became of it: captured (with `amount_received`, which the
router holds to the capture's amount), canceled, or still `requires_capture`.

Still `requires_capture` means nothing was done. A resend under a new key is then safe only
when the 500 is known to be the saved one: Stripe marks a replay `Idempotent-Replayed: true`.
A first 500 without that mark may be one Stripe never saved (it failed before the endpoint
ran), which the same key can still complete, so that reply stays as it was.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Final, Literal

import httpx

from payrouter.provider import FailureKind, ProviderReply

from ._codes import CAPTURE_STATUSES
from ._replies import capture_reply, read_object, void_reply

__all__ = ["REPLAYED_HEADER", "after_saved_500"]

REPLAYED_HEADER: Final = "Idempotent-Replayed"
"""Stripe's mark on an answer replayed from the key's saved response."""

FollowUpOperation = Literal["capture", "void"]


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
        if answered.headers.get(REPLAYED_HEADER, "").lower() != "true":
            return reply  # maybe never saved: the same key may still do it
        return replace(
            reply,
            provider_reference=found.id,
            key_spent=True,
            message=f"Stripe saved a 500 under this key and did not {operation}: the intent "
            "is still requires_capture; send it again under a new key",
        )
    done = {"capture": "canceled", "void": "captured"}[operation]
    if (operation == "capture" and status == "canceled") or (
        operation == "void" and status in CAPTURE_STATUSES
    ):
        return ProviderReply.failed(
            FailureKind.INVALID_REQUEST,
            provider_reference=found.id,
            provider_code="payment_intent_unexpected_state",
            http_status=intent.status_code,
            message=f"the intent is {done} ({status}): it can no longer take a {operation}",
        )
    return reply
