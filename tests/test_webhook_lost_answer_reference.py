"""A payment settled by a notification found through our attempt's key takes the provider's
reference from it: the answer that would have carried it was lost, and the follow-ups need it
(a Stripe refund names the intent; without it the refund could not be sent)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from payrouter import Money, PaymentMethod, PaymentStatus
from payrouter._ledger import AttemptOutcome, AttemptRow, PaymentUpdate, SqlLedger
from payrouter._ledger._webhook_events import apply_webhook_event
from payrouter.provider import Outcome
from payrouter.webhooks import Effect, WebhookEvent, WebhookResult

ORDER = "order-lost-answer"
KEY = f"payrouter:{ORDER}:1"


@pytest.fixture(params=["sqlite", "postgres"])
def ledger_url(tmp_path: Path, request: pytest.FixtureRequest) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/ledger.db"
    return str(request.getfixturevalue("postgres_url"))


def _event(status: PaymentStatus, event_type: str) -> WebhookEvent:
    return WebhookEvent(
        provider="stripe",
        event_id=f"evt-{event_type}",
        type=event_type,
        provider_reference="pi_found",
        our_reference=KEY,
        amount_minor=1000,
        currency="EUR",
        occurred_at=datetime.now(UTC),
        status=status,
        effect=Effect.PAYMENT,
    )


async def _pending(ledger: SqlLedger) -> None:
    """Attempt 1 at Stripe, its answer lost: pending, no intent id known."""
    await ledger.claim(ORDER, "f" * 64, Money.of("10.00", "EUR"), "w#1", 60.0)
    await ledger.record_attempt(AttemptRow(ORDER, 1, "stripe", PaymentMethod.CARD, KEY))
    unknown = AttemptOutcome(Outcome.UNKNOWN, None, "read_timeout", None, None, 1, 5.0)
    await ledger.finish_attempt(
        ORDER, 1, unknown, payment=PaymentUpdate(PaymentStatus.PENDING, provider="stripe")
    )


async def test_a_success_found_by_our_key_records_the_providers_reference(
    ledger_url: str,
) -> None:
    ledger = SqlLedger(ledger_url)
    await ledger.open()
    try:
        await _pending(ledger)
        receipt = await apply_webhook_event(
            ledger, _event(PaymentStatus.SUCCEEDED, "payment_intent.succeeded")
        )
        payment = await ledger.get(ORDER)
    finally:
        await ledger.close()
    assert receipt.result is WebhookResult.APPLIED
    assert payment is not None
    assert payment.status is PaymentStatus.SUCCEEDED
    assert payment.provider == "stripe"
    assert payment.provider_reference == "pi_found"


async def test_a_decline_found_by_our_key_names_no_reference(ledger_url: str) -> None:
    """Nothing moved: the payment keeps no provider reference to follow up on."""
    ledger = SqlLedger(ledger_url)
    await ledger.open()
    try:
        await _pending(ledger)
        await apply_webhook_event(
            ledger, _event(PaymentStatus.DECLINED, "payment_intent.payment_failed")
        )
        payment = await ledger.get(ORDER)
    finally:
        await ledger.close()
    assert payment is not None
    assert payment.status is PaymentStatus.DECLINED
    assert payment.provider_reference is None
