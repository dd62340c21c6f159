"""The router's side of a notification: apply it in one transaction and say what it did.

`Router.apply_webhook` calls `apply`, so the receiver needs nothing from the router but that
one method: the transaction and the events raised live here.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from .._ledger._webhook_events import apply_webhook_event
from ..instrumentation._events import AmountMismatch, Hook, WebhookReceived, emit
from ._event import WebhookEvent
from ._receipt import Receipt

if TYPE_CHECKING:
    from .._ledger import Ledger

__all__ = ["apply"]


async def apply(ledger: Ledger, hooks: Sequence[Hook], event: WebhookEvent) -> Receipt:
    """Apply `event` in one ledger transaction; emit what it did (and any discrepancy)."""
    receipt = await apply_webhook_event(ledger, event)
    emit(
        hooks,
        WebhookReceived(
            event.provider, event.event_id, event.type, receipt.result.value, receipt.order_id
        ),
    )
    if receipt.expected is not None and receipt.order_id is not None:
        emit(
            hooks,
            AmountMismatch(
                order_id=receipt.order_id,
                provider=event.provider,
                source="webhook",
                reference=event.event_id,
                result=receipt.result.value,
                expected_minor=receipt.expected.minor_units,
                expected_currency=receipt.expected.currency,
                reported_minor=event.amount_minor,
                reported_currency=event.currency,
                followup_id=receipt.followup_id,
            ),
        )
    return receipt
