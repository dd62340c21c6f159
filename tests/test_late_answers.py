"""An answer that comes after the payment's deadline, from a provider that cannot give it
again (no replay by key, no search that would find it): the call is read to its end and the
reference it brings is kept on the attempt, so reconcile asks the provider by it, instead of
leaving the payment pending until a search could prove anything (a bank transfer's: days).
"""

from __future__ import annotations

import asyncio

from pydantic import SecretStr

from payrouter import (
    BankTransferSource,
    Money,
    PaymentRequest,
    PaymentStatus,
    Router,
    RouterSettings,
)
from payrouter._paying import _late
from payrouter.provider import Charge, Outcome, ProviderReply, Resolution
from payrouter.testing import Behavior, SimulatedAdapter, SimulatedProvider

# Found by its own reference only, like a Berlin Group bank's payment initiation (PIS):
# no idempotent replay, and no search that shows an initiation the customer never authorised.
_BY_REFERENCE_ONLY = Resolution(lookup=True)


class GatedAdapter(SimulatedAdapter):
    """The provider takes the request at once and answers only when the test opens the gate."""

    def __init__(self, provider: SimulatedProvider, resolution: Resolution) -> None:
        super().__init__(provider, resolution=resolution)
        self.gate = asyncio.Event()
        self.cancelled = False

    async def pay(self, charge: Charge, *, idempotency_key: str) -> ProviderReply:
        reply = await super().pay(charge, idempotency_key=idempotency_key)
        try:
            await self.gate.wait()
        except asyncio.CancelledError:
            self.cancelled = True
            raise
        return reply


def bank_transfer(order_id: str) -> PaymentRequest:
    return PaymentRequest(
        order_id=order_id,
        amount=Money.of("10.00", "EUR"),
        sources=[BankTransferSource(iban=SecretStr("DE89370400440532013000"))],
        customer_country="DE",
    )


def gated_bank() -> GatedAdapter:
    bank = SimulatedProvider("bank")
    bank.script(Behavior.requires_action())  # initiated: awaiting the customer's SCA
    return GatedAdapter(bank, _BY_REFERENCE_ONLY)


_SHORT = RouterSettings(deadline_seconds=0.4, lookup_tries=1)


async def test_a_late_answer_gives_reconcile_the_reference_to_settle_the_payment_by() -> None:
    """Cut off by its deadline, the payment is pending for the checkout; the answer arrives
    later, its reference is kept, and reconcile learns the payment's true state by it."""
    adapter = gated_bank()
    async with Router([adapter], ledger="sqlite://", hooks=(), settings=_SHORT) as router:
        first = await router.pay(bank_transfer("order-1"))
        assert first.status is PaymentStatus.PENDING
        assert first.attempts[0].outcome is Outcome.UNKNOWN
        adapter.gate.set()  # the provider's answer arrives after the checkout's deadline
        await asyncio.gather(*_late._READERS.get(router._ledger, ()))
        kept = await router.lookup("order-1")
        report = await router.reconcile()
        settled = await router.lookup("order-1")

    assert kept is not None
    assert kept.attempts[0].provider_reference is not None
    assert kept.attempts[0].outcome is Outcome.UNKNOWN  # still for reconcile to conclude
    assert settled is not None
    assert settled.status is PaymentStatus.REQUIRES_ACTION
    assert report.still_open == ("order-1",)
    assert report.open[0].reason == "awaiting the customer's approval at bank"


async def test_a_call_still_running_when_the_router_closes_is_cancelled() -> None:
    """Nothing outlives the router: a call past its deadline that has not answered is
    cancelled when the router closes, and its attempt stays unknown for reconcile."""
    adapter = gated_bank()
    async with Router([adapter], ledger="sqlite://", hooks=(), settings=_SHORT) as router:
        first = await router.pay(bank_transfer("order-2"))
        assert first.status is PaymentStatus.PENDING

    assert adapter.cancelled
