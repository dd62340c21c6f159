"""Rule 1: every call ends succeeded, failed or unknown, and only a provable failure moves on.

Every test checks the simulated providers' books (money actually taken), not only the
router's own ledger.
"""

from __future__ import annotations

from collections.abc import Sequence

import httpx
import pytest
from pydantic import SecretStr

from payrouter import (
    AllProvidersUnavailableError,
    BankTransferSource,
    BreakerSettings,
    CardSource,
    Money,
    NoEligibleProviderError,
    PaymentMethod,
    PaymentRequest,
    PaymentSource,
    PaymentStatus,
    ProviderRejectedRequestError,
    RetrySettings,
    Router,
    RouterSettings,
    WalletSource,
)
from payrouter.instrumentation import (
    AttemptFinished,
    BreakerStateChanged,
    Event,
    FailedOver,
    PaymentFinished,
    RetryScheduled,
)
from payrouter.provider import Capabilities, FailureKind, Outcome, policy_for
from payrouter.testing import Behavior, SimulatedAdapter, SimulatedProvider

CARD = PaymentMethod.CARD
WALLET = PaymentMethod.WALLET
BANK = PaymentMethod.BANK_TRANSFER


class RecordingProvider(SimulatedProvider):
    """A simulated provider that also remembers the Idempotency-Key of every payment call."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.keys: list[str] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.method == "POST" and request.url.path == "/payments":
            self.keys.append(request.headers["Idempotency-Key"])
        return await super().handle_async_request(request)


def provider(name: str, *methods: PaymentMethod, **limits: object) -> SimulatedAdapter:
    """A simulated provider taking `methods` (all when none given) within `limits`."""
    capabilities = Capabilities(methods=frozenset(methods or PaymentMethod), **limits)  # type: ignore[arg-type]
    return SimulatedAdapter(RecordingProvider(name), capabilities=capabilities)


def books(adapter: SimulatedAdapter) -> SimulatedProvider:
    return adapter.provider


def keys(adapter: SimulatedAdapter) -> list[str]:
    sim = adapter.provider
    assert isinstance(sim, RecordingProvider)
    return sim.keys


def card(token: str = "pm_card_visa") -> CardSource:
    return CardSource(token=SecretStr(token))


def wallet(name: str = "paypal") -> WalletSource:
    return WalletSource(wallet=name)


def bank() -> BankTransferSource:
    return BankTransferSource(iban=SecretStr("DE89370400440532013000"))


def request(
    *sources: PaymentSource,
    order_id: str = "order-1",
    amount: str = "10.00",
    currency: str = "EUR",
    country: str = "DE",
) -> PaymentRequest:
    return PaymentRequest(
        order_id=order_id,
        amount=Money.of(amount, currency),
        sources=sources or (card(),),
        customer_country=country,
    )


def router(
    adapters: Sequence[SimulatedAdapter],
    events: list[Event] | None = None,
    settings: RouterSettings | None = None,
) -> Router:
    return Router(
        adapters,
        ledger="sqlite://",
        hooks=() if events is None else [events.append],
        settings=settings,
    )


def total_charges(*adapters: SimulatedAdapter, order_id: str = "order-1") -> int:
    return sum(len(books(adapter).charges(order_id)) for adapter in adapters)


# -- succeeded ---------------------------------------------------------------------------


async def test_success_takes_the_money_once_at_the_first_provider() -> None:
    """A healthy first provider takes exactly one charge and the result names it."""
    first, second = provider("card_a", CARD), provider("card_b", CARD)
    async with router([first, second]) as payments:
        result = await payments.pay(request())
        (charge,) = books(first).charges("order-1")
        assert result.status is PaymentStatus.SUCCEEDED
        assert result.provider == "card_a"
        assert result.method is CARD
        assert result.provider_reference == charge.provider_reference
        assert (charge.amount_minor, charge.currency) == (1000, "EUR")
        assert books(second).calls == 0
        assert [a.outcome for a in result.attempts] == [Outcome.SUCCEEDED]


async def test_busy_provider_is_retried_with_the_same_key_then_failed_over() -> None:
    """A busy provider is retried with one key; the next card provider gets the next key."""
    first, second = provider("card_a", CARD), provider("card_b", CARD)
    books(first).default = Behavior.overloaded()
    settings = RouterSettings(retry=RetrySettings(max_tries=3))
    async with router([first, second], settings=settings) as payments:
        result = await payments.pay(request())
        assert result.status is PaymentStatus.SUCCEEDED
        assert result.provider == "card_b"
        assert books(first).calls == 3
        assert keys(first) == ["payrouter:order-1:1"] * 3
        assert keys(second) == ["payrouter:order-1:2"]
        busy, taken = result.attempts
        assert (busy.number, busy.provider, busy.tries) == (1, "card_a", 3)
        assert (busy.outcome, busy.failure_kind) == (Outcome.FAILED, FailureKind.BUSY)
        assert busy.idempotency_key == keys(first)[0]
        assert (taken.number, taken.provider, taken.outcome) == (2, "card_b", Outcome.SUCCEEDED)
        assert taken.idempotency_key == keys(second)[0]
        assert total_charges(first, second) == 1
        assert books(second).charges("order-1")[0].provider_reference == result.provider_reference


async def test_rate_limited_call_is_retried_after_retry_after_at_the_same_provider() -> None:
    """A 429 with Retry-After is retried at the same provider with the same key."""
    first, second = provider("card_a", CARD), provider("card_b", CARD)
    books(first).script(Behavior.rate_limited(retry_after=0.5))
    events: list[Event] = []
    async with router([first, second], events) as payments:
        result = await payments.pay(request())
        assert result.status is PaymentStatus.SUCCEEDED
        assert result.provider == "card_a"
        assert result.attempts[0].tries == 2
        assert keys(first)[0] == keys(first)[1]
        assert books(second).calls == 0
        assert len(books(first).charges("order-1")) == 1
    (retry,) = [event for event in events if isinstance(event, RetryScheduled)]
    assert (retry.provider, retry.failure_kind, retry.wait_seconds) == (
        "card_a",
        FailureKind.RATE_LIMITED,
        0.0,
    )


async def test_refused_connection_sent_nothing_and_fails_over() -> None:
    """A refused connection moved no money, so the next provider may take the payment."""
    first, second = provider("card_a", CARD), provider("card_b", CARD)
    books(first).default = Behavior.refuse_connection()
    events: list[Event] = []
    async with router([first, second], events) as payments:
        result = await payments.pay(request())
        assert result.status is PaymentStatus.SUCCEEDED
        assert result.provider == "card_b"
        assert result.attempts[0].failure_kind is FailureKind.NETWORK_BEFORE_SEND
        assert books(first).charges() == []
        assert len(books(second).charges("order-1")) == 1
    assert any(isinstance(e, FailedOver) and e.from_provider == "card_a" for e in events)


# -- unknown -----------------------------------------------------------------------------


async def test_timeout_after_send_is_looked_up_before_failover() -> None:
    """A timeout after the charge is looked up at the same provider; the second is never called."""
    first, second = provider("card_a", CARD), provider("card_b", CARD)
    books(first).script(Behavior.timeout_after_charging())
    async with router([first, second]) as payments:
        result = await payments.pay(request())
        (charge,) = books(first).charges("order-1")
        assert result.status is PaymentStatus.SUCCEEDED
        assert result.provider == "card_a"
        assert result.provider_reference == charge.provider_reference
        assert books(first).calls == 1
        assert books(second).calls == 0
        assert total_charges(first, second) == 1


async def test_timeout_before_charge_ends_pending_without_failover() -> None:
    """A lookup that finds nothing proves nothing yet: pending, no failover, no charge."""
    first, second = provider("card_a", CARD), provider("card_b", CARD)
    books(first).script(Behavior.timeout_before_charging())
    async with router([first, second]) as payments:
        result = await payments.pay(request())
        assert result.status is PaymentStatus.PENDING
        assert result.provider == "card_a"
        (attempt,) = result.attempts
        assert attempt.outcome is Outcome.UNKNOWN
        assert books(first).calls == 1
        assert books(second).calls == 0
        assert total_charges(first, second) == 0


async def test_server_error_after_charge_is_looked_up_and_succeeds() -> None:
    """A 500 after processing is unknown; the lookup finds the charge and no one else is asked."""
    first, second = provider("card_a", CARD), provider("card_b", CARD)
    books(first).script(Behavior.error_after_charging())
    async with router([first, second]) as payments:
        result = await payments.pay(request())
        (charge,) = books(first).charges("order-1")
        assert result.status is PaymentStatus.SUCCEEDED
        assert result.provider_reference == charge.provider_reference
        assert books(first).calls == 1
        assert books(second).calls == 0


# -- settled but not finished -------------------------------------------------------------


async def test_requires_action_returns_the_action_url_without_failover() -> None:
    """3-D Secure or wallet approval returns the provider's URL; nobody else is tried."""
    first, second = provider("card_a", CARD), provider("card_b", CARD)
    books(first).script(Behavior.requires_action())
    async with router([first, second]) as payments:
        result = await payments.pay(request())
        assert result.status is PaymentStatus.REQUIRES_ACTION
        assert result.provider == "card_a"
        assert result.action_url is not None
        assert result.action_url.startswith("https://card_a.example/authenticate/")
        assert books(second).calls == 0


