"""Stripe's records as the stand-in lists them: payment intents and balance transactions.

`GET /v1/payment_intents` pages newest first with `created[gte|lte]` and `starting_after`;
`expand[]=data.latest_charge` puts each intent's Charge (amount captured and refunded, from
the books) in place of its id. `GET /v1/balance_transactions` lists what money each charge
moved into the balance and the fee Stripe kept, at the stand-in's list price.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence

from ._books import Books
from ._exchange import Call, Reply, json_reply
from ._faults import FaultKind
from ._statements import StatementPayment, statement
from ._stripe_wire import error, meta, public

__all__ = ["balance_transactions", "list_intents", "search_intents"]

_SEARCH = re.compile(r"metadata\['([^']+)'\]:'((?:[^'\\]|\\.)*)'")

_EXPAND_CHARGE = "data.latest_charge"


def _bounds(call: Call) -> tuple[int, int, int] | Reply:
    bounds = {k: call.query.get(f"created[{k}]", "") for k in ("gte", "lte")}
    limit = call.query.get("limit", "10")
    if not all(v.isdigit() for v in bounds.values() if v) or not limit.isdigit():
        return error(400, "invalid_request_error", "Invalid integer.", code="parameter_invalid")
    low = int(bounds["gte"]) if bounds["gte"] else 0
    high = int(bounds["lte"]) if bounds["lte"] else 2**62
    return low, high, max(1, min(int(limit), 100))


def _page(call: Call, chosen: Sequence[dict[str, object]], url: str, limit: int) -> Reply:
    after = call.query.get("starting_after")
    if after:
        ids = [str(o["id"]) for o in chosen]
        chosen = chosen[ids.index(after) + 1 :] if after in ids else []
    page = list(chosen[:limit])
    return json_reply(
        200, {"object": "list", "data": page, "has_more": len(chosen) > len(page), "url": url}
    )


def list_intents(
    call: Call,
    intents: Mapping[str, dict[str, object]],
    settle: Callable[[dict[str, object]], None],
    books: Books,
) -> Reply:
    """`GET /v1/payment_intents`, as Stripe lists (records reconciliation reads this)."""
    bounds = _bounds(call)
    if isinstance(bounds, Reply):
        return bounds
    low, high, limit = bounds
    expand = call.query.get("expand[]") or call.query.get("expand[0]")
    if expand not in (None, _EXPAND_CHARGE):
        return error(
            400,
            "invalid_request_error",
            f"This property cannot be expanded ({expand}).",
            code="parameter_invalid",
        )
    for intent in intents.values():
        settle(intent)
    newest_first = sorted(
        (i for i in intents.values() if low <= int(str(i["created"])) <= high),
        key=lambda i: (int(str(i["created"])), str(i["id"])),
        reverse=True,
    )
    by_reference = {p.provider_reference: p for p in statement(books, 0, float("inf"))}
    shown = []
    for intent in newest_first:
        body = public(intent)
        charge = intent.get("latest_charge")
        if expand and isinstance(charge, str):
            body["latest_charge"] = _charge(charge, intent, by_reference.get(str(intent["id"])))
        shown.append(body)
    return _page(call, shown, "/v1/payment_intents", limit)


def _charge(
    charge_id: str, intent: dict[str, object], paid: StatementPayment | None
) -> dict[str, object]:
    captured = paid.captured if paid else 0
    refunded = paid.refunded if paid else 0
    body: dict[str, object] = {
        "id": charge_id,
        "object": "charge",
        "amount": intent["amount"],
        "amount_captured": captured,
        "amount_refunded": refunded,
        "billing_details": {"email": None, "name": None, "phone": None},
        "captured": captured > 0,
        "created": int(paid.created if paid else int(str(intent["created"]))),
        "currency": intent["currency"],
        "disputed": False,
        "livemode": False,
        "metadata": intent.get("metadata") or {},
        "paid": paid is not None,
        "payment_intent": intent["id"],
        "refunded": captured > 0 and refunded >= captured,
        "status": "succeeded" if paid else "failed",
    }
    if captured:
        body["balance_transaction"] = _transaction_id(charge_id)
    return body


def _transaction_id(charge_id: str) -> str:
    return f"txn_{charge_id.removeprefix('ch_')}"


def balance_transactions(
    call: Call, intents: Mapping[str, dict[str, object]], books: Books
) -> Reply:
    """`GET /v1/balance_transactions`: one `charge` transaction per captured payment, with
    the stand-in's list-price fee; `type` and `created[gte|lte]` filter, newest first."""
    bounds = _bounds(call)
    if isinstance(bounds, Reply):
        return bounds
    low, high, limit = bounds
    kind = call.query.get("type")
    if kind not in (None, "charge", "payment", "refund"):
        return error(400, "invalid_request_error", f"Invalid type: {kind}", param="type")
    found = []
    for paid in statement(books, 0, float("inf")):
        intent = intents.get(paid.provider_reference)
        charge = intent.get("latest_charge") if intent else None
        at = int(paid.captured_at)
        if not paid.captured or not isinstance(charge, str) or not low <= at <= high:
            continue
        if kind not in (None, "charge"):
            continue
        fee = paid.fee("stripe", books)
        found.append(
            {
                "id": _transaction_id(charge),
                "object": "balance_transaction",
                "amount": paid.captured,
                "available_on": at + 2 * 86_400,
                "created": at,
                "currency": paid.currency.lower(),
                "description": f"Payment for {meta(intent or {}, 'order_id') or charge}",
                "fee": fee,
                "fee_details": [
                    {
                        "amount": fee,
                        "currency": paid.currency.lower(),
                        "description": "Stripe processing fees",
                        "type": "stripe_fee",
                    }
                ],
                "net": paid.captured - fee,
                "reporting_category": "charge",
                "source": charge,
                "status": "pending",
                "type": "charge",
            }
        )
    found.sort(key=lambda t: (int(str(t["created"])), str(t["id"])), reverse=True)
    return _page(call, found, "/v1/balance_transactions", limit)


def search_intents(
    call: Call,
    intents: Mapping[str, dict[str, object]],
    settle: Callable[[dict[str, object]], None],
    now: float,
) -> Reply:
    """`GET /v1/payment_intents/search` by one metadata value; the `search_lag` fault hides
    intents created within its delay, as Stripe's index does while it catches up."""
    match = _SEARCH.fullmatch(call.query.get("query", "").strip())
    if match is None:
        return error(
            400, "invalid_request_error", "Unsupported search query.", code="parameter_invalid"
        )
    key, value = match.group(1), re.sub(r"\\(.)", r"\1", match.group(2))
    found = [i for i in intents.values() if meta(i, key) == value]
    if call.faulted(FaultKind.SEARCH_LAG) and call.fault is not None:
        indexed_before = now - call.fault.spec.delay_seconds
        found = [i for i in found if int(str(i["created"])) <= indexed_before]
    for intent in found:
        settle(intent)
    return json_reply(
        200,
        {
            "object": "search_result",
            "data": [public(i) for i in found],
            "has_more": False,
            "next_page": None,
            "url": "/v1/payment_intents/search",
        },
    )
