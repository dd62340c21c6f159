"""Second routes for wallets, through the real adapters, the Router and the stand-ins: a busy
wallet provider does not end the wallet. PayPal goes through Adyen's PayPal when PayPal's own
API is busy, Apple Pay through Adyen when Stripe is down, each with its own credential (or the
customer's approval at the wallet), and each is charged once."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator

import httpx
import pytest
import pytest_asyncio
from pydantic import SecretStr

from payrouter import (
    AllProvidersUnavailableError,
    Money,
    PaymentRequest,
    PaymentStatus,
    RetrySettings,
    Router,
    RouterSettings,
    WalletSource,
)
from payrouter.provider import FailureKind
from payrouter_adapters.adyen import AdyenAdapter
from payrouter_adapters.paypal import PayPalAdapter
from payrouter_lab.sandbox import Sandbox
from tests.sandbox.kit import add_fault, adyen_adapter, books, charge, options, stripe_adapter
from tests.webhooks.kit import adyen_body, receiver

pytestmark = pytest.mark.asyncio(loop_scope="session")

SETTINGS = RouterSettings(retry=RetrySettings(max_tries=1))
# Apple Pay's paymentData, stringified and base64-encoded, as Adyen takes it.
APPLE_PAY_DATA = {"version": "EC_v1", "data": "c2VhbGVk", "signature": "c2ln", "header": {}}
ADYEN_APPLE_PAY_TOKEN = base64.b64encode(json.dumps(APPLE_PAY_DATA).encode()).decode()
# Google Pay's payment method token (PaymentData.paymentMethodData.tokenizationData.token).
GOOGLE_PAY_TOKEN = json.dumps(
    {"protocolVersion": "ECv2", "signature": "c2ln", "signedMessage": "{}"}
)


def paypal_adapter(sandbox: Sandbox) -> PayPalAdapter:
    return PayPalAdapter.from_options(
        name="paypal",
        capabilities=None,
        options=options(sandbox, "paypal", client_id="id", client_secret="secret"),
    )


@pytest_asyncio.fixture(loop_scope="session")
async def router(sandbox: Sandbox) -> AsyncIterator[Router]:
    """The merchant's order: PayPal's own API, Stripe, then Adyen (cards and wallets)."""
    adapters = [paypal_adapter(sandbox), stripe_adapter(sandbox), adyen_adapter(sandbox)]
    async with Router(adapters, ledger="sqlite://", hooks=(), settings=SETTINGS) as built:
        yield built


def request(order_id: str, wallet: WalletSource) -> PaymentRequest:
    return PaymentRequest(
        order_id=order_id,
        amount=Money.of("30.00", "EUR"),
        sources=[wallet],
        customer_country="DE",
        customer_id="shopper-1",
        return_url="https://shop.example/return",
    )


async def taken(admin: httpx.AsyncClient, provider: str) -> dict[str, object]:
    orders: dict[str, object] = (await books(admin, provider))["orders"]  # type: ignore[assignment]
    return orders


async def test_paypal_busy_at_the_peak_moves_the_wallet_to_adyens_paypal_charged_once(
    router: Router, admin: httpx.AsyncClient
) -> None:
    """PayPal's API answers 429 to every order: the PayPal wallet is sent to Adyen's PayPal,
    the customer approves there, and Adyen alone takes the money, once."""
    await add_fault(admin, "paypal", kind="busy", status=429)
    started = await router.pay(request("w-1", WalletSource(wallet="paypal")))
    assert (started.status, started.provider) == (PaymentStatus.REQUIRES_ACTION, "adyen")
    assert [(a.provider, a.failure_kind) for a in started.attempts] == [
        ("paypal", FailureKind.RATE_LIMITED),
        ("adyen", None),
    ]
    assert started.action_url is not None
    assert started.provider_reference is not None
    async with httpx.AsyncClient() as browser:  # the customer approves at PayPal, via Adyen
        assert (await browser.get(started.action_url)).status_code == 200
    # The return page sends Adyen the redirectResult; Adyen's notification settles it.
    adyen = router.adapters[2]
    assert isinstance(adyen, AdyenAdapter)
    details = {"redirectResult": started.provider_reference}
    assert (await adyen.submit_details(details, idempotency_key="d-1")).failure_kind is None
    body = adyen_body("AUTHORISATION", started.provider_reference, value=3000)
    assert (await receiver(router).receive("adyen", body, {})).status == 200
    finished = await router.lookup("w-1")
    again = await router.pay(request("w-1", WalletSource(wallet="paypal")))  # a double click
    assert finished is not None
    assert (finished.status, again.status) == (PaymentStatus.SUCCEEDED, PaymentStatus.SUCCEEDED)
    assert await taken(admin, "adyen") == {"w-1": {"taken": 3000, "refunded": 0}}
    assert await taken(admin, "paypal") == {}


async def test_apple_pay_with_stripe_down_goes_to_adyen_with_adyens_own_token(
    router: Router, admin: httpx.AsyncClient
) -> None:
    """Each route gets only its own credential: Stripe's PaymentMethod, Adyen's Apple Pay
    token. With Stripe down, Adyen is paid with its token, once."""
    await add_fault(admin, "stripe", kind="down")
    wallet = WalletSource(
        wallet="applepay",
        accounts={
            "stripe": SecretStr("pm_card_visa"),
            "adyen": SecretStr(ADYEN_APPLE_PAY_TOKEN),
        },
    )
    paid = await router.pay(request("w-2", wallet))
    assert (paid.status, paid.provider) == (PaymentStatus.SUCCEEDED, "adyen")
    assert [a.provider for a in paid.attempts] == ["stripe", "adyen"]
    assert await taken(admin, "adyen") == {"w-2": {"taken": 3000, "refunded": 0}}
    assert await taken(admin, "stripe") == {}


async def test_apple_pay_is_charged_at_stripe_by_its_payment_method(
    router: Router, admin: httpx.AsyncClient
) -> None:
    """Stripe first: the PaymentMethod Stripe made of the wallet is charged there, as a card."""
    wallet = WalletSource(wallet="applepay", accounts={"stripe": SecretStr("pm_card_visa")})
    paid = await router.pay(request("w-3", wallet))
    assert (paid.status, paid.provider) == (PaymentStatus.SUCCEEDED, "stripe")
    assert await taken(admin, "stripe") == {"w-3": {"taken": 3000, "refunded": 0}}


async def test_apple_pay_with_only_a_stripe_credential_never_reaches_adyen(
    router: Router, admin: httpx.AsyncClient
) -> None:
    """Adyen cannot charge Stripe's PaymentMethod: with Stripe down it is left out before any
    call, and the order stays payable."""
    await add_fault(admin, "stripe", kind="down")
    wallet = WalletSource(wallet="applepay", accounts={"stripe": SecretStr("pm_card_visa")})
    with pytest.raises(AllProvidersUnavailableError):
        await router.pay(request("w-4", wallet))
    assert await taken(admin, "adyen") == {}
    assert (await books(admin, "adyen"))["entries"] == []


async def test_adyen_refuses_an_apple_pay_token_that_is_not_its_own_and_nothing_moves(
    sandbox: Sandbox, admin: httpx.AsyncClient
) -> None:
    """The stand-in refuses what Adyen refuses: a Stripe PaymentMethod sent as applePayToken is
    `5_002 Invalid Apple Pay token`, an invalid request; nothing is booked."""
    adyen = adyen_adapter(sandbox)
    source = WalletSource(wallet="applepay", account=SecretStr("pm_card_visa"))
    reply = await adyen.pay(charge("adyen", source=source), idempotency_key="k-foreign")
    good = WalletSource(wallet="applepay", account=SecretStr(ADYEN_APPLE_PAY_TOKEN))
    accepted = await adyen.pay(charge("adyen", "o-2", source=good), idempotency_key="k-own")
    await adyen.aclose()
    assert (reply.failure_kind, reply.provider_code) == (FailureKind.INVALID_REQUEST, "5_002")
    assert accepted.failure_kind is None
    assert len((await books(admin, "adyen"))["entries"]) == 1  # type: ignore[arg-type]


async def test_adyen_refuses_a_google_pay_token_it_cannot_decrypt_and_nothing_moves(
    sandbox: Sandbox, admin: httpx.AsyncClient
) -> None:
    """A Stripe PaymentMethod sent as googlePayToken is Adyen's 422 `174 Unable to decrypt
    data`, an invalid request; a Google Pay token is charged; one entry is booked."""
    adyen = adyen_adapter(sandbox)
    source = WalletSource(wallet="googlepay", account=SecretStr("pm_card_visa"))
    reply = await adyen.pay(charge("adyen", source=source), idempotency_key="k-g-foreign")
    good = WalletSource(wallet="googlepay", account=SecretStr(GOOGLE_PAY_TOKEN))
    accepted = await adyen.pay(charge("adyen", "o-g", source=good), idempotency_key="k-g-own")
    await adyen.aclose()
    assert (reply.failure_kind, reply.provider_code) == (FailureKind.INVALID_REQUEST, "174")
    assert accepted.failure_kind is None
    assert len((await books(admin, "adyen"))["entries"]) == 1  # type: ignore[arg-type]


async def test_google_pay_refused_by_adyen_fails_over_to_stripe_charged_once(
    sandbox: Sandbox, admin: httpx.AsyncClient
) -> None:
    """Adyen first, with a token it cannot decrypt: its refusal moved no money, so the wallet
    goes on to Stripe's PaymentMethod and is charged there once; the payment is not stranded."""
    adapters = [adyen_adapter(sandbox), stripe_adapter(sandbox)]
    wallet = WalletSource(
        wallet="googlepay",
        accounts={"adyen": SecretStr("pm_card_visa"), "stripe": SecretStr("pm_card_visa")},
    )
    async with Router(adapters, ledger="sqlite://", hooks=(), settings=SETTINGS) as first_adyen:
        paid = await first_adyen.pay(request("w-g", wallet))
    assert (paid.status, paid.provider) == (PaymentStatus.SUCCEEDED, "stripe")
    assert [(a.provider, a.failure_kind) for a in paid.attempts] == [
        ("adyen", FailureKind.INVALID_REQUEST),
        ("stripe", None),
    ]
    assert await taken(admin, "adyen") == {}
    assert await taken(admin, "stripe") == {"w-g": {"taken": 3000, "refunded": 0}}
