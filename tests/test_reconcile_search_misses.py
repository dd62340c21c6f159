"""The ladder concludes absence only from a search made after the last call that could have
moved money: a replay whose answer is lost may have performed the charge just now."""

from __future__ import annotations

from pathlib import Path

from payrouter import PaymentStatus
from payrouter.provider import Outcome
from tests.test_resolution import (
    ScriptedStripe,
    age_attempts,
    found,
    lost,
    request,
    stripe_router,
)


async def test_a_replay_whose_answer_is_lost_keeps_a_search_miss_from_concluding(
    tmp_path: Path,
) -> None:
    """Past the search lag, within the key window: the replay was sent and its answer lost,
    so the earlier miss proves nothing; the payment stays pending, never failed."""
    stripe = ScriptedStripe()
    database = tmp_path / "ledger.db"
    stripe.on("POST", "/v1/payment_intents", lost)
    stripe.on("GET", "/v1/payment_intents/search", found())
    ledger = f"sqlite:///{database}"
    async with stripe_router(stripe, ledger, replay_max_age_seconds=86400) as router:
        assert (await router.pay(request())).status is PaymentStatus.PENDING
        sent_by_pay = len(stripe.sent("POST", "/v1/payment_intents"))
        age_attempts(database, 3700)
        await router.reconcile()
        result = await router.lookup("order-1")
    assert len(stripe.sent("POST", "/v1/payment_intents")) == sent_by_pay + 1  # the replay
    assert result is not None
    assert result.status is PaymentStatus.PENDING
    (attempt,) = result.attempts
    assert attempt.outcome is Outcome.UNKNOWN


async def test_a_miss_within_the_lag_of_an_earlier_passes_lost_replay_concludes_nothing(
    tmp_path: Path,
) -> None:
    """One pass replays at 3500 s and loses the answer (Stripe may charge then); the next, at
    3700 s, is past the replay cap and the lag since the start, but not since that replay."""
    stripe = ScriptedStripe()
    database = tmp_path / "ledger.db"
    stripe.on("POST", "/v1/payment_intents", lost)
    stripe.on("GET", "/v1/payment_intents/search", found())
    async with stripe_router(stripe, f"sqlite:///{database}") as router:
        assert (await router.pay(request())).status is PaymentStatus.PENDING
        sent_by_pay = len(stripe.sent("POST", "/v1/payment_intents"))
        age_attempts(database, 3500)
        await router.reconcile()
        assert len(stripe.sent("POST", "/v1/payment_intents")) == sent_by_pay + 1
        age_attempts(database, 200)
        await router.reconcile()
        result = await router.lookup("order-1")
    assert result is not None
    assert result.status is PaymentStatus.PENDING
