"""A refund or capture its provider confirmed can still fail afterwards, and then the money
went back to the merchant: Stripe moves a refund from `succeeded` to `failed` (a closed card),
Adyen sends REFUND_FAILED, REFUNDED_REVERSED or CAPTURE_FAILED after the REFUND or CAPTURE that
confirmed it. The follow-up becomes `refused`, saying so; a confirmation never undoes a
refusal."""

from __future__ import annotations

from payrouter import FollowUp, FollowUpStatus, Router
from payrouter.webhooks import WebhookResult

from .kit import adyen_body, receiver, stripe_body, stripe_headers
from .test_followup_amounts import _pending_followup, _router


async def _only_followup(payments: Router) -> FollowUp:
    (followup,) = await payments.followups("order-1")
    return followup


async def test_a_stripe_refund_that_fails_after_it_succeeded_is_refused_saying_so() -> None:
    async with _router("stripe", []) as payments:
        refund = await _pending_followup(payments)
        inbox = receiver(payments)
        fields = {"id": refund.provider_reference, "amount": 400}
        done = stripe_body("refund.updated", {**fields, "status": "succeeded"})
        failed = stripe_body("charge.refund.updated", {**fields, "status": "failed"}, "evt_2")
        await inbox.receive("stripe", done, stripe_headers(done))
        confirmed = (await _only_followup(payments)).status
        answer = await inbox.receive("stripe", failed, stripe_headers(failed))
        after = await _only_followup(payments)

    assert confirmed is FollowUpStatus.SUCCEEDED
    assert answer.receipts[0].result is WebhookResult.APPLIED
    assert after.status is FollowUpStatus.REFUSED
    assert after.message is not None
    assert "after confirming this refund" in after.message
    assert "money went back to the merchant" in after.message


async def test_an_adyen_refund_reversed_after_its_confirmation_is_refused() -> None:
    async with _router("adyen", []) as payments:
        refund = await _pending_followup(payments)
        psp = refund.provider_reference or ""
        inbox = receiver(payments)
        await inbox.receive("adyen", adyen_body("REFUND", psp, value=400), {})
        answer = await inbox.receive("adyen", adyen_body("REFUNDED_REVERSED", psp, value=400), {})
        after = await _only_followup(payments)

    assert answer.receipts[0].result is WebhookResult.APPLIED
    assert after.status is FollowUpStatus.REFUSED
    assert after.message is not None
    assert "REFUNDED_REVERSED" in after.message


async def test_an_adyen_capture_failed_after_its_confirmation_is_refused() -> None:
    async with _router("adyen", []) as payments:
        capture = await _pending_followup(payments, capture=True)
        psp = capture.provider_reference or ""
        inbox = receiver(payments)
        await inbox.receive("adyen", adyen_body("CAPTURE", psp, value=400), {})
        answer = await inbox.receive("adyen", adyen_body("CAPTURE_FAILED", psp, value=400), {})
        after = await _only_followup(payments)

    assert answer.receipts[0].result is WebhookResult.APPLIED
    assert after.status is FollowUpStatus.REFUSED
    assert after.message is not None
    assert "this capture" in after.message


async def test_a_confirmation_after_a_refusal_changes_nothing() -> None:
    async with _router("adyen", []) as payments:
        refund = await _pending_followup(payments)
        psp = refund.provider_reference or ""
        inbox = receiver(payments)
        await inbox.receive("adyen", adyen_body("REFUND_FAILED", psp, value=400), {})
        late = await inbox.receive("adyen", adyen_body("REFUND", psp, value=400), {})
        after = await _only_followup(payments)

    assert late.receipts[0].result is WebhookResult.OUT_OF_ORDER
    assert after.status is FollowUpStatus.REFUSED
