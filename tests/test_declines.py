"""Soft and hard declines and the networks' retry advice, as the taxonomy's tables say."""

from __future__ import annotations

from pathlib import Path

import pytest

from payrouter import CardSource, Money, PaymentRequest, PaymentStatus, Router
from payrouter._ledger._sealing import new_key
from payrouter._taxonomy import REATTEMPT_ADVICE, may_reattempt
from payrouter.provider import (
    DECLINE_TYPES,
    POLICY,
    Advice,
    DeclineType,
    FailureKind,
    Outcome,
    ProviderReply,
)
from payrouter.testing import ScriptedProvider
from payrouter_adapters.stripe import StripeAdapter


def test_every_decline_kind_has_a_decline_type() -> None:
    """Each kind the policy table calls a decline has a default type, and no other kind."""
    declines = {kind for kind, policy in POLICY.items() if policy.is_decline}
    assert set(DECLINE_TYPES) == declines


def test_every_default_decline_type_is_hard() -> None:
    """Without a provider row saying soft, a decline is hard: never reattempted."""
    assert set(DECLINE_TYPES.values()) == {DeclineType.HARD}


def test_a_decline_reply_takes_its_kinds_type() -> None:
    """An adapter that says nothing about the type gets the kind's row."""
    reply = ProviderReply.failed(FailureKind.CARD_DECLINED, provider_code="x")
    assert reply.decline is DeclineType.HARD


def test_a_decline_reply_keeps_the_type_its_adapter_gave() -> None:
    reply = ProviderReply.failed(FailureKind.CARD_DECLINED, decline=DeclineType.SOFT)
    assert reply.decline is DeclineType.SOFT


def test_a_failure_that_is_no_decline_refuses_a_decline_type() -> None:
    """A provider outage is not the card's: it fails over, it is not soft or hard."""
    with pytest.raises(ValueError, match="no decline"):
        ProviderReply.failed(FailureKind.PROVIDER_DOWN, decline=DeclineType.SOFT)
    assert ProviderReply.failed(FailureKind.PROVIDER_DOWN).decline is None


def test_an_unknown_outcome_has_no_decline_type() -> None:
    assert ProviderReply(Outcome.UNKNOWN).decline is None


def test_every_advice_has_a_reattempt_row() -> None:
    assert set(REATTEMPT_ADVICE) == set(Advice)


@pytest.mark.parametrize(
    ("decline", "advice", "allowed"),
    [
        (DeclineType.SOFT, None, True),
        (DeclineType.SOFT, Advice.TRY_AGAIN_LATER, True),
        (DeclineType.SOFT, Advice.WAIT_BEFORE_RETRY, False),
        (DeclineType.SOFT, Advice.CONFIRM_CARD_DATA, False),
        (DeclineType.SOFT, Advice.DO_NOT_TRY_AGAIN, False),
        (DeclineType.HARD, None, False),
        (DeclineType.HARD, Advice.TRY_AGAIN_LATER, False),
        (None, None, False),
    ],
)
def test_may_reattempt_rows(
    decline: DeclineType | None, advice: Advice | None, allowed: bool
) -> None:
    """Only a soft decline whose advice allows another attempt now may be reattempted."""
    assert may_reattempt(decline, advice) is allowed


async def keeps_decline_and_advice(ledger: str) -> None:
    peer = ScriptedProvider()
    stripe = StripeAdapter.from_options(
        name="stripe",
        capabilities=None,
        options={"base_url": "https://api.stripe.test", "api_key": "sk_test_x"},
        transport=peer,
    )
    error = {"type": "card_error", "code": "card_declined", "decline_code": "do_not_honor"}
    error |= {"network_advice_code": "03"}
    peer.answer(402, {"error": error})
    keys = [new_key()]  # a server ledger seals the requests a replay needs with its keys
    async with Router([stripe], ledger=ledger, hooks=(), ledger_keys=keys) as router:
        result = await router.pay(
            PaymentRequest(
                order_id="o-1",
                amount=Money.of("10.00", "EUR"),
                customer_country="DE",
                sources=(CardSource(token="pm_card_visa"),),
            )
        )
        (attempt,) = result.attempts
        assert result.status is PaymentStatus.DECLINED
        assert attempt.decline is DeclineType.SOFT
        assert attempt.advice is Advice.DO_NOT_TRY_AGAIN
        assert attempt.advice_code == "network_advice_code:03"
        assert (await router.lookup("o-1")) == result


async def test_an_attempt_keeps_its_decline_type_and_advice(tmp_path: Path) -> None:
    """The ledger records a decline's type and the network's advice with the attempt."""
    await keeps_decline_and_advice(f"sqlite:///{tmp_path}/l.db")


async def test_an_attempt_keeps_its_decline_type_and_advice_on_postgres(
    postgres_url: str,
) -> None:
    """PostgreSQL finishes an attempt and its payment in one statement: the same columns."""
    await keeps_decline_and_advice(postgres_url)
