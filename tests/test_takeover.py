"""A killed worker never blocks its orders: `pay` on an order whose lease expired resolves the
open attempt at its own provider, then answers or pays on."""

from __future__ import annotations

import asyncio
from pathlib import Path

from pydantic import SecretStr

from payrouter import (
    CardSource,
    Money,
    PaymentMethod,
    PaymentRequest,
    PaymentStatus,
    Router,
    RouterSettings,
)
from payrouter._ledger import AttemptRow, SqlLedger
from payrouter._paying._keys import derive_key
from payrouter.provider import Charge, PaymentHandle, ProviderReply, Resolution
from payrouter.testing import SimulatedAdapter, SimulatedProvider

ORDER = "order-taken-over"


def request() -> PaymentRequest:
    return PaymentRequest(
        order_id=ORDER,
        amount=Money.of("10.00", "EUR"),
        sources=[CardSource(token=SecretStr("pm_card_visa"))],
        customer_country="DE",
    )


async def crashed_worker(url: str, adapter: SimulatedAdapter, *, charged: bool) -> str:
    """What a worker killed mid-call leaves: the claim, its lease run out, an attempt row
    without an outcome, and (if `charged`) the provider's charge."""
    key = derive_key("payrouter", ORDER, 1, max_length=adapter.idempotency_key_max_length)
    ledger = SqlLedger(url)
    await ledger.open()
    paid = request()
    await ledger.claim(ORDER, paid.fingerprint(), paid.amount, "dead-worker", 0.001)
    await ledger.record_attempt(AttemptRow(ORDER, 1, adapter.name, PaymentMethod.CARD, key))
    await ledger.close()
    if charged:
        charge = Charge(key, ORDER, paid.amount, paid.sources[0], "DE")  # type: ignore[arg-type]
        await adapter.pay(charge, idempotency_key=key)
    return key


def router(url: str, adapter: SimulatedAdapter) -> Router:
    settings = RouterSettings(in_progress_wait_seconds=0, lookup_tries=1)
    return Router([adapter], ledger=url, hooks=(), settings=settings)


async def test_pay_takes_over_an_expired_lease_and_answers_the_providers_outcome(
    tmp_path: Path,
) -> None:
    """The dead worker's charge went through: the retry answers succeeded, charging once."""
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    adapter = SimulatedAdapter(SimulatedProvider("card_a"))
    async with router(url, adapter) as payments:
        key = await crashed_worker(url, adapter, charged=True)
        result = await payments.pay(request())
        (charge,) = adapter.provider.charges(ORDER)
    assert result.status is PaymentStatus.SUCCEEDED
    assert charge.reference == key
    assert result.provider_reference == charge.provider_reference


async def test_pay_takes_over_and_pays_on_when_nothing_moved(tmp_path: Path) -> None:
    """The dead worker's request never arrived (absence proven): the retry pays, once."""
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    adapter = SimulatedAdapter(
        SimulatedProvider("card_a"), resolution=Resolution(lookup=True, search_lag_seconds=0)
    )
    async with router(url, adapter) as payments:
        await crashed_worker(url, adapter, charged=False)
        result = await payments.pay(request())
        charges = adapter.provider.charges(ORDER)
    assert result.status is PaymentStatus.SUCCEEDED
    assert [a.number for a in result.attempts] == [1, 2]
    assert len(charges) == 1


async def test_pay_after_takeover_of_an_unresolvable_attempt_answers_pending(
    tmp_path: Path,
) -> None:
    """Nothing can tell yet (the search may lag): pending, never a second charge."""
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    adapter = SimulatedAdapter(SimulatedProvider("card_a"))
    async with router(url, adapter) as payments:
        await crashed_worker(url, adapter, charged=False)
        result = await payments.pay(request())
        charges = adapter.provider.charges(ORDER)
    assert result.status is PaymentStatus.PENDING
    assert charges == []


def test_lease_follows_the_payment_deadline() -> None:
    """Without a lease setting, a crashed payment is taken over soon after its deadline."""
    assert RouterSettings(deadline_seconds=5).lease_seconds == 10
    assert RouterSettings().lease_seconds == 2 * RouterSettings().deadline_seconds
    assert RouterSettings(deadline_seconds=5, lease_seconds=60).lease_seconds == 60


class SilentLookups(SimulatedAdapter):
    """A provider whose lookups never answer."""

    async def lookup(self, handle: PaymentHandle) -> ProviderReply:
        await asyncio.sleep(3600)
        raise AssertionError("unreachable")


async def test_a_takeover_answers_within_the_retrying_pays_deadline(tmp_path: Path) -> None:
    """The provider cannot be asked: the retry answers pending at its deadline, not after the
    30 s a background reconcile allows each call."""
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    adapter = SilentLookups(SimulatedProvider("card_a"))
    settings = RouterSettings(deadline_seconds=0.5, in_progress_wait_seconds=0, lookup_tries=1)
    async with Router([adapter], ledger=url, hooks=(), settings=settings) as payments:
        await crashed_worker(url, adapter, charged=False)
        async with asyncio.timeout(25):  # far below the 30 s per call it would otherwise take
            result = await payments.pay(request())
    assert result.status is PaymentStatus.PENDING
