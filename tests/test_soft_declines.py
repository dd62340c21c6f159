"""A soft-declined card is reattempted once at another acquirer holding a credential for the
same card: a merchant policy, capped per payment and per card, never against the network's
advice and never for a hard decline. Real Stripe and Adyen adapters over scripted transports."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from payrouter import (
    CardSource,
    Money,
    NetworkToken,
    PaymentRequest,
    PaymentStatus,
    Router,
    RouterSettings,
    SoftDeclineSettings,
    WalletSource,
)
from payrouter._codes import CodeRow, with_codes
from payrouter._config import PayrouterConfig
from payrouter._ledger import SqlLedger
from payrouter._paying._decide import Tally
from payrouter._paying._plan import Candidate
from payrouter._paying._reattempt import card_identity
from payrouter.instrumentation import DeclineReattempt, Event, PrometheusHook
from payrouter.provider import Adapter, DeclineType, FailureKind
from payrouter.testing import ScriptedProvider
from payrouter_adapters.adyen import AdyenAdapter
from payrouter_adapters.stripe import StripeAdapter

ON = RouterSettings(soft_declines=SoftDeclineSettings(reattempts=1))
EUR = Money.of("10.00", "EUR")
STRIPE_OPTIONS = {"base_url": "https://api.stripe.test", "api_key": "sk_test_x"}
ADYEN_OPTIONS = {
    "base_url": "https://checkout-test.adyen.com/v72",
    "api_key": "AQE-test",
    "merchant_account": "ShopECOM",
    "return_url": "https://shop.example/return",
}


def card(name: str = "visa") -> CardSource:
    """The customer's card, tokenized at every provider of these tests."""
    return CardSource(
        tokens={
            "stripe": f"pm_card_{name}",
            "adyen": f"ADYEN{name.upper()}",
            "stripe_b": f"pm_b_{name}",
        }
    )


def request(order_id: str = "order-1", *sources: CardSource | WalletSource) -> PaymentRequest:
    return PaymentRequest(
        order_id=order_id,
        amount=EUR,
        customer_country="DE",
        customer_id="cust-1",
        sources=sources or (card(),),
    )


def stripe_decline(decline_code: str, **more: str) -> dict[str, object]:
    error = {"type": "card_error", "code": "card_declined", "decline_code": decline_code}
    return {"error": error | more}


def adyen_authorised() -> dict[str, object]:
    return {
        "resultCode": "Authorised",
        "pspReference": "PSP1",
        "amount": {"value": EUR.minor_units, "currency": "EUR"},
    }


class Providers:
    def __init__(self) -> None:
        self.stripe_peer, self.adyen_peer, self.third_peer = (
            ScriptedProvider(),
            ScriptedProvider(),
            ScriptedProvider(),
        )
        self.stripe = StripeAdapter.from_options(
            name="stripe", capabilities=None, options=STRIPE_OPTIONS, transport=self.stripe_peer
        )
        self.adyen = AdyenAdapter.from_options(
            name="adyen", capabilities=None, options=ADYEN_OPTIONS, transport=self.adyen_peer
        )
        self.third = StripeAdapter.from_options(
            name="stripe_b", capabilities=None, options=STRIPE_OPTIONS, transport=self.third_peer
        )
        self.events: list[Event] = []

    def router(self, tmp_path: Path, settings: RouterSettings = ON, *adapters: Adapter) -> Router:
        return Router(
            adapters or (self.stripe, self.adyen),
            ledger=f"sqlite:///{tmp_path / 'ledger.db'}",
            settings=settings,
            hooks=(self.events.append,),
        )

    def reattempts(self) -> list[DeclineReattempt]:
        return [event for event in self.events if isinstance(event, DeclineReattempt)]


@pytest.fixture
async def providers() -> AsyncIterator[Providers]:
    built = Providers()
    yield built
    for adapter in (built.stripe, built.adyen, built.third):
        await adapter.aclose()


async def test_a_soft_decline_is_reattempted_at_the_next_acquirer_and_charged_once(
    providers: Providers, tmp_path: Path
) -> None:
    """Do not honour at Stripe; Adyen holds a credential for the same card and takes it."""
    providers.stripe_peer.answer(402, stripe_decline("do_not_honor"))
    providers.adyen_peer.answer(200, adyen_authorised())
    async with providers.router(tmp_path) as router:
        result = await router.pay(request())
    assert result.status is PaymentStatus.SUCCEEDED
    assert result.provider == "adyen"
    first, second = result.attempts
    assert (first.provider, first.decline) == ("stripe", DeclineType.SOFT)
    assert second.provider == "adyen"
    assert len(providers.adyen_peer.requests) == 1
    (event,) = providers.reattempts()
    assert (event.from_provider, event.to_provider, event.outcome) == (
        "stripe",
        "adyen",
        "reattempted",
    )


