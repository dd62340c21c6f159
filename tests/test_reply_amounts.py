"""A provider's answer that reports another amount never settles a payment: at pay time, in
the lookups that follow, or when reconcile asks again (the one seam every answer passes)."""

from __future__ import annotations

from pydantic import SecretStr

from payrouter import CardSource, Money, PaymentRequest, PaymentStatus, Router
from payrouter.instrumentation import AmountMismatch, Event
from payrouter.testing import ScriptedProvider
from payrouter_adapters.adyen import AdyenAdapter
from payrouter_adapters.stripe import StripeAdapter

OPTIONS = {"api_key": "sk_test_123", "base_url": "https://stripe.test"}
ADYEN_OPTIONS = {
    "api_key": "AQE_test",
    "base_url": "https://adyen.test",
    "merchant_account": "ShopECOM",
    "return_url": "https://shop.example/return",
}


def _intent(amount: int, currency: str) -> dict[str, object]:
    return {
        "id": "pi_1",
        "object": "payment_intent",
        "status": "succeeded",
        "amount": amount,
        "currency": currency,
    }


def _request() -> PaymentRequest:
    return PaymentRequest(
        order_id="order-1",
        amount=Money.of("10.00", "EUR"),
        sources=[
            CardSource(
                tokens={
                    "StripeAdapter": SecretStr("pm_card_visa"),
                    "AdyenAdapter": SecretStr("stored_card_1"),
                }
            )
        ],
        customer_country="DE",
        customer_id="customer-7",  # Adyen stores card tokens per shopper
    )


async def _pay(
    peer: ScriptedProvider,
    seen: list[Event],
    adapter: type[StripeAdapter | AdyenAdapter] = StripeAdapter,
) -> tuple[PaymentStatus, str | None]:
    options = OPTIONS if adapter is StripeAdapter else ADYEN_OPTIONS
    built = adapter.from_options(
        name=adapter.__name__, capabilities=None, options=options, transport=peer
    )
    async with Router([built], ledger="sqlite://", hooks=[seen.append]) as router:
        result = await router.pay(_request())
        report = await router.reconcile()
        after = await router.lookup("order-1")
    assert after is not None
    assert report is not None
    return after.status, result.attempts[-1].provider_code if result.attempts else None


async def test_a_success_for_another_amount_is_pending_never_succeeded() -> None:
    """Stripe answers `succeeded` for 0.01 USD: money moved, but not what was asked."""
    peer = ScriptedProvider()
    for _ in range(20):  # the pay answer, then every lookup and reconcile's
        peer.answer(200, _intent(1, "usd"))
    seen: list[Event] = []

    status, code = await _pay(peer, seen)

    assert status is PaymentStatus.PENDING
    assert code == "amount_mismatch"
    (mismatch,) = [e for e in seen if isinstance(e, AmountMismatch)]
    assert (mismatch.source, mismatch.expected_minor, mismatch.expected_currency) == (
        "reply",
        1000,
        "EUR",
    )
    assert (mismatch.reported_minor, mismatch.reported_currency) == (1, "USD")


async def test_a_success_for_the_charged_amount_settles_as_before() -> None:
    peer = ScriptedProvider()
    peer.answer(200, _intent(1000, "eur"))
    seen: list[Event] = []

    status, _ = await _pay(peer, seen)

    assert status is PaymentStatus.SUCCEEDED
    assert not [e for e in seen if isinstance(e, AmountMismatch)]


async def test_an_adyen_authorisation_for_less_is_pending_never_succeeded() -> None:
    """Adyen's PaymentResponse carries the authorised amount: 5.00 of 10.00 is no success."""
    peer = ScriptedProvider()
    authorised = {
        "resultCode": "Authorised",
        "pspReference": "PSP1",
        "amount": {"value": 500, "currency": "EUR"},
    }
    for _ in range(20):
        peer.answer(200, authorised)
    seen: list[Event] = []

    status, code = await _pay(peer, seen, AdyenAdapter)

    assert status is PaymentStatus.PENDING
    assert code == "amount_mismatch"
    (mismatch,) = [e for e in seen if isinstance(e, AmountMismatch)]
    assert (mismatch.reported_minor, mismatch.expected_minor) == (500, 1000)


async def test_a_paypal_order_for_another_amount_is_pending_never_succeeded() -> None:
    """A vaulted PayPal order completes in its create call; the order's amount is compared."""
    from payrouter import WalletSource
    from payrouter_adapters.paypal import PayPalAdapter

    peer = ScriptedProvider()
    order = {
        "id": "ORDER-1",
        "status": "COMPLETED",
        "purchase_units": [
            {
                "amount": {"currency_code": "EUR", "value": "0.01"},
                "payments": {"captures": [{"id": "CAP-1", "status": "COMPLETED"}]},
            }
        ],
    }
    for _ in range(20):
        peer.answer(201, order)
    paypal = PayPalAdapter.from_options(
        name="paypal",
        capabilities=None,
        options={"base_url": "https://paypal.test", "access_token": "A21AA-test"},
        transport=peer,
    )
    seen: list[Event] = []
    request = _request().model_copy(
        update={"sources": (WalletSource(wallet="paypal", account=SecretStr("vault-1")),)}
    )
    async with Router([paypal], ledger="sqlite://", hooks=[seen.append]) as router:
        result = await router.pay(request)

    assert result.status is PaymentStatus.PENDING
    (mismatch,) = [e for e in seen if isinstance(e, AmountMismatch)]
    assert (mismatch.reported_minor, mismatch.expected_minor) == (1, 1000)