async def test_accepted_bank_transfer_returns_pending() -> None:
    """A bank transfer accepted for later settlement is pending, with the money in the books."""
    bank_a, bank_b = provider("bank_a", BANK), provider("bank_b", BANK)
    books(bank_a).script(Behavior.pending())
    async with router([bank_a, bank_b]) as payments:
        result = await payments.pay(request(bank()))
        (charge,) = books(bank_a).charges("order-1")
        assert result.status is PaymentStatus.PENDING
        assert result.method is BANK
        assert result.provider_reference == charge.provider_reference
        assert charge.status == "pending"
        assert books(bank_b).calls == 0


# -- declined -------------------------------------------------------------------------------


async def test_hard_decline_is_final_and_never_tried_elsewhere() -> None:
    """Insufficient funds: declined with a customer-safe reason, no other provider, no breaker."""
    first, second = provider("card_a", CARD), provider("card_b", CARD)
    books(first).script(Behavior.decline_with(FailureKind.INSUFFICIENT_FUNDS))
    events: list[Event] = []
    async with router([first, second], events) as payments:
        result = await payments.pay(request())
        assert result.status is PaymentStatus.DECLINED
        assert result.failure_kind is FailureKind.INSUFFICIENT_FUNDS
        assert result.decline_reason == policy_for(FailureKind.INSUFFICIENT_FUNDS).customer_message
        assert "insufficient_funds" not in result.decline_reason
        assert books(first).calls == 1
        assert books(second).calls == 0
        assert total_charges(first, second) == 0
        assert payments.breaker_states().get(("card_a", CARD), "closed") == "closed"
    assert not any(isinstance(event, BreakerStateChanged) for event in events)


