"""Records reconciliation: the ledger of a period against the providers' own records.

`reconcile` resolves payments the router is unsure about; this module answers a different
question an accountant asks regularly: does what each provider holds for a period match what
the ledger says? Every attempt is compared, not only each payment's final one, because a
declined attempt before a failover still left a record at its provider.

Providers whose records can be listed (`RecordsSource`: Stripe's list API and balance
transactions, PayPal's Transaction Search, Adyen's payment accounting report, the bank's
account transactions) are compared both ways, so a payment the provider took and the ledger
never recorded ("paid but not arrived") is found. Adapters without one are asked about each
ledger attempt with `Adapter.lookup`, and the report names them in `unlisted_providers`.

What a comparison finds is kept in the ledger (`payrouter_discrepancies`) until a later
comparison no longer finds it or a person acknowledges it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Final, Protocol, runtime_checkable

import httpx

from .._adapter import Adapter, PaymentHandle
from .._errors import PayrouterError
from .._ledger import Ledger
from .._ledger._books import Discrepancy, PeriodAttempt
from .._models import PaymentMethod
from .._paying._fees import FeeRule
from .._taxonomy import FailureKind
from ._differences import Mismatch, MismatchKind, ProviderRecord, differences, missing

__all__ = [
    "Mismatch",
    "MismatchKind",
    "ProviderRecord",
    "RecordsNotReadyError",
    "RecordsReport",
    "RecordsSource",
    "compare_records",
]

_LOOKUP_CONCURRENCY: Final = 8
"""Lookups in flight per run: enough to finish a day's payments quickly without tripping a
provider's rate limit."""


_MATCH_SLACK_SECONDS: Final = 2 * 86_400.0
"""How far beyond the period the ledger is read to match records: a bank statement has dates,
not times, and a transfer may be booked a day after it was initiated."""


class RecordsNotReadyError(PayrouterError):
    """The provider has not published its records for the period yet (a report not yet
    generated, a search index not yet refreshed). Raised by a `RecordsSource`; the comparison
    skips that provider and reports it late rather than calling everything missing."""

    def __init__(self, provider: str, detail: str) -> None:
        super().__init__(f"{provider}: records not ready: {detail}")
        self.provider = provider
        self.detail = detail


@runtime_checkable
class RecordsSource(Protocol):
    """An adapter whose provider can list its payments for a period."""

    records_delay: timedelta
    """How long after a moment the provider's records of it are complete (Stripe at once,
    PayPal's Transaction Search up to three hours, Adyen's daily report the next morning)."""

    def list_payments(self, since: datetime, until: datetime) -> AsyncIterator[ProviderRecord]:
        """Every payment created in `[since, until]`, paging through the provider's records.

        A record's `reference` is matched to the attempt reference; a source whose provider
        stores it transformed (a bank's 35-character endToEndId) also offers
        `records_reference(reference) -> str`, giving it as the provider stores it.

        Raises:
            RecordsNotReadyError: the provider has not published records for the period yet.
        """
        ...


@dataclass(frozen=True, slots=True)
class RecordsReport:
    """What one comparison found, for `[since, until]`."""

    since: datetime
    until: datetime
    compared: int
    """Attempts and provider records looked at."""
    mismatches: tuple[Mismatch, ...]
    unlisted_providers: tuple[str, ...] = field(default=())
    """Providers checked by lookup only: missing-in-ledger cannot be detected there."""
    late: Mapping[str, str] = field(default_factory=dict)
    """Provider → why its records for the period could not be read yet."""
    failed: Mapping[str, str] = field(default_factory=dict)
    """Provider → why reading its records failed (unreachable, refused, unreadable); its
    discrepancies are left as they were, and the next comparison tries again."""

    @property
    def ok(self) -> bool:
        """True when the ledger and every provider agree (and every provider's records were
        there to compare)."""
        return not self.mismatches and not self.late and not self.failed

    def as_json(self) -> dict[str, object]:
        """The report as one JSON object."""
        return {
            "since": self.since.isoformat(),
            "until": self.until.isoformat(),
            "compared": self.compared,
            "mismatches": [m.as_json() for m in self.mismatches],
            "unlisted_providers": list(self.unlisted_providers),
            "late": dict(self.late),
            "failed": dict(self.failed),
        }


