"""Forwarding vaults in the config file: `vaults`, and a provider's `vault`."""

from __future__ import annotations

from pathlib import Path

import pytest

from payrouter import ConfigurationError
from payrouter._config import load_config
from payrouter.provider import HttpAdapter

ADYEN = """
  - name: adyen_eu
    type: adyen
    vault: {vault}
    options:
      base_url: https://checkout-test.adyen.com/v72
      api_key: "${{ADYEN_API_KEY}}"
      merchant_account: ShopECOM
      return_url: https://shop.example/return
"""


def write(tmp_path: Path, vaults: str, provider: str) -> Path:
    path = tmp_path / "payrouter.yaml"
    path.write_text(f"vaults:\n{vaults}\nproviders:\n{provider}")
    return path


@pytest.fixture(autouse=True)
def environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ADYEN_API_KEY", "AQE-test")
    monkeypatch.setenv("STRIPE_API_KEY", "sk_x")
    monkeypatch.setenv("PAYPAL_TOKEN", "A21-test")
    monkeypatch.setenv("VGS_PROXY_URL", "https://USER:PASS@tnt.sandbox.verygoodproxy.com:8443")


async def test_a_provider_named_to_a_vault_is_built_reached_through_it(tmp_path: Path) -> None:
    """The vault's proxy URL comes from the environment; the adapter takes the vault's cards."""
    vaults = '  - name: vgs\n    proxy_url: "${VGS_PROXY_URL}"'
    config = load_config(write(tmp_path, vaults, ADYEN.format(vault="vgs")))
    [adapter] = config.build_adapters()
    assert adapter.capabilities.credentials.vaults == frozenset({"vgs"})
    assert isinstance(adapter, HttpAdapter)
    await adapter.aclose()


def test_a_provider_naming_an_unknown_vault_is_refused_naming_the_field(tmp_path: Path) -> None:
    """A typo in `vault` fails at load, saying which vaults exist."""
    vaults = '  - name: vgs\n    proxy_url: "${VGS_PROXY_URL}"'
    with pytest.raises(ConfigurationError, match=r"providers\[adyen_eu\]\.vault.*vgs"):
        load_config(write(tmp_path, vaults, ADYEN.format(vault="basis")))


def test_a_proxy_password_written_in_the_file_is_refused(tmp_path: Path) -> None:
    """The proxy URL carries the vault's credentials: they come from the environment."""
    vaults = (
        "  - name: vgs\n    proxy_url: https://USER:s3cr3t-pw@tnt.sandbox.verygoodproxy.com:8443"
    )
    with pytest.raises(ConfigurationError, match=r"vaults\.0\.proxy_url.*VGS_PROXY_URL") as caught:
        load_config(write(tmp_path, vaults, ADYEN.format(vault="vgs")))
    assert "s3cr3t-pw" not in str(caught.value)


def test_an_adapter_that_cannot_send_card_fields_is_refused_behind_a_vault(
    tmp_path: Path,
) -> None:
    """PayPal's adapter sends no card fields: configuring it behind a vault fails."""
    vaults = '  - name: vgs\n    proxy_url: "${VGS_PROXY_URL}"'
    paypal = (
        "  - name: paypal\n    type: paypal\n    methods: [wallet]\n    vault: vgs\n"
        '    options:\n      access_token: "${PAYPAL_TOKEN}"\n'
    )
    config = load_config(write(tmp_path, vaults, paypal))
    with pytest.raises(ConfigurationError, match="cannot send card fields"):
        config.build_adapters()