async def test_fallback_on_decline_moves_to_the_next_source_never_the_same_one_elsewhere() -> None:
    """With fallback_on_decline a declined wallet moves on to the card, not another wallet PSP."""
    wallet_a, wallet_b = provider("wallet_a", WALLET), provider("wallet_b", WALLET)
    card_c = provider("card_c", CARD)
    books(wallet_a).script(Behavior.decline_with(FailureKind.ACCOUNT_FROZEN))
    settings = RouterSettings(fallback_on_decline=True)
    async with router([wallet_a, wallet_b, card_c], settings=settings) as payments:
        result = await payments.pay(request(wallet(), card()))
        assert result.status is PaymentStatus.SUCCEEDED
        assert (result.provider, result.method) == ("card_c", CARD)
        assert books(wallet_b).calls == 0
        assert [a.provider for a in result.attempts] == ["wallet_a", "card_c"]
        assert total_charges(wallet_a, wallet_b, card_c) == 1


async def test_fallback_on_decline_is_declined_when_every_source_declines() -> None:
    """When each offered source is declined, the payment is declined, not failed."""
    wallet_a, card_c = provider("wallet_a", WALLET), provider("card_c", CARD)
    books(wallet_a).script(Behavior.decline_with(FailureKind.ACCOUNT_FROZEN))
    books(card_c).script(Behavior.decline_with(FailureKind.CARD_DECLINED))
    settings = RouterSettings(fallback_on_decline=True)
    async with router([wallet_a, card_c], settings=settings) as payments:
        result = await payments.pay(request(wallet(), card()))
        assert result.status is PaymentStatus.DECLINED
        assert result.failure_kind is FailureKind.CARD_DECLINED
        assert total_charges(wallet_a, card_c) == 0


# -- failed, moving on or stopping ----------------------------------------------------------


async def test_rejected_credentials_fail_over_and_raise_an_operator_alert() -> None:
    """Our key was refused: the next provider takes the payment and the events carry an alert."""
    first, second = provider("card_a", CARD), provider("card_b", CARD)
    books(first).default = Behavior.credentials_rejected()
    events: list[Event] = []
    async with router([first, second], events) as payments:
        result = await payments.pay(request())
        assert result.status is PaymentStatus.SUCCEEDED
        assert result.provider == "card_b"
        assert books(first).calls == 1
        assert total_charges(first, second) == 1
    rejected = [e for e in events if isinstance(e, AttemptFinished) and e.provider == "card_a"]
    assert [e.failure_kind for e in rejected] == [FailureKind.CREDENTIALS_REJECTED]
    assert policy_for(FailureKind.CREDENTIALS_REJECTED).alert
    (finished,) = [e for e in events if isinstance(e, PaymentFinished)]
    assert finished.alert, "an operator must hear of rejected credentials even after failover"


