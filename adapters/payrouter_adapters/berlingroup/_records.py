"""The bank's records of a period: AIS account transactions of the merchant's receiving account.

`GET /v1/accounts/{account_id}/transactions?dateFrom=&dateTo=&bookingStatus=both` with the
merchant's AIS `Consent-ID` (NextGenPSD2 1.3.11), following `_links.next` while the bank
pages. Each incoming credit is a payment: `booked` ones succeeded, `pending` ones are still
settling; an outgoing debit with the same `endToEndId` is money sent back (refunded). The
statement has dates, not times, so whole days are read; the debtor's `endToEndId` is our
reference as the adapter sent it (`end_to_end_id`), and the remittance information the order
id. A bank charges nothing on an incoming SEPA credit: no fee is stated.

The same report settles an initiation whose answer was lost before a `paymentId` came back
(`find_credit`): PIS has no search and no idempotent replay, but the merchant's own account is
authoritative for what arrived. A booked credit carrying our `endToEndId` proves the transfer
executed; its absence proves nothing until `CREDIT_BOUND` has passed since the initiation, and
only when the account was read from the initiation's day on (`SEARCH_MARGIN` before it).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Final
from urllib.parse import quote

import httpx
from pydantic import BaseModel, ConfigDict, Field

from payrouter import Money, currency_exponent
from payrouter.provider import FailureKind, Outcome, ProviderRecord, ProviderReply

__all__ = ["CREDIT_BOUND", "RECORDS_DELAY", "SEARCH_MARGIN", "find_credit", "list_payments"]

RECORDS_DELAY: Final = timedelta(hours=24)
"""A SEPA credit is booked on the next banking day at the latest."""
CREDIT_BOUND: Final = timedelta(days=7)
"""The longest an authorised credit transfer may take to reach the merchant's account, counted
from the initiation. PSD2 (Directive 2015/2366, art. 83(1)) gives the payer's bank until the
end of the next business day after the order is received, and an order received after the
bank's cut-off or on a closing day counts as received on the next business day (art. 78).
The longest run of TARGET2 closing days is Good Friday to Easter Monday: an order authorised
on Maundy Thursday after the cut-off may be credited at the end of the following Wednesday,
six days later; a seventh day covers the customer authorising late (decoupled SCA) and the
creditor bank booking the credit (art. 87: immediately once it has the funds). An instant
transfer (SCT Inst) completes within seconds of authorisation, but when the customer
authorises is not ours to know, so it gets the same bound."""
SEARCH_MARGIN: Final = timedelta(days=1)
"""How long before the initiation `find_credit` reads the account: the report has dates, not
times, in the bank's time zone, and a credit's value date may precede its booking date."""

_LENIENT = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)


class _Amount(BaseModel):
    model_config = _LENIENT

    currency: str
    amount: str


class _Transaction(BaseModel):
    model_config = _LENIENT

    transaction_id: str | None = Field(default=None, alias="transactionId")
    entry_reference: str | None = Field(default=None, alias="entryReference")
    end_to_end_id: str | None = Field(default=None, alias="endToEndId")
    booking_date: date | None = Field(default=None, alias="bookingDate")
    value_date: date | None = Field(default=None, alias="valueDate")
    amount: _Amount = Field(alias="transactionAmount")
    remittance: str | None = Field(default=None, alias="remittanceInformationUnstructured")


class _Report(BaseModel):
    model_config = _LENIENT

    booked: list[_Transaction] = Field(default_factory=list)
    pending: list[_Transaction] = Field(default_factory=list)
    links: dict[str, dict[str, str]] = Field(default_factory=dict, alias="_links")


class _Body(BaseModel):
    model_config = _LENIENT

    transactions: _Report = Field(default_factory=_Report)


async def list_payments(
    client: httpx.AsyncClient,
    provider: str,
    account_id: str,
    consent_id: str,
    since: datetime,
    until: datetime,
) -> AsyncIterator[ProviderRecord]:
    """Credits to the merchant's account booked (or pending) on the days of `[since, until]`.

    Raises:
        httpx.HTTPStatusError: the bank refused the request (an expired consent: 401).
        ValueError: the answer is not an account report.
    """
    query = {
        "dateFrom": since.astimezone(UTC).date().isoformat(),
        "dateTo": until.astimezone(UTC).date().isoformat(),
        "bookingStatus": "both",
    }
    url: str | None = f"/v1/accounts/{quote(account_id, safe='')}/transactions"
    credits: dict[str, ProviderRecord] = {}
    debits: dict[str, int] = {}
    while url is not None:
        headers = {"X-Request-ID": str(uuid.uuid4()), "Consent-ID": consent_id}
        response = await client.get(url, params=query, headers=headers)
        response.raise_for_status()
        try:
            report = _Body.model_validate_json(response.content).transactions
        except ValueError as error:
            raise ValueError(f"{provider}: unreadable account report") from error
        for booked, rows in ((True, report.booked), (False, report.pending)):
            for row in rows:
                _fold(row, booked, credits, debits)
        following = report.links.get("next", {}).get("href")
        url, query = (following, {}) if following else (None, query)
    for key, record in credits.items():
        yield ProviderRecord(
            provider_reference=record.provider_reference,
            amount=record.amount,
            outcome=record.outcome,
            created_at=record.created_at,
            reference=record.reference,
            order_id=record.order_id,
            captured=record.captured,
            refunded=debits.get(key, 0),
        )


def _fold(
    row: _Transaction, booked: bool, credits: dict[str, ProviderRecord], debits: dict[str, int]
) -> None:
    currency = row.amount.currency.upper()
    minor = _minor(row.amount.amount, currency)
    key = row.end_to_end_id or row.transaction_id or row.entry_reference or ""
    if minor < 0:
        if booked:
            debits[key] = debits.get(key, 0) - minor
        return
    day = row.booking_date or row.value_date or datetime.now(UTC).date()
    credits[key] = ProviderRecord(
        provider_reference=row.transaction_id or row.entry_reference or key,
        amount=Money(minor_units=minor, currency=currency),
        outcome=Outcome.SUCCEEDED if booked else Outcome.PENDING,
        created_at=datetime(day.year, day.month, day.day, tzinfo=UTC),
        reference=row.end_to_end_id,
        order_id=row.remittance,
        captured=minor if booked else 0,
    )


def _minor(text: str, currency: str) -> int:
    try:
        return int(Decimal(text).scaleb(currency_exponent(currency)))
    except InvalidOperation as error:
        raise ValueError(f"not an amount: {text!r}") from error


async def find_credit(
    client: httpx.AsyncClient,
    provider: str,
    account_id: str,
    consent_id: str,
    end_to_end_id: str,
    *,
    started_at: datetime | None,
    now: datetime,
) -> ProviderReply:
    """The transfer with our `endToEndId`, as the merchant's receiving account shows it.

    The account is read from the initiation's day (`started_at`, less `SEARCH_MARGIN`) to
    `now`, so the search the router trusts, once the attempt is older than `CREDIT_BOUND`,
    still covers the day the credit may have been booked. Booked: `succeeded`, under the
    credit's transaction id (the id the records comparison joins on). Pending at the bank:
    `unknown` (money is on its way, not yet arrived). Absent: `failed` `NOT_FOUND`, which the
    router trusts only once the attempt is older than `CREDIT_BOUND`. Without `started_at` the
    last `CREDIT_BOUND` is read: a credit found there still settles the transfer, but its
    absence is `unknown` (`credit_search_unbounded`), since the initiation may lie before
    that. An unreadable report is `unknown`.
    """
    since = min(now, started_at if started_at is not None else now - CREDIT_BOUND)
    try:
        async for record in list_payments(
            client, provider, account_id, consent_id, since - SEARCH_MARGIN, now
        ):
            if record.reference != end_to_end_id:
                continue
            if record.outcome is Outcome.SUCCEEDED:
                return ProviderReply.succeeded(
                    record.provider_reference, provider_code="booked", amount=record.amount
                )
            return ProviderReply.unknown(
                provider_code="credit_pending",
                message="the credit is pending on the merchant's account, not booked yet",
            )
    except httpx.HTTPStatusError as error:
        return ProviderReply.unknown(
            provider_code="account_report_refused",
            http_status=error.response.status_code,
            message="the bank refused the merchant's account report (AIS consent?)",
        )
    except ValueError:
        return ProviderReply.unknown(
            provider_code="account_report_unreadable",
            message="the bank's account report could not be read",
        )
    if started_at is None:
        return ProviderReply.unknown(
            provider_code="credit_search_unbounded",
            message="no credit with our endToEndId in the days read; without the "
            "initiation's time, that proves nothing",
        )
    return ProviderReply.failed(
        FailureKind.NOT_FOUND,
        provider_code="credit_not_booked",
        message="no credit with our endToEndId on the merchant's account since the initiation",
    )
