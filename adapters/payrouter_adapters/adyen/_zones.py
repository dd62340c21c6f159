"""The UTC time of a local time in Adyen's reports, from the report's `TimeZone` column.

Adyen writes a report's times in the account's time zone setting, and names that zone beside
them: "TimeZone, Alpha Text (4-character limit): the time zone of the Booking Date column.
This is the ISO code for your time zone setting" (https://docs.adyen.com/reporting/
payment-accounting-report). The code is an abbreviation that already says whether summer
time applies: Adyen's examples are "BST, CET, CEST" (settlement detail report structure,
`TimeZone`); a public parser's sample report has "PDT" (wikimedia-fundraising-SmashPig,
`PaymentProviders/Adyen/Tests/Data/settlement_detail_report_payment_cost.csv`).

Why a table: zoneinfo (the IANA database) maps zone names to rules, not abbreviations to
offsets, and Python has no other lookup for them. An abbreviation names one fixed offset, so
the table gives offsets; the zone in each row is where the IANA database uses that
abbreviation with that offset (a test checks each row against zoneinfo). An abbreviation
that names two offsets (CST: US Central or China) is refused, never guessed, unless the
adapter's `report_time_zone` option names the account's zone (an IANA name, read with
zoneinfo): then every time is placed in that zone, the abbreviation telling the repeated
autumn hour apart.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta, timezone
from types import MappingProxyType
from typing import Final, NamedTuple
from zoneinfo import ZoneInfo

__all__ = ["AMBIGUOUS", "ZONES", "Zone", "to_utc"]


class Zone(NamedTuple):
    """An abbreviation's offset from UTC, and an IANA zone that uses it with that offset."""

    offset: timedelta
    example: str


def _zone(hours: float, example: str) -> Zone:
    return Zone(timedelta(hours=hours), example)


ZONES: Final[Mapping[str, Zone]] = MappingProxyType(
    {
        "UTC": _zone(0, "Etc/UTC"),
        "GMT": _zone(0, "Europe/London"),
        "BST": _zone(1, "Europe/London"),  # British Summer Time, as in Adyen's examples
        "WET": _zone(0, "Europe/Lisbon"),
        "WEST": _zone(1, "Europe/Lisbon"),
        "CET": _zone(1, "Europe/Amsterdam"),
        "CEST": _zone(2, "Europe/Amsterdam"),
        "EET": _zone(2, "Europe/Athens"),
        "EEST": _zone(3, "Europe/Athens"),
        "MSK": _zone(3, "Europe/Moscow"),
        "EST": _zone(-5, "America/New_York"),
        "EDT": _zone(-4, "America/New_York"),
        "MST": _zone(-7, "America/Denver"),
        "MDT": _zone(-6, "America/Denver"),
        "PST": _zone(-8, "America/Los_Angeles"),
        "PDT": _zone(-7, "America/Los_Angeles"),
        "AKST": _zone(-9, "America/Anchorage"),
        "AKDT": _zone(-8, "America/Anchorage"),
        "HST": _zone(-10, "Pacific/Honolulu"),
        "JST": _zone(9, "Asia/Tokyo"),
        "KST": _zone(9, "Asia/Seoul"),
        "HKT": _zone(8, "Asia/Hong_Kong"),
        "AWST": _zone(8, "Australia/Perth"),
        "ACST": _zone(9.5, "Australia/Darwin"),
        "ACDT": _zone(10.5, "Australia/Adelaide"),
        "AEST": _zone(10, "Australia/Sydney"),
        "AEDT": _zone(11, "Australia/Sydney"),
        "NZST": _zone(12, "Pacific/Auckland"),
        "NZDT": _zone(13, "Pacific/Auckland"),
    }
)
"""Abbreviations read as their one offset: UTC, Europe, North America, Asia-Pacific."""

AMBIGUOUS: Final[Mapping[str, str]] = MappingProxyType(
    {
        "CST": "US Central UTC-6, China UTC+8 or Cuba UTC-5",
        "CDT": "US Central UTC-5 or Cuba UTC-4",
        "IST": "India UTC+5:30, Israel UTC+2 or Ireland UTC+1",
        "AST": "Atlantic UTC-4 or Arabia UTC+3",
    }
)
"""Abbreviations that name more than one offset: a wrong guess moves a payment by hours."""

_FORMAT: Final = "%Y-%m-%d %H:%M:%S"


def to_utc(local: str, zone: str, account: ZoneInfo | None = None) -> tuple[datetime, timedelta]:
    """The UTC instant of `local` ("YYYY-MM-DD HH:MM:SS") in the report's time zone `zone`,
    and that zone's offset from UTC.

    `account`: the account's time zone setting as configured (`report_time_zone`), which
    places any abbreviation, the ambiguous ones too; `zone` then only tells the repeated
    autumn hour apart, and must agree with it.

    Raises:
        ValueError: `local` is not such a time, or `zone` is empty, unknown or ambiguous
            without `account`, or disagrees with `account` (the message names it and the
            fix); the report's times cannot be placed then.
    """
    try:
        naive = datetime.strptime(local, _FORMAT)
    except ValueError as error:
        raise ValueError(f"not a booking date: {local!r}") from error
    code = zone.strip().upper()
    if account is not None:
        return _in_account_zone(naive, code, account)
    known = ZONES.get(code)
    if known is not None:
        at = naive.replace(tzinfo=timezone(known.offset)).astimezone(UTC)
        return at, known.offset
    if code in AMBIGUOUS:
        raise ValueError(
            f"time zone {zone!r} of {local!r} is ambiguous ({AMBIGUOUS[code]}); "
            "its UTC time cannot be known: set the adapter's `report_time_zone` option to "
            "the account's time zone setting (an IANA name such as America/Chicago)"
        )
    raise ValueError(
        f"unknown time zone {zone!r} of {local!r} (known: {', '.join(sorted(ZONES))}); "
        "its UTC time cannot be known"
    )


def _in_account_zone(naive: datetime, code: str, account: ZoneInfo) -> tuple[datetime, timedelta]:
    """`naive` in the configured zone: of the two readings of a repeated hour, the one whose
    abbreviation is the report's (`code`); a report naming another zone is refused."""
    readings = [naive.replace(tzinfo=account, fold=fold) for fold in (0, 1)]
    named = [at for at in readings if not code or at.tzname() == code]
    if not named:
        raise ValueError(
            f"the report names time zone {code!r} for {naive:{_FORMAT}}, but the adapter's "
            f"`report_time_zone` {account.key} calls that time "
            f"{readings[0].tzname()!r}: fix the option to the account's time zone setting"
        )
    at = named[0]
    offset = at.utcoffset()
    assert offset is not None  # a ZoneInfo gives every time an offset
    return at.astimezone(UTC), offset
