"""PayPal Payments v2 follow-ups in the stand-in: capture and void an authorization, refund a
capture, with PayPal's own refusals (`AUTHORIZATION_ALREADY_CAPTURED`,
`MAX_CAPTURE_AMOUNT_EXCEEDED`, `CANNOT_BE_VOIDED`, `CAPTURE_FULLY_REFUNDED`,
`REFUND_AMOUNT_EXCEEDED`) and every movement booked. An amount PayPal would not take (another
currency than the authorization's or the capture's, a fraction finer than the currency, zero)
is refused as PayPal refuses it, never rounded (payments_payment_v2.json, `422`,
`captures.refund-422`); a void of an authorization captured or voided already is 422
`PREVIOUSLY_CAPTURED` / `PREVIOUSLY_VOIDED` (`authorizations.void-422`).

A capture or authorization read through Payments v2 (`GET /v2/payments/captures/{id}`, the
resource of PayPal's PAYMENT.CAPTURE.* / PAYMENT.AUTHORIZATION.* notifications) names the
order it belongs to as PayPal's does: `supplementary_data.related_ids.order_id` (and
`authorization_id` for a capture of an authorization), and a `rel: up` link to its parent,
the order or the authorization (payments_payment_v2.json, `capture-2`, `related_ids`).
"""

from __future__ import annotations

from dataclasses import dataclass

from ._books import Books, EntryKind, EntryStatus
from ._exchange import Call, Reply, decimal_to_minor, json_reply, minor_to_decimal
from ._faults import FaultKind
from ._paypal_wire import (
    amount_refusal,
    currency_of,
    new_id,
    not_found,
    now,
    order_key,
    public,
    text,
    unit_of,
    unprocessable,
    value_of,
)

__all__ = ["PaymentsBooks", "capture", "payment_resource", "refund", "void"]


@dataclass(frozen=True, slots=True)
class PaymentsBooks:
    """The stand-in's payments (authorizations and captures), their orders, and its books."""

    payments: dict[str, dict[str, object]]
    payment_order: dict[str, str]
    orders: dict[str, dict[str, object]]
    books: Books


def payment_resource(base_url: str, payment_id: str, state: PaymentsBooks) -> dict[str, object]:
    """A capture or authorization as Payments v2 and PayPal's notifications show it."""
    payment = state.payments[payment_id]
    order_id = state.payment_order[payment_id]
    parent = text(payment.get("_authorization"))
    related = {"order_id": order_id} | ({"authorization_id": parent} if parent else {})
    api = f"{base_url}/v2"
    if parent is not None or state.orders[order_id]["intent"] == "CAPTURE":
        own = f"{api}/payments/captures/{payment_id}"
        actions = [{"href": f"{own}/refund", "rel": "refund", "method": "POST"}]
    else:
        own = f"{api}/payments/authorizations/{payment_id}"
        actions = [
            {"href": f"{own}/capture", "rel": "capture", "method": "POST"},
            {"href": f"{own}/void", "rel": "void", "method": "POST"},
        ]
    up = f"{api}/checkout/orders/{order_id}"
    if parent is not None:  # a capture of an authorization belongs under the authorization
        up = f"{api}/payments/authorizations/{parent}"
    links = [
        {"href": own, "rel": "self", "method": "GET"},
        *actions,
        {"href": up, "rel": "up", "method": "GET"},
    ]
    return public(payment) | {"supplementary_data": {"related_ids": related}, "links": links}


def _requested(call: Call, payment: dict[str, object], left: int, mismatch: str) -> int | Reply:
    """The minor units asked for (`left` when the body names no amount), or PayPal's refusal
    of the amount; `mismatch` is the issue for another currency than `payment`'s."""
    body = call.json()
    if "amount" not in body:
        return left
    amount, currency = body["amount"], currency_of(payment)
    refused = amount_refusal(
        amount,
        "/amount",
        currency=currency,
        mismatch=mismatch,
        whole_units="DECIMALS_NOT_SUPPORTED",
    )
    if refused is not None:
        return refused
    assert isinstance(amount, dict)
    return decimal_to_minor(str(amount["value"]), currency)