async def test_the_policy_is_off_by_default(providers: Providers, tmp_path: Path) -> None:
    """Without the merchant's policy a soft decline is the payment's answer."""
    providers.stripe_peer.answer(402, stripe_decline("do_not_honor"))
    async with providers.router(tmp_path, RouterSettings()) as router:
        result = await router.pay(request())
    assert result.status is PaymentStatus.DECLINED
    assert providers.adyen_peer.requests == []
    assert providers.reattempts() == []


@pytest.mark.parametrize("code", ["lost_card", "stolen_card", "invalid_account", "expired_card"])
async def test_a_hard_decline_is_never_reattempted(
    providers: Providers, tmp_path: Path, code: str
) -> None:
    providers.stripe_peer.answer(402, stripe_decline(code))
    async with providers.router(tmp_path) as router:
        result = await router.pay(request())
    assert result.status is PaymentStatus.DECLINED
    assert result.attempts[0].decline is DeclineType.HARD
    assert providers.adyen_peer.requests == []
    assert providers.reattempts() == []


@pytest.mark.parametrize(
    ("field", "value", "advice"),
    [
        ("network_advice_code", "03", "do_not_try_again"),  # Mastercard: do not try again
        ("network_advice_code", "21", "do_not_try_again"),  # Mastercard: payment cancelled
        ("network_advice_code", "24", "wait_before_retry"),  # Mastercard: retry after 1 hour
        ("advice_code", "do_not_try_again", "do_not_try_again"),
        ("advice_code", "confirm_card_data", "confirm_card_data"),
    ],
)
async def test_a_soft_decline_is_not_reattempted_against_the_networks_advice(
    providers: Providers, tmp_path: Path, field: str, value: str, advice: str
) -> None:
    providers.stripe_peer.answer(402, stripe_decline("do_not_honor", **{field: value}))
    async with providers.router(tmp_path) as router:
        result = await router.pay(request())
    assert result.status is PaymentStatus.DECLINED
    assert providers.adyen_peer.requests == []
    (event,) = providers.reattempts()
    assert (event.outcome, event.advice) == ("advice", advice)


async def test_an_adyen_mastercard_advice_code_stops_the_reattempt(
    providers: Providers, tmp_path: Path
) -> None:
    """Adyen first: a refusal with merchant advice code 21 is never sent to Stripe."""
    refusal = {
        "resultCode": "Refused",
        "pspReference": "PSP1",
        "refusalReasonCode": "2",
        "additionalData": {"merchantAdviceCode": "21: Payment Cancellation"},
    }
    providers.adyen_peer.answer(200, refusal)
    async with providers.router(tmp_path, ON, providers.adyen, providers.stripe) as router:
        result = await router.pay(request())
    assert result.status is PaymentStatus.DECLINED
    assert providers.stripe_peer.requests == []
    assert result.attempts[0].advice_code == "merchantAdviceCode:21"


async def test_a_payment_is_reattempted_once_only(providers: Providers, tmp_path: Path) -> None:
    """The reattempt declines softly too: the third acquirer is not tried."""
    providers.stripe_peer.answer(402, stripe_decline("try_again_later"))
    providers.adyen_peer.answer(
        200, {"resultCode": "Refused", "pspReference": "PSP1", "refusalReasonCode": "9"}
    )
    adapters = (providers.stripe, providers.adyen, providers.third)
    async with providers.router(tmp_path, ON, *adapters) as router:
        result = await router.pay(request())
    assert result.status is PaymentStatus.DECLINED
    assert [a.provider for a in result.attempts] == ["stripe", "adyen"]
    assert providers.third_peer.requests == []


