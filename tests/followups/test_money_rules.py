"""Money rules hold before any call: nothing that breaks one is recorded or sent."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from payrouter import (
    CardSource,
    FollowUpNotAllowedError,
    FollowUpStatus,
    Money,
    PaymentRequest,
    PaymentStatus,
)
from payrouter.testing import Behavior

from .kit import eur, paid, router, simulated


async def test_partial_refunds_add_up_and_never_exceed_what_was_captured() -> None:
    (adapter,) = simulated("card_a")
    async with router([adapter]) as payments:
        payment = await paid(payments, amount="10.00")
        first = await payments.refund(payment, eur("3.00"))
        second = await payments.refund(payment, eur("5.00"))
        with pytest.raises(FollowUpNotAllowedError, match=r"2\.00 EUR of the 10\.00 EUR captured"):
            await payments.refund(payment, eur("2.01"))
        rest = await payments.refund(payment)  # what is left, by default
        with pytest.raises(FollowUpNotAllowedError, match="fully refunded"):
            await payments.refund(payment, eur("0.01"))
        refunds = adapter.provider.followups(payment.provider_reference)

    assert [f.status for f in (first, second, rest)] == [FollowUpStatus.SUCCEEDED] * 3
    assert rest.amount == eur("2.00")
    assert [entry.amount_minor for entry in refunds] == [300, 500, 200]


async def test_a_refused_rule_records_nothing_and_calls_nobody() -> None:
    (adapter,) = simulated("card_a")
    async with router([adapter]) as payments:
        payment = await paid(payments)
        with pytest.raises(FollowUpNotAllowedError):
            await payments.refund(payment, eur("10.01"))
        with pytest.raises(FollowUpNotAllowedError, match="in EUR"):
            await payments.refund(payment, Money.of("1.00", "USD"))
        assert await payments.followups(payment) == []
    assert adapter.provider.followup_calls == 0


async def test_capture_never_exceeds_the_authorization_and_happens_once() -> None:
    (adapter,) = simulated("card_a")
    async with router([adapter]) as payments:
        held = await paid(payments, amount="10.00", capture=False)
        with pytest.raises(FollowUpNotAllowedError, match=r"only 10\.00 EUR was authorized"):
            await payments.capture(held, eur("10.01"))
        captured = await payments.capture(held, eur("8.00"))
        with pytest.raises(FollowUpNotAllowedError, match="already captured"):
            await payments.capture(held, eur("1.00"))
        with pytest.raises(FollowUpNotAllowedError, match=r"8\.00 EUR captured"):
            await payments.refund(held, eur("8.01"))
        refund = await payments.refund(held)

    assert captured.status is FollowUpStatus.SUCCEEDED
    assert refund.amount == eur("8.00")


async def test_void_only_releases_an_uncaptured_authorization() -> None:
    (adapter,) = simulated("card_a")
    async with router([adapter]) as payments:
        captured_at_once = await paid(payments, "order-captured")
        with pytest.raises(FollowUpNotAllowedError, match="refund it instead of voiding"):
            await payments.void(captured_at_once)

        held = await paid(payments, "order-held", capture=False)
        with pytest.raises(FollowUpNotAllowedError, match="void it to release"):
            await payments.refund(held)
        voided = await payments.void(held)
        with pytest.raises(FollowUpNotAllowedError, match="was voided"):
            await payments.capture(held)

        captured_later = await paid(payments, "order-later", capture=False)
        await payments.capture(captured_later)
        with pytest.raises(FollowUpNotAllowedError, match="is captured"):
            await payments.void(captured_later)
        assert adapter.provider.charges("order-held") == []  # the hold is released

    assert voided.status is FollowUpStatus.SUCCEEDED


@pytest.mark.parametrize(
    ("behavior", "status", "message"),
    [
        (Behavior.pending(), PaymentStatus.PENDING, "is pending: whether money moved"),
        (Behavior.requires_action(), PaymentStatus.REQUIRES_ACTION, "no money has been taken"),
    ],
)
async def test_nothing_follows_a_payment_whose_money_has_not_moved_for_sure(
    behavior: Behavior, status: PaymentStatus, message: str
) -> None:
    (adapter,) = simulated("card_a")
    adapter.provider.script(behavior)
    async with router([adapter]) as payments:
        result = await payments.pay(
            PaymentRequest(
                order_id="order-unsure",
                amount=eur("10.00"),
                sources=[CardSource(token=SecretStr("pm_card_visa"))],
                customer_country="DE",
            )
        )
        assert result.status is status
        for follow_up in (payments.refund, payments.capture, payments.void):
            with pytest.raises(FollowUpNotAllowedError, match=message):
                await follow_up(result)
    assert adapter.provider.followup_calls == 0


async def test_an_unknown_order_id_is_named_in_the_error() -> None:
    async with router(simulated("card_a")) as payments:
        with pytest.raises(FollowUpNotAllowedError, match="no payment 'nope' in the ledger"):
            await payments.refund("nope")
