"""`router.refresh(order_id)`: the checkout's return page asks the provider, not the ledger.

When the customer comes back from 3-D Secure, a wallet approval or a bank's SCA page, the
provider already knows the answer; a webhook may come later or never. Refresh looks up that
one payment's open attempts at their own provider, never sends a new charge.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

import httpx
from pydantic import SecretStr

from payrouter import (
    BankTransferSource,
    CardSource,
    Money,
    PaymentRequest,
    PaymentResult,
    PaymentStatus,
    Router,
    SyncRouter,
)
from payrouter._ledger import SqlLedger
from payrouter.provider import PaymentHandle, ProviderReply
from payrouter.testing import Behavior, SimulatedAdapter, SimulatedProvider
from payrouter.webhooks import Effect, WebhookEvent


def request(order_id: str, *, bank: bool = False) -> PaymentRequest:
    source = (
        BankTransferSource(iban=SecretStr("DE89370400440532013000"))
        if bank
        else CardSource(token=SecretStr("pm_card_visa"))
    )
    return PaymentRequest(
        order_id=order_id,
        amount=Money.of("10.00", "EUR"),
        sources=[source],
        customer_country="DE",
    )


async def test_a_payment_the_customer_approved_is_succeeded_when_they_return() -> None:
    card = SimulatedProvider("card")
    card.script(Behavior.requires_action())
    async with Router([SimulatedAdapter(card)], ledger="sqlite://", hooks=()) as router:
        first = await router.pay(request("order-1"))
        assert first.status is PaymentStatus.REQUIRES_ACTION
        assert first.provider_reference is not None
        card.settle(first.provider_reference)  # the customer approved at the provider

        returned = await router.refresh("order-1")
        assert len(card.charges("order-1")) == 1  # looked up, never charged again

    assert returned is not None
    assert returned.status is PaymentStatus.SUCCEEDED


async def test_a_bank_transfer_still_settling_stays_pending_until_the_bank_says_so() -> None:
    bank = SimulatedProvider("bank")
    bank.script(Behavior.pending())
    async with Router([SimulatedAdapter(bank)], ledger="sqlite://", hooks=()) as router:
        paid = await router.pay(request("order-2", bank=True))
        assert paid.provider_reference is not None
        still = await router.refresh("order-2")
        bank.settle(paid.provider_reference, succeeded=False)
        refused = await router.refresh("order-2")

    assert still is not None
    assert still.status is PaymentStatus.PENDING
    assert refused is not None
    assert refused.status is PaymentStatus.DECLINED


async def test_a_finished_payment_is_returned_as_it_is_without_asking_anyone() -> None:
    card = SimulatedProvider("card")
    async with Router([SimulatedAdapter(card)], ledger="sqlite://", hooks=()) as router:
        paid = await router.pay(request("order-3"))
        card.default = Behavior.refuse_connection()  # any call now would fail loudly
        again = await router.refresh("order-3")
        unknown = await router.refresh("order-never-paid")

    assert again == paid
    assert unknown is None


def test_the_sync_facade_refreshes_too() -> None:
    card = SimulatedProvider("card")
    card.script(Behavior.requires_action())
    with SyncRouter(Router([SimulatedAdapter(card)], ledger="sqlite://", hooks=())) as router:
        first = router.pay(request("order-4"))
        assert first.provider_reference is not None
        card.settle(first.provider_reference)
        returned = router.refresh("order-4")
    assert returned is not None
    assert returned.status is PaymentStatus.SUCCEEDED


class _CountingReads(SqlLedger):
    """A ledger that counts how often the payment is read."""

    reads = 0

    async def get(self, order_id: str) -> PaymentResult | None:
        self.reads += 1
        return await super().get(order_id)


class _LookupsCanFail(SimulatedAdapter):
    """A simulated provider whose lookups can be made to fail to connect."""

    reachable = True

    async def lookup(self, handle: PaymentHandle) -> ProviderReply:
        if not self.reachable:
            raise httpx.ConnectError("the provider cannot be reached")
        return await super().lookup(handle)


async def test_a_return_page_reads_the_payment_again_only_after_writing_what_it_learnt() -> None:
    """Once to see it is open and once under reconcile's lease; a third read only after the
    provider's answer was written to the attempt. The status write's own result is returned."""
    card = SimulatedProvider("card")
    card.script(Behavior.requires_action())
    adapter = _LookupsCanFail(card)
    ledger = _CountingReads("sqlite://")
    async with Router([adapter], ledger=ledger, hooks=()) as router:
        first = await router.pay(request("order-5"))
        assert first.provider_reference is not None
        adapter.reachable, ledger.reads = False, 0
        unanswered = await router.refresh("order-5")  # the provider could not say
        reads_unanswered = ledger.reads
        assert unanswered == await router.lookup("order-5")  # what the status write wrote
        card.settle(first.provider_reference)  # the customer approved
        adapter.reachable, ledger.reads = True, 0
        approved = await router.refresh("order-5")
        reads_answered = ledger.reads
        assert approved == await router.lookup("order-5")

    assert unanswered is not None
    assert unanswered.status is PaymentStatus.REQUIRES_ACTION
    assert reads_unanswered == 2
    assert approved is not None
    assert approved.status is PaymentStatus.SUCCEEDED
    assert reads_answered == 3


class _NotifiedWhileLookingUp(SimulatedAdapter):
    """A provider whose notification arrives while a return page's lookup is on its way,
    and whose lookup then fails to connect."""

    def __init__(self, provider: SimulatedProvider, notify: Callable[[], Awaitable[None]]) -> None:
        super().__init__(provider)
        self._notify = notify

    async def lookup(self, handle: PaymentHandle) -> ProviderReply:
        await self._notify()
        raise httpx.ConnectError("the provider cannot be reached")


async def test_a_notification_during_a_return_pages_lookup_is_not_written_over() -> None:
    """The return page's reconcile pass holds the payment's lease while it asks the provider.
    A notification that moves the payment meanwhile ends that lease: the pass, which learnt
    nothing, must not write the status it derived from the attempts (`requires_action`) over
    the notification's (`pending`), a move backwards."""
    card = SimulatedProvider("card")
    card.script(Behavior.requires_action())
    routers: list[Router] = []

    async def notify() -> None:
        await routers[0].apply_webhook(
            WebhookEvent(
                provider="card",
                event_id="evt-pending-1",
                type="payment.pending",
                provider_reference=first.provider_reference,
                our_reference=None,
                amount_minor=1000,
                currency="EUR",
                occurred_at=datetime.now(UTC),
                status=PaymentStatus.PENDING,
                effect=Effect.PAYMENT,
            )
        )

    async with Router(
        [_NotifiedWhileLookingUp(card, notify)], ledger="sqlite://", hooks=()
    ) as router:
        routers.append(router)
        first = await router.pay(request("order-6"))
        assert first.status is PaymentStatus.REQUIRES_ACTION
        returned = await router.refresh("order-6")
        stored = await router.lookup("order-6")

    assert stored is not None
    assert stored.status is PaymentStatus.PENDING
    assert returned == stored
