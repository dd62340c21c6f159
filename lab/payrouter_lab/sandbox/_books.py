"""The money each stand-in actually moved: the ground truth a drill counts double charges against.

A stand-in writes an entry at the moment it takes, captures, refunds or releases money, before
any fault can delay or destroy its response; so the books hold what happened at the provider,
not what a client was told. Amounts are integers in the provider's own minor units.
"""

from __future__ import annotations

import enum
import itertools
import time
from collections import defaultdict
from dataclasses import dataclass, field

__all__ = ["BookEntry", "Books", "EntryKind", "EntryStatus"]


class EntryKind(enum.StrEnum):
    """What one entry records."""

    CHARGE = "charge"
    """Money taken from the payer in one step (authorised and captured)."""
    AUTHORIZATION = "authorization"
    """Money held on the payer's source, not yet taken."""
    CAPTURE = "capture"
    """Held money taken."""
    REFUND = "refund"
    """Money given back to the payer."""
    RELEASE = "release"
    """A hold given up (void, cancel): the authorization's money never moves."""


class EntryStatus(enum.StrEnum):
    """Where the entry's money is; only `pending` ever changes (to `succeeded` or `failed`)."""

    SUCCEEDED = "succeeded"
    PENDING = "pending"
    FAILED = "failed"


@dataclass(slots=True)
class BookEntry:
    """One movement of money, with the ids a drill joins on."""

    entry_id: str
    kind: EntryKind
    provider_reference: str
    order_id: str | None
    reference: str | None
    minor_units: int
    currency: str
    status: EntryStatus
    payer: str | None
    at: float = field(default_factory=time.time)

    def as_json(self) -> dict[str, object]:
        """The entry as the admin API shows it."""
        return {
            "entry_id": self.entry_id,
            "kind": str(self.kind),
            "provider_reference": self.provider_reference,
            "order_id": self.order_id,
            "reference": self.reference,
            "minor_units": self.minor_units,
            "currency": self.currency,
            "status": str(self.status),
            "payer": self.payer,
            "at": self.at,
        }


_TAKES = (EntryKind.CHARGE, EntryKind.CAPTURE)


class Books:
    """One provider's ledger of moved money, append-only except for settling pending entries."""

    def __init__(self) -> None:
        self._entries: list[BookEntry] = []
        self._ids = itertools.count(1)
        self.fee_overrides: dict[str, int] = {}
        """Provider reference → the fee the provider's records show instead of its list price
        (`POST /_admin/{provider}/fees`: a provider that bills a payment wrongly)."""

    def record(
        self,
        kind: EntryKind,
        provider_reference: str,
        *,
        order_id: str | None,
        reference: str | None,
        minor_units: int,
        currency: str,
        status: EntryStatus = EntryStatus.SUCCEEDED,
        payer: str | None = None,
    ) -> BookEntry:
        """Append an entry; money in integer minor units, never a float."""
        entry = BookEntry(
            f"bk_{next(self._ids)}",
            kind,
            provider_reference,
            order_id,
            reference,
            minor_units,
            currency.upper(),
            status,
            payer,
        )
        self._entries.append(entry)
        return entry

    def settle(self, provider_reference: str, status: EntryStatus) -> None:
        """Move the pending entries of one payment to their final status."""
        for entry in self._entries:
            if entry.provider_reference == provider_reference and (
                entry.status is EntryStatus.PENDING
            ):
                entry.status = status

    def entries(self) -> list[BookEntry]:
        """Every entry, oldest first."""
        return list(self._entries)

    def clear(self) -> None:
        """Forget everything (admin reset)."""
        self._entries.clear()
        self.fee_overrides.clear()

    def as_json(self) -> dict[str, object]:
        """Entries, totals per order, and the orders charged by more than one payment.

        An order is double charged when money was taken (or is pending) under two or more
        different provider references: the thing payrouter exists to prevent.
        """
        taken: dict[str, int] = defaultdict(int)
        refunded: dict[str, int] = defaultdict(int)
        payments: dict[str, set[str]] = defaultdict(set)
        for entry in self._entries:
            order = entry.order_id or f"(no order) {entry.provider_reference}"
            if entry.status is EntryStatus.FAILED:
                continue
            if entry.kind in _TAKES:
                taken[order] += entry.minor_units
                payments[order].add(entry.provider_reference)
            elif entry.kind is EntryKind.REFUND:
                refunded[order] += entry.minor_units
        orders = {
            order: {"taken": taken[order], "refunded": refunded.get(order, 0)}
            for order in sorted(taken.keys() | refunded.keys())
        }
        return {
            "entries": [entry.as_json() for entry in self._entries],
            "orders": orders,
            "double_charged": sorted(order for order, refs in payments.items() if len(refs) > 1),
        }
