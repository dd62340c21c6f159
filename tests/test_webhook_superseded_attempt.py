"""A decline notification for an attempt the payment failed over from declines nothing.

Attempt 1 at Stripe ended in a processing error (nothing moved) and the payment failed over
to Adyen, whose answer was lost: the payment is `pending` on attempt 2. Stripe's
`payment_intent.payment_failed` for attempt 1 arrives late. Applied to the payment, it made
it `declined`: the customer told "declined" while Adyen may have charged, the order never
reconciled again (a charge without a record), and a retry refused as already declined.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from payrouter import Money, PaymentMethod, PaymentStatus
from payrouter._ledger import AttemptOutcome, AttemptRow, PaymentUpdate, SqlLedger
from payrouter._ledger._webhook_events import apply_webhook_event
from payrouter.provider import FailureKind, Outcome
from payrouter.webhooks import Effect, WebhookEvent, WebhookResult

ORDER = "order-failed-over"


@pytest.fixture(params=["sqlite", "postgres"])
def ledger_url(tmp_path: Path, request: pytest.FixtureRequest) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/ledger.db"
    return str(request.getfixturevalue("postgres_url"))


def _stripe_declined(event_id: str, reference: str, number: int) -> WebhookEvent:
    return WebhookEvent(
        provider="stripe",
        event_id=event_id,
        type="payment_intent.payment_failed",
        provider_reference=reference,
        our_reference=f"payrouter:{ORDER}:{number}",
        amount_minor=1000,
        currency="EUR",
        occurred_at=datetime.now(UTC),
        status=PaymentStatus.DECLINED,
        effect=Effect.PAYMENT,
    )


async def _failed_over(ledger: SqlLedger, second: str) -> None:
    """Attempt 1 at Stripe failed (pi_1, nothing moved); attempt 2 at `second` unknown."""
    await ledger.claim(ORDER, "f" * 64, Money.of("10.00", "EUR"), "w#1", 60.0)
    failed = AttemptOutcome(
        Outcome.FAILED, FailureKind.PROVIDER_DOWN, "processing_error", "pi_1", None, 1, 5.0
    )
    unknown = AttemptOutcome(Outcome.UNKNOWN, None, "read_timeout", None, None, 1, 5.0)
    await ledger.record_attempt(
        AttemptRow(ORDER, 1, "stripe", PaymentMethod.CARD, f"payrouter:{ORDER}:1")
    )
    await ledger.finish_attempt(ORDER, 1, failed)
    await ledger.record_attempt(
        AttemptRow(ORDER, 2, second, PaymentMethod.CARD, f"payrouter:{ORDER}:2")
    )
    await ledger.finish_attempt(
        ORDER, 2, unknown, payment=PaymentUpdate(PaymentStatus.PENDING, provider=second)
    )


@pytest.mark.parametrize("second", ["adyen", "stripe"])
async def test_a_late_decline_of_a_failed_over_attempt_leaves_the_payment_open(
    ledger_url: str, second: str
) -> None:
    """Whether the next attempt went to another provider or to the same one (a new key)."""
    ledger = SqlLedger(ledger_url)
    await ledger.open()
    try:
        await _failed_over(ledger, second)
        receipt = await apply_webhook_event(ledger, _stripe_declined("evt_1", "pi_1", 1))
        payment = await ledger.get(ORDER)
    finally:
        await ledger.close()
    assert payment is not None
    assert payment.status is PaymentStatus.PENDING
    assert receipt.result is WebhookResult.OUT_OF_ORDER


async def test_the_decline_of_the_attempt_the_payment_stands_on_still_declines_it(
    ledger_url: str,
) -> None:
    ledger = SqlLedger(ledger_url)
    await ledger.open()
    try:
        await ledger.claim(ORDER, "f" * 64, Money.of("10.00", "EUR"), "w#1", 60.0)
        await ledger.record_attempt(
            AttemptRow(ORDER, 1, "stripe", PaymentMethod.CARD, f"payrouter:{ORDER}:1")
        )
        pending = AttemptOutcome(Outcome.PENDING, None, None, "pi_1", None, 1, 5.0)
        await ledger.finish_attempt(
            ORDER,
            1,
            pending,
            payment=PaymentUpdate(
                PaymentStatus.PENDING, provider="stripe", provider_reference="pi_1"
            ),
        )
        receipt = await apply_webhook_event(ledger, _stripe_declined("evt_2", "pi_1", 1))
        payment = await ledger.get(ORDER)
    finally:
        await ledger.close()
    assert payment is not None
    assert payment.status is PaymentStatus.DECLINED
    assert receipt.result is WebhookResult.APPLIED