async def test_the_card_limit_is_counted_in_the_ledger_across_payments(
    providers: Providers, tmp_path: Path
) -> None:
    """At the card's cap no reattempt is made; another card still gets its own."""
    settings = RouterSettings(soft_declines=SoftDeclineSettings(reattempts=1, max_per_card=1))
    for _ in range(3):
        providers.stripe_peer.answer(402, stripe_decline("issuer_not_available"))
    providers.adyen_peer.answer(200, adyen_authorised())
    providers.adyen_peer.answer(200, adyen_authorised())
    async with providers.router(tmp_path, settings) as router:
        first = await router.pay(request("order-1"))
        second = await router.pay(request("order-2"))
        other = await router.pay(request("order-3", card("other")))
    assert first.status is PaymentStatus.SUCCEEDED
    assert second.status is PaymentStatus.DECLINED
    assert other.status is PaymentStatus.SUCCEEDED
    assert [e.outcome for e in providers.reattempts()] == [
        "reattempted",
        "card_limit",
        "reattempted",
    ]


async def test_a_reattempt_stays_with_the_same_card(providers: Providers, tmp_path: Path) -> None:
    """The customer's next source is not a reattempt: without fallback, a decline ends it."""
    providers.stripe_peer.answer(402, stripe_decline("do_not_honor"))
    async with providers.router(tmp_path, ON, providers.stripe) as router:
        result = await router.pay(request("order-1", card(), WalletSource(wallet="paypal")))
    assert result.status is PaymentStatus.DECLINED
    assert providers.reattempts() == []


async def window_rolls(url: str) -> None:
    ledger = SqlLedger(url)
    await ledger.open()
    try:
        day, card_hash = 24 * 3600.0, card_identity(card())

        async def claim(order_id: str, now: float) -> bool:
            return await ledger.claim_reattempt(
                card_hash, order_id, ("a", "b"), since=now - 30 * day, limit=2, now=now
            )

        assert await claim("o-1", 0.0)
        assert await claim("o-2", 10 * day)
        assert not await claim("o-3", 20 * day)
        assert not await claim("o-2", 31 * day)  # once per payment, whatever the window
        assert await claim("o-4", 31 * day)  # o-1 left the window
        assert await ledger.card_reattempts(card_hash, since=0.0) == 3
    finally:
        await ledger.close()


async def test_the_window_rolls(tmp_path: Path) -> None:
    """Reattempts older than the window no longer count against the card's limit."""
    await window_rolls(f"sqlite:///{tmp_path / 'ledger.db'}")


async def test_the_window_rolls_on_postgres(postgres_url: str) -> None:
    await window_rolls(postgres_url)


async def test_concurrent_claims_for_one_card_never_pass_the_limit(postgres_url: str) -> None:
    """Workers paying with the same card at once: the advisory lock lets exactly the limit
    through."""
    ledger = SqlLedger(postgres_url)
    await ledger.open()
    try:
        card_hash = card_identity(card())
        claims = [
            ledger.claim_reattempt(
                card_hash, f"o-{n}", ("a", "b"), since=0.0, limit=3, now=1000.0 + n
            )
            for n in range(12)
        ]
        assert sum(await asyncio.gather(*claims)) == 3
    finally:
        await ledger.close()


def test_a_card_is_known_by_a_hash_never_its_token() -> None:
    """Same credentials, same hash; no token in it; a network token names its card too."""
    assert card_identity(card("secret")) == card_identity(card("secret"))
    assert "secret" not in card_identity(card("secret")).lower()
    assert card_identity(card("secret")) != card_identity(card("other"))
    assert len(card_identity(card("secret"))) == 64
    network = NetworkToken(
        number="4895370012003478",
        expiry_month=12,
        expiry_year=2031,
        cryptogram="AgAAAAAAAIR8CQrXcIhbQAAAAAA=",
    )
    with_network = CardSource(network_token=network)
    assert card_identity(with_network) == card_identity(CardSource(network_token=network))
    assert "4895370012003478" not in card_identity(with_network)


@pytest.mark.parametrize(
    ("field", "value"),
    [("reattempts", 2), ("max_per_card", 16), ("window_days", 7), ("reattempts", -1)],
)
def test_the_policy_can_only_be_stricter_than_the_networks(field: str, value: float) -> None:
    """Once per payment at most, at most 15 per card, over at least 30 days."""
    config = {
        "router": {"soft_declines": {field: value}},
        "providers": [{"name": "a", "type": "x"}],
    }
    with pytest.raises(ValueError, match=f"soft_declines.{field}"):
        PayrouterConfig.model_validate(config)


