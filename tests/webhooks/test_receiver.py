"""Notifications move the ledger forwards only, once, and only when genuine: forged, stale,
malformed and replayed ones are answered as the provider expects and change nothing."""

from __future__ import annotations

from sqlalchemy import select

from payrouter import FollowUpStatus, PaymentStatus, Router
from payrouter._ledger._schema import payments as payments_table
from payrouter._ledger._schema import webhook_events
from payrouter.testing import Behavior
from payrouter.webhooks import WebhookResult

from .kit import (
    adyen_body,
    pending_payment,
    receiver,
    router,
    simulated,
    stripe_body,
    stripe_headers,
)


async def _status(payments: Router, order_id: str = "order-1") -> PaymentStatus:
    payment = await payments.lookup(order_id)
    assert payment is not None
    return payment.status


async def test_a_genuine_success_settles_a_pending_payment_once() -> None:
    async with router(simulated("stripe")) as payments:
        pending = await pending_payment(payments)
        body = stripe_body("payment_intent.succeeded", {"id": pending.provider_reference})
        inbox = receiver(payments)

        first = await inbox.receive("stripe", body, stripe_headers(body))
        again = await inbox.receive("stripe", body, stripe_headers(body))

        assert pending.status is PaymentStatus.PENDING
        assert (first.status, first.receipts[0].result) == (200, WebhookResult.APPLIED)
        assert first.receipts[0].order_id == "order-1"
        assert (again.status, again.receipts[0].result) == (200, WebhookResult.REPLAYED)
        assert await _status(payments) is PaymentStatus.SUCCEEDED


async def test_an_out_of_order_failure_never_moves_a_payment_backwards() -> None:
    async with router(simulated("stripe")) as payments:
        pending = await pending_payment(payments)
        inbox = receiver(payments)
        ok = stripe_body("payment_intent.succeeded", {"id": pending.provider_reference})
        late = stripe_body(
            "payment_intent.payment_failed", {"id": pending.provider_reference}, "evt_2"
        )
        await inbox.receive("stripe", ok, stripe_headers(ok))

        answer = await inbox.receive("stripe", late, stripe_headers(late))

        assert (answer.status, answer.receipts[0].result) == (200, WebhookResult.OUT_OF_ORDER)
        assert await _status(payments) is PaymentStatus.SUCCEEDED


async def test_forged_stale_and_malformed_notifications_change_nothing() -> None:
    async with router(simulated("stripe")) as payments:
        pending = await pending_payment(payments)
        inbox = receiver(payments)
        body = stripe_body("payment_intent.succeeded", {"id": pending.provider_reference})
        junk = b'{"id": "evt_9"}'

        forged = await inbox.receive("stripe", body, stripe_headers(body, secret="whsec_other"))
        unsigned = await inbox.receive("stripe", body, {})
        stale = await inbox.receive("stripe", body, stripe_headers(body, at=1_000_000))
        malformed = await inbox.receive("stripe", junk, stripe_headers(junk))

        assert [a.status for a in (forged, unsigned, stale, malformed)] == [401, 401, 401, 400]
        assert all(a.receipts == () for a in (forged, unsigned, stale, malformed))
        assert await _status(payments) is PaymentStatus.PENDING
        ledger = payments._ledger  # the events table stays empty: nothing was remembered
        assert await ledger.transact(lambda c: c.execute(select(webhook_events)).all()) == []


async def test_an_unknown_type_is_acknowledged_and_ignored() -> None:
    async with router(simulated("stripe")) as payments:
        pending = await pending_payment(payments)
        body = stripe_body("customer.created", {"id": "cus_1"})
        answer = await receiver(payments).receive("stripe", body, stripe_headers(body))

        assert (answer.status, answer.receipts[0].result) == (200, WebhookResult.UNKNOWN_TYPE)
        assert await _status(payments) is pending.status


async def test_a_dispute_is_recorded_against_its_payment() -> None:
    async with router(simulated("stripe")) as payments:
        pending = await pending_payment(payments)
        body = stripe_body(
            "charge.dispute.created",
            {"id": "dp_1", "payment_intent": pending.provider_reference, "amount": 1000},
        )
        answer = await receiver(payments).receive("stripe", body, stripe_headers(body))

    assert answer.receipts[0].result is WebhookResult.DISPUTE
    assert answer.receipts[0].order_id == "order-1"


