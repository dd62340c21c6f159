"""A provider reporting another amount than ours becomes an open discrepancy, wherever it said
so: a notification (about a payment, a refund or a capture), a pay answer, a replay or a
lookup. One writer for all of them, so every such difference reads the same.

It joins the differences records reconciliation finds (`payrouter_discrepancies`), so one
list holds every disagreement about money: `payrouter status` counts it, `payrouter records
open` shows both figures and what to do, and `payrouter records ack` closes it once a person
decided. Its id is the one records reconciliation gives the same difference (kind, provider,
the payment's reference), so the two never list one problem twice, and a partial
authorisation learned from the pay answer and again from its notification is one row.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from decimal import Decimal
from typing import Final

from sqlalchemy import Connection
from sqlalchemy.dialects import postgresql, sqlite

from .._money import Money, currency_exponent
from ..webhooks._event import WebhookEvent
from ..webhooks._receipt import Receipt, WebhookResult
from ._books import OPEN
from ._schema import discrepancies

__all__ = ["AmountDifference", "record_difference", "record_discrepancy"]

_MISMATCH: Final = (
    "the provider reported another amount than the payment's, so it was not marked paid: "
    "look the payment up at the provider, then settle it by hand (refund or collect the rest)"
)
_FOLLOW_UP_MISMATCH: Final = (
    "the provider reported another amount than the follow-up's ({followup}), so it was not "
    "marked done: look it up at the provider, then settle it by hand"
)
_PARTIAL: Final = (
    "the issuer authorised only part of the payment (partially_authorised): capture that part "
    "(router.capture with the amount) or void it, as your policy says, and ask for the rest"
)


@dataclass(frozen=True, slots=True)
class AmountDifference:
    """What a provider reported against what the ledger holds, and where it said it."""

    provider: str
    order_id: str
    expected: Money
    """Ours: the payment's amount, or the follow-up's."""
    reported_minor: int | None
    reported_currency: str | None
    seen_in: str
    """Where the figure came from, for a person: `REFUND (REFUND:PSP:true)`, `the pay
    answer (key)`."""
    occurred_at: float
    provider_reference: str | None = None
    reference: str | None = None
    """Our reference: the attempt's key, or the follow-up id."""
    partial: bool = False
    """An authorisation for part of the payment (`partially_authorised`), not a mismatch."""
    followup_id: str | None = None


def record_difference(conn: Connection, difference: AmountDifference) -> bool:
    """Insert the open discrepancy for `difference`, unless one with its id is known (then
    False: it was seen before)."""
    d = difference
    same_currency = d.reported_currency in (None, d.expected.currency)
    kind = "amount_differs" if same_currency else "currency_differs"
    if d.partial:
        action = _PARTIAL
    elif d.followup_id is not None:
        action = _FOLLOW_UP_MISMATCH.format(followup=d.followup_id)
    else:
        action = _MISMATCH
    anchor = d.provider_reference or d.reference or d.order_id
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    now = time.time()
    reported = _show(d.reported_minor, d.reported_currency)
    inserted = conn.execute(
        dialect.insert(discrepancies)
        .values(
            # The identity records reconciliation gives the same difference, so a later
            # comparison updates this row (or resolves it when the books agree after all).
            discrepancy_id=f"{kind}:{d.provider}:{anchor}",
            kind=kind,
            provider=d.provider,
            provider_reference=d.provider_reference,
            order_id=d.order_id,
            reference=d.reference,
            ledger_side=str(d.expected),
            provider_side=f"{reported} in {d.seen_in}"[:300],
            action=action,
            state=OPEN,
            occurred_at=d.occurred_at,
            first_seen=now,
            last_seen=now,
        )
        .on_conflict_do_nothing(index_elements=["discrepancy_id"])
        .returning(discrepancies.c.discrepancy_id)
    ).first()
    return inserted is not None


def record_discrepancy(conn: Connection, event: WebhookEvent, receipt: Receipt) -> None:
    """Insert the open discrepancy `receipt` found for `event` (its `expected` figures are the
    payment's, or the follow-up's when it names one), unless one of its kind is known."""
    assert receipt.expected is not None
    assert receipt.order_id is not None
    record_difference(
        conn,
        AmountDifference(
            provider=event.provider,
            order_id=receipt.order_id,
            expected=receipt.expected,
            reported_minor=event.amount_minor,
            reported_currency=event.currency,
            seen_in=f"{event.type} ({event.event_id})",
            occurred_at=event.occurred_at.timestamp(),
            provider_reference=event.provider_reference,
            reference=receipt.followup_id or event.our_reference,
            partial=receipt.result is WebhookResult.PARTIALLY_AUTHORISED,
            followup_id=receipt.followup_id,
        ),
    )


def _show(minor: int | None, currency: str | None) -> str:
    if minor is None or currency is None:
        return "no amount"
    try:
        exponent = currency_exponent(currency)
    except ValueError:
        return f"{minor} minor units of {currency}"
    return f"{Decimal(minor).scaleb(-exponent):.{exponent}f} {currency}"
