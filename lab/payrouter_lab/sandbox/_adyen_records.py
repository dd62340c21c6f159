"""Adyen's payment accounting report as the stand-in serves it: one CSV a day, downloaded from
`/reports/download/MerchantAccount/{account}/payments_accounting_report_YYYY_MM_DD.csv`.

Each payment's life is a row per record type: `Authorised` (amount in `Authorised (PC)`),
`SentForSettle` and `Settled` (amount in `Captured (PC)`; the `Settled` row carries the fees
in the settlement currency: `Commission (SC)`, `Markup (SC)`, `Scheme Fees (SC)`,
`Interchange (SC)`), `Refunded` per refund (negative `Captured (PC)`), `Cancelled` for a
released hold. Amounts are decimals in the currency's major unit. As at Adyen, booking dates
and days are the account's time zone setting (UTC unless configured: `report(zone=...)`,
`POST /_admin/adyen/account {"time_zone": "Europe/Amsterdam"}`): a day's report holds the
bookings of that local day, each `Booking Date` in local time with its zone's abbreviation in
`TimeZone` (CET or CEST as summer time applies). A day that has not begun there has no report
yet (404); the stand-in generates a day's report when asked, where Adyen publishes it the
morning after.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, date, datetime, timedelta, tzinfo

from ._books import Books, EntryKind, EntryStatus
from ._exchange import Call, Reply, minor_to_decimal
from ._statements import StatementPayment, statement

__all__ = ["COLUMNS", "report"]

COLUMNS = (
    "Company Account",
    "Merchant Account",
    "Psp Reference",
    "Merchant Reference",
    "Payment Method",
    "Booking Date",
    "TimeZone",
    "Record Type",
    "Payment Currency",
    "Received (PC)",
    "Authorised (PC)",
    "Captured (PC)",
    "Settlement Currency",
    "Payable (SC)",
    "Commission (SC)",
    "Markup (SC)",
    "Scheme Fees (SC)",
    "Interchange (SC)",
    "Modification Merchant Reference",
)
_FILE = re.compile(r"payments_accounting_report_(\d{4})_(\d{2})_(\d{2})\.csv")


def report(call: Call, books: Books, *, zone: tzinfo = UTC) -> Reply:
    """The day's report for the merchant account in the path, or 404 when not generated.

    `zone` is the account's time zone setting: the report's day and booking dates are its.
    """
    match = _FILE.fullmatch(call.path_params["file"])
    day = _day(match) if match else None
    if day is None or day > datetime.now(zone).date():
        return Reply(404, b"Report not found", media_type="text/plain")
    start = datetime(day.year, day.month, day.day, tzinfo=zone)
    end = (start + timedelta(days=1)).timestamp()  # wall clock: a DST day is 23 or 25 hours
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    account = call.path_params["account"]
    for paid in statement(books, 0, float("inf")):
        for row in _rows(paid, books, account):
            when = row["Booking Date"]
            if isinstance(when, float) and start.timestamp() <= when < end:
                local = datetime.fromtimestamp(when, zone)
                # TimeZone: the abbreviation in force then (CET or CEST), as Adyen writes it
                dated = {"Booking Date": f"{local:%Y-%m-%d %H:%M:%S}", "TimeZone": local.tzname()}
                writer.writerow([_cell((row | dated).get(column)) for column in COLUMNS])
    return Reply(200, out.getvalue().encode(), media_type="text/csv")


def _day(match: re.Match[str]) -> date | None:
    try:
        return date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        return None


def _cell(value: object) -> str:
    return "" if value is None else str(value)


def _rows(paid: StatementPayment, books: Books, account: str) -> list[dict[str, object]]:
    currency = paid.currency
    base: dict[str, object] = {
        "Company Account": "SandboxCompany",
        "Merchant Account": account,
        "Psp Reference": paid.provider_reference,
        "Merchant Reference": paid.reference,
        "Payment Method": "visa",
        "Payment Currency": currency,
        "Settlement Currency": currency,
    }

    def money(minor: int) -> str:
        return minor_to_decimal(minor, currency)

    if paid.status is EntryStatus.FAILED:
        return [base | {"Record Type": "Refused", "Booking Date": paid.created}]
    rows = [
        base
        | {
            "Record Type": "Received",
            "Booking Date": paid.created,
            "Received (PC)": money(paid.amount),
        },
        base
        | {
            "Record Type": "Authorised",
            "Booking Date": paid.created,
            "Authorised (PC)": money(paid.amount),
        },
    ]
    if paid.captured:
        fee = paid.fee("adyen", books)
        at = paid.captured_at
        rows.append(
            base
            | {
                "Record Type": "SentForSettle",
                "Booking Date": at,
                "Captured (PC)": money(paid.captured),
            }
        )
        rows.append(
            base
            | {
                "Record Type": "Settled",
                "Booking Date": at,
                "Captured (PC)": money(paid.captured),
                "Payable (SC)": money(paid.captured - fee),
                "Commission (SC)": money(fee),
            }
        )
    for entry in paid.entries:
        if entry.kind is EntryKind.REFUND and entry.status is EntryStatus.SUCCEEDED:
            rows.append(
                base
                | {
                    "Record Type": "Refunded",
                    "Booking Date": entry.at,
                    "Captured (PC)": money(-entry.minor_units),
                    "Modification Merchant Reference": entry.reference,
                }
            )
    if paid.released:
        rows.append(base | {"Record Type": "Cancelled", "Booking Date": paid.entries[-1].at})
    return rows
