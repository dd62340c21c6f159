"""A notification whose amount is not its payment's (or its refund's or capture's) becomes an
open discrepancy.

It joins the differences records reconciliation finds (`payrouter_discrepancies`), so one
list holds every disagreement about money: `payrouter status` counts it, `payrouter records
open` shows both figures and what to do, and `payrouter records ack` closes it once a person
decided. Its id is the one records reconciliation gives the same difference (kind, provider,
the payment's reference), so the two never list one problem twice.
"""

from __future__ import annotations

import time
from decimal import Decimal
from typing import Final

from sqlalchemy import Connection
from sqlalchemy.dialects import postgresql, sqlite

from .._money import currency_exponent
from ..webhooks._event import WebhookEvent
from ..webhooks._receipt import Receipt, WebhookResult
from ._books import OPEN
from ._schema import discrepancies

__all__ = ["record_discrepancy"]

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


def record_discrepancy(conn: Connection, event: WebhookEvent, receipt: Receipt) -> None:
    """Insert the open discrepancy `receipt` found for `event` (its `expected` figures are the
    payment's, or the follow-up's when it names one), unless one of its kind is known."""
    assert receipt.expected is not None
    expected, order_id, followup = receipt.expected, receipt.order_id, receipt.followup_id
    if receipt.result is WebhookResult.PARTIALLY_AUTHORISED:
        action = _PARTIAL
    elif followup is not None:
        action = _FOLLOW_UP_MISMATCH.format(followup=followup)
    else:
        action = _MISMATCH
    same_currency = event.currency in (None, expected.currency)
    kind = "amount_differs" if same_currency else "currency_differs"
    reported = _show(event.amount_minor, event.currency)
    anchor = event.provider_reference or event.our_reference or order_id
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    now = time.time()
    conn.execute(
        dialect.insert(discrepancies)
        .values(
            # The identity records reconciliation gives the same difference, so a later
            # comparison updates this row (or resolves it when the books agree after all).
            discrepancy_id=f"{kind}:{event.provider}:{anchor}",
            kind=kind,
            provider=event.provider,
            provider_reference=event.provider_reference,
            order_id=order_id,
            reference=followup or event.our_reference,
            ledger_side=str(expected),
            provider_side=f"{reported} in {event.type} ({event.event_id})"[:300],
            action=action,
            state=OPEN,
            occurred_at=event.occurred_at.timestamp(),
            first_seen=now,
            last_seen=now,
        )
        .on_conflict_do_nothing(index_elements=["discrepancy_id"])
    )


def _show(minor: int | None, currency: str | None) -> str:
    if minor is None or currency is None:
        return "no amount"
    try:
        exponent = currency_exponent(currency)
    except ValueError:
        return f"{minor} minor units of {currency}"
    return f"{Decimal(minor).scaleb(-exponent):.{exponent}f} {currency}"
