"""Router.from_config: a YAML or TOML file becomes a working router, or a precise error."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import SecretStr

from payrouter import (
    CardSource,
    ConfigurationError,
    Money,
    PaymentMethod,
    PaymentRequest,
    PaymentStatus,
    Router,
    WalletSource,
)
from payrouter._ledger import SqlLedger
from payrouter.testing import SimulatedAdapter

_TOML = """
ledger = "sqlite:///payments.db"

[router]
deadline_seconds = 5
lease_seconds = 60

[router.retry]
max_tries = 2

[[providers]]
name = "sim_card"
type = "simulated"
methods = ["card"]
currencies = ["EUR"]

[[providers]]
name = "sim_wallet"
type = "simulated"
methods = ["wallet"]
wallets = ["paypal"]
"""


def request(order_id: str = "order-1", *, wallet: bool = False) -> PaymentRequest:
    return PaymentRequest(
        order_id=order_id,
        amount=Money.of("10.00", "EUR"),
        sources=[
            WalletSource(wallet="paypal") if wallet else CardSource(token=SecretStr("pm_card"))
        ],
        customer_country="DE",
    )


def write_yaml(folder: Path, config: dict[str, Any]) -> Path:
    path = folder / "payrouter.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def simulated(name: str = "sim_card", **fields: Any) -> dict[str, Any]:
    return {"name": name, "type": "simulated", **fields}


def minimal(**fields: Any) -> dict[str, Any]:
    return {"ledger": "sqlite:///ledger.db", "providers": [simulated()], **fields}


def config_error(path: Path) -> str:
    with pytest.raises(ConfigurationError) as caught:
        Router.from_config(path, hooks=())
    return str(caught.value)


async def test_yaml_config_builds_a_router_that_pays(tmp_path: Path) -> None:
    """A YAML file with simulated providers yields a router whose payments reach the books."""
    path = write_yaml(
        tmp_path,
        minimal(
            router={"deadline_seconds": 5, "retry": {"max_tries": 2}},
            providers=[simulated("sim_a", methods=["card"]), simulated("sim_b")],
        ),
    )
    async with Router.from_config(path, hooks=()) as payments:
        assert [adapter.name for adapter in payments.adapters] == ["sim_a", "sim_b"]
        assert payments.settings.deadline_seconds == 5
        assert payments.settings.retry.max_tries == 2
        result = await payments.pay(request())
        first = payments.adapters[0]
        assert isinstance(first, SimulatedAdapter)
        assert result.status is PaymentStatus.SUCCEEDED
        assert result.provider == "sim_a"
        assert len(first.provider.charges("order-1")) == 1


async def test_toml_config_builds_a_router_with_provider_capabilities(tmp_path: Path) -> None:
    """A TOML file works the same, and methods/currencies/wallets restrict each provider."""
    path = tmp_path / "payrouter.toml"
    path.write_text(_TOML)
    async with Router.from_config(path, hooks=()) as payments:
        card, wallet = payments.adapters
        assert card.capabilities.methods == frozenset({PaymentMethod.CARD})
        assert card.capabilities.currencies == frozenset({"EUR"})
        assert wallet.capabilities.wallets == frozenset({"paypal"})
        paid = await payments.pay(request("by-wallet", wallet=True))
        assert (paid.status, paid.provider) == (PaymentStatus.SUCCEEDED, "sim_wallet")
        assert isinstance(wallet, SimulatedAdapter)
        assert len(wallet.provider.charges("by-wallet")) == 1


async def test_relative_sqlite_ledger_is_resolved_against_the_config_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """'sqlite:///ledger.db' lives next to the config file, wherever the process runs from."""
    config_folder = tmp_path / "conf"
    config_folder.mkdir()
    elsewhere = tmp_path / "cwd"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    path = write_yaml(config_folder, minimal())
    async with Router.from_config(path, hooks=()) as payments:
        await payments.pay(request())
    ledger_file = config_folder / "ledger.db"
    assert ledger_file.exists()
    assert not (elsewhere / "ledger.db").exists()
    reader = SqlLedger(f"sqlite:///{ledger_file}")
    await reader.open()
    try:
        stored = await reader.get("order-1")
    finally:
        await reader.close()
    assert stored is not None
    assert stored.status is PaymentStatus.SUCCEEDED


async def test_env_reference_in_options_is_expanded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An option written as ${NAME} is read from the environment variable NAME."""
    books = tmp_path / "books.db"
    monkeypatch.setenv("SIM_BOOKS", str(books))
    path = write_yaml(
        tmp_path, minimal(providers=[simulated(options={"books_path": "${SIM_BOOKS}"})])
    )
    async with Router.from_config(path, hooks=()) as payments:
        await payments.pay(request())
    assert books.exists()


