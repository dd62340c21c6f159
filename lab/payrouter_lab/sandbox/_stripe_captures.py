"""Capturing and cancelling a Stripe PaymentIntent in the stand-in, with the books' entries.

Kept apart from `_stripe` (the intents' routes) so each module keeps one job: these two change
an intent that already exists, as Stripe's `/capture` and `/cancel` do.
"""

from __future__ import annotations

import time

from ._books import Books, EntryKind
from ._exchange import Call, Reply, json_reply
from ._faults import FaultKind
from ._stripe_wire import error, meta, public, unexpected_state

__all__ = ["cancel", "capture"]

_CANCELABLE = frozenset(
    {"requires_payment_method", "requires_capture", "requires_confirmation", "requires_action"}
)


def capture(call: Call, intent: dict[str, object], books: Books, payer: str | None) -> Reply:
    """`POST /v1/payment_intents/{id}/capture`: all or part of what was authorised."""
    if intent["status"] != "requires_capture":
        return unexpected_state(intent, "capture")
    capturable = int(str(intent["amount_capturable"]))
    wanted = int(call.form().get("amount_to_capture", capturable))
    if wanted > capturable:
        return error(
            400,
            "invalid_request_error",
            "The amount to capture exceeds the amount capturable.",
            code="amount_too_large",
        )
    intent.update(status="succeeded", amount_received=wanted, amount_capturable=0)
    books.record(
        EntryKind.CAPTURE,
        str(intent["id"]),
        order_id=meta(intent, "order_id"),
        reference=meta(intent, "payrouter_reference"),
        minor_units=wanted,
        currency=str(intent["currency"]),
        payer=payer,
    )
    return json_reply(200, public(intent))


def cancel(call: Call, intent: dict[str, object], books: Books, payer: str | None) -> Reply:
    """`POST /v1/payment_intents/{id}/cancel`: an authorisation held is released."""
    if intent["status"] not in _CANCELABLE or call.faulted(FaultKind.CANCEL_FAILS):
        return unexpected_state(intent, "cancel")
    if intent["status"] == "requires_capture":
        books.record(
            EntryKind.RELEASE,
            str(intent["id"]),
            order_id=meta(intent, "order_id"),
            reference=meta(intent, "payrouter_reference"),
            minor_units=int(str(intent["amount_capturable"])),
            currency=str(intent["currency"]),
            payer=payer,
        )
    reason = call.form().get("cancellation_reason")
    intent.update(status="canceled", amount_capturable=0, cancellation_reason=reason)
    intent["canceled_at"] = int(time.time())
    return json_reply(200, public(intent))
