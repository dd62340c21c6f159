"""The merchant's receiving account as the bank's AIS shows it: `GET /v1/accounts/{account-id}/
transactions` (Berlin Group NextGenPSD2 1.3.11).

Every transfer the stand-in executed is an incoming credit on the merchant's account:
`booked` once settled (`bookingDate`, `valueDate`), `pending` while the transfer is still
settling, with the debtor's `endToEndId` and `remittanceInformationUnstructured` carried
through as SEPA carries them. `dateFrom` is required (ISO dates); `bookingStatus` is
`booked`, `pending` or `both`; `Consent-ID` must be sent, as every AIS call requires.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime

from ._books import Books, EntryStatus
from ._exchange import Call, Reply, json_reply, minor_to_decimal
from ._statements import StatementPayment, statement

__all__ = ["account_transactions"]

_STATUSES = ("booked", "pending", "both")


def _date(text: str | None) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


def _day(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).date().isoformat()


def account_transactions(
    call: Call,
    books: Books,
    details: Callable[[str], tuple[str | None, str | None, str | None]],
    messages: Callable[[int, str, str], Reply],
) -> Reply:
    """The account report for `[dateFrom, dateTo]`; `details` gives a transfer's endToEndId,
    remittance information and debtor IBAN, `messages` the bank's tppMessages error."""
    if not call.headers.get("consent-id") or not call.headers.get("x-request-id"):
        return messages(400, "FORMAT_ERROR", "Consent-ID and X-Request-ID are required.")
    first, last = _date(call.query.get("dateFrom")), _date(call.query.get("dateTo"))
    status = call.query.get("bookingStatus", "")
    last = last or datetime.now(UTC).date()
    if first is None or status not in _STATUSES or last < first:
        return messages(400, "FORMAT_ERROR", "dateFrom (ISO date) and bookingStatus are required.")
    start = datetime(first.year, first.month, first.day, tzinfo=UTC).timestamp()
    end = datetime(last.year, last.month, last.day, tzinfo=UTC).timestamp() + 86_400
    booked: list[dict[str, object]] = []
    pending: list[dict[str, object]] = []
    for paid in statement(books, start, end - 0.001):
        if paid.status is EntryStatus.FAILED:
            continue
        entry = _credit(paid, details)
        (pending if paid.status is EntryStatus.PENDING else booked).append(entry)
    account = call.path_params["account"]
    report: dict[str, object] = {
        "_links": {"account": {"href": f"{call.base_url}/v1/accounts/{account}"}}
    }
    if status in ("booked", "both"):
        report["booked"] = booked
    if status in ("pending", "both"):
        report["pending"] = pending
    return json_reply(200, {"account": {"iban": "DE02100100109307118603"}, "transactions": report})


def _credit(
    paid: StatementPayment, details: Callable[[str], tuple[str | None, str | None, str | None]]
) -> dict[str, object]:
    end_to_end, remittance, debtor = details(paid.provider_reference)
    credit: dict[str, object] = {
        "transactionId": f"tx-{paid.provider_reference}",
        "endToEndId": end_to_end,
        "valueDate": _day(paid.captured_at),
        "transactionAmount": {
            "currency": paid.currency,
            "amount": minor_to_decimal(paid.captured or paid.amount, paid.currency),
        },
        "debtorAccount": {"iban": debtor} if debtor else None,
        "remittanceInformationUnstructured": remittance,
        "bankTransactionCode": "PMNT-RCDT-ESCT",
    }
    if paid.status is EntryStatus.SUCCEEDED:
        credit["bookingDate"] = _day(paid.captured_at)
    return {k: v for k, v in credit.items() if v is not None}
