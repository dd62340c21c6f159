"""The sync twins drive the same follow-ups from blocking code (Django views, scripts)."""

from __future__ import annotations

from pydantic import SecretStr

from payrouter import CardSource, FollowUpStatus, PaymentRequest, SyncRouter

from .kit import eur, router, simulated


def test_a_django_style_view_captures_refunds_and_lists_follow_ups() -> None:
    with SyncRouter(router(simulated("card_a"))) as payments:
        held = payments.pay(
            PaymentRequest(
                order_id="order-sync",
                amount=eur("20.00"),
                sources=[CardSource(token=SecretStr("pm_card_visa"))],
                customer_country="DE",
                capture=False,
            )
        )
        captured = payments.capture(held, eur("15.00"))
        refunded = payments.refund("order-sync", eur("5.00"), reason="requested_by_customer")
        listed = payments.followups(held)
        assert payments.process_outbox() == []
        stats = payments.read_outbox_stats()

    assert captured.status is refunded.status is FollowUpStatus.SUCCEEDED
    assert [f.followup_id for f in listed] == ["order-sync/capture/1", "order-sync/refund/1"]
    assert stats.depth == 0
