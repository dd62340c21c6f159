"""Records reconciliation: the ledger of a period against the providers' own records.

`reconcile` resolves payments the router is unsure about; this module answers a different
question an accountant asks regularly: does what each provider holds for a period match what
the ledger says? Every attempt is compared, not only each payment's final one, because a
declined attempt before a failover still left a record at its provider.

Providers whose API can list payments (`RecordsSource`, e.g. Stripe's
`GET /v1/payment_intents`) are compared both ways. Providers without a list API (Adyen
Checkout, PayPal Orders v2, Berlin Group PIS) are asked about each ledger attempt with
`Adapter.lookup`; for them a payment the ledger never recorded cannot be found, and the
report says so in `unlisted_providers`.
"""

from __future__ import annotations

import asyncio
import enum
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final, Protocol, runtime_checkable

from sqlalchemy import select

from .._adapter import Adapter, PaymentHandle
from .._ledger import Ledger, SqlLedger
from .._ledger._schema import attempts, payments
from .._models import PaymentMethod
from .._money import Money
from .._taxonomy import FailureKind, Outcome

__all__ = [
    "Mismatch",
    "MismatchKind",
    "ProviderRecord",
    "RecordsReport",
    "RecordsSource",
    "compare_records",
]

_LOOKUP_CONCURRENCY: Final = 8
"""Lookups in flight per run: enough to finish a day's payments quickly without tripping a
provider's rate limit."""


@dataclass(frozen=True, slots=True)
class ProviderRecord:
    """One payment as the provider's own records show it, translated by its adapter."""

    provider_reference: str
    amount: Money
    outcome: Outcome
    created_at: datetime
    reference: str | None = None
    """Our attempt reference, when the provider stores it (metadata, merchant reference)."""
    order_id: str | None = None


@runtime_checkable
class RecordsSource(Protocol):
    """An adapter whose provider can list its payments for a period."""

    def list_payments(self, since: datetime, until: datetime) -> AsyncIterator[ProviderRecord]:
        """Every payment created in `[since, until]`, paging through the provider's list."""
        ...


class MismatchKind(enum.StrEnum):
    """How the ledger and a provider disagree."""

    MISSING_AT_PROVIDER = "missing_at_provider"
    MISSING_IN_LEDGER = "missing_in_ledger"
    AMOUNT_DIFFERS = "amount_differs"
    STATUS_DIFFERS = "status_differs"


@dataclass(frozen=True, slots=True)
class Mismatch:
    """One disagreement, with both sides as far as they are known."""

    kind: MismatchKind
    provider: str
    provider_reference: str | None
    order_id: str | None
    ledger: str | None
    """The ledger's side: an amount like `10.00 EUR` or an outcome; None when absent."""
    provider_side: str | None

    def as_json(self) -> dict[str, str | None]:
        """The mismatch as a JSON object (the CLI's `--json` file)."""
        return {
            "kind": self.kind.value,
            "provider": self.provider,
            "provider_reference": self.provider_reference,
            "order_id": self.order_id,
            "ledger": self.ledger,
            "provider_side": self.provider_side,
        }


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

    @property
    def ok(self) -> bool:
        """True when the ledger and every provider agree."""
        return not self.mismatches

    def as_json(self) -> dict[str, object]:
        """The report as one JSON object."""
        return {
            "since": self.since.isoformat(),
            "until": self.until.isoformat(),
            "compared": self.compared,
            "mismatches": [m.as_json() for m in self.mismatches],
            "unlisted_providers": list(self.unlisted_providers),
        }


@dataclass(frozen=True, slots=True)
class _LedgerAttempt:
    order_id: str
    provider: str
    reference: str
    provider_reference: str | None
    outcome: Outcome | None
    amount: Money
    method: str


async def compare_records(
    ledger: Ledger, adapters: Mapping[str, Adapter], since: datetime, until: datetime
) -> RecordsReport:
    """Compare every attempt the ledger started in `[since, until]` with its provider."""
    since, until = _aware(since, "since"), _aware(until, "until")
    if until < since:
        raise ValueError("until is before since: pass --since earlier than --until")
    by_provider: dict[str, list[_LedgerAttempt]] = {name: [] for name in adapters}
    for attempt in await _ledger_attempts(ledger, since, until):
        by_provider.setdefault(attempt.provider, []).append(attempt)
    mismatches: list[Mismatch] = []
    compared = 0
    unlisted: list[str] = []
    for name, ours in sorted(by_provider.items()):
        adapter = adapters.get(name)
        if adapter is None:
            continue  # a provider no longer configured: nobody to ask
        if isinstance(adapter, RecordsSource):
            records = [r async for r in adapter.list_payments(since, until)]
            compared += len(records) + len(ours)
            mismatches += _compare_listed(name, ours, records)
        else:
            unlisted.append(name)
            compared += len(ours)
            mismatches += await _compare_by_lookup(adapter, ours)
    return RecordsReport(since, until, compared, tuple(mismatches), tuple(unlisted))