async def test_adyen_confirms_an_accepted_refund_and_refuses_forgeries() -> None:
    adyen = simulated("adyen")
    async with router(adyen) as payments:
        paid = await pending_payment(payments)
        adyen.provider.settle(paid.provider_reference or "")
        settled = await receiver(payments).receive(
            "adyen",
            adyen_body("AUTHORISATION", paid.provider_reference or ""),
            {},
        )
        adyen.provider.script_followups(Behavior.pending())  # Adyen answers "received"
        refund = await payments.refund(paid)
        inbox = receiver(payments)
        confirmation = adyen_body("REFUND", refund.provider_reference or "")
        forged = adyen_body("REFUND", refund.provider_reference or "", key="00" * 32)

        refused = await inbox.receive("adyen", forged, {})
        still = await payments.followups(paid)
        accepted = await inbox.receive("adyen", confirmation, {})
        (done,) = await payments.followups(paid)

    assert settled.receipts[0].result is WebhookResult.APPLIED
    assert refund.status is FollowUpStatus.PENDING
    assert refused.status == 401
    assert still[0].status is FollowUpStatus.PENDING
    assert (accepted.status, accepted.body) == (200, "[accepted]")
    assert accepted.receipts[0].followup_id == refund.followup_id
    assert done.status is FollowUpStatus.SUCCEEDED


async def test_a_refund_adyen_reports_unsuccessful_is_surfaced_as_refused() -> None:
    adyen = simulated("adyen")
    async with router(adyen) as payments:
        paid = await pending_payment(payments)
        adyen.provider.settle(paid.provider_reference or "")
        await receiver(payments).receive(
            "adyen", adyen_body("AUTHORISATION", paid.provider_reference or ""), {}
        )
        adyen.provider.script_followups(Behavior.pending())
        refund = await payments.refund(paid)
        answer = await receiver(payments).receive(
            "adyen", adyen_body("REFUND", refund.provider_reference or "", success=False), {}
        )
        (done,) = await payments.followups(paid)

    assert answer.receipts[0].result is WebhookResult.APPLIED
    assert done.status is FollowUpStatus.REFUSED
    assert "REFUND unsuccessful" in (done.message or "")


async def test_an_adyen_chargeback_is_recorded_against_the_payment_it_names() -> None:
    adyen = simulated("adyen")
    async with router(adyen) as payments:
        paid = await pending_payment(payments)
        body = adyen_body("CHARGEBACK", "CB-1", original=paid.provider_reference or "")
        answer = await receiver(payments).receive("adyen", body, {})

    assert answer.receipts[0].result is WebhookResult.DISPUTE
    assert answer.receipts[0].order_id == "order-1"


async def test_an_event_for_a_payment_being_paid_is_put_off_and_nothing_is_remembered() -> None:
    """A worker holding the lease will write its own outcome: applying the event now would be
    overwritten, so the provider is told to come back (503) and the event id is not stored."""
    async with router(simulated("stripe")) as payments:
        pending = await pending_payment(payments)
        ledger = payments._ledger
        await ledger.acquire("order-1", "a-live-worker", 60)  # someone is paying it again
        await ledger.transact(
            lambda c: c.execute(
                payments_table.update()
                .where(payments_table.c.order_id == "order-1")
                .values(status=PaymentStatus.PROCESSING.value)
            )
        )
        body = stripe_body("payment_intent.succeeded", {"id": pending.provider_reference})
        inbox = receiver(payments)

        busy = await inbox.receive("stripe", body, stripe_headers(body))
        remembered = await ledger.transact(lambda c: c.execute(select(webhook_events)).all())
        await ledger.transact(
            lambda c: c.execute(
                payments_table.update()
                .where(payments_table.c.order_id == "order-1")
                .values(lease_until=0.0)  # the worker's lease ran out
            )
        )
        later = await inbox.receive("stripe", body, stripe_headers(body))

        assert (busy.status, busy.receipts) == (503, ())
        assert remembered == []
        assert (later.status, later.receipts[0].result) == (200, WebhookResult.APPLIED)
        assert await _status(payments) is PaymentStatus.SUCCEEDED
