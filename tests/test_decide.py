"""The payment decision, row by row: what each answer means, and how a payment ends.

`decide` and `ending` are pure, so these rows need no router, ledger or clock; the router
tests (`test_router_outcomes.py`) show the same rules end to end.
"""

from __future__ import annotations

import pytest

from payrouter import CardSource, Money, PaymentStatus
from payrouter._paying._decide import Decision, Ending, Step, Tally, decide, ending
from payrouter._paying._plan import Candidate
from payrouter.provider import FailureKind, ProviderReply
from payrouter.testing import SimulatedAdapter, SimulatedProvider

K = FailureKind


def _failed(kind: FailureKind) -> ProviderReply:
    return ProviderReply.failed(kind, provider_code="x")


@pytest.mark.parametrize(
    ("reply", "fallback_on_decline", "expected"),
    [
        (ProviderReply.succeeded("ref"), True, Decision(Step.SETTLE, PaymentStatus.SUCCEEDED)),
        (ProviderReply.pending("ref"), True, Decision(Step.SETTLE, PaymentStatus.PENDING)),
        # Part of the money is held: its own state, never succeeded, never failed over.
        (
            ProviderReply.partially_authorised("ref", Money(minor_units=500, currency="EUR")),
            True,
            Decision(Step.SETTLE, PaymentStatus.PARTIALLY_AUTHORISED),
        ),
        (
            ProviderReply.requires_action("ref", "https://bank.example/3ds"),
            True,
            Decision(Step.SETTLE, PaymentStatus.REQUIRES_ACTION),
        ),
        # Unknown is never failed: the payment stays pending at this provider, never moves on.
        (ProviderReply.unknown(), True, Decision(Step.SETTLE, PaymentStatus.PENDING)),
        (_failed(K.BUSY), True, Decision(Step.FAIL_OVER)),
        (_failed(K.RATE_LIMITED), True, Decision(Step.FAIL_OVER)),
        (_failed(K.PROVIDER_DOWN), True, Decision(Step.FAIL_OVER)),
        (_failed(K.MAINTENANCE), True, Decision(Step.FAIL_OVER)),
        (_failed(K.NETWORK_BEFORE_SEND), True, Decision(Step.FAIL_OVER)),
        (_failed(K.NOT_FOUND), True, Decision(Step.FAIL_OVER)),
        (_failed(K.CREDENTIALS_REJECTED), True, Decision(Step.FAIL_OVER, alert=True)),
        (_failed(K.INSUFFICIENT_FUNDS), True, Decision(Step.NEXT_SOURCE)),
        (_failed(K.INSUFFICIENT_FUNDS), False, Decision(Step.DECLINED)),
        (_failed(K.ACCOUNT_FROZEN), True, Decision(Step.NEXT_SOURCE)),
        (_failed(K.REGION_RESTRICTED), True, Decision(Step.NEXT_SOURCE)),
        (_failed(K.AUTHENTICATION_FAILED), False, Decision(Step.DECLINED)),
        (_failed(K.CARD_DECLINED), True, Decision(Step.NEXT_SOURCE)),
        (_failed(K.INVALID_REQUEST), True, Decision(Step.FAIL_OVER, alert=True)),
    ],
)
def test_each_answer_decides_one_step(
    reply: ProviderReply, fallback_on_decline: bool, expected: Decision
) -> None:
    assert decide(reply, fallback_on_decline=fallback_on_decline) == expected


def test_every_failure_kind_has_a_step() -> None:
    """A new kind added to the taxonomy cannot fall through the decision."""
    for kind in FailureKind:
        if kind is FailureKind.UNKNOWN_OUTCOME:
            continue  # `ProviderReply.failed` turns it into an unknown outcome
        assert decide(_failed(kind), fallback_on_decline=True).step is not Step.SETTLE


def _candidate(source_index: int = 0) -> Candidate:
    adapter = SimulatedAdapter(SimulatedProvider("card_a"))
    return Candidate(adapter, CardSource(token="pm_card_visa"), source_index)


def test_a_recorded_decline_skips_its_source_and_remembers_the_reason() -> None:
    tally, reply = Tally(), _failed(K.INSUFFICIENT_FUNDS)
    tally.record(_candidate(1), reply, decide(reply, fallback_on_decline=True))
    assert tally.declined_sources == {1}
    assert tally.last_decline is not None
    assert tally.last_decline[1] is reply
    assert not tally.unavailable


def test_a_fail_over_marks_the_payment_as_having_met_an_unavailable_provider() -> None:
    tally, reply = Tally(), _failed(K.BUSY)
    tally.record(_candidate(), reply, decide(reply, fallback_on_decline=True))
    assert tally.unavailable
    assert tally.last_decline is None


def _tally(**fields: object) -> Tally:
    tally = Tally()
    for name, value in fields.items():
        setattr(tally, name, value)
    return tally


DECLINE = (_candidate(), _failed(K.CARD_DECLINED))


@pytest.mark.parametrize(
    ("tally", "attempts_before", "expected"),
    [
        # Every source declined and no provider was merely unavailable: the customer's answer.
        (_tally(made=2, last_decline=DECLINE), 0, Ending.DECLINED),
        # A decline, but another provider was busy: the decline is not the whole story.
        (_tally(made=2, last_decline=DECLINE, unavailable=True), 0, Ending.FAILED),
        # Nothing ever sent: the checkout learns no money moved and what to offer instead.
        (_tally(at_capacity=True, unavailable=True), 0, Ending.CAPACITY_EXHAUSTED),
        (_tally(unavailable=True), 0, Ending.NONE_ADMITTED),
        # An earlier call's attempt is on record: this order has been tried, so plain failed.
        (_tally(at_capacity=True, unavailable=True), 1, Ending.FAILED),
        (_tally(made=1, unavailable=True), 0, Ending.FAILED),
        (_tally(), 0, Ending.FAILED),
    ],
)
def test_a_payment_no_answer_settled_ends_by_these_rows(
    tally: Tally, attempts_before: int, expected: Ending
) -> None:
    assert ending(tally, attempts_before=attempts_before) is expected
