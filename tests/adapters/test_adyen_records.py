"""Adyen's accounting report is written in the account's time zone: each booking is placed in
UTC with its row's `TimeZone`, and the reports of the days around a UTC window are read."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator, Mapping
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest
import pytest_asyncio
from pydantic import SecretStr

from payrouter import CardSource, ConfigurationError, Money
from payrouter.provider import Charge, ProviderRecord, RecordsNotReadyError
from payrouter_adapters.adyen import AdyenAdapter
from payrouter_adapters.adyen._records import report_name
from payrouter_adapters.adyen._zones import AMBIGUOUS, ZONES, to_utc
from payrouter_lab.sandbox import Sandbox, serve
from payrouter_lab.sandbox._adyen import AdyenStandin
from tests.sandbox.kit import issue_stored_cards

HEADER = (
    "Psp Reference",
    "Merchant Reference",
    "Booking Date",
    "TimeZone",
    "Record Type",
    "Payment Currency",
    "Authorised (PC)",
)
FOLDER = "/reports/download/MerchantAccount/ShopECOM/"
MAY_1 = (datetime(2024, 5, 1, tzinfo=UTC), datetime(2024, 5, 1, 23, 59, 59, tzinfo=UTC))
MAY_2 = (datetime(2024, 5, 2, tzinfo=UTC), datetime(2024, 5, 2, 23, 59, 59, tzinfo=UTC))


def csv_text(*rows: tuple[str, str], header: tuple[str, ...] = HEADER) -> str:
    """A report with one `Authorised` payment of 10.00 EUR per (Booking Date, TimeZone)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    for number, (booked, zone) in enumerate(rows, 1):
        cells = (f"PSP{number:013d}", f"ref-{number}", booked, zone, "Authorised", "EUR", "10.00")
        writer.writerow(cells[: len(header)])
    return out.getvalue()


def reports(files: Mapping[date, str]) -> tuple[httpx.MockTransport, list[date]]:
    """Adyen's download folder holding `files` (any other day: 404), and the days asked for."""
    asked: list[date] = []

    def download(request: httpx.Request) -> httpx.Response:
        name = request.url.path.removeprefix(FOLDER)
        day = datetime.strptime(name, "payments_accounting_report_%Y_%m_%d.csv").date()
        asked.append(day)
        if day not in files:
            return httpx.Response(404, text="Report not found")
        return httpx.Response(200, text=files[day], headers={"Content-Type": "text/csv"})

    return httpx.MockTransport(download), asked


OPTIONS: Mapping[str, object] = {
    "base_url": "https://checkout-test.adyen.com/v72",
    "api_key": "key",
    "merchant_account": "ShopECOM",
    "return_url": "https://shop.example/return",
}


async def listed(
    files: Mapping[date, str], window: tuple[datetime, datetime], **options: object
) -> list[ProviderRecord]:
    transport, _ = reports(files)
    adapter = AdyenAdapter.from_options(
        name="adyen", capabilities=None, options={**OPTIONS, **options}, transport=transport
    )
    try:
        return [record async for record in adapter.list_payments(*window)]
    finally:
        await adapter.aclose()


def day(day_of_may: int) -> date:
    return date(2024, 5, day_of_may)


APRIL_30 = date(2024, 4, 30)
CEST_AFTER_2230_UTC = {
    APRIL_30: csv_text(),
    day(1): csv_text(),
    day(2): csv_text(("2024-05-02 00:30:00", "CEST")),
    day(3): csv_text(),
}


async def test_a_cest_booking_after_2230_utc_is_listed_in_its_utc_day() -> None:
    """Booked "2024-05-02 00:30:00" CEST is 22:30 UTC on 1 May: in 2 May's report, 1 May's."""
    [record] = await listed(CEST_AFTER_2230_UTC, MAY_1)
    assert record.created_at == datetime(2024, 5, 1, 22, 30, tzinfo=UTC)
    assert (record.provider_reference, record.amount) == (
        "PSP0000000000001",
        Money.of("10.00", "EUR"),
    )


async def test_a_cest_booking_after_2230_utc_is_not_listed_for_the_next_utc_day() -> None:
    """The same booking is not 2 May's (UTC), although 2 May's report has it."""
    assert await listed(CEST_AFTER_2230_UTC, MAY_2) == []


async def test_a_utc_account_is_read_as_before() -> None:
    """UTC bookings keep their time; a missing day before or after is not needed for them."""
    files = {day(1): csv_text(("2024-05-01 22:30:00", "UTC"))}
    [record] = await listed(files, MAY_1)
    assert record.created_at == datetime(2024, 5, 1, 22, 30, tzinfo=UTC)