async def compare_records(
    ledger: Ledger,
    adapters: Mapping[str, Adapter],
    since: datetime,
    until: datetime,
    fees: Mapping[str, Sequence[FeeRule]] | None = None,
    *,
    keep: bool = True,
    providers: Collection[str] | None = None,
) -> RecordsReport:
    """Compare every attempt the ledger started in `[since, until]` with its provider.

    Args:
        fees: provider → the merchant's fee rules; a provider's stated fee is checked
            against them.
        keep: store what was found as discrepancies (and resolve the ones no longer found).
        providers: compare only these (the scheduler gives each provider its own window).
    """
    since, until = _aware(since, "since"), _aware(until, "until")
    if until < since:
        raise ValueError("until is before since: pass --since earlier than --until")
    window = (since.timestamp(), until.timestamp())
    wide = (window[0] - _MATCH_SLACK_SECONDS, window[1] + _MATCH_SLACK_SECONDS)
    by_provider: dict[str, list[PeriodAttempt]] = {name: [] for name in adapters}
    for attempt in await ledger.period_attempts(*wide):
        by_provider.setdefault(attempt.provider, []).append(attempt)
    mismatches: list[Mismatch] = []
    compared, unlisted, late, checked = 0, [], {}, []
    failed: dict[str, str] = {}
    for name, ours in sorted(by_provider.items()):
        adapter = adapters.get(name)
        if adapter is None or (providers is not None and name not in providers):
            continue  # a provider no longer configured (nobody to ask), or not asked for
        rules = (fees or {}).get(name, ())
        if isinstance(adapter, RecordsSource):
            try:
                records = [r async for r in adapter.list_payments(since, until)]
            except RecordsNotReadyError as error:
                late[name] = error.detail
                continue
            except (httpx.HTTPError, ValueError) as error:  # unreachable, refused, unreadable
                failed[name] = f"{type(error).__name__}: {error}"
                continue
            compared += len(records) + sum(window[0] <= a.started_at <= window[1] for a in ours)
            as_sent = getattr(adapter, "records_reference", None)
            mismatches += _compare_listed(name, ours, records, rules, window, as_sent)
        else:
            unlisted.append(name)
            ours = [a for a in ours if window[0] <= a.started_at <= window[1]]
            compared += len(ours)
            mismatches += await _compare_by_lookup(adapter, ours, rules)
        checked.append(name)
    if keep:
        rows = [_stored(m) for m in mismatches]
        await ledger.save_discrepancies(rows, checked, *window, time.time())
    return RecordsReport(since, until, compared, tuple(mismatches), tuple(unlisted), late, failed)


def _compare_listed(
    provider: str,
    ours: Sequence[PeriodAttempt],
    records: Sequence[ProviderRecord],
    fees: Sequence[FeeRule],
    window: tuple[float, float],
    as_sent: Callable[[str], str] | None = None,
) -> list[Mismatch]:
    """Both ways: each record against its attempt, and each attempt of the period that no
    record answers for. `ours` reaches beyond the period so that a record near its edge (a
    bank's booking date, a payment settled a day later) still finds its attempt."""
    by_reference = {a.provider_reference: a for a in ours if a.provider_reference}
    by_ours = {(as_sent(a.reference) if as_sent else a.reference): a for a in ours}
    seen: set[str] = set()
    found: list[Mismatch] = []
    for record in records:
        attempt = by_reference.get(record.provider_reference) or (
            by_ours.get(record.reference) if record.reference else None
        )
        if attempt is None:
            found.append(
                Mismatch(
                    MismatchKind.MISSING_IN_LEDGER,
                    provider,
                    record.provider_reference,
                    record.order_id,
                    None,
                    f"{record.amount} {record.outcome.value}",
                    reference=record.reference,
                    occurred_at=record.created_at.timestamp(),
                )
            )
            continue
        seen.add(attempt.reference)
        found += differences(provider, attempt, record, fees)
    for attempt in ours:
        if attempt.reference not in seen and window[0] <= attempt.started_at <= window[1]:
            gone = missing(provider, attempt)
            found += [gone] if gone else []
    return found


async def _compare_by_lookup(
    adapter: Adapter, ours: Sequence[PeriodAttempt], fees: Sequence[FeeRule]
) -> list[Mismatch]:
    gate = asyncio.Semaphore(_LOOKUP_CONCURRENCY)

    async def check(attempt: PeriodAttempt) -> list[Mismatch]:
        handle = PaymentHandle(
            attempt.reference,
            attempt.order_id,
            PaymentMethod(attempt.method),
            attempt.amount,
            attempt.provider_reference,
            started_at=datetime.fromtimestamp(attempt.started_at, UTC),
        )
        async with gate:
            reply = await adapter.lookup(handle)
        if reply.failure_kind is FailureKind.NOT_FOUND:
            gone = missing(adapter.name, attempt)
            return [gone] if gone else []
        # A lookup answers the outcome, not the amount: the adapter asked by our amount.
        record = ProviderRecord(
            reply.provider_reference or attempt.provider_reference or "",
            attempt.amount,
            reply.outcome,
            datetime.now(UTC),
        )
        return differences(adapter.name, attempt, record, fees)

    results = await asyncio.gather(*(check(a) for a in ours))
    return [m for found in results for m in found]


def _stored(mismatch: Mismatch) -> Discrepancy:
    return Discrepancy(
        discrepancy_id=mismatch.discrepancy_id,
        kind=mismatch.kind.value,
        provider=mismatch.provider,
        provider_reference=mismatch.provider_reference,
        order_id=mismatch.order_id,
        reference=mismatch.reference,
        ledger_side=mismatch.ledger,
        provider_side=mismatch.provider_side,
        action=mismatch.action,
        occurred_at=mismatch.occurred_at,
    )


def _aware(when: datetime, name: str) -> datetime:
    if when.tzinfo is None:
        raise ValueError(f"{name} has no time zone: pass an aware datetime, e.g. ...+00:00")
    return when