def test_unset_env_variable_names_the_field_and_the_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A missing secret fails at startup, naming the option and the variable to export."""
    monkeypatch.delenv("PAYROUTER_TEST_UNSET", raising=False)
    path = write_yaml(
        tmp_path,
        minimal(providers=[simulated(options={"books_path": "${PAYROUTER_TEST_UNSET}"})]),
    )
    message = config_error(path)
    assert "providers[sim_card].options.books_path" in message
    assert "PAYROUTER_TEST_UNSET" in message


def test_unknown_adapter_type_lists_the_installed_adapters(tmp_path: Path) -> None:
    """A typo in `type` names the provider and lists what is installed."""
    path = write_yaml(tmp_path, minimal(providers=[{"name": "sim_card", "type": "simulatd"}]))
    message = config_error(path)
    assert "providers[sim_card].type" in message
    assert "'simulatd'" in message
    assert "simulated" in message.split("installed adapters:")[1]


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        (
            {"providers": [simulated(methods=["card"], currencies=["EURO"])]},
            "providers.0.currencies.0",
            "unknown currency",
        ),
        ({"router": {"deadline_seconds": -1}}, "router.deadline_seconds", "greater than 0"),
        (
            {"router": {"deadline_seconds": 30, "lease_seconds": 30}},
            "router",
            "lease_seconds must exceed deadline_seconds",
        ),
        ({"routr": {}}, "routr", "Extra inputs are not permitted"),
        ({"router": {"retry": {"max_tries": 0}}}, "router.retry.max_tries", "greater than"),
        ({"providers": []}, "providers", "at least 1"),
        (
            {"providers": [simulated(currencies=["EUR"])]},
            "providers.0",
            "list `methods` too",
        ),
    ],
    ids=[
        "bad-currency",
        "negative-deadline",
        "lease-not-above-deadline",
        "unknown-key",
        "zero-tries",
        "no-providers",
        "restriction-without-methods",
    ],
)
def test_invalid_fields_name_their_path(
    tmp_path: Path, changes: dict[str, Any], field: str, words: str
) -> None:
    """Every invalid field is reported with its dotted path and what is wrong."""
    path = write_yaml(tmp_path, minimal(**changes))
    message = config_error(path)
    assert f"  {field}: " in message
    assert words in message


def test_unknown_simulated_option_is_refused(tmp_path: Path) -> None:
    """An adapter validates its own options and names the unknown one."""
    path = write_yaml(tmp_path, minimal(providers=[simulated(options={"bookz": "x"})]))
    message = config_error(path)
    assert "providers[sim_card].options" in message
    assert "bookz" in message


def test_missing_or_malformed_file_is_a_configuration_error(tmp_path: Path) -> None:
    """A missing file, broken YAML or a non-mapping top level raise ConfigurationError."""
    assert "cannot read config file" in config_error(tmp_path / "absent.yaml")
    broken = tmp_path / "broken.yaml"
    broken.write_text("providers: [\n")
    assert "is not valid yaml" in config_error(broken)
    listing = tmp_path / "list.yaml"
    listing.write_text("- a\n- b\n")
    assert "expected a mapping" in config_error(listing)


def test_configured_methods_keep_the_adapters_credential_rules_and_wallets(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Narrowing a provider's methods in the config keeps what its API can charge: a Stripe
    `pm_...` stays Stripe's alone, Adyen's stored cards still need the shopper reference, and
    Adyen keeps its own wallet list when the config names none."""
    from payrouter_adapters.adyen import AdyenAdapter
    from payrouter_adapters.stripe import StripeAdapter

    monkeypatch.setenv("KEY", "sk_test_x")
    stripe = {"name": "card_a", "type": "stripe", "methods": ["card"]}
    adyen = {"name": "card_b", "type": "adyen", "methods": ["card", "wallet"]}
    stripe["options"] = {"api_key": "${KEY}"}
    adyen["options"] = {
        "base_url": "https://checkout-test.adyen.com/v72",
        "api_key": "${KEY}",
        "merchant_account": "Shop",
        "return_url": "https://shop.example/return",
    }
    path = write_yaml(tmp_path, minimal(providers=[stripe, adyen]))
    card_a, card_b = Router.from_config(path, hooks=()).adapters
    assert card_a.capabilities.credentials == StripeAdapter.default_capabilities.credentials
    assert card_b.capabilities.credentials == AdyenAdapter.default_capabilities.credentials
    assert card_b.capabilities.wallets == AdyenAdapter.default_capabilities.wallets
    assert card_b.capabilities.methods == frozenset({PaymentMethod.CARD, PaymentMethod.WALLET})
