"""Each provider is sent only a credential it can charge; the others are skipped, with why.

No real provider charges another provider's token. The simulated providers here declare their
credential rules the way the real adapters do (a Stripe-like one recognizes `pm_` ids, an
Adyen-like one recognizes nothing and needs a shopper), and record what each call carried.
"""

from __future__ import annotations

import json

import httpx
import pytest
from pydantic import SecretStr, ValidationError

from payrouter import (
    AllProvidersUnavailableError,
    CardSource,
    Mandate,
    Money,
    NetworkToken,
    PaymentMethod,
    PaymentRequest,
    PaymentSource,
    PaymentStatus,
    Router,
    WalletSource,
)
from payrouter._paying._plan import credential_for
from payrouter.instrumentation import Event, RoutePlanned
from payrouter.provider import Capabilities, CredentialRules
from payrouter.testing import Behavior, SimulatedAdapter, SimulatedProvider

CARD, WALLET = PaymentMethod.CARD, PaymentMethod.WALLET
STRIPE_LIKE = CredentialRules(card_id_format=r"pm_\w+")
ADYEN_LIKE = CredentialRules(
    card_id_format=None,
    stored_credential_requires=frozenset({"customer_id"}),
    wallet_tokens=frozenset({"applepay"}),
    network_tokens=True,
)
NETWORK_TOKEN = NetworkToken(
    number=SecretStr("4895370012003478"),
    expiry_month=12,
    expiry_year=2030,
    cryptogram=SecretStr("AgAAAAAABk4DWZ4C28yUQAAAAAA="),
    eci="05",
)