async def test_an_account_behind_utc_is_read_from_the_day_before() -> None:
    """Booked "2024-04-30 17:30:00" PDT is 00:30 UTC on 1 May: in 30 April's report."""
    files = {APRIL_30: csv_text(("2024-04-30 17:30:00", "PDT")), day(1): csv_text()}
    [record] = await listed(files, MAY_1)
    assert record.created_at == datetime(2024, 5, 1, 0, 30, tzinfo=UTC)


async def test_the_next_days_report_of_an_account_ahead_of_utc_is_late_when_missing() -> None:
    """On CEST the last two hours of 1 May (UTC) are in 2 May's report: missing, it is late."""
    files = {APRIL_30: csv_text(), day(1): csv_text(("2024-05-01 10:00:00", "CEST"))}
    with pytest.raises(RecordsNotReadyError, match=report_name(day(2))):
        await listed(files, MAY_1)


async def test_the_day_befores_report_of_an_account_behind_utc_is_late_when_missing() -> None:
    """On PDT the first seven hours of 1 May (UTC) are in 30 April's report: missing, late."""
    files = {day(1): csv_text(("2024-05-01 10:00:00", "PDT")), day(2): csv_text()}
    with pytest.raises(RecordsNotReadyError, match=report_name(APRIL_30)):
        await listed(files, MAY_1)


async def test_a_quiet_account_needs_only_the_utc_days_reports() -> None:
    """Reports with no row say nothing of the zone: the UTC days' reports are enough."""
    assert await listed({day(1): csv_text()}, MAY_1) == []


@pytest.mark.parametrize(
    ("zone", "problem"),
    [("XYZ", "unknown time zone 'XYZ'"), ("", "unknown time zone ''"), ("CST", "ambiguous")],
)
async def test_an_unknown_or_ambiguous_time_zone_is_an_error_never_utc(
    zone: str, problem: str
) -> None:
    """A zone the reader cannot place fails the read, naming the zone and the report."""
    files = {APRIL_30: csv_text(), day(1): csv_text(("2024-05-01 10:00:00", zone))}
    with pytest.raises(ValueError, match=problem) as raised:
        await listed(files, MAY_1)
    assert report_name(day(1)) in str(raised.value)


async def test_an_ambiguous_zone_names_the_option_that_places_it() -> None:
    files = {APRIL_30: csv_text(), day(1): csv_text(("2024-05-01 10:00:00", "CDT"))}
    with pytest.raises(ValueError, match="report_time_zone"):
        await listed(files, MAY_1)


async def test_the_accounts_configured_zone_places_an_ambiguous_abbreviation() -> None:
    """CDT is US Central or Cuba: with the account's zone configured, 10:00 CDT in Chicago
    is 15:00 UTC."""
    files = {APRIL_30: csv_text(), day(1): csv_text(("2024-05-01 10:00:00", "CDT"))}
    [record] = await listed(files, MAY_1, report_time_zone="America/Chicago")
    assert record.created_at == datetime(2024, 5, 1, 15, 0, tzinfo=UTC)


def test_the_configured_zone_tells_the_repeated_autumn_hour_apart_by_the_abbreviation() -> None:
    chicago = ZoneInfo("America/Chicago")
    assert to_utc("2024-11-03 01:30:00", "CDT", chicago)[0] == datetime(
        2024, 11, 3, 6, 30, tzinfo=UTC
    )
    assert to_utc("2024-11-03 01:30:00", "CST", chicago)[0] == datetime(
        2024, 11, 3, 7, 30, tzinfo=UTC
    )


def test_a_report_naming_another_zone_than_the_configured_one_is_refused() -> None:
    with pytest.raises(ValueError, match="report_time_zone"):
        to_utc("2024-05-01 10:00:00", "CEST", ZoneInfo("America/Chicago"))


def test_a_configured_zone_that_is_no_iana_name_is_refused_naming_the_option() -> None:
    with pytest.raises(ConfigurationError, match="report_time_zone") as raised:
        AdyenAdapter.from_options(
            name="adyen", capabilities=None, options={**OPTIONS, "report_time_zone": "CST6"}
        )
    assert "CST6" in str(raised.value)


