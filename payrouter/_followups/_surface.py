"""The router's follow-up surface: capture, refund, void, cancel a mandate, and the outbox.

A mixin of `Router`, kept apart because it is one job (what happens after the money was
taken) with its own docstrings, while `_router.py` holds the payment surface.
"""

from __future__ import annotations

from .._models import Mandate, PaymentResult
from .._money import Money
from . import FollowUp, FollowUpKind, FollowUps, OutboxStats

__all__ = ["FollowUpMethods"]


class FollowUpMethods:
    """Follow-ups go to the provider that took the payment; they never fail over.

    Each is recorded in the ledger (`queued`) before its provider is called, carries its own
    provider idempotency key, and passes the money rules first: a capture never exceeds the
    authorization, refunds never exceed what was captured (partial and repeated refunds
    add up), a void only releases an uncaptured authorization, and nothing follows a
    payment whose outcome is still pending.

    What each returns is the follow-up as it stands: `succeeded`; `pending` (accepted, the
    provider confirms later, e.g. by webhook); or `queued` when the provider is busy, down,
    in maintenance or its answer was lost: `process_outbox` (run by `payrouter worker` and
    `payrouter reconcile`) sends it again with the same key until the provider answers.

    Raises (each of them):
        FollowUpNotAllowedError: a money rule refused it; nothing was recorded or sent.
        FollowUpRefusedError: the provider definitely refused it; it stays `refused` in the
            ledger, with the provider's code, for a person to look at.
    """

    _followups: FollowUps

    def _require_open(self) -> None:  # pragma: no cover - Router's own replaces it
        raise NotImplementedError

    async def capture(
        self, payment: PaymentResult | str, amount: Money | None = None, *, key: str | None = None
    ) -> FollowUp:
        """Capture an authorized payment (`capture=False` when paid), in full by default.

        A payment is captured once; capturing less releases the rest of the authorization.
        `key`: the merchant's own key for this follow-up: asking again with it returns the
        first one instead of capturing twice.
        """
        self._require_open()
        return await self._followups.request(
            FollowUpKind.CAPTURE, _order_id(payment), amount=amount, key=key
        )

    async def refund(
        self,
        payment: PaymentResult | str,
        amount: Money | None = None,
        *,
        reason: str | None = None,
        key: str | None = None,
    ) -> FollowUp:
        """Refund a captured payment: what is left to refund by default, or `amount`.

        Several partial refunds may follow one payment; together they never exceed what was
        captured. `reason` is passed to providers that take one (Stripe: `duplicate`,
        `fraudulent`, `requested_by_customer`).
        """
        self._require_open()
        return await self._followups.request(
            FollowUpKind.REFUND, _order_id(payment), amount=amount, reason=reason, key=key
        )

    async def void(self, payment: PaymentResult | str, *, key: str | None = None) -> FollowUp:
        """Release an authorized payment that was never captured."""
        self._require_open()
        return await self._followups.request(FollowUpKind.VOID, _order_id(payment), key=key)

    async def cancel_mandate(self, mandate: Mandate, *, key: str | None = None) -> FollowUp:
        """Cancel a mandate (saved card, vaulted wallet, standing order) at its provider.

        Done only when the provider confirms; asking again while one is under way or after
        it was confirmed returns that one, so a customer's cancellation is never sent twice.
        """
        self._require_open()
        return await self._followups.cancel_mandate(mandate, key=key)

    async def followups(self, payment: PaymentResult | str) -> list[FollowUp]:
        """Every follow-up of a payment, oldest first, as the ledger has them."""
        self._require_open()
        return await self._followups.of_payment(_order_id(payment))

    async def process_outbox(self, *, limit: int | None = None) -> list[FollowUp]:
        """Send the queued follow-ups that are due, oldest first; return how each now stands.

        Run it from `payrouter worker` (a loop beside the app) or `payrouter reconcile`. A
        refused one is returned as `refused`, not raised, so one refusal never stops the rest.
        """
        self._require_open()
        return await self._followups.process(limit=limit)

    async def read_outbox_stats(self) -> OutboxStats:
        """The outbox's depth, oldest age, and pending and refused counts, from the ledger."""
        self._require_open()
        return await self._followups.stats()

    def outbox_stats(self) -> OutboxStats:
        """The outbox as this router last read it (after every `process_outbox` round), for
        callers that cannot await, such as a Prometheus scrape."""
        return self._followups.last_stats


def _order_id(payment: PaymentResult | str) -> str:
    return payment if isinstance(payment, str) else payment.order_id