def _compare_listed(
    provider: str, ours: Sequence[_LedgerAttempt], records: Sequence[ProviderRecord]
) -> list[Mismatch]:
    by_reference = {a.provider_reference: a for a in ours if a.provider_reference}
    by_ours = {a.reference: a for a in ours}
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
                )
            )
            continue
        seen.add(attempt.reference)
        found += _differences(provider, attempt, record.provider_reference, record)
    for attempt in ours:
        if attempt.reference not in seen and attempt.outcome not in _MOVED_NOTHING:
            found.append(_missing_at_provider(provider, attempt))
    return found


_MOVED_NOTHING: Final = (Outcome.FAILED, None)
"""Ledger outcomes a provider may legitimately have no record of: refused before a record was
made, or still in flight (written before the call)."""


async def _compare_by_lookup(adapter: Adapter, ours: Sequence[_LedgerAttempt]) -> list[Mismatch]:
    gate = asyncio.Semaphore(_LOOKUP_CONCURRENCY)

    async def check(attempt: _LedgerAttempt) -> list[Mismatch]:
        handle = PaymentHandle(
            attempt.reference,
            attempt.order_id,
            PaymentMethod(attempt.method),
            attempt.amount,
            attempt.provider_reference,
        )
        async with gate:
            reply = await adapter.lookup(handle)
        if reply.failure_kind is FailureKind.NOT_FOUND:
            if attempt.outcome in _MOVED_NOTHING:
                return []
            return [_missing_at_provider(adapter.name, attempt)]
        # A lookup answers the outcome, not the amount: the adapter asked by our amount.
        record = ProviderRecord(
            reply.provider_reference or attempt.provider_reference or "",
            attempt.amount,
            reply.outcome,
            datetime.now(UTC),
        )
        return _differences(adapter.name, attempt, record.provider_reference or None, record)

    results = await asyncio.gather(*(check(a) for a in ours))
    return [m for found in results for m in found]


def _differences(
    provider: str, attempt: _LedgerAttempt, reference: str | None, record: ProviderRecord
) -> list[Mismatch]:
    found = []
    if record.amount != attempt.amount:
        found.append(
            Mismatch(
                MismatchKind.AMOUNT_DIFFERS,
                provider,
                reference,
                attempt.order_id,
                str(attempt.amount),
                str(record.amount),
            )
        )
    # An attempt still unknown or in flight in the ledger is `reconcile`'s job, not a mismatch.
    if attempt.outcome not in (None, Outcome.UNKNOWN) and attempt.outcome is not record.outcome:
        found.append(
            Mismatch(
                MismatchKind.STATUS_DIFFERS,
                provider,
                reference,
                attempt.order_id,
                attempt.outcome.value,
                record.outcome.value,
            )
        )
    return found


def _missing_at_provider(provider: str, attempt: _LedgerAttempt) -> Mismatch:
    return Mismatch(
        MismatchKind.MISSING_AT_PROVIDER,
        provider,
        attempt.provider_reference,
        attempt.order_id,
        f"{attempt.amount} {attempt.outcome.value if attempt.outcome else 'in flight'}",
        None,
    )


async def _ledger_attempts(
    ledger: Ledger, since: datetime, until: datetime
) -> list[_LedgerAttempt]:
    """Attempts started in the period, with their payment's amount.

    Reads the tables directly: the `Ledger` protocol has no period query, and this read-only
    report should not widen the protocol every ledger must implement.
    """
    if not isinstance(ledger, SqlLedger):
        raise TypeError("records reconciliation needs the SQL ledger (sqlite:// or postgresql://)")
    query = (
        select(
            attempts.c.order_id,
            attempts.c.provider,
            attempts.c.idempotency_key,
            attempts.c.provider_reference,
            attempts.c.outcome,
            attempts.c.method,
            payments.c.amount_minor,
            payments.c.currency,
        )
        .join(payments, payments.c.order_id == attempts.c.order_id)
        .where(
            attempts.c.started_at >= since.timestamp(), attempts.c.started_at <= until.timestamp()
        )
        .order_by(attempts.c.started_at)
    )

    def work() -> list[Any]:
        with ledger._transaction() as conn:
            return list(conn.execute(query).all())

    rows = await ledger._run(work)
    return [
        _LedgerAttempt(
            order_id=row.order_id,
            provider=row.provider,
            reference=row.idempotency_key,
            provider_reference=row.provider_reference,
            outcome=Outcome(row.outcome) if row.outcome else None,
            amount=Money(minor_units=row.amount_minor, currency=row.currency),
            method=row.method,
        )
        for row in rows
    ]


def _aware(when: datetime, name: str) -> datetime:
    if when.tzinfo is None:
        raise ValueError(f"{name} has no time zone: pass an aware datetime, e.g. ...+00:00")
    return when