async def test_a_report_without_the_timezone_column_is_refused() -> None:
    """Without `TimeZone` a booking date has no instant: the report is not what it should be."""
    header = ("Psp Reference", "Merchant Reference", "Booking Date", "Record Type")
    files = {APRIL_30: csv_text(header=header), day(1): csv_text(header=header)}
    with pytest.raises(ValueError, match=r"lacks columns \['TimeZone'\]"):
        await listed(files, MAY_1)


def test_the_abbreviation_tells_the_repeated_autumn_hour_apart() -> None:
    """02:30 on 27 October 2024 happens twice in Amsterdam: first CEST, then CET."""
    assert to_utc("2024-10-27 02:30:00", "CEST")[0] == datetime(2024, 10, 27, 0, 30, tzinfo=UTC)
    assert to_utc("2024-10-27 02:30:00", "CET")[0] == datetime(2024, 10, 27, 1, 30, tzinfo=UTC)


@pytest.mark.parametrize("abbreviation", sorted(ZONES))
def test_each_abbreviation_is_the_offset_the_tz_database_gives_it(abbreviation: str) -> None:
    """Each row's offset is what zoneinfo says for its example zone under that name."""
    zone = ZoneInfo(ZONES[abbreviation].example)
    seen = {
        (at.tzname(), at.utcoffset())
        for at in (datetime(2024, 1, 15, 12, tzinfo=zone), datetime(2024, 7, 15, 12, tzinfo=zone))
    }
    assert (abbreviation, ZONES[abbreviation].offset) in seen


def test_ambiguous_abbreviations_are_never_in_the_table() -> None:
    """An abbreviation naming two offsets is refused, not read as one of them."""
    assert not set(AMBIGUOUS) & set(ZONES)


# --- the stand-in writes its report in the account's time zone, as Adyen does ----------------


@pytest_asyncio.fixture
async def sandbox() -> AsyncIterator[Sandbox]:
    async with serve(seed=29) as running:
        async with httpx.AsyncClient(base_url=f"{running.admin_url}/_admin") as admin:
            await issue_stored_cards(admin)
        yield running


async def test_the_stand_in_writes_the_report_in_the_accounts_time_zone(
    sandbox: Sandbox,
) -> None:
    """On Europe/Amsterdam the stand-in's report is that zone's day, in local time with CET or
    CEST; the adapter lists the payment at its UTC second. A reset puts the account on UTC."""
    amsterdam = ZoneInfo("Europe/Amsterdam")
    async with httpx.AsyncClient(base_url=f"{sandbox.admin_url}/_admin") as admin:
        refused = await admin.post("/adyen/account", json={"time_zone": "Mars/Olympus"})
        configured = await admin.post("/adyen/account", json={"time_zone": "Europe/Amsterdam"})
    assert refused.status_code == 422
    assert configured.json() == {"time_zone": "Europe/Amsterdam"}
    adapter = AdyenAdapter.from_options(
        name="adyen",
        capabilities=None,
        options={
            "base_url": sandbox.urls["adyen"],
            "api_key": "key",
            "merchant_account": "ShopECOM",
            "return_url": "https://shop.example/return",
        },
    )
    since = datetime.now(UTC) - timedelta(minutes=1)
    paid = await adapter.pay(
        Charge(
            reference="ref-z1",
            order_id="z1",
            amount=Money.of("10.50", "EUR"),
            source=CardSource(token=SecretStr("stored_card_1")),
            customer_country="NL",
            customer_id="shopper-1",
        ),
        idempotency_key="z1",
    )
    [record] = [r async for r in adapter.list_payments(since, datetime.now(UTC))]
    await adapter.aclose()

    standin = sandbox.standins["adyen"]
    at = next(
        e.at for e in standin.books.entries() if e.provider_reference == paid.provider_reference
    )
    local = datetime.fromtimestamp(at, amsterdam).replace(microsecond=0)
    root = sandbox.urls["adyen"].removesuffix("/v72")
    async with httpx.AsyncClient(base_url=root, headers={"X-API-Key": "key"}) as customer_area:
        written = await customer_area.get(f"{FOLDER}{report_name(local.date())}")
    [row] = [
        r for r in csv.DictReader(io.StringIO(written.text)) if r["Record Type"] == "Authorised"
    ]
    assert (row["Booking Date"], row["TimeZone"]) == (f"{local:%Y-%m-%d %H:%M:%S}", local.tzname())
    assert row["TimeZone"] in {"CET", "CEST"}
    assert record.created_at == local.astimezone(UTC)
    assert isinstance(standin, AdyenStandin)
    standin.reset()
    assert standin.time_zone is UTC
