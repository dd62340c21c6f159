"""Follow-ups through the Router with the real adapters against the providers' stand-ins:
captures, refunds and voids reach the provider that took the payment, the stand-ins' books
show the money moved once, and a refund queued while its provider is down completes after."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import httpx
import pytest
import pytest_asyncio
from pydantic import SecretStr

from payrouter import (
    CardSource,
    FollowUpNotAllowedError,
    FollowUpStatus,
    Mandate,
    Money,
    OutboxSettings,
    PaymentMethod,
    PaymentRequest,
    PaymentResult,
    PaymentStatus,
    Router,
    RouterSettings,
    WalletSource,
)
from payrouter.webhooks import WebhookReceiver, WebhookResult
from payrouter_adapters.paypal import PayPalAdapter, PayPalWebhooks
from payrouter_lab.sandbox import Sandbox
from payrouter_lab.sandbox._paypal_webhooks import signed_headers
from tests.sandbox.kit import add_fault, adyen_adapter, books, options, stripe_adapter

pytestmark = pytest.mark.asyncio(loop_scope="session")

SETTINGS = RouterSettings(outbox=OutboxSettings(initial_backoff_seconds=0, max_backoff_seconds=0))


def eur(amount: str) -> Money:
    return Money.of(amount, "EUR")


def paypal_adapter(sandbox: Sandbox) -> PayPalAdapter:
    return PayPalAdapter.from_options(
        name="paypal",
        capabilities=None,
        options=options(sandbox, "paypal", client_id="id", client_secret="secret"),
    )


@pytest_asyncio.fixture(loop_scope="session")
async def router(sandbox: Sandbox) -> AsyncIterator[Router]:
    async with Router(
        [stripe_adapter(sandbox)], ledger="sqlite://", hooks=(), settings=SETTINGS
    ) as built:
        yield built


async def pay(
    router: Router, order_id: str, source: CardSource | WalletSource, *, capture: bool = True
) -> PaymentResult:
    result = await router.pay(
        PaymentRequest(
            order_id=order_id,
            amount=eur("10.50"),
            sources=[source],
            customer_country="DE",
            customer_id="shopper-1",  # Adyen's stored cards belong to a shopper
            capture=capture,
        )
    )
    assert result.status is PaymentStatus.SUCCEEDED, result
    return result


STRIPE_CARD = CardSource(token=SecretStr("pm_card_visa"))


async def test_stripe_capture_then_partial_refunds_stop_at_the_capture(
    router: Router, admin: httpx.AsyncClient
) -> None:
    held = await pay(router, "order-stripe", STRIPE_CARD, capture=False)
    captured = await router.capture(held, eur("8.00"))
    first = await router.refund(held, eur("5.00"), reason="requested_by_customer")
    with pytest.raises(FollowUpNotAllowedError, match=r"3\.00 EUR of the 8\.00 EUR"):
        await router.refund(held, eur("3.01"))
    rest = await router.refund(held)

    assert held.provider == captured.provider == "stripe"
    assert [f.status for f in (captured, first, rest)] == [FollowUpStatus.SUCCEEDED] * 3
    assert (await books(admin, "stripe"))["orders"] == {
        "order-stripe": {"taken": 800, "refunded": 800}
    }


async def test_a_stripe_refund_queued_while_refunds_fail_completes_after(
    router: Router, admin: httpx.AsyncClient
) -> None:
    paid = await pay(router, "order-outage", STRIPE_CARD)
    await add_fault(
        admin, "stripe", kind="busy", status=503, operations=["refund"], retry_after_seconds=0
    )

    queued = await router.refund(paid)
    assert queued.status is FollowUpStatus.QUEUED
    assert (await books(admin, "stripe"))["orders"]["order-outage"]["refunded"] == 0

    assert (await admin.delete("/stripe/faults")).status_code == 204
    (done,) = await router.process_outbox()

    assert done.followup_id == queued.followup_id
    assert done.status is FollowUpStatus.SUCCEEDED
    assert (await books(admin, "stripe"))["orders"]["order-outage"] == {
        "taken": 1050,
        "refunded": 1050,
    }


async def test_a_stripe_void_releases_the_hold(router: Router, admin: httpx.AsyncClient) -> None:
    held = await pay(router, "order-void", STRIPE_CARD, capture=False)
    voided = await router.void(held)

    assert voided.status is FollowUpStatus.SUCCEEDED
    assert "order-void" not in (await books(admin, "stripe"))["orders"]


async def test_adyen_accepts_a_capture_and_a_refund_and_confirms_them_later(
    sandbox: Sandbox,
) -> None:
    adyen = adyen_adapter(sandbox)
    async with Router([adyen], ledger="sqlite://", hooks=(), settings=SETTINGS) as router:
        card = CardSource(token=SecretStr("stored_card_1"), provider="adyen")
        held = await pay(router, "order-adyen", card, capture=False)
        captured = await router.capture(held)
        refund = await router.refund(held, eur("2.50"))
        stats = await router.read_outbox_stats()

    assert held.provider == "adyen"
    assert captured.status is refund.status is FollowUpStatus.PENDING  # Adyen's "received"
    assert refund.provider_reference  # the modification's pspReference, for its webhook
    assert stats.pending == 2


async def test_paypal_refunds_the_capture_of_an_authorization(
    sandbox: Sandbox, admin: httpx.AsyncClient
) -> None:
    paypal = paypal_adapter(sandbox)
    async with Router([paypal], ledger="sqlite://", hooks=(), settings=SETTINGS) as router:
        vaulted = WalletSource(wallet="paypal", account=SecretStr("vault-1"))
        held = await pay(router, "order-paypal", vaulted, capture=False)
        captured = await router.capture(held)
        refund = await router.refund(held, eur("4.00"))

    assert held.provider == "paypal"
    assert captured.status is refund.status is FollowUpStatus.SUCCEEDED
    assert ":capture:" in (captured.provider_reference or "")
    assert (await books(admin, "paypal"))["orders"] == {
        "order-paypal": {"taken": 1050, "refunded": 400}
    }


async def test_a_saved_stripe_card_is_detached_once(router: Router) -> None:
    mandate = Mandate(provider="stripe", mandate_id="pm_card_visa", method=PaymentMethod.CARD)
    cancelled = await router.cancel_mandate(mandate)
    again = await router.cancel_mandate(mandate)

    assert cancelled.status is FollowUpStatus.SUCCEEDED
    assert again.followup_id == cancelled.followup_id


async def test_recurring_charges_against_adyen_and_paypal_mandates(sandbox: Sandbox) -> None:
    """A subscription renewal: each mandate is charged at its own provider, off-session."""
    adyen, paypal = adyen_adapter(sandbox), paypal_adapter(sandbox)
    card = Mandate(provider="adyen", mandate_id="stored_card_1", method=PaymentMethod.CARD)
    wallet = Mandate(provider="paypal", mandate_id="vault-1", method=PaymentMethod.WALLET)
    async with Router([adyen, paypal], ledger="sqlite://", hooks=(), settings=SETTINGS) as router:
        results = [
            await router.pay(
                PaymentRequest(
                    order_id=f"renewal-{mandate.provider}",
                    amount=eur("9.99"),
                    mandate=mandate,
                    customer_country="DE",
                    customer_id="shopper-1",
                )
            )
            for mandate in (card, wallet)
        ]

    assert [(r.provider, r.status) for r in results] == [
        ("adyen", PaymentStatus.SUCCEEDED),
        ("paypal", PaymentStatus.SUCCEEDED),
    ]


async def test_paypal_notifications_are_verified_by_asking_paypal(
    sandbox: Sandbox,
) -> None:
    """PayPal's verify-webhook-signature decides; a refund PayPal reports confirms ours."""
    paypal = paypal_adapter(sandbox)
    async with Router([paypal], ledger="sqlite://", hooks=(), settings=SETTINGS) as router:
        vaulted = WalletSource(wallet="paypal", account=SecretStr("vault-1"))
        paid = await pay(router, "order-pp-hook", vaulted)
        refund = await router.refund(paid, eur("1.00"))
        refund_id = (refund.provider_reference or "").rsplit(":", 1)[-1]
        event = {
            "id": "WH-1",
            "event_type": "PAYMENT.CAPTURE.REFUNDED",
            "create_time": datetime.now(UTC).isoformat(),
            "resource": {"id": refund_id, "amount": {"value": "1.00", "currency_code": "EUR"}},
        }
        body = json.dumps(event).encode()
        inbox = WebhookReceiver(router, [PayPalWebhooks(paypal, "WH-ID-1")])

        forged = await inbox.receive("paypal", body, signed_headers("WH-ID-OTHER", event))
        unsigned = await inbox.receive("paypal", body, {})
        genuine = await inbox.receive("paypal", body, signed_headers("WH-ID-1", event))
        replayed = await inbox.receive("paypal", body, signed_headers("WH-ID-1", event))

    assert [a.status for a in (forged, unsigned, genuine, replayed)] == [401, 401, 200, 200]
    assert [r.result for r in genuine.receipts + replayed.receipts] == [
        WebhookResult.OUT_OF_ORDER,  # the refund was already confirmed by PayPal's reply
        WebhookResult.REPLAYED,
    ]
    assert genuine.receipts[0].followup_id == refund.followup_id


