"""PayPal's Transaction Search (`GET /v1/reporting/transactions`) as the stand-in serves it.

Balance-affecting transactions only (PayPal's default): a `T0006` per captured payment
(PayPal Checkout APIs), with PayPal's fee as a negative `fee_amount`, and a `T1107` per
refund, naming the capture in `paypal_reference_id`. `invoice_id` carries the attempt
reference and `custom_field` the order id, as the adapter sent them. Dates are RFC 3339 with
seconds; a range longer than 31 days is refused, as PayPal refuses it; pages of at most 500.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from ._books import Books, EntryKind, EntryStatus
from ._exchange import Call, Reply, json_reply, minor_to_decimal
from ._paypal_wire import error
from ._statements import StatementPayment, statement

__all__ = ["transactions"]

_MAX_RANGE = timedelta(days=31)
_STATUS = {EntryStatus.SUCCEEDED: "S", EntryStatus.PENDING: "P", EntryStatus.FAILED: "D"}
_ACCOUNT = "SANDBOXMERCHANT"


def _when(text: str) -> datetime | None:
    try:
        parsed = datetime.fromisoformat(text.replace("z", "Z"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo and "T" in text.upper() and len(text) >= 20 else None


def _stamp(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _money(minor_units: int, currency: str) -> dict[str, str]:
    return {"currency_code": currency, "value": minor_to_decimal(minor_units, currency)}


def _details(
    paid: StatementPayment, books: Books, unit: Callable[[str], tuple[str | None, str | None]]
) -> list[dict[str, object]]:
    invoice, custom = unit(paid.provider_reference)
    fee = paid.fee("paypal", books)
    found: list[dict[str, object]] = []
    info: dict[str, object] = {
        "paypal_account_id": _ACCOUNT,
        "transaction_id": paid.provider_reference,
        "transaction_event_code": "T0006",
        "transaction_initiation_date": _stamp(paid.created),
        "transaction_updated_date": _stamp(paid.captured_at),
        "transaction_amount": _money(paid.captured or paid.amount, paid.currency),
        "fee_amount": _money(-fee, paid.currency),
        "transaction_status": _STATUS[paid.status],
        "invoice_id": invoice,
        "custom_field": custom,
        "protection_eligibility": "02",
    }
    found.append({"transaction_info": {k: v for k, v in info.items() if v is not None}})
    for entry in paid.entries:
        if entry.kind is not EntryKind.REFUND or entry.status is not EntryStatus.SUCCEEDED:
            continue
        refund = {
            "paypal_account_id": _ACCOUNT,
            "transaction_id": entry.entry_id.upper().replace("_", "0").ljust(17, "R")[:17],
            "paypal_reference_id": paid.provider_reference,
            "paypal_reference_id_type": "TXN",
            "transaction_event_code": "T1107",
            "transaction_initiation_date": _stamp(entry.at),
            "transaction_updated_date": _stamp(entry.at),
            "transaction_amount": _money(-entry.minor_units, paid.currency),
            "transaction_status": "S",
            "invoice_id": invoice,
            "custom_field": custom,
        }
        found.append({"transaction_info": {k: v for k, v in refund.items() if v is not None}})
    return found


def transactions(
    call: Call, books: Books, unit: Callable[[str], tuple[str | None, str | None]]
) -> Reply:
    """One page of the merchant's transactions initiated in `[start_date, end_date]`.

    `unit` gives a capture's `invoice_id` and `custom_id` (its purchase unit's).
    """
    start, end = _when(call.query.get("start_date", "")), _when(call.query.get("end_date", ""))
    if start is None or end is None:
        return error(
            400,
            "INVALID_REQUEST",
            "start_date and end_date are required date-times with seconds (RFC 3339)",
            "INVALID_PARAMETER_SYNTAX",
        )
    if end < start or end - start > _MAX_RANGE:
        return error(
            400, "INVALID_REQUEST", "Date range is greater than 31 days", "INVALID_PARAMETER_VALUE"
        )
    size, page = call.query.get("page_size", "100"), call.query.get("page", "1")
    if not size.isdigit() or not page.isdigit() or not 1 <= int(size) <= 500 or int(page) < 1:
        return error(
            400,
            "INVALID_REQUEST",
            "page_size is 1 to 500 and page at least 1",
            "INVALID_PARAMETER_VALUE",
        )
    paid = statement(books, start.timestamp(), end.timestamp())
    rows = [row for payment in paid for row in _details(payment, books, unit)]
    per_page, number = int(size), int(page)
    pages = max(1, math.ceil(len(rows) / per_page))
    return json_reply(
        200,
        {
            "transaction_details": rows[(number - 1) * per_page : number * per_page],
            "account_number": _ACCOUNT,
            "start_date": _stamp(start.timestamp()),
            "end_date": _stamp(end.timestamp()),
            "last_refreshed_datetime": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
            "page": number,
            "total_items": len(rows),
            "total_pages": pages,
            "links": [
                {
                    "href": f"{call.base_url}/v1/reporting/transactions",
                    "rel": "self",
                    "method": "GET",
                }
            ],
        },
    )
