"""A Berlin Group initiation whose answer was lost before a paymentId is looked for on the
merchant's own account (AIS), read from the day the attempt began: the search the router
trusts once `CREDIT_BOUND` has passed must still see the day the credit was booked."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import httpx

from payrouter import Money, PaymentMethod
from payrouter._reconcile._ladder import climb
from payrouter.provider import FailureKind, Outcome, PaymentHandle, ProviderReply
from payrouter_adapters.berlingroup import BerlinGroupAdapter
from payrouter_adapters.berlingroup._records import CREDIT_BOUND, find_credit

from .test_berlingroup import OPTIONS

REFERENCE = "shop:order-17:1"  # fits an endToEndId as it is
ACCOUNT = "merchant-account-1"
CONSENT = "ais-consent-1"
TEN_FIFTY = Money(minor_units=1050, currency="EUR")
EIGHT_DAYS = timedelta(days=8)
NOW = datetime(2025, 4, 22, 9, 30, tzinfo=UTC)
REPLAY_MAX_AGE = 24 * 3600.0


class Bank:
    """The merchant's account as a bank's AIS shows it: only the days asked for, as a real
    bank answers `dateFrom`/`dateTo`; one credit carrying our endToEndId, if any."""

    def __init__(self, booked_on: date | None) -> None:
        self.booked_on = booked_on
        self.asked: list[tuple[date, date]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        assert request.url.path == f"/psd2/v1/accounts/{ACCOUNT}/transactions"
        assert request.headers["Consent-ID"] == CONSENT
        first = date.fromisoformat(request.url.params["dateFrom"])
        last = date.fromisoformat(request.url.params["dateTo"])
        self.asked.append((first, last))
        day = self.booked_on
        credit = {
            "transactionId": "tx-credit-1",
            "endToEndId": REFERENCE,
            "bookingDate": day.isoformat() if day else None,
            "valueDate": day.isoformat() if day else None,
            "transactionAmount": {"currency": "EUR", "amount": "10.50"},
            "remittanceInformationUnstructured": "order-17",
        }
        booked = [credit] if day is not None and first <= day <= last else []
        return httpx.Response(200, json={"transactions": {"booked": booked, "pending": []}})


def adapter_over(bank: Bank) -> BerlinGroupAdapter:
    return BerlinGroupAdapter.from_options(
        name="bg",
        capabilities=None,
        options={**OPTIONS, "account_id": ACCOUNT, "consent_id": CONSENT},
        transport=httpx.MockTransport(bank),
    )


def lost_initiation(started_at: datetime | None) -> PaymentHandle:
    """An attempt whose initiation answer never came: no paymentId is known."""
    if started_at is None:  # as a caller that knows nothing of the new field builds it
        return PaymentHandle(REFERENCE, "order-17", PaymentMethod.BANK_TRANSFER, TEN_FIFTY)
    return PaymentHandle(
        REFERENCE, "order-17", PaymentMethod.BANK_TRANSFER, TEN_FIFTY, started_at=started_at
    )


async def search(bank: Bank, started_at: datetime | None) -> ProviderReply:
    async with httpx.AsyncClient(
        base_url="https://aspsp.example/psd2", transport=httpx.MockTransport(bank)
    ) as client:
        return await find_credit(
            client, "bg", ACCOUNT, CONSENT, REFERENCE, started_at=started_at, now=NOW
        )


async def test_a_credit_booked_on_the_initiation_day_is_found_eight_days_later() -> None:
    """The account is read from the initiation, not from `now - CREDIT_BOUND`."""
    started = NOW - EIGHT_DAYS
    bank = Bank(booked_on=started.date())
    reply = await search(bank, started)
    assert reply == ProviderReply.succeeded("tx-credit-1", provider_code="booked", amount=TEN_FIFTY)


async def test_the_search_starts_a_day_before_the_initiation_and_ends_today() -> None:
    """Report dates are the bank's, not UTC times, and a value date may precede booking."""
    started = NOW - EIGHT_DAYS
    bank = Bank(booked_on=None)
    await search(bank, started)
    assert bank.asked == [((started - timedelta(days=1)).date(), NOW.date())]


async def test_absence_since_the_initiation_is_not_found() -> None:
    """Read over every day the credit could be on, its absence is the proof the ladder waits
    for (and trusts only past `CREDIT_BOUND`)."""
    reply = await search(Bank(booked_on=None), NOW - EIGHT_DAYS)
    assert (reply.outcome, reply.failure_kind) == (Outcome.FAILED, FailureKind.NOT_FOUND)


async def test_without_the_start_a_missing_credit_is_unknown_not_not_found() -> None:
    """Without the initiation's time the days read may miss its day: absence proves nothing."""
    bank = Bank(booked_on=None)
    reply = await search(bank, None)
    assert reply.outcome is Outcome.UNKNOWN
    assert reply.failure_kind is not FailureKind.NOT_FOUND
    assert reply.provider_code == "credit_search_unbounded"
    assert bank.asked == [((NOW - CREDIT_BOUND - timedelta(days=1)).date(), NOW.date())]


async def test_without_the_start_a_recent_credit_still_settles_the_transfer() -> None:
    """A hit is conclusive however the days were chosen."""
    reply = await search(Bank(booked_on=(NOW - timedelta(days=2)).date()), None)
    assert reply.outcome is Outcome.SUCCEEDED


async def test_lookup_of_a_lost_initiation_finds_the_credit_booked_eight_days_ago() -> None:
    """The adapter passes the handle's start to the search: the credit is found."""
    started = datetime.now(UTC) - EIGHT_DAYS
    bank = Bank(booked_on=started.date())
    reply = await adapter_over(bank).lookup(lost_initiation(started))
    assert reply.outcome is Outcome.SUCCEEDED
    assert reply.provider_reference == "tx-credit-1"
    assert reply.amount == TEN_FIFTY


async def test_lookup_without_the_start_is_never_not_found() -> None:
    """A handle built without `started_at` cannot prove the credit absent."""
    reply = await adapter_over(Bank(booked_on=None)).lookup(lost_initiation(None))
    assert reply.outcome is Outcome.UNKNOWN
    assert reply.failure_kind is not FailureKind.NOT_FOUND


async def test_reconcile_ladder_settles_a_credit_first_searched_eight_days_later() -> None:
    """Past the search lag the ladder trusts a miss: the search it trusts must see day 0."""
    started = datetime.now(UTC) - EIGHT_DAYS
    adapter = adapter_over(Bank(booked_on=started.date()))
    climbed = await climb(
        adapter, lost_initiation(started), started.timestamp(), None, REPLAY_MAX_AGE
    )
    assert climbed.reply is not None
    assert climbed.reply.outcome is Outcome.SUCCEEDED
    assert climbed.reply.failure_kind is not FailureKind.NOT_FOUND


async def test_reconcile_ladder_concludes_absence_only_when_searched_from_the_start() -> None:
    """With the start, a miss past the lag is NOT_FOUND; without it the attempt stays open."""
    started = datetime.now(UTC) - EIGHT_DAYS
    adapter = adapter_over(Bank(booked_on=None))
    known = await climb(adapter, lost_initiation(started), started.timestamp(), None, 0.0)
    blind = await climb(adapter, lost_initiation(None), started.timestamp(), None, 0.0)
    assert known.reply is not None
    assert known.reply.failure_kind is FailureKind.NOT_FOUND
    assert blind.reply is None