def test_metrics_count_reattempts_by_outcome() -> None:
    registry = CollectorRegistry()
    hook = PrometheusHook(registry)
    hook(DeclineReattempt("o-1", "stripe", "adyen", card().method, "reattempted"))
    hook(DeclineReattempt("o-2", "stripe", "adyen", card().method, "card_limit"))
    labels = {"from_provider": "stripe", "to_provider": "adyen"}
    for outcome in ("reattempted", "card_limit"):
        value = registry.get_sample_value(
            "payrouter_decline_reattempts_total", {**labels, "outcome": outcome}
        )
        assert value == 1


async def test_a_merchant_row_can_make_a_decline_soft(providers: Providers, tmp_path: Path) -> None:
    """Adyen's 27 "Declined Non Generic" is hard by default; the merchant's row says soft, and
    the card is reattempted at Stripe."""
    refusal = {"resultCode": "Refused", "pspReference": "PSP1", "refusalReasonCode": "27"}
    providers.adyen_peer.answer(200, refusal)
    providers.stripe_peer.answer(
        200, {"id": "pi_1", "status": "succeeded", "amount": 1000, "currency": "eur"}
    )
    soft = {"27": CodeRow(kind=FailureKind.CARD_DECLINED, decline=DeclineType.SOFT)}
    adyen = with_codes(providers.adyen, soft)
    async with providers.router(tmp_path, ON, adyen, providers.stripe) as router:
        result = await router.pay(request())
    assert result.status is PaymentStatus.SUCCEEDED
    assert [(a.provider, a.decline) for a in result.attempts] == [
        ("adyen", DeclineType.SOFT),
        ("stripe", None),
    ]


async def test_a_card_with_no_credential_at_the_next_acquirer_is_not_reattempted(
    providers: Providers, tmp_path: Path
) -> None:
    """Tokenized at Stripe only: Adyen cannot charge Stripe's token, so it is not in the
    plan, and the soft decline is the payment's answer."""
    providers.stripe_peer.answer(402, stripe_decline("do_not_honor"))
    stripe_only = CardSource(token="pm_card_visa")
    async with providers.router(tmp_path) as router:
        result = await router.pay(request("order-1", stripe_only))
    assert result.status is PaymentStatus.DECLINED
    assert result.attempts[0].decline is DeclineType.SOFT
    assert providers.adyen_peer.requests == []
    assert providers.reattempts() == []


async def test_a_reattempt_that_cannot_be_made_leaves_the_decline_as_the_answer(
    providers: Providers, tmp_path: Path
) -> None:
    """Adyen is down for the reattempt: the customer's card was still declined (soft) at
    Stripe, and the payment says so instead of "no provider could take it"."""
    providers.stripe_peer.answer(402, stripe_decline("do_not_honor"))
    for _ in range(5):
        providers.adyen_peer.answer(503)
    async with providers.router(tmp_path) as router:
        result = await router.pay(request())
    assert result.status is PaymentStatus.DECLINED
    assert result.attempts[0].provider == "stripe"
    assert result.attempts[-1].provider == "adyen"
    assert [e.outcome for e in providers.reattempts()] == ["reattempted"]


def test_only_the_reattempts_own_miss_keeps_the_decline(providers: Providers) -> None:
    """Any other candidate that could not take it still makes the payment "unavailable"."""
    first = Candidate(providers.stripe, card(), 0)
    target = Candidate(providers.adyen, card(), 0)
    tally = Tally(reattempt_to=target)
    tally.missed(target)
    assert not tally.unavailable
    tally.missed(first)
    assert tally.unavailable


async def test_a_soft_decline_is_reattempted_with_the_cards_network_token(
    providers: Providers, tmp_path: Path
) -> None:
    """Stripe holds the card's token, Adyen takes its network token: both are credentials
    for the same card, so the reattempt goes to Adyen with the network token."""
    providers.stripe_peer.answer(402, stripe_decline("issuer_not_available"))
    providers.adyen_peer.answer(200, adyen_authorised())
    network = NetworkToken(
        number="4895370012003478",
        expiry_month=12,
        expiry_year=2031,
        cryptogram="AgAAAAAAAIR8CQrXcIhbQAAAAAA=",
        eci="05",
    )
    both = CardSource(tokens={"stripe": "pm_card_visa"}, network_token=network)
    async with providers.router(tmp_path) as router:
        result = await router.pay(request("order-1", both))
    assert result.status is PaymentStatus.SUCCEEDED
    assert [a.provider for a in result.attempts] == ["stripe", "adyen"]
    sent = json.loads(providers.adyen_peer.requests[0].content)
    assert sent["paymentMethod"]["type"] == "networkToken"
