"""Stripe's PaymentMethods made before the intent: a forwarding vault's card (raw card data,
refused unless the account has Stripe's raw card data access) and an Apple Pay or Google Pay
wallet given as a legacy card token (`tok_...`). Router -> adapter -> (vault proxy) -> stand-in."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
import pytest_asyncio
from pydantic import SecretStr

from payrouter import (
    CardSource,
    Money,
    PaymentRequest,
    PaymentStatus,
    ProviderRejectedRequestError,
    RetrySettings,
    Router,
    RouterSettings,
    VaultCard,
    WalletSource,
)
from payrouter.provider import FailureKind, ForwardProxyVault
from payrouter_adapters.stripe import StripeAdapter
from payrouter_lab.sandbox import Sandbox, VaultProxy
from tests.sandbox.kit import books, options, stripe_adapter
from tests.sandbox.test_vault import adyen_through

pytestmark = pytest.mark.asyncio(loop_scope="session")

SETTINGS = RouterSettings(retry=RetrySettings(max_tries=1))


@pytest_asyncio.fixture(loop_scope="session")
async def vault() -> AsyncIterator[VaultProxy]:
    async with VaultProxy() as proxy:
        yield proxy


def stripe_through(sandbox: Sandbox, vault: VaultProxy) -> StripeAdapter:
    return StripeAdapter.from_options(
        name="stripe",
        capabilities=None,
        options=options(sandbox, "stripe", api_key="sk_x"),
        vault=ForwardProxyVault("vgs", vault.url),
    )


def vault_card(vault: VaultProxy) -> CardSource:
    stored = vault.store("4242424242424242", "123")
    return CardSource(
        vault_card=VaultCard(
            vault="vgs",
            number=SecretStr(stored.number),
            expiry_month=12,
            expiry_year=2031,
            cvc=SecretStr(stored.cvc or ""),
        )
    )


def request(order_id: str, source: CardSource | WalletSource) -> PaymentRequest:
    return PaymentRequest(
        order_id=order_id,
        amount=Money.of("12.00", "EUR"),
        sources=[source],
        customer_country="DE",
        return_url="https://shop.example/return",
    )


async def entries(admin: httpx.AsyncClient, provider: str) -> list[dict[str, object]]:
    found: list[dict[str, object]] = (await books(admin, provider))["entries"]  # type: ignore[assignment]
    return found


async def test_without_raw_card_access_stripe_refuses_the_vault_card_and_adyen_charges_it(
    sandbox: Sandbox, admin: httpx.AsyncClient, vault: VaultProxy
) -> None:
    """Stripe refuses raw card data on an account it has not enabled (402, no code): nothing
    was made or charged, so the router moves on to Adyen behind the same vault."""
    adapters = [stripe_through(sandbox, vault), adyen_through(sandbox, vault, "adyen_eu")]
    async with Router(adapters, ledger="sqlite://", hooks=(), settings=SETTINGS) as router:
        result = await router.pay(request("v-1", vault_card(vault)))
    assert (result.status, result.provider) == (PaymentStatus.SUCCEEDED, "adyen_eu")
    assert [(a.provider, a.failure_kind, a.provider_code) for a in result.attempts] == [
        ("stripe", FailureKind.INVALID_REQUEST, "raw_card_data_not_enabled"),
        ("adyen_eu", None, "Authorised"),
    ]
    assert await entries(admin, "stripe") == []
    assert len(await entries(admin, "adyen")) == 1


async def test_with_raw_card_access_stripe_charges_the_vault_card_once(
    sandbox: Sandbox, admin: httpx.AsyncClient, vault: VaultProxy
) -> None:
    """Access granted: the PaymentMethod is made of the aliases (swapped by the vault) and the
    intent is paid with it; both calls went through the vault, and one charge is booked."""
    granted = await admin.post("/stripe/account", json={"raw_card_data": True})
    assert granted.json() == {"raw_card_data": True}
    async with Router([stripe_through(sandbox, vault)], ledger="sqlite://", hooks=()) as router:
        result = await router.pay(request("v-2", vault_card(vault)))
    assert (result.status, result.provider) == (PaymentStatus.SUCCEEDED, "stripe")
    assert vault.forwarded == 2  # POST /v1/payment_methods, then POST /v1/payment_intents
    booked = await entries(admin, "stripe")
    assert [entry["order_id"] for entry in booked] == ["v-2"]
    assert str(booked[0]["payer"]).startswith("pm_")


async def test_an_apple_pay_card_token_is_made_into_a_payment_method_and_charged_once(
    sandbox: Sandbox, admin: httpx.AsyncClient
) -> None:
    """A `tok_...` Stripe made of the Apple Pay sheet becomes a PaymentMethod (`card[token]`),
    which pays the intent; the token is single-use, so a second order with it is refused."""
    issued = await admin.post("/stripe/credentials", json={"id": "tok_applepay_1"})
    assert issued.status_code == 201, issued.text
    wallet = WalletSource(wallet="applepay", accounts={"stripe": SecretStr("tok_applepay_1")})
    async with Router([stripe_adapter(sandbox)], ledger="sqlite://", hooks=()) as router:
        paid = await router.pay(request("t-1", wallet))
        with pytest.raises(ProviderRejectedRequestError) as reused:
            await router.pay(request("t-2", wallet))
    assert (paid.status, paid.provider) == (PaymentStatus.SUCCEEDED, "stripe")
    assert [(a.failure_kind, a.provider_code) for a in reused.value.attempts] == [
        (FailureKind.INVALID_REQUEST, "token_already_used")
    ]
    assert [entry["order_id"] for entry in await entries(admin, "stripe")] == ["t-1"]


async def test_a_card_token_stripe_never_made_is_refused_without_a_charge(
    sandbox: Sandbox, admin: httpx.AsyncClient
) -> None:
    """Another account's token (or another provider's credential shaped like one) is
    `resource_missing` at the PaymentMethod step: an invalid request, nothing charged."""
    adapter = stripe_adapter(sandbox)
    wallet = WalletSource(wallet="googlepay", account=SecretStr("tok_of_another_account"))
    async with Router([adapter], ledger="sqlite://", hooks=()) as router:
        with pytest.raises(ProviderRejectedRequestError) as refused:
            await router.pay(request("t-3", wallet))
    assert [(a.failure_kind, a.provider_code) for a in refused.value.attempts] == [
        (FailureKind.INVALID_REQUEST, "resource_missing")
    ]
    assert await entries(admin, "stripe") == []


async def test_a_decline_test_token_declines_through_its_payment_method(
    sandbox: Sandbox,
) -> None:
    """Stripe's decline test tokens keep their decline once made into a PaymentMethod."""
    token = SecretStr("tok_chargeDeclinedInsufficientFunds")
    wallet = WalletSource(wallet="googlepay", account=token)
    async with Router([stripe_adapter(sandbox)], ledger="sqlite://", hooks=()) as router:
        result = await router.pay(request("t-4", wallet))
    assert result.status is PaymentStatus.DECLINED
    assert result.attempts[-1].failure_kind is FailureKind.INSUFFICIENT_FUNDS
