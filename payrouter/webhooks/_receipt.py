"""What applying a notification did: the result kinds and the receipt the receiver answers
with. The statements that apply it live in the ledger (`payrouter._ledger._webhook_events`)."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from .._money import Money

__all__ = ["Receipt", "WebhookResult"]


class WebhookResult(enum.StrEnum):
    """What a notification did; every one of them is answered 2xx to the provider."""

    APPLIED = "applied"
    REPLAYED = "replayed"
    """Seen before (same provider and event id): nothing changed."""
    OUT_OF_ORDER = "out_of_order"
    """Would move the payment or follow-up backwards or sideways: ignored."""
    NO_MATCH = "no_match"
    """No payment or follow-up of ours has that reference (made elsewhere): recorded only."""
    DISPUTE = "dispute"
    """A chargeback or dispute: recorded against the payment for a person to answer."""
    AMOUNT_MISMATCH = "amount_mismatch"
    """The provider reported another amount or currency than the payment's: not applied,
    an open discrepancy with both figures (`payrouter records open`)."""
    PARTIALLY_AUTHORISED = "partially_authorised"
    """An authorisation for less than asked: the payment is now `partially_authorised`."""
    UNKNOWN_TYPE = "unknown_type"


@dataclass(frozen=True, slots=True)
class Receipt:
    """What one event did; `expected` is the payment's amount when the provider reported
    another (AMOUNT_MISMATCH, PARTIALLY_AUTHORISED), next to the event's own figures."""

    event_id: str
    result: WebhookResult
    order_id: str | None = None
    followup_id: str | None = None
    expected: Money | None = None
