"""Follow-ups end to end: record before sending, send to the payment's own provider, and keep
what the provider still owes in the outbox until it answers.

`Router.capture`/`refund`/`void`/`cancel_mandate` call `request`; `Router.process_outbox`
(run by `payrouter reconcile` and `payrouter worker`) calls `process`. Both go through the
same `_deliver`, so a follow-up sent from a checkout and one sent by the worker an hour later
are the same code path with the same idempotency key.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Mapping, Sequence

from .._adapter import Adapter, PaymentHandle, ProviderReply
from .._errors import FollowUpNotAllowedError, FollowUpRefusedError
from .._health._breakers import BreakerBoard
from .._health._maintenance import MaintenanceSchedule
from .._ledger import Ledger
from .._ledger import _followup_ops as outbox
from .._models import Mandate
from .._money import Money
from .._paying._amounts import check_followup_amount, report_amount
from .._paying._keys import derive_key
from .._sensitive import card_data_problem
from .._settings import RouterSettings
from .._taxonomy import Outcome, policy_for
from ..instrumentation._events import FollowUpFinished, Hook, emit
from ._model import FollowUp, FollowUpKind, FollowUpStatus, OutboxStats
from ._sender import Backoff, send, status_for

__all__ = ["FollowUps"]

_CONFIRMED_CAPTURE = (FollowUpStatus.SUCCEEDED, FollowUpStatus.PENDING)


class FollowUps:
    """The follow-up side of one router: shares its ledger, breakers and maintenance windows."""

    def __init__(
        self,
        *,
        ledger: Ledger,
        adapters: Mapping[str, Adapter],
        board: BreakerBoard,
        maintenance: MaintenanceSchedule,
        settings: RouterSettings,
        hooks: Sequence[Hook],
        sleep: Callable[[float], Awaitable[None]],
        owner: str,
    ) -> None:
        self._ledger = ledger
        self._adapters = adapters
        self._board = board
        self._maintenance = maintenance
        self._settings = settings
        self._hooks = hooks
        self._sleep = sleep
        self._owner = owner
        outbox = settings.outbox
        self._backoff = Backoff(outbox.initial_backoff_seconds, outbox.max_backoff_seconds)
        self.last_stats = OutboxStats(depth=0, oldest_age_seconds=0.0, pending=0, refused=0)
        """The outbox as this router last read it (for scrapes, which cannot await)."""

    async def request(
        self,
        kind: FollowUpKind,
        order_id: str,
        *,
        amount: Money | None = None,
        reason: str | None = None,
        key: str | None = None,
    ) -> FollowUp:
        """Record a follow-up of a payment (money rules checked), then try to send it now."""
        _refuse_card_data(order_id, reason=reason, key=key)
        payment = await self._ledger.get(order_id)
        provider = payment.provider if payment is not None else None
        if provider is not None and provider not in self._adapters:
            raise FollowUpNotAllowedError(
                f"payment {order_id!r} was taken by {provider!r}, which this router does not "
                "configure: follow-ups go to the provider that holds the payment",
                order_id=order_id,
            )
        draft = outbox.Draft(
            kind,
            amount=amount,
            reason=reason,
            merchant_key=key,
            key_for=self._key_maker(order_id, kind, provider),
        )
        followup, _ = await outbox.record_for_payment(self._ledger, order_id, draft)
        return await self._send_now(followup)

    async def cancel_mandate(self, mandate: Mandate, *, key: str | None = None) -> FollowUp:
        """Record a mandate's cancellation at its own provider, then try to send it now."""
        _refuse_card_data(None, key=key)
        if mandate.provider not in self._adapters:
            raise FollowUpNotAllowedError(
                f"mandate {mandate.mandate_id!r} is held by {mandate.provider!r}, which this "
                "router does not configure: a mandate is cancelled where it was given"
            )
        kind = FollowUpKind.CANCEL_MANDATE
        draft = outbox.Draft(
            kind,
            merchant_key=key,
            key_for=self._key_maker(f"mandate-{mandate.mandate_id}", kind, mandate.provider),
        )
        followup, _ = await outbox.record_for_mandate(
            self._ledger, mandate.provider, mandate.mandate_id, mandate.method, draft
        )
        return await self._send_now(followup)

    async def process(self, *, limit: int | None = None) -> list[FollowUp]:
        """Send every follow-up that is due (oldest first); return them as they now stand.

        Only follow-ups of providers this router configures are taken, so a worker with a
        partial config never holds another's follow-ups.
        """
        leased = await outbox.lease_due(
            self._ledger,
            owner=self._owner,
            seconds=self._settings.outbox.lease_seconds,
            limit=limit or self._settings.outbox.batch_size,
            providers=frozenset(self._adapters),
        )
        done = [await self._deliver(followup) for followup in leased]
        await self.stats()
        return done

    async def of_payment(self, order_id: str) -> list[FollowUp]:
        return await outbox.followups_of(self._ledger, order_id)

    async def stats(self) -> OutboxStats:
        self.last_stats = await outbox.stats(self._ledger)
        return self.last_stats

    # -- sending -----------------------------------------------------------------------------

    async def _send_now(self, followup: FollowUp) -> FollowUp:
        if followup.status is FollowUpStatus.REFUSED:
            raise FollowUpRefusedError(followup)
        if followup.status is not FollowUpStatus.QUEUED:
            return followup  # already confirmed, accepted, or being sent by someone else
        leased = await outbox.lease(
            self._ledger,
            followup_id=followup.followup_id,
            owner=self._owner,
            seconds=self._settings.outbox.lease_seconds,
        )
        if leased is None:
            return followup
        sent = await self._deliver(leased)
        if sent.status is FollowUpStatus.REFUSED:
            raise FollowUpRefusedError(sent)
        return sent

    async def _deliver(self, followup: FollowUp) -> FollowUp:
        """Send a leased follow-up and write what its provider answered."""
        adapter = self._adapters[followup.provider]
        handle = await self._handle(followup)
        result = await send(
            followup,
            adapter=adapter,
            handle=handle,
            board=self._board,
            in_maintenance=self._maintenance.draining(followup.provider),
            retry=self._settings.retry,
            deadline=time.monotonic() + self._settings.deadline_seconds,
            hooks=self._hooks,
            sleep=self._sleep,
        )
        reply, tries = result.reply, followup.tries + result.tries
        if status_for(reply) is FollowUpStatus.REFUSED and await self._already_done(
            followup, adapter, reply
        ):
            reply = _done_before(reply, followup.amount)
        if followup.order_id is not None and followup.amount is not None:
            await report_amount(
                self._ledger,
                self._hooks,
                reply,
                order_id=followup.order_id,
                provider=followup.provider,
                reference=followup.followup_id,
                expected=followup.amount,
                source="reply",
                followup_id=followup.followup_id,
            )
        status = status_for(reply)
        finished = await outbox.finish(
            self._ledger,
            followup_id=followup.followup_id,
            status=status,
            tries=tries,
            failure_kind=reply.failure_kind,
            provider_code=reply.provider_code,
            provider_reference=reply.provider_reference or followup.provider_reference,
            message=reply.message,
            next_try_at=(
                self._backoff.next_try_at(tries, reply.retry_after)
                if status is FollowUpStatus.QUEUED
                else None
            ),
            idempotency_key=self._fresh_key(followup, adapter, tries) if reply.key_spent else None,
            owner=self._owner,
        )
        alert = status is FollowUpStatus.REFUSED or bool(
            reply.failure_kind and policy_for(reply.failure_kind).alert
        )
        emit(
            self._hooks,
            FollowUpFinished(
                finished.followup_id,
                finished.kind.value,
                finished.provider,
                finished.order_id,
                finished.status.value,
                finished.failure_kind,
                finished.tries,
                alert,
            ),
        )
        return finished

    async def _already_done(
        self, followup: FollowUp, adapter: Adapter, reply: ProviderReply
    ) -> bool:
        """The provider refused because it already did this, and the ledger says it was us:
        a refund that makes the payment fully refunded, the payment's only capture, or a void
        of a payment nothing captured. Such an answer comes to a resend whose first call's
        answer was lost."""
        code = reply.provider_code
        if code is None or (followup.kind.value, code) not in adapter.resolution.already_done:
            return False
        if followup.order_id is None:
            return False
        payment = await self._ledger.get(followup.order_id)
        assert payment is not None
        others = [
            f
            for f in await self.of_payment(followup.order_id)
            if f.followup_id != followup.followup_id and f.status in _CONFIRMED_CAPTURE
        ]
        captures = [f for f in others if f.kind is FollowUpKind.CAPTURE]
        if followup.kind in (FollowUpKind.CAPTURE, FollowUpKind.VOID):
            return not captures  # a void: the intent was released by us only if none was taken
        if followup.kind is not FollowUpKind.REFUND or followup.amount is None:
            return False
        captured = sum(f.amount.minor_units for f in captures if f.amount) or (
            payment.amount.minor_units
        )
        refunded = sum(
            f.amount.minor_units for f in others if f.kind is FollowUpKind.REFUND and f.amount
        )
        return refunded + followup.amount.minor_units == captured

    async def _handle(self, followup: FollowUp) -> PaymentHandle | None:
        """How the provider finds the payment: the attempt that took it, and for a refund of
        a payment captured later, the capture's own reference (PayPal refunds captures)."""
        if followup.order_id is None:
            return None
        payment = await self._ledger.get(followup.order_id)
        assert payment is not None
        assert payment.method is not None
        taken = [a for a in payment.attempts if a.provider == followup.provider]
        reference = taken[-1].idempotency_key if taken else followup.order_id
        captured_reference = None
        if followup.kind is FollowUpKind.REFUND:
            captures = [
                f
                for f in await self.of_payment(followup.order_id)
                if f.kind is FollowUpKind.CAPTURE and f.status in _CONFIRMED_CAPTURE
            ]
            captured_reference = captures[-1].provider_reference if captures else None
        return PaymentHandle(
            reference=reference,
            order_id=payment.order_id,
            method=payment.method,
            amount=payment.amount,
            provider_reference=payment.provider_reference,
            captured_reference=captured_reference,
        )

    def _fresh_key(self, followup: FollowUp, adapter: Adapter, tries: int) -> str:
        """A new key for a follow-up whose key the provider spent on a saved error, known not
        done: the follow-up's own key with the calls so far, so each one is new and none can
        be another follow-up's (they have one part fewer)."""
        subject = followup.order_id or f"mandate-{followup.mandate_id}"
        number = followup.followup_id.rsplit("/", 1)[-1]
        return derive_key(
            self._settings.key_namespace,
            subject,
            followup.kind.value,
            number,
            f"resend{tries}",
            max_length=adapter.idempotency_key_max_length,
        )

    def _key_maker(
        self, subject: str, kind: FollowUpKind, provider: str | None
    ) -> Callable[[int], str]:
        adapter = self._adapters.get(provider) if provider else None
        max_length = adapter.idempotency_key_max_length if adapter else 255
        namespace = self._settings.key_namespace

        def key_for(number: int) -> str:
            return derive_key(namespace, subject, kind.value, number, max_length=max_length)

        return key_for


def _done_before(refusal: ProviderReply, amount: Money | None) -> ProviderReply:
    """A refusal `_already_done` explains, read as the first call's lost confirmation: an
    amount the provider names (Stripe's `amount_received` for a capture) is held to the
    follow-up's, as any confirmation's is, so another amount awaits a person, never done."""
    confirmed = ProviderReply(
        Outcome.SUCCEEDED,
        provider_reference=refusal.provider_reference,
        provider_code=refusal.provider_code,
        http_status=refusal.http_status,
        message=refusal.message,
        amount=refusal.amount,
    )
    return check_followup_amount(confirmed, amount)


def _refuse_card_data(order_id: str | None, **fields: str | None) -> None:
    """A follow-up's reason and key reach the provider (PayPal's note to the payer, keys in
    its logs): a card number or IBAN in them is refused before anything is recorded."""
    for name, text in fields.items():
        if text is not None and (problem := card_data_problem(text)) is not None:
            raise FollowUpNotAllowedError(f"{name} {problem}", order_id=order_id)
