"""Adyen's records of a period: the payment accounting report, one CSV per day.

Downloaded from the Customer Area (`{report_url}/reports/download/MerchantAccount/
{merchant_account}/payments_accounting_report_YYYY_MM_DD.csv`) with a report user's API key
in `X-API-Key`. Rows are record types in a payment's life; they are folded per `Psp Reference`:
`Authorised` gives the amount, `Refused` a failed payment, `SentForSettle` what was captured,
`Settled` the fees (commission, markup, scheme fees, interchange, in the settlement currency),
`Refunded` each refund (negative). The `Merchant Reference` is the attempt reference the
adapter sent. A day's report appears the next morning: a download answered 404 for a day
that has ended is late (`RecordsNotReadyError`), not empty.

Times and days are the account's: Adyen writes `Booking Date` in the account's time zone
setting, named in the `TimeZone` column (CET, CEST, PDT, ...), and a day's report covers that
zone's day ("Time zone: the time zone setting of your account",
https://docs.adyen.com/reporting/invoice-reconciliation/payment-accounting-report). Each
booking is converted to UTC with its row's `TimeZone` (`_zones`); an unknown or ambiguous
zone is an error, never read as UTC. So a UTC window's rows may also be in the report of the
day before (an account behind UTC) or after (ahead of UTC): both are read, and each is
required when the zones of the rows read put part of the window on its day. A report with no
row says nothing of the zone; then only the UTC days' reports are required.
"""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Final
from urllib.parse import quote
from zoneinfo import ZoneInfo

import httpx

from payrouter import Money, currency_exponent
from payrouter.provider import Outcome, ProviderRecord, RecordsNotReadyError

from ._zones import to_utc

__all__ = ["RECORDS_DELAY", "list_payments", "report_name"]

RECORDS_DELAY: Final = timedelta(hours=30)
"""A day's report is generated after the day ends, in the morning (Adyen's time)."""
_FEES: Final = ("Commission (SC)", "Markup (SC)", "Scheme Fees (SC)", "Interchange (SC)")
_COLUMNS: Final = frozenset({"Psp Reference", "Record Type", "Booking Date", "TimeZone"})
_DAY: Final = timedelta(days=1)


@dataclass(slots=True)
class _Payment:
    psp: str
    reference: str | None
    currency: str
    created: datetime
    amount: int = 0
    refused: bool = False
    captured: int = 0
    refunded: int = 0
    fee: int | None = None
    types: set[str] = field(default_factory=set)

    def record(self) -> ProviderRecord:
        outcome = Outcome.FAILED if self.refused else Outcome.SUCCEEDED
        return ProviderRecord(
            provider_reference=self.psp,
            amount=Money(minor_units=self.amount, currency=self.currency),
            outcome=outcome,
            created_at=self.created,
            reference=self.reference,
            captured=self.captured,
            refunded=self.refunded,
            fee=self.fee,
        )


def report_name(day: date) -> str:
    """The payment accounting report's file name for `day`."""
    return f"payments_accounting_report_{day:%Y_%m_%d}.csv"


