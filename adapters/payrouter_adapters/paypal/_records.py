"""PayPal's records of a period: the Transaction Search API (`GET /v1/reporting/transactions`).

Balance-affecting transactions (PayPal's default), `fields=transaction_info`, 500 a page,
the period cut into ranges of at most 31 days (PayPal's limit). A captured payment is its
`T00xx` transaction (fee in `fee_amount`, negative); refunds are `T1107` transactions naming
the capture in `paypal_reference_id`, summed into the capture's record. The attempt
reference comes back in `invoice_id` and the order id in `custom_field`, as the adapter sent
them. PayPal says executed transactions take up to three hours to appear; a response whose
`last_refreshed_datetime` is before the period's end is not complete yet
(`RecordsNotReadyError`).

Authorizations not yet captured move no balance and are not listed: compare a period once
its authorizations are captured or voided.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Final
from urllib.parse import urlencode

import httpx
from pydantic import BaseModel, ConfigDict, Field

from payrouter import Money, currency_exponent
from payrouter.provider import Outcome, ProviderRecord, ProviderReply, RecordsNotReadyError

from ._codes import PAYPAL_EXPONENTS

__all__ = ["RECORDS_DELAY", "list_payments"]

RECORDS_DELAY: Final = timedelta(hours=3)
"""PayPal: "It takes a maximum of three hours for executed transactions to appear"."""
_RANGE: Final = timedelta(days=31, seconds=-2)
"""31 days, less the second an end is rounded up by and the second the next range starts on."""
_PAGE_SIZE: Final = "500"
_REFUND: Final = "T1107"
_STATUSES: Final = {"S": Outcome.SUCCEEDED, "P": Outcome.PENDING, "D": Outcome.FAILED}
"""`V` (reversed) is a succeeded payment whose money went back: refunded in full."""

Send = Callable[[str], Awaitable[httpx.Response | ProviderReply]]

_LENIENT = ConfigDict(extra="ignore", frozen=True)


class _Money(BaseModel):
    model_config = _LENIENT

    currency_code: str
    value: str


class _Info(BaseModel):
    model_config = _LENIENT

    transaction_id: str
    paypal_reference_id: str | None = None
    transaction_event_code: str = ""
    transaction_initiation_date: datetime
    transaction_amount: _Money
    fee_amount: _Money | None = None
    transaction_status: str = ""
    invoice_id: str | None = None
    custom_field: str | None = None


class _Detail(BaseModel):
    model_config = _LENIENT

    transaction_info: _Info


class _Page(BaseModel):
    model_config = _LENIENT

    transaction_details: list[_Detail] = Field(default_factory=list)
    last_refreshed_datetime: datetime | None = None
    page: int = 1
    total_pages: int = 1


async def list_payments(
    send: Send, provider: str, since: datetime, until: datetime
) -> AsyncIterator[ProviderRecord]:
    """Every payment PayPal's records show initiated in `[since, until]`, refunds summed.

    Raises:
        RecordsNotReadyError: PayPal's data was last refreshed before `until`.
        httpx.HTTPStatusError: PayPal refused a search; a report cannot be half a period.
        ValueError: an answer is not a transaction search result, or no token could be had.
    """
    payments: dict[str, ProviderRecord] = {}
    refunds: dict[str, int] = {}
    start = since
    while start <= until:
        end = min(start + _RANGE, until)
        async for info in _search(send, provider, start, end, until):
            if info.transaction_event_code == _REFUND and info.paypal_reference_id:
                amount = _minor(info.transaction_amount)
                refunds[info.paypal_reference_id] = (
                    refunds.get(info.paypal_reference_id, 0) - amount
                )
            elif info.transaction_event_code.startswith("T00"):
                payments[info.transaction_id] = _record(info)
        start = end + timedelta(seconds=1)
    first = since.replace(microsecond=0)  # PayPal's times are whole seconds
    for reference, record in payments.items():
        if not first <= record.created_at <= until:
            continue  # the search's whole-second end reached past the period
        refunded = refunds.get(reference, 0) + (record.refunded or 0)
        yield dataclasses.replace(record, refunded=refunded)


async def _search(
    send: Send, provider: str, start: datetime, end: datetime, until: datetime
) -> AsyncIterator[_Info]:
    page = 1
    while True:
        query = {
            "start_date": _stamp(start),
            "end_date": _stamp(end, up=True),
            "fields": "transaction_info",
            "page_size": _PAGE_SIZE,
            "page": str(page),
        }
        response = await send(f"/v1/reporting/transactions?{urlencode(query)}")
        if isinstance(response, ProviderReply):
            raise ValueError(
                f"{provider}: no access token for the transaction search ({response.provider_code})"
            )
        response.raise_for_status()
        try:
            found = _Page.model_validate_json(response.content)
        except ValueError as error:
            raise ValueError(f"{provider}: unreadable transaction search result") from error
        refreshed = found.last_refreshed_datetime
        if refreshed is not None and refreshed < until:
            raise RecordsNotReadyError(
                provider,
                f"transaction data last refreshed {refreshed.isoformat()}, before "
                f"the period's end {until.isoformat()} (PayPal lags up to three hours)",
            )
        for detail in found.transaction_details:
            yield detail.transaction_info
        if found.page >= found.total_pages:
            return
        page += 1


def _record(info: _Info) -> ProviderRecord:
    amount = _minor(info.transaction_amount)
    currency = info.transaction_amount.currency_code.upper()
    reversed_ = info.transaction_status == "V"
    outcome = (
        Outcome.SUCCEEDED if reversed_ else _STATUSES.get(info.transaction_status, Outcome.UNKNOWN)
    )
    fee = -_minor(info.fee_amount) if info.fee_amount else None
    return ProviderRecord(
        provider_reference=info.transaction_id,
        amount=Money(minor_units=amount, currency=currency),
        outcome=outcome,
        created_at=info.transaction_initiation_date.astimezone(UTC),
        reference=info.invoice_id,
        order_id=info.custom_field,
        captured=amount if outcome is Outcome.SUCCEEDED else 0,
        refunded=amount if reversed_ else 0,
        fee=fee,
    )


def _minor(money: _Money) -> int:
    """PayPal's decimal string in ISO 4217 minor units (HUF and TWD carry none at PayPal)."""
    currency = money.currency_code.upper()
    try:
        value = Decimal(money.value)
    except InvalidOperation as error:
        raise ValueError(f"not an amount: {money.value!r}") from error
    exponent = PAYPAL_EXPONENTS.get(currency, currency_exponent(currency))
    iso = currency_exponent(currency)
    scale: int = 10 ** (iso - exponent)
    return int(value.scaleb(exponent)) * scale


def _stamp(when: datetime, *, up: bool = False) -> str:
    """Whole seconds, as PayPal takes them; `up` rounds an end up so it keeps its last second."""
    if up and when.microsecond:
        when = when.replace(microsecond=0) + timedelta(seconds=1)
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
