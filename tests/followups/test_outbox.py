"""Rule 4: follow-ups stay home. They go to the provider that took the payment, wait in the
ledger's outbox while it is down, and complete once it answers: once, whatever happened."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from payrouter import (
    FollowUp,
    FollowUpKind,
    FollowUpNotAllowedError,
    FollowUpRefusedError,
    FollowUpStatus,
    Mandate,
    PaymentMethod,
)
from payrouter._ledger import _followup_ops as outbox
from payrouter.instrumentation import Event, FollowUpFinished
from payrouter.provider import FailureKind
from payrouter.testing import Behavior, SimulatedAdapter, SimulatedProvider

from .kit import eur, paid, router, simulated


async def test_a_refund_goes_to_the_provider_that_took_the_payment_after_a_failover() -> None:
    first, second = simulated("card_a", "card_b")
    first.provider.script(Behavior.unavailable())  # the payment fails over to card_b
    async with router([first, second]) as payments:
        payment = await paid(payments)
        first.provider.followup_default = Behavior.succeed()
        refund = await payments.refund(payment)

        assert payment.provider == refund.provider == "card_b"
        assert first.provider.followup_calls == 0
        assert [e.operation for e in second.provider.followups()] == ["refund"]


async def test_a_refund_queued_during_an_outage_completes_when_the_provider_recovers() -> None:
    (adapter,) = simulated("card_a")
    async with router([adapter]) as payments:
        payment = await paid(payments)
        adapter.provider.followup_default = Behavior.unavailable()

        queued = await payments.refund(payment, eur("4.00"))
        assert queued.status is FollowUpStatus.QUEUED
        assert queued.failure_kind is FailureKind.PROVIDER_DOWN  # its last answer, kept
        assert (await payments.read_outbox_stats()).depth == 1
        assert await payments.process_outbox() != []  # still down: tried, still queued
        assert adapter.provider.followups() == []

        adapter.provider.followup_default = Behavior.succeed()
        (done,) = await payments.process_outbox()

        assert done.followup_id == queued.followup_id
        assert done.status is FollowUpStatus.SUCCEEDED
        assert done.tries > queued.tries
        assert [e.amount_minor for e in adapter.provider.followups()] == [400]
        assert payments.outbox_stats().depth == 0
        assert await payments.process_outbox() == []


async def test_a_lost_reply_is_resent_with_the_same_key_and_refunds_once() -> None:
    (adapter,) = simulated("card_a")
    async with router([adapter]) as payments:
        payment = await paid(payments)
        adapter.provider.script_followups(
            *[Behavior.timeout_after_charging()] * 3  # every try's reply is lost
        )
        unsure = await payments.refund(payment)
        assert unsure.status is FollowUpStatus.QUEUED
        assert unsure.failure_kind is FailureKind.UNKNOWN_OUTCOME

        (done,) = await payments.process_outbox()

        assert done.status is FollowUpStatus.SUCCEEDED
        assert done.idempotency_key == unsure.idempotency_key
        assert len(adapter.provider.followups()) == 1  # the provider refunded once


async def test_a_definite_refusal_is_raised_kept_and_never_retried() -> None:
    events: list[Event] = []
    (adapter,) = simulated("card_a")
    async with router([adapter], events=events) as payments:
        payment = await paid(payments)
        adapter.provider.script_followups(Behavior.invalid())

        with pytest.raises(FollowUpRefusedError, match="refused refund") as refused:
            await payments.refund(payment)
        calls = adapter.provider.followup_calls
        assert await payments.process_outbox() == []
        (recorded,) = await payments.followups(payment)
        stats = await payments.read_outbox_stats()

    assert refused.value.followup.failure_kind is FailureKind.INVALID_REQUEST
    assert recorded.status is FollowUpStatus.REFUSED
    assert adapter.provider.followup_calls == calls
    assert stats.refused == 1
    finished = [e for e in events if isinstance(e, FollowUpFinished)]
    assert [(e.status, e.alert) for e in finished] == [("refused", True)]


async def test_a_refused_refund_frees_its_amount_for_another_try() -> None:
    (adapter,) = simulated("card_a")
    async with router([adapter]) as payments:
        payment = await paid(payments)
        adapter.provider.script_followups(Behavior.invalid())
        with pytest.raises(FollowUpRefusedError):
            await payments.refund(payment)
        again = await payments.refund(payment)

    assert again.status is FollowUpStatus.SUCCEEDED
    assert again.followup_id == "order-1/refund/2"
    assert again.amount == eur("10.00")


async def test_an_open_breaker_keeps_the_follow_up_queued_without_a_call() -> None:
    (adapter,) = simulated("card_a")
    async with router([adapter]) as payments:
        payment = await paid(payments)
        for _ in range(5):  # open the breaker
            payments._board._breaker("card_a", PaymentMethod.CARD).open()
        queued = await payments.refund(payment)

        assert queued.status is FollowUpStatus.QUEUED
        assert queued.provider_code == "breaker_open"
        assert queued.tries == 0
        assert adapter.provider.followup_calls == 0


async def test_the_merchants_key_returns_the_same_follow_up_instead_of_a_second_one() -> None:
    (adapter,) = simulated("card_a")
    async with router([adapter]) as payments:
        payment = await paid(payments)
        first = await payments.refund(payment, eur("3.00"), key="refund-req-7")
        again = await payments.refund(payment, eur("3.00"), key="refund-req-7")
        with pytest.raises(Exception, match="use a new key"):
            await payments.refund(payment, eur("4.00"), key="refund-req-7")
        assert len(adapter.provider.followups()) == 1

    assert again.followup_id == first.followup_id


async def test_a_follow_up_left_by_a_crashed_sender_is_sent_after_its_lease() -> None:
    (adapter,) = simulated("card_a")
    async with router([adapter]) as payments:
        payment = await paid(payments)
        adapter.provider.followup_default = Behavior.unavailable()
        queued = await payments.refund(payment)
        # Another worker took it and died mid-call: its lease ran out at once.
        taken = await outbox.lease(payments._ledger, queued.followup_id, owner="dead", seconds=0)
        assert taken is not None
        assert taken.status is FollowUpStatus.SENDING
        adapter.provider.followup_default = Behavior.succeed()

        (done,) = await payments.process_outbox()

        assert done.status is FollowUpStatus.SUCCEEDED


async def test_a_sender_whose_lease_ran_out_never_writes_over_the_answer_written_since() -> None:
    """A worker's call hung past its lease; another worker took the follow-up and the provider
    confirmed it. The first worker's late answer (its provider was down for it) is not
    written over that confirmation."""
    (adapter,) = simulated("card_a")
    async with router([adapter]) as payments:
        payment = await paid(payments)
        adapter.provider.followup_default = Behavior.unavailable()
        queued = await payments.refund(payment)
        slow = await outbox.lease(payments._ledger, queued.followup_id, owner="slow", seconds=0)
        assert slow is not None
        adapter.provider.followup_default = Behavior.succeed()
        (done,) = await payments.process_outbox()
        late = await outbox.finish(
            payments._ledger,
            followup_id=queued.followup_id,
            status=FollowUpStatus.QUEUED,
            tries=slow.tries + 1,
            failure_kind=FailureKind.PROVIDER_DOWN,
            owner="slow",
        )
        (kept,) = await payments.followups(payment.order_id)

    assert done.status is FollowUpStatus.SUCCEEDED
    assert late.status is FollowUpStatus.SUCCEEDED
    assert kept.status is FollowUpStatus.SUCCEEDED


async def test_a_mandate_is_cancelled_at_its_own_provider_once() -> None:
    first, second = simulated("card_a", "card_b")
    mandate = Mandate(provider="card_b", mandate_id="pm_saved_1", method=PaymentMethod.CARD)
    async with router([first, second]) as payments:
        second.provider.followup_default = Behavior.overloaded()
        queued = await payments.cancel_mandate(mandate)
        assert queued.status is FollowUpStatus.QUEUED

        second.provider.followup_default = Behavior.succeed()
        (done,) = await payments.process_outbox()
        again = await payments.cancel_mandate(mandate)

        assert done.kind is FollowUpKind.CANCEL_MANDATE
        assert done.status is again.status is FollowUpStatus.SUCCEEDED
        assert again.followup_id == queued.followup_id
        assert [e.subject for e in second.provider.followups()] == ["pm_saved_1"]
        assert first.provider.followup_calls == 0


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.peer("postgres"))])
def ledger_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'ledger.db'}"
    url: str = request.getfixturevalue("postgres_url")
    return url


async def test_two_routers_refunding_at_once_are_held_to_the_captured_amount(
    ledger_url: str, tmp_path: Path
) -> None:
    books = tmp_path / "card_a-books.db"  # one provider, seen by both routers
    one_adapter = SimulatedAdapter(SimulatedProvider("card_a", books_path=books))
    other_adapter = SimulatedAdapter(SimulatedProvider("card_a", books_path=books))
    async with (
        router([one_adapter], ledger=ledger_url) as one,
        router([other_adapter], ledger=ledger_url) as other,
    ):
        payment = await paid(one)
        for _ in range(5):
            results = await asyncio.gather(
                one.refund(payment, eur("1.50")),
                other.refund(payment, eur("1.50")),
                return_exceptions=True,
            )
            assert all(isinstance(r, FollowUp | FollowUpNotAllowedError) for r in results)
        refunded = sum(e.amount_minor or 0 for e in one_adapter.provider.followups())
        recorded = await one.followups(payment)

    assert refunded == 900  # six refunds of 1.50 fit in 10.00, a seventh does not
    assert sum(f.amount.minor_units for f in recorded if f.amount) == 900