async def list_payments(
    client: httpx.AsyncClient,
    provider: str,
    url: str,
    headers: dict[str, str],
    since: datetime,
    until: datetime,
    account_zone: ZoneInfo | None = None,
) -> AsyncIterator[ProviderRecord]:
    """Payments authorised (or refused) in `[since, until]`, from each day's report;
    `account_zone`, when configured, places every booking (`_zones.to_utc`).

    `url` is the report download folder of the merchant account. The reports from the day
    before `since` (UTC) are read, for an account behind UTC; reports of later days too (up
    to the day after today), for an account ahead of UTC and for the captures and refunds
    booked after the payment's day.

    Raises:
        RecordsNotReadyError: a report that can hold rows of the window is not published yet.
        httpx.HTTPStatusError: a download was refused.
        ValueError: a report is not the CSV it should be, or names a time zone that is
            unknown or ambiguous (its booking dates cannot be placed in UTC).
    """
    found: dict[str, _Payment] = {}
    offsets: set[timedelta] = set()
    first = since.astimezone(UTC).date()
    last = max(datetime.now(UTC).date(), until.astimezone(UTC).date()) + _DAY
    day, unpublished = first - _DAY, None
    while day <= last:
        response = await client.get(f"{url}/{quote(report_name(day))}", headers=headers)
        if response.status_code == httpx.codes.NOT_FOUND:
            if day < first:  # needed only if the account is behind UTC: known once read
                unpublished, day = day, day + _DAY
                continue
            if _holds_window(day, since, until, offsets):
                raise RecordsNotReadyError(provider, f"{report_name(day)} is not published yet")
            break  # later days only add follow-ups; their reports come in their own time
        response.raise_for_status()
        try:
            for row in _rows(response.text):
                _fold(found, row, offsets, account_zone)
        except ValueError as error:
            raise ValueError(f"{provider}: {report_name(day)}: {error}") from error
        day += _DAY
    if unpublished is not None and _holds_window(unpublished, since, until, offsets):
        raise RecordsNotReadyError(provider, f"{report_name(unpublished)} is not published yet")
    for payment in found.values():
        if since <= payment.created <= until and payment.types & {"Authorised", "Refused"}:
            yield payment.record()


def _holds_window(day: date, since: datetime, until: datetime, offsets: set[timedelta]) -> bool:
    """Whether `day`'s report can hold rows of `[since, until]`: a day of the window in UTC
    or in one of the account's offsets (from UTC) seen in the reports."""
    return any(
        (since.astimezone(UTC) + offset).date() <= day <= (until.astimezone(UTC) + offset).date()
        for offset in {timedelta(0), *offsets}
    )


def _rows(text: str) -> Iterator[dict[str, str]]:
    reader = csv.DictReader(io.StringIO(text))
    missing = _COLUMNS - set(reader.fieldnames or ())
    if missing:
        raise ValueError(f"the accounting report lacks columns {sorted(missing)}")
    yield from reader


def _fold(
    found: dict[str, _Payment],
    row: dict[str, str],
    offsets: set[timedelta],
    account_zone: ZoneInfo | None,
) -> None:
    """Add one row to its payment; the row's offset from UTC joins `offsets`."""
    currency = (row.get("Payment Currency") or "").upper()
    kind = row["Record Type"]
    booked, offset = to_utc(row["Booking Date"], row["TimeZone"] or "", account_zone)
    offsets.add(offset)
    payment = found.get(row["Psp Reference"])
    if payment is None:
        payment = found[row["Psp Reference"]] = _Payment(
            row["Psp Reference"], row.get("Merchant Reference") or None, currency, booked
        )
    payment.types.add(kind)
    match kind:
        case "Authorised":
            payment.amount, payment.created = _minor(row, "Authorised (PC)", currency), booked
        case "Refused":
            payment.refused, payment.created = True, booked
            payment.amount = payment.amount or _minor(row, "Received (PC)", currency)
        case "Received":
            payment.amount = payment.amount or _minor(row, "Received (PC)", currency)
        case "SentForSettle":
            payment.captured += _minor(row, "Captured (PC)", currency)
        case "Settled":
            fees = (
                _minor(row, column, row.get("Settlement Currency") or currency) for column in _FEES
            )
            payment.fee = (payment.fee or 0) + sum(fees)
        case "Refunded":
            payment.refunded += -_minor(row, "Captured (PC)", currency)


def _minor(row: dict[str, str], column: str, currency: str) -> int:
    text = (row.get(column) or "").strip()
    if not text:
        return 0
    try:
        return int(Decimal(text).scaleb(currency_exponent(currency)))
    except InvalidOperation as error:
        raise ValueError(f"{column}: not an amount: {text!r}") from error
