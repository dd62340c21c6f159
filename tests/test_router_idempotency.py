"""Rule 2: one order id, at most one charge, across calls, tasks, workers and retries."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from payrouter import (
    AllProvidersUnavailableError,
    CardSource,
    IdempotencyConflictError,
    Money,
    PaymentInProgressError,
    PaymentMethod,
    PaymentRequest,
    PaymentStatus,
    Router,
    RouterSettings,
    WalletSource,
)
from payrouter._ledger import PaymentUpdate, SqlLedger
from payrouter._paying._keys import derive_key
from payrouter.provider import FailureKind
from payrouter.testing import Behavior, SimulatedAdapter, SimulatedProvider

CARD = PaymentMethod.CARD


def provider(name: str) -> SimulatedAdapter:
    return SimulatedAdapter(SimulatedProvider(name))


def request(order_id: str = "order-1", **changes: Any) -> PaymentRequest:
    fields: dict[str, Any] = {
        "order_id": order_id,
        "amount": Money.of("10.00", "EUR"),
        "sources": [CardSource(token=SecretStr("pm_card_visa"))],
        "customer_country": "DE",
        "customer_id": "cus_1",
    }
    fields.update(changes)
    return PaymentRequest(**fields)


def router(
    adapters: Sequence[SimulatedAdapter],
    *,
    ledger: str = "sqlite://",
    settings: RouterSettings | None = None,
) -> Router:
    return Router(adapters, ledger=ledger, hooks=(), settings=settings)


def charges(*adapters: SimulatedAdapter, order_id: str = "order-1") -> int:
    return sum(len(adapter.provider.charges(order_id)) for adapter in adapters)


async def test_second_pay_returns_the_first_result_without_calling_a_provider() -> None:
    """Paying the same order again replays the stored result; no provider hears of it."""
    first = provider("card_a")
    async with router([first]) as payments:
        original = await payments.pay(request())
        again = await payments.pay(request())
        assert first.provider.calls == 1
        assert again == original
        assert charges(first) == 1


async def test_second_pay_of_a_declined_order_stays_declined() -> None:
    """A decline is final for the order id: paying again does not ask the provider again."""
    first = provider("card_a")
    first.provider.script(Behavior.decline_with(FailureKind.INSUFFICIENT_FUNDS))
    async with router([first]) as payments:
        original = await payments.pay(request())
        again = await payments.pay(request())
        assert again.status is PaymentStatus.DECLINED
        assert again == original
        assert first.provider.calls == 1


@pytest.mark.parametrize(
    "changes",
    [
        {"amount": Money.of("10.01", "EUR")},
        {"amount": Money.of("10.00", "USD")},
        {"customer_id": "cus_2"},
        {"sources": [CardSource(token=SecretStr("pm_card_mastercard"))]},
        {"sources": [WalletSource(wallet="paypal")]},
    ],
    ids=["amount", "currency", "customer", "card", "method"],
)
async def test_same_order_id_with_other_money_fields_is_a_conflict(
    changes: dict[str, Any],
) -> None:
    """Reusing an order id for a different payment raises instead of returning or charging."""
    first = provider("card_a")
    async with router([first]) as payments:
        await payments.pay(request())
        with pytest.raises(IdempotencyConflictError, match="use a new order id") as caught:
            await payments.pay(request(**changes))
        assert caught.value.order_id == "order-1"
        assert first.provider.calls == 1
        assert charges(first) == 1


async def test_concurrent_pays_of_one_order_charge_once_and_share_the_result() -> None:
    """Ten concurrent pays of one order: one charge in the books, ten identical results."""
    first, second = provider("card_a"), provider("card_b")
    first.provider.default = Behavior.succeed(delay=0.01)  # the first call is in flight
    async with router([first, second]) as payments:
        results = await asyncio.gather(*(payments.pay(request()) for _ in range(10)))
        assert charges(first, second) == 1
        assert first.provider.calls == 1
        assert second.provider.calls == 0
        assert all(result == results[0] for result in results)
        assert results[0].status is PaymentStatus.SUCCEEDED


async def test_every_attempt_has_its_own_key_derived_from_order_and_number() -> None:
    """Attempt n of order o carries key 'payrouter:o:n'; no two attempts share a key."""
    adapters = [provider(name) for name in ("card_a", "card_b", "card_c")]
    for busy in adapters[:2]:
        busy.provider.default = Behavior.unavailable()
    async with router(adapters) as payments:
        result = await payments.pay(request())
        assert [a.idempotency_key for a in result.attempts] == [
            "payrouter:order-1:1",
            "payrouter:order-1:2",
            "payrouter:order-1:3",
        ]
        assert charges(*adapters) == 1


async def test_key_namespace_prefixes_every_key() -> None:
    """Two environments sharing a provider account use different key namespaces."""
    first = provider("card_a")
    async with router([first], settings=RouterSettings(key_namespace="staging")) as payments:
        result = await payments.pay(request())
        assert result.attempts[0].idempotency_key == "staging:order-1:1"


def test_derived_key_is_readable_when_it_fits() -> None:
    """A key that fits reads namespace:order:attempt, for support engineers."""
    assert derive_key("shop", "order-17", 2, max_length=64) == "shop:order-17:2"


def test_derived_key_is_hashed_within_the_limit_when_too_long() -> None:
    """A 200-character order id against a 64-character limit gives a short, unique, stable key."""
    order_id = "o" * 200
    first = derive_key("payrouter", order_id, 1, max_length=64)
    assert len(first) <= 64
    assert first.endswith(":1")
    assert order_id not in first
    assert first == derive_key("payrouter", order_id, 1, max_length=64)
    assert derive_key("payrouter", order_id, 2, max_length=64) != first
    assert derive_key("payrouter", "o" * 199 + "p", 1, max_length=64) != first
    assert derive_key("staging", order_id, 1, max_length=64) != first


def test_derived_key_refuses_a_limit_with_no_room_for_uniqueness() -> None:
    """A limit too small for a unique hash is a configuration error, not a collision."""
    with pytest.raises(ValueError, match="no room"):
        derive_key("payrouter", "o" * 200, 1, max_length=10)


class ShortKeyAdapter(SimulatedAdapter):
    """A provider accepting idempotency keys of at most 64 characters."""

    idempotency_key_max_length = 64


async def test_router_fits_keys_to_the_providers_limit() -> None:
    """The router sends each provider keys within its own limit, even for long order ids."""
    order_id = "order-" + "x" * 194
    short = ShortKeyAdapter(SimulatedProvider("short"))
    async with router([short]) as payments:
        result = await payments.pay(request(order_id))
        (attempt,) = result.attempts
        assert len(attempt.idempotency_key) <= 64
        assert attempt.idempotency_key == derive_key("payrouter", order_id, 1, max_length=64)
        (charge,) = short.provider.charges(order_id)
        assert charge.reference == attempt.idempotency_key


async def test_failed_payment_can_be_paid_again_with_new_attempt_keys() -> None:
    """After 'failed' (no money moved) the same order id pays again, numbering on with new keys."""
    first, second = provider("card_a"), provider("card_b")
    for down in (first, second):
        down.provider.default = Behavior.unavailable()
    async with router([first, second]) as payments:
        with pytest.raises(AllProvidersUnavailableError):
            await payments.pay(request())
        failed = await payments.lookup("order-1")
        assert failed is not None
        assert failed.status is PaymentStatus.FAILED
        second.provider.default = Behavior.succeed()
        result = await payments.pay(request())
        assert result.status is PaymentStatus.SUCCEEDED
        assert result.provider == "card_b"
        numbers_and_keys = [(a.number, a.idempotency_key) for a in result.attempts]
        assert numbers_and_keys == [
            (1, "payrouter:order-1:1"),
            (2, "payrouter:order-1:2"),
            (3, "payrouter:order-1:3"),
            (4, "payrouter:order-1:4"),
        ]
        assert charges(first, second) == 1


async def test_payment_held_by_another_worker_raises_in_progress_after_waiting(
    tmp_path: Path,
) -> None:
    """A live claim of another worker makes pay wait, then raise; nothing is sent."""
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    payment = request()
    first = provider("card_a")
    settings = RouterSettings(in_progress_wait_seconds=0.05)
    async with router([first], ledger=url, settings=settings) as payments:
        other = SqlLedger(url)
        await other.open()
        try:
            await other.claim(
                payment.order_id, payment.fingerprint(), payment.amount, "other-worker", 600
            )
            with pytest.raises(PaymentInProgressError) as caught:
                await payments.pay(payment)
            assert caught.value.order_id == "order-1"
            assert first.provider.calls == 0
        finally:
            await other.close()


async def test_waiting_pay_returns_the_other_workers_result_once_it_finishes(
    tmp_path: Path,
) -> None:
    """When the other worker finishes within the wait, pay returns its result and sends nothing."""
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    payment = request()
    first = provider("card_a")
    async with router([first], ledger=url) as payments:
        other = SqlLedger(url)
        await other.open()
        try:
            await other.claim(
                payment.order_id, payment.fingerprint(), payment.amount, "other-worker", 600
            )
            waiting = asyncio.create_task(payments.pay(payment))
            await asyncio.sleep(0)  # let pay find the claim and start waiting
            assert not waiting.done()
            update = PaymentUpdate(
                PaymentStatus.SUCCEEDED, provider="card_a", method=CARD, provider_reference="ref"
            )
            await other.finish_payment(payment.order_id, update)
            result = await waiting
            assert result.status is PaymentStatus.SUCCEEDED
            assert result.provider_reference == "ref"
            assert first.provider.calls == 0
        finally:
            await other.close()


async def test_concurrent_duplicates_of_a_failing_payment_all_raise() -> None:
    """When no provider can take the order, every concurrent caller gets the error, not a result.

    `pay` returns only succeeded, declined, pending or requires_action; `failed` is an error.
    """
    first = provider("card_a")
    first.provider.default = dataclasses.replace(Behavior.unavailable(), delay=0.01)
    async with router([first]) as payments:
        outcomes = await asyncio.gather(
            *(payments.pay(request()) for _ in range(3)), return_exceptions=True
        )
        assert [type(outcome) for outcome in outcomes] == [AllProvidersUnavailableError] * 3
        assert charges(first) == 0