class RecordingProvider(SimulatedProvider):
    """A simulated provider that remembers the credential each payment call carried."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.sent: list[str] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.method == "POST" and request.url.path == "/payments":
            self.sent.append(json.loads(request.content)["source"])
        return await super().handle_async_request(request)


def provider(name: str, rules: CredentialRules, *methods: PaymentMethod) -> SimulatedAdapter:
    capabilities = Capabilities(methods=frozenset(methods or {CARD}), credentials=rules)
    return SimulatedAdapter(RecordingProvider(name), capabilities=capabilities)


def sent(adapter: SimulatedAdapter) -> list[str]:
    recording = adapter.provider
    assert isinstance(recording, RecordingProvider)
    return recording.sent


def request(*sources: PaymentSource, customer_id: str | None = "shopper-7") -> PaymentRequest:
    return PaymentRequest(
        order_id="order-1",
        amount=Money.of("10.00", "EUR"),
        sources=sources,
        customer_country="DE",
        customer_id=customer_id,
    )


async def pay(
    adapters: list[SimulatedAdapter], payment: PaymentRequest
) -> tuple[PaymentStatus, list[Event], int]:
    """The payment's status, the events, and the charges in every provider's books."""
    events: list[Event] = []
    async with Router(adapters, ledger="sqlite://", hooks=[events.append]) as router:
        result = await router.pay(payment)
        charges = sum(len(adapter.provider.charges()) for adapter in adapters)
    return result.status, events, charges


def excluded(events: list[Event]) -> tuple[str, ...]:
    (planned,) = [event for event in events if isinstance(event, RoutePlanned)]
    return planned.excluded


async def test_a_stripe_card_with_stripe_down_moves_to_the_next_source_without_calling_adyen() -> (
    None
):
    stripe, adyen = provider("stripe", STRIPE_LIKE), provider("adyen", ADYEN_LIKE, CARD, WALLET)
    stripe.provider.default = Behavior.unavailable()
    status, events, _ = await pay(
        [stripe, adyen],
        request(CardSource(token=SecretStr("pm_card_visa")), WalletSource(wallet="paypal")),
    )
    assert status is PaymentStatus.SUCCEEDED
    assert sent(adyen) == ["paypal"]  # the wallet, never the Stripe card
    assert "adyen: no credential for adyen in card #1" in excluded(events)


async def test_a_card_with_a_token_at_each_provider_fails_over_and_is_charged_once() -> None:
    stripe, adyen = provider("stripe", STRIPE_LIKE), provider("adyen", ADYEN_LIKE)
    stripe.provider.default = Behavior.unavailable()
    card = CardSource(tokens={"stripe": SecretStr("pm_1"), "adyen": SecretStr("8415718415")})
    status, _, charges = await pay([stripe, adyen], request(card))
    assert status is PaymentStatus.SUCCEEDED
    assert set(sent(stripe)) == {"pm_1"}
    assert sent(adyen) == ["8415718415"]
    assert charges == 1


async def test_a_named_token_goes_only_to_the_provider_that_issued_it() -> None:
    stripe, adyen = provider("stripe", STRIPE_LIKE), provider("adyen", ADYEN_LIKE)
    adyen.provider.default = Behavior.unavailable()
    card = CardSource(token=SecretStr("8415718415"), provider="adyen")
    with pytest.raises(AllProvidersUnavailableError):
        await pay([adyen, stripe], request(card))
    assert sent(stripe) == []


@pytest.mark.parametrize("first_down", ["stripe", "adyen"])
async def test_a_network_token_card_is_charged_at_either_provider_that_takes_them(
    first_down: str,
) -> None:
    stripe_rules = CredentialRules(card_id_format=r"pm_\w+", network_tokens=True)
    stripe, adyen = provider("stripe", stripe_rules), provider("adyen", ADYEN_LIKE)
    down = {"stripe": stripe, "adyen": adyen}[first_down]
    down.provider.default = Behavior.unavailable()
    card = CardSource(network_token=NETWORK_TOKEN)
    status, _, charges = await pay([stripe, adyen], request(card, customer_id=None))
    assert status is PaymentStatus.SUCCEEDED
    taken = stripe if first_down == "adyen" else adyen
    assert sent(taken) == ["4895370012003478"]
    assert charges == 1


async def test_a_provider_without_network_tokens_is_skipped_with_the_reason() -> None:
    stripe, adyen = provider("stripe", STRIPE_LIKE), provider("adyen", ADYEN_LIKE)
    status, events, _ = await pay([stripe, adyen], request(CardSource(network_token=NETWORK_TOKEN)))
    assert status is PaymentStatus.SUCCEEDED
    assert sent(stripe) == []
    assert "stripe: no credential for stripe in card #1" in excluded(events)


async def test_a_stored_card_missing_a_field_its_provider_requires_is_not_sent_there() -> None:
    adyen, stripe = provider("adyen", ADYEN_LIKE), provider("stripe", STRIPE_LIKE)
    card = CardSource(tokens={"adyen": SecretStr("8415718415"), "stripe": SecretStr("pm_1")})
    status, events, _ = await pay([adyen, stripe], request(card, customer_id=None))
    assert status is PaymentStatus.SUCCEEDED
    assert sent(adyen) == []
    assert sent(stripe) == ["pm_1"]
    assert "adyen: a stored card at adyen needs customer_id" in excluded(events)


async def test_a_wallet_token_for_one_provider_never_reaches_another() -> None:
    first = provider("wallet_a", CredentialRules(), WALLET)
    adyen = provider("adyen", ADYEN_LIKE, WALLET)
    first.provider.default = Behavior.unavailable()
    apple = WalletSource(wallet="applepay", account=SecretStr("apple-token-a"), provider="wallet_a")
    with pytest.raises(AllProvidersUnavailableError):
        await pay([first, adyen], request(apple))
    assert sent(adyen) == []


async def test_a_failed_order_can_be_paid_again_with_fixed_details() -> None:
    """Nothing was charged, so the customer id a provider needed may be added on the retry."""
    adyen = provider("adyen", ADYEN_LIKE)
    adyen.provider.script(Behavior.unavailable())
    card = CardSource(token=SecretStr("8415718415"), provider="adyen")
    async with Router([adyen], ledger="sqlite://", hooks=()) as router:
        with pytest.raises(AllProvidersUnavailableError):
            await router.pay(request(card, customer_id="shopper-7"))
        fixed = request(CardSource(token=SecretStr("8415718416"), provider="adyen"))
        result = await router.pay(fixed)
    assert result.status is PaymentStatus.SUCCEEDED
    assert sent(adyen)[-1] == "8415718416"


def test_a_mandate_names_its_provider_on_the_card_it_charges() -> None:
    mandate = Mandate(provider="adyen", mandate_id="8415718415", method=CARD)
    source = mandate.as_source()
    assert isinstance(source, CardSource)
    assert source.provider == "adyen"


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({}, "give the card's credential"),
        ({"provider": "adyen"}, "provider names who issued `token`"),
        (
            {"token": SecretStr("a"), "provider": "x", "tokens": {"x": SecretStr("b")}},
            "two tokens for provider 'x'",
        ),
    ],
)
def test_a_card_without_a_usable_credential_is_refused_naming_the_fix(
    fields: dict[str, object], message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        CardSource(**fields)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"cryptogram": None}, "give the cryptogram"),
        (
            {"cryptogram": None, "network_transaction_id": "583131161310021", "eci": "05"},
            "eci comes with a cryptogram",
        ),
        ({"number": SecretStr("4895370012003479")}, "is not a token PAN"),
        ({"expiry_month": 13}, "less than or equal to 12"),
    ],
)
def test_a_network_token_is_validated_naming_the_field(
    fields: dict[str, object], message: str
) -> None:
    good = NETWORK_TOKEN.model_dump() | {
        "number": NETWORK_TOKEN.number,
        "cryptogram": NETWORK_TOKEN.cryptogram,
    }
    with pytest.raises(ValidationError, match=message):
        NetworkToken(**(good | fields))


def test_a_merchant_initiated_network_token_carries_the_first_payments_transaction_id() -> None:
    token = NetworkToken(
        number=SecretStr("4895370012003478"),
        expiry_month=1,
        expiry_year=2031,
        network_transaction_id="583131161310021",
    )
    assert token.cryptogram is None
    assert "4895370012003478" not in repr(token)


@pytest.mark.parametrize(
    "source",
    [
        CardSource(token=SecretStr("pm_card_visa")),
        CardSource(token=SecretStr("pm_card_visa"), provider="stripe"),
        CardSource(tokens={"stripe": SecretStr("pm_card_visa")}),
        CardSource(token=SecretStr("pm_card_visa"), network_token=NETWORK_TOKEN),
        WalletSource(wallet="paypal"),
        WalletSource(wallet="paypal", account=SecretStr("payer-1"), provider="stripe"),
        WalletSource(wallet="paypal", accounts={"stripe": SecretStr("payer-1")}),
    ],
)
def test_the_credential_a_provider_is_sent_is_the_source_narrowed_to_it(
    source: CardSource | WalletSource,
) -> None:
    """A source already holding only that credential goes as it is, equal to the narrowing."""
    adapter = provider("stripe", STRIPE_LIKE, CARD, WALLET)
    narrowed = credential_for(adapter, source, 0, request(source))
    if isinstance(source, CardSource):
        assert isinstance(narrowed, CardSource)
        token = source.tokens.get("stripe") or source.token
        cleared = {"provider": None, "tokens": {}, "network_token": None, "vault_card": None}
        expected = source.model_copy(update={"token": token, **cleared})
    else:
        assert isinstance(narrowed, WalletSource)
        account = source.account_for("stripe")
        expected = source.model_copy(update={"account": account, "provider": None, "accounts": {}})
    assert narrowed == expected
    assert (narrowed is source) == (narrowed.model_dump() == source.model_dump())


def test_credential_rules_compare_and_print_by_their_declared_fields() -> None:
    """The compiled token format is kept out of equality and the repr."""
    assert CredentialRules(card_id_format=r"pm_\w+") == STRIPE_LIKE
    assert "Pattern" not in repr(STRIPE_LIKE)
    assert STRIPE_LIKE.recognizes("pm_card_visa")
    assert not STRIPE_LIKE.recognizes("xpm_card_visa")
    assert not ADYEN_LIKE.recognizes("pm_card_visa")
    assert not CredentialRules(card_id_format="").recognizes("")
