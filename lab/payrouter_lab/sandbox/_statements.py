"""What a stand-in's reporting API reports: its books, per payment, with its list-price fee.

Every reporting stand-in (Stripe's balance transactions, PayPal's Transaction Search, Adyen's
payment accounting report, the bank's account transactions) reads the same books the drill
counts double charges against, so a payment the stand-in took and never answered for shows up
in its records exactly as it would at the real provider.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Final

from ._books import BookEntry, Books, EntryKind, EntryStatus

__all__ = ["PRICES", "Price", "StatementPayment", "statement"]


@dataclass(frozen=True, slots=True)
class Price:
    """A list price: `percent` of the captured amount plus `fixed_minor`, rounded half up."""

    percent: Decimal
    fixed_minor: int

    def fee(self, captured_minor: int) -> int:
        """The fee on `captured_minor`; nothing captured costs nothing."""
        if captured_minor <= 0:
            return 0
        share = (Decimal(captured_minor) * self.percent / 100).quantize(
            Decimal(1), rounding=ROUND_HALF_UP
        )
        return int(share) + self.fixed_minor


PRICES: Final = {
    "stripe": Price(Decimal("1.5"), 25),  # standard EEA cards
    "adyen": Price(Decimal("0.6"), 11),  # interchange++ markup plus processing fee, flattened
    "paypal": Price(Decimal("2.49"), 35),  # commercial transactions, EEA
    "berlingroup": Price(Decimal(0), 0),  # an incoming SEPA credit costs nothing
}
"""Each stand-in's list price, what its records report as the fee charged."""


@dataclass(slots=True)
class StatementPayment:
    """One payment (one provider reference) as the books add it up."""

    provider_reference: str
    order_id: str | None
    reference: str | None
    currency: str
    amount: int
    created: float
    status: EntryStatus
    held: bool
    """Authorised, not taken in one step (a capture must follow)."""
    captured: int = 0
    refunded: int = 0
    released: bool = False
    entries: list[BookEntry] = field(default_factory=list)

    def fee(self, provider: str, books: Books) -> int:
        """What the provider's records bill for this payment: its list price on the captured
        amount, unless the books say it billed otherwise."""
        override = books.fee_overrides.get(self.provider_reference)
        return PRICES[provider].fee(self.captured) if override is None else override

    @property
    def captured_at(self) -> float:
        """When money was last taken (the settlement's time), else when it was created."""
        takes = [e.at for e in self.entries if e.kind in (EntryKind.CHARGE, EntryKind.CAPTURE)]
        return max(takes, default=self.created)


def statement(books: Books, since: float, until: float) -> list[StatementPayment]:
    """Payments created in `[since, until]` (epoch seconds), oldest first."""
    found: dict[str, StatementPayment] = {}
    for entry in books.entries():
        payment = found.get(entry.provider_reference)
        if payment is None:
            if entry.kind not in (EntryKind.CHARGE, EntryKind.AUTHORIZATION):
                continue  # a follow-up of a payment made before the books began
            payment = found[entry.provider_reference] = StatementPayment(
                entry.provider_reference,
                entry.order_id,
                entry.reference,
                entry.currency,
                entry.minor_units,
                entry.at,
                entry.status,
                held=entry.kind is EntryKind.AUTHORIZATION,
            )
        payment.entries.append(entry)
        _apply(payment, entry)
    return [p for p in found.values() if since <= p.created <= until]


def _apply(payment: StatementPayment, entry: BookEntry) -> None:
    if entry.kind in (EntryKind.CHARGE, EntryKind.AUTHORIZATION):
        payment.status = entry.status
    if entry.status is not EntryStatus.SUCCEEDED:
        return
    if entry.kind in (EntryKind.CHARGE, EntryKind.CAPTURE):
        payment.captured += entry.minor_units
    elif entry.kind is EntryKind.REFUND:
        payment.refunded += entry.minor_units
    elif entry.kind is EntryKind.RELEASE:
        payment.released = True