async def test_one_providers_invalid_request_fails_over_and_still_alerts() -> None:
    """A provider refusing the request as it sees it took no money: the next one is tried."""
    first, second = provider("card_a", CARD), provider("card_b", CARD)
    books(first).script(Behavior.invalid())
    events: list[Event] = []
    async with router([first, second], events) as payments:
        result = await payments.pay(request())
    assert result.status is PaymentStatus.SUCCEEDED
    assert result.provider == "card_b"
    assert [a.failure_kind for a in result.attempts] == [FailureKind.INVALID_REQUEST, None]
    (finished,) = [e for e in events if isinstance(e, PaymentFinished)]
    assert finished.alert


async def test_refused_as_invalid_everywhere_raises_and_the_order_can_be_paid_again() -> None:
    """Every provider refused it: nothing charged, the error says so, the order stays payable."""
    first, second = provider("card_a", CARD), provider("card_b", CARD)
    books(first).script(Behavior.invalid())
    books(second).script(Behavior.invalid())
    async with router([first, second], []) as payments:
        with pytest.raises(ProviderRejectedRequestError) as caught:
            await payments.pay(request())
        assert [a.failure_kind for a in caught.value.attempts] == [
            FailureKind.INVALID_REQUEST,
            FailureKind.INVALID_REQUEST,
        ]
        stored = await payments.lookup("order-1")
        assert stored is not None
        assert stored.status is PaymentStatus.FAILED
        again = await payments.pay(request())
        assert again.status is PaymentStatus.SUCCEEDED
        assert len(books(first).charges()) + len(books(second).charges()) == 1


async def test_all_providers_down_raises_with_attempts_and_healthy_methods() -> None:
    """Every card provider down: no money moved, the error lists attempts and what works now."""
    card_a, card_b = provider("card_a", CARD), provider("card_b", CARD)
    wallet_c = provider("wallet_c", WALLET)
    for down in (card_a, card_b):
        books(down).default = Behavior.unavailable()
    settings = RouterSettings(breaker=BreakerSettings(fail_max=1))
    async with router([card_a, card_b, wallet_c], settings=settings) as payments:
        with pytest.raises(AllProvidersUnavailableError) as caught:
            await payments.pay(request())
        error = caught.value
        assert error.order_id == "order-1"
        assert [(a.provider, a.failure_kind) for a in error.attempts] == [
            ("card_a", FailureKind.PROVIDER_DOWN),
            ("card_b", FailureKind.PROVIDER_DOWN),
        ]
        assert error.healthy_methods == (WALLET,)
        stored = await payments.lookup("order-1")
        assert stored is not None
        assert stored.status is PaymentStatus.FAILED
        assert total_charges(card_a, card_b, wallet_c) == 0
        assert books(wallet_c).calls == 0


@pytest.mark.parametrize(
    ("limits", "payment"),
    [
        ({"currencies": frozenset({"USD"})}, request(currency="EUR")),
        ({"countries": frozenset({"US"})}, request(country="DE")),
        ({}, request(wallet())),
        ({"max_minor_units": 500}, request(amount="10.00")),
    ],
    ids=["currency", "country", "method", "amount"],
)
async def test_no_eligible_provider_raises_without_calling_anyone(
    limits: dict[str, object], payment: PaymentRequest
) -> None:
    """A payment outside every provider's capabilities is refused before any call."""
    only = provider("card_a", CARD, **limits)
    async with router([only]) as payments:
        with pytest.raises(NoEligibleProviderError) as caught:
            await payments.pay(payment)
        assert caught.value.attempts == ()
        assert books(only).calls == 0


async def test_failover_order_is_source_order_then_provider_order() -> None:
    """Busy wallet A hands over to wallet B before the card, whatever the adapters' order."""
    card_c = provider("card_c", CARD)
    wallet_a, wallet_b = provider("wallet_a", WALLET), provider("wallet_b", WALLET)
    books(wallet_a).default = Behavior.overloaded()
    books(wallet_b).default = Behavior.maintenance()
    settings = RouterSettings(retry=RetrySettings(max_tries=1))
    async with router([card_c, wallet_a, wallet_b], settings=settings) as payments:
        result = await payments.pay(request(wallet(), card()))
        assert result.status is PaymentStatus.SUCCEEDED
        assert [(a.provider, a.method) for a in result.attempts] == [
            ("wallet_a", WALLET),
            ("wallet_b", WALLET),
            ("card_c", CARD),
        ]
        assert [a.number for a in result.attempts] == [1, 2, 3]
        assert total_charges(card_c, wallet_a, wallet_b) == 1
        assert len(books(card_c).charges("order-1")) == 1
