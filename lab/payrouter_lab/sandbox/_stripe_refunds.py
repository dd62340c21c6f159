"""`POST /v1/refunds` as Stripe answers it: at most what was received and not yet refunded.

A refund of a fully refunded intent is `charge_already_refunded` and one over the rest is
`amount_too_large`, Stripe's own codes, so the router's resend-after-crash rule (an "already
refunded" that the ledger explains is success) meets the same answers here as at Stripe.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, MutableMapping

from ._books import Books, EntryKind, EntryStatus
from ._exchange import Call, Reply, json_reply
from ._faults import FaultKind
from ._stripe_wire import error, meta, missing, new_id

__all__ = ["list_refunds", "refund"]


def refund(
    call: Call,
    intents: Mapping[str, dict[str, object]],
    refunds: MutableMapping[str, dict[str, object]],
    books: Books,
    settle: Callable[[dict[str, object]], None],
    payer: str | None,
) -> Reply:
    """Refund part or all of a payment intent's received amount, booking it."""
    form = call.form()
    intent = intents.get(form.get("payment_intent", ""))
    if intent is None:
        return missing("payment_intent", form.get("payment_intent", ""))
    settle(intent)
    refundable = int(str(intent["amount_received"])) - int(str(intent["_refunded"]))
    if refundable <= 0:
        return error(
            400,
            "invalid_request_error",
            "Charge has already been refunded.",
            code="charge_already_refunded",
        )
    amount = _amount(form.get("amount", str(refundable)))
    if isinstance(amount, Reply):
        return amount
    if amount > refundable:
        return error(
            400,
            "invalid_request_error",
            f"Refund amount ({amount}) is greater than unrefunded amount ({refundable}).",
            code="amount_too_large",
        )
    intent["_refunded"] = int(str(intent["_refunded"])) + amount
    pending = call.faulted(FaultKind.PENDING) is not None
    body: dict[str, object] = {
        "id": new_id("re"),
        "object": "refund",
        "amount": amount,
        "charge": intent["latest_charge"],
        "created": int(time.time()),
        "currency": intent["currency"],
        "metadata": {k[9:-1]: v for k, v in form.items() if k.startswith("metadata[")},
        "payment_intent": intent["id"],
        "reason": form.get("reason"),
        "status": "pending" if pending else "succeeded",
    }
    refunds[str(body["id"])] = body
    books.record(
        EntryKind.REFUND,
        str(intent["id"]),
        order_id=meta(intent, "order_id"),
        reference=str(body["id"]),
        minor_units=amount,
        currency=str(intent["currency"]),
        status=EntryStatus.PENDING if pending else EntryStatus.SUCCEEDED,
        payer=payer,
    )
    return json_reply(200, body)


def _amount(given: str) -> int | Reply:
    """`amount` as Stripe reads it: "A positive integer representing how much to refund"
    (spec3). An integer below 1 is refused "This value must be greater than or equal to 1."
    (Stripe staff, stripe/stripe-php#943), a non-integer "Invalid integer: ..."
    (stripe/ai#123); both name `param`, as failed validation does, so no key keeps them."""
    try:
        amount = int(given)
    except ValueError:
        return error(400, "invalid_request_error", f"Invalid integer: {given}", param="amount")
    if amount < 1:
        message = "This value must be greater than or equal to 1."
        return error(400, "invalid_request_error", message, param="amount")
    return amount


def list_refunds(call: Call, refunds: Mapping[str, dict[str, object]]) -> Reply:
    """`GET /v1/refunds`, newest first, of one intent when `payment_intent` is given; current,
    as Stripe's lists are (only its search lags)."""
    intent = call.query.get("payment_intent")
    limit = int(call.query.get("limit", "10"))
    mine = [r for r in refunds.values() if intent in (None, r["payment_intent"])]
    mine.reverse()
    listed = {"object": "list", "data": mine[:limit], "has_more": len(mine) > limit}
    return json_reply(200, {**listed, "url": "/v1/refunds"})
