"""Forwarding vaults: a card held by a vault goes only to providers reached through it."""

from __future__ import annotations

import pytest
from pydantic import SecretStr, ValidationError

from payrouter import CardSource, ConfigurationError, Money, PaymentRequest, VaultCard
from payrouter._paying._plan import plan
from payrouter.provider import ForwardingVault, ForwardProxyVault
from payrouter_adapters.adyen import AdyenAdapter
from payrouter_adapters.paypal import PayPalAdapter
from payrouter_adapters.stripe import StripeAdapter

ALIAS = "tok_sandbox_bhtsCwFUzoJMw9rWUfEV5e"
ADYEN_OPTIONS: dict[str, object] = {
    "base_url": "https://checkout-test.adyen.com/v72",
    "api_key": "key",
    "merchant_account": "ShopECOM",
    "return_url": "https://shop.example/return",
}
VAULT = ForwardProxyVault("vgs", "https://USER:secret-pass@tnt.sandbox.verygoodproxy.com:8443")


def vault_card(vault: str = "vgs") -> CardSource:
    return CardSource(
        vault_card=VaultCard(vault=vault, number=SecretStr(ALIAS), expiry_month=3, expiry_year=2030)
    )


def test_a_card_number_is_refused_where_an_alias_belongs() -> None:
    """The vault's alias, never the number: the error names the field and the fix."""
    with pytest.raises(ValidationError) as caught:
        VaultCard(
            vault="vgs", number=SecretStr("4111111111111111"), expiry_month=3, expiry_year=2030
        )
    assert "number" in str(caught.value)
    assert "alias" in str(caught.value)
    assert "4111111111111111" not in str(caught.value)


async def test_a_vault_card_goes_only_to_providers_behind_its_vault() -> None:
    """Behind the vault: eligible with the aliases alone; not behind it: skipped, saying why."""
    behind = AdyenAdapter.from_options(
        name="adyen_eu", capabilities=None, options=ADYEN_OPTIONS, vault=VAULT
    )
    direct = AdyenAdapter.from_options(name="adyen_us", capabilities=None, options=ADYEN_OPTIONS)
    request = PaymentRequest(
        order_id="o-1", amount=Money.of("5", "EUR"), sources=[vault_card()], customer_country="DE"
    )
    planned = plan(request, [direct, behind])
    assert [c.adapter.name for c in planned.candidates] == ["adyen_eu"]
    assert planned.candidates[0].source == vault_card()
    assert [(e.provider, e.reason) for e in planned.excluded] == [
        ("adyen_us", "card #1 is held by vault vgs, not reached from adyen_us")
    ]
    other_vault = plan(request.model_copy(update={"sources": [vault_card("basis")]}), [behind])
    assert other_vault.candidates == []
    await behind.aclose()
    await direct.aclose()


def test_an_adapter_that_cannot_send_card_fields_refuses_a_vault() -> None:
    """PayPal's Orders API here takes wallets only, so a vault has nothing to fill in."""
    with pytest.raises(ConfigurationError, match="cannot send card fields"):
        PayPalAdapter.from_options(
            name="paypal", capabilities=None, options={"access_token": "t"}, vault=VAULT
        )


def test_stripe_behind_a_vault_takes_the_vaults_cards() -> None:
    """Stripe makes a PaymentMethod of the vault's aliases first, so a vault card is eligible
    at a Stripe adapter built with that vault, and only there."""
    behind = StripeAdapter.from_options(
        name="stripe", capabilities=None, options={"api_key": "sk_x"}, vault=VAULT
    )
    assert behind.capabilities.credentials.raw_cards
    assert behind.capabilities.credentials.vaults == frozenset({VAULT.name})


def test_the_forward_proxy_vault_keeps_its_credentials_out_of_its_repr() -> None:
    """The proxy URL carries the vault's credentials; repr shows the name only."""
    assert isinstance(VAULT, ForwardingVault)
    assert "secret-pass" not in repr(VAULT)
    assert repr(VAULT) == "ForwardProxyVault(name='vgs')"


def test_an_unreadable_ca_file_is_a_configuration_error() -> None:
    """The vault's CA bundle is read when the vault is set up, not on the first payment."""
    with pytest.raises(ConfigurationError, match="ca_file"):
        ForwardProxyVault("vgs", "https://u:p@proxy.example:8443", ca_file="/nonexistent.pem")