async def test_a_paypal_capture_completed_settles_a_pending_payment(
    sandbox: Sandbox, admin: httpx.AsyncClient
) -> None:
    await add_fault(admin, "paypal", kind="pending", settle_after_seconds=3600)
    paypal = paypal_adapter(sandbox)
    async with Router([paypal], ledger="sqlite://", hooks=(), settings=SETTINGS) as router:
        pending = await router.pay(
            PaymentRequest(
                order_id="order-pp-pending",
                amount=eur("10.50"),
                sources=[WalletSource(wallet="paypal", account=SecretStr("vault-1"))],
                customer_country="DE",
            )
        )
        capture_id = (pending.provider_reference or "").rsplit(":", 1)[-1]
        event = {
            "id": "WH-2",
            "event_type": "PAYMENT.CAPTURE.COMPLETED",
            "create_time": datetime.now(UTC).isoformat(),
            "resource": {"id": capture_id, "amount": {"value": "10.50", "currency_code": "EUR"}},
        }
        inbox = WebhookReceiver(router, [PayPalWebhooks(paypal, "WH-ID-1")])
        answer = await inbox.receive(
            "paypal", json.dumps(event).encode(), signed_headers("WH-ID-1", event)
        )
        settled = await router.lookup("order-pp-pending")

    assert pending.status is PaymentStatus.PENDING
    assert answer.receipts[0].result is WebhookResult.APPLIED
    assert settled is not None
    assert settled.status is PaymentStatus.SUCCEEDED