def capture(call: Call, state: PaymentsBooks) -> Reply:
    payment_id = call.path_params["payment"]
    auth = state.payments.get(payment_id)
    if auth is None or "_voided" in auth:
        return not_found() if auth is None else unprocessable("AUTHORIZATION_VOIDED")
    currency = currency_of(auth)
    left = decimal_to_minor(value_of(auth), currency) - int(str(auth["_captured"]))
    wanted = _requested(call, auth, left, "AUTH_CAPTURE_CURRENCY_MISMATCH")
    if isinstance(wanted, Reply):
        return wanted
    if left <= 0:
        return unprocessable("AUTHORIZATION_ALREADY_CAPTURED")
    if wanted > left:
        return unprocessable("MAX_CAPTURE_AMOUNT_EXCEEDED")
    auth["_captured"] = int(str(auth["_captured"])) + wanted
    auth["status"] = "CAPTURED" if wanted == left else "PARTIALLY_CAPTURED"
    capture_id = new_id()
    capture: dict[str, object] = {
        "id": capture_id,
        "status": "COMPLETED",
        "amount": {"currency_code": currency, "value": minor_to_decimal(wanted, currency)},
        "final_capture": wanted == left,
        "create_time": now(),
        "_captured": wanted,
        "_refunded": 0,
        "_authorization": payment_id,
    }
    state.payments[capture_id] = capture
    state.payment_order[capture_id] = state.payment_order[payment_id]
    order = state.orders[state.payment_order[payment_id]]
    state.books.record(
        EntryKind.CAPTURE,
        payment_id,
        order_id=order_key(unit_of(order)),
        reference=capture_id,
        minor_units=wanted,
        currency=currency,
        payer=text(order.get("_payer")),
    )
    return json_reply(201, public(capture))


def void(call: Call, state: PaymentsBooks) -> Reply:
    payment_id = call.path_params["payment"]
    auth = state.payments.get(payment_id)
    if auth is None:
        return not_found()
    if int(str(auth["_captured"])) > 0:
        return unprocessable("PREVIOUSLY_CAPTURED")
    if "_voided" in auth:
        return unprocessable("PREVIOUSLY_VOIDED")
    if call.faulted(FaultKind.CANCEL_FAILS):
        return unprocessable("CANNOT_BE_VOIDED")
    auth["_voided"] = True
    auth["status"] = "VOIDED"
    order = state.orders[state.payment_order[payment_id]]
    state.books.record(
        EntryKind.RELEASE,
        payment_id,
        order_id=order_key(unit_of(order)),
        reference=payment_id,
        minor_units=decimal_to_minor(value_of(auth), currency_of(auth)),
        currency=currency_of(auth),
        payer=text(order.get("_payer")),
    )
    return Reply(204, b"")


def refund(call: Call, state: PaymentsBooks) -> Reply:
    payment_id = call.path_params["payment"]
    capture = state.payments.get(payment_id)
    if capture is None or "_captured" not in capture:
        return not_found()
    currency = currency_of(capture)
    left = int(str(capture["_captured"])) - int(str(capture["_refunded"]))
    if left <= 0:
        return unprocessable("CAPTURE_FULLY_REFUNDED")
    wanted = _requested(call, capture, left, "REFUND_CAPTURE_CURRENCY_MISMATCH")
    if isinstance(wanted, Reply):
        return wanted
    if wanted > left:
        return unprocessable("REFUND_AMOUNT_EXCEEDED")
    capture["_refunded"] = int(str(capture["_refunded"])) + wanted
    pending = call.faulted(FaultKind.PENDING) is not None
    refund_id = new_id()
    order = state.orders[state.payment_order[payment_id]]
    state.books.record(
        EntryKind.REFUND,
        payment_id,
        order_id=order_key(unit_of(order)),
        reference=refund_id,
        minor_units=wanted,
        currency=currency,
        status=EntryStatus.PENDING if pending else EntryStatus.SUCCEEDED,
        payer=text(order.get("_payer")),
    )
    return json_reply(
        201,
        {
            "id": refund_id,
            "status": "PENDING" if pending else "COMPLETED",
            "amount": {"currency_code": currency, "value": minor_to_decimal(wanted, currency)},
            "create_time": now(),
        },
    )
