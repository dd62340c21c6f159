"""Values in a config file: `${NAME}` anywhere in a string, and secrets never written inline."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import pytest
import yaml

from payrouter import ConfigurationError, Router
from payrouter._config import load_config
from payrouter.testing import SimulatedAdapter

_LIVE_STRIPE = "sk_live_" + "51Habc" * 4
_LIVE_RESTRICTED = "rk_live_" + "51Habc" * 4
_TEST_STRIPE = "sk_test_" + "51Habc" * 4


def _write(folder: Path, **config: Any) -> Path:
    config.setdefault("ledger", "sqlite:///ledger.db")
    config.setdefault("providers", [{"name": "sim", "type": "simulated"}])
    path = folder / "payrouter.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def _stripe(options: dict[str, object]) -> dict[str, object]:
    return {"name": "card_main", "type": "stripe", "options": options}


def _refusal(path: Path) -> str:
    with pytest.raises(ConfigurationError) as caught:
        load_config(path)
    return str(caught.value)


async def test_reference_inside_a_longer_string_is_expanded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`${DIR}/books-${NAME}.db` is built from both variables, not used literally."""
    monkeypatch.setenv("BOOKS_DIR", str(tmp_path))
    monkeypatch.setenv("BOOKS_NAME", "eu")
    options = {"books_path": "${BOOKS_DIR}/books-${BOOKS_NAME}.db"}
    path = _write(tmp_path, providers=[{"name": "sim", "type": "simulated", "options": options}])
    router = Router.from_config(path, hooks=())
    adapter = router.adapters[0]
    assert isinstance(adapter, SimulatedAdapter)
    async with router:
        pass
    assert (tmp_path / "books-eu.db").exists()


def test_reference_inside_the_ledger_url_is_expanded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`sqlite:///${DIR}/ledger.db` reads DIR from the environment."""
    monkeypatch.setenv("LEDGER_DIR", str(tmp_path / "data"))
    config = load_config(_write(tmp_path, ledger="sqlite:///${LEDGER_DIR}/ledger.db"))
    assert config.ledger == f"sqlite:///{tmp_path}/data/ledger.db"


def test_a_missing_variable_inside_a_string_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The message names the field and the one variable that is not set."""
    monkeypatch.setenv("PR_HOST", "db.internal")
    monkeypatch.delenv("PR_UNSET_DB", raising=False)
    message = _refusal(_write(tmp_path, ledger="postgresql://${PR_HOST}/${PR_UNSET_DB}"))
    assert "ledger" in message
    assert "PR_UNSET_DB is not set" in message
    assert "PR_HOST is not set" not in message


@pytest.mark.parametrize("text", ["https://${HOST/v1", "${}", "${1ABC}", "x${A-B}y"])
def test_a_malformed_reference_is_refused(tmp_path: Path, text: str) -> None:
    """A `${` that is not `${NAME}` is refused with the form to write, never used literally."""
    message = _refusal(_write(tmp_path, state=text))
    assert "state" in message
    assert "${NAME}" in message


def test_a_doubled_dollar_writes_a_literal_reference(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`$${NAME}` is the escape for a value that must contain `${NAME}` itself."""
    monkeypatch.setenv("PR_SET", "x")
    config = load_config(_write(tmp_path, ledger="sqlite:///a$${PR_SET}.db"))
    assert config.ledger == "sqlite:///a${PR_SET}.db"


def test_a_reference_outside_the_expanded_fields_is_refused(tmp_path: Path) -> None:
    """Only ledger, ledger_keys, state and options are expanded: elsewhere a reference is
    refused, not kept literal."""
    providers = [{"name": "sim", "type": "simulated", "methods": ["wallet"], "wallets": ["${W}"]}]
    message = _refusal(_write(tmp_path, providers=providers))
    assert "providers.0.wallets.0" in message
    assert "ledger, ledger_keys, state" in message


@pytest.mark.parametrize("secret", [_LIVE_STRIPE, _LIVE_RESTRICTED])
def test_a_live_stripe_key_written_inline_is_refused(tmp_path: Path, secret: str) -> None:
    """A live key in the file is refused with the hint to use `${ENV}`; it is never echoed."""
    message = _refusal(_write(tmp_path, providers=[_stripe({"api_key": secret})]))
    assert "providers.0.options.api_key" in message
    assert "${" in message
    assert secret not in message
    assert secret[:12] not in message


def test_a_live_key_under_any_option_name_is_refused(tmp_path: Path) -> None:
    """The key's shape is enough: a live key hidden under an innocent name is refused too."""
    options = {"api_key": "${STRIPE_KEY}", "extra": {"note": f"backup {_LIVE_STRIPE}"}}
    message = _refusal(_write(tmp_path, providers=[_stripe(options)]))
    assert "providers.0.options.extra.note" in message


@pytest.mark.parametrize(
    ("provider", "field"),
    [
        (
            {
                "name": "adyen_eu",
                "type": "adyen",
                "options": {
                    "base_url": "https://1797a841fbb37ca7-AdyenDemo-checkout-live.adyenpayments.com/checkout/v72",
                    "api_key": "AQEyhmfxK4PJahZCw0m/n3Q5qf3VaY9UCJ1+XWZe9W27jmlZin" + "x" * 40,
                    "merchant_account": "Shop",
                    "return_url": "https://shop.example/return",
                },
            },
            "providers.0.options.api_key",
        ),
        (
            {
                "name": "paypal",
                "type": "paypal",
                "options": {
                    "base_url": "https://api-m.paypal.com",
                    "client_id": "AbC",
                    "client_secret": "EKx-live-secret-1234567890",
                },
            },
            "providers.0.options.client_secret",
        ),
        (
            {"name": "bank", "type": "berlingroup", "options": {"access_token": "tok-123456"}},
            "providers.0.options.access_token",
        ),
    ],
    ids=["adyen-live", "paypal-live", "no-endpoint"],
)
def test_a_secret_option_for_a_live_or_unknown_endpoint_is_refused(
    tmp_path: Path, provider: dict[str, object], field: str
) -> None:
    """A field named as a secret, written inline for a live endpoint (or the default one), is
    refused: Adyen and PayPal live keys look like their test keys, the endpoint tells."""
    message = _refusal(_write(tmp_path, providers=[provider]))
    assert field in message
    assert "environment variable" in message


def test_a_test_key_written_inline_is_a_warning(tmp_path: Path) -> None:
    """A Stripe test key in the file loads, with a warning to move it to the environment."""
    with pytest.warns(UserWarning, match=r"providers\.0\.options\.api_key.*\$\{"):
        load_config(_write(tmp_path, providers=[_stripe({"api_key": _TEST_STRIPE})]))


def test_a_secret_for_a_sandbox_endpoint_is_a_warning(tmp_path: Path) -> None:
    """PayPal's sandbox secret written inline loads, with a warning."""
    options = {
        "base_url": "https://api-m.sandbox.paypal.com",
        "client_id": "AbC",
        "client_secret": "sandbox-secret",
    }
    provider = {"name": "paypal", "type": "paypal", "options": options}
    with pytest.warns(UserWarning, match=r"client_secret"):
        load_config(_write(tmp_path, providers=[provider]))


def test_secrets_for_a_local_stand_in_or_from_the_environment_are_silent(tmp_path: Path) -> None:
    """A loopback stand-in accepts any secret, and `${ENV}` is the way: neither warns."""
    providers = [
        _stripe({"base_url": "http://127.0.0.1:8701", "api_key": _TEST_STRIPE}),
        {"name": "card_b", "type": "stripe", "options": {"api_key": "${STRIPE_KEY}"}},
    ]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        load_config(_write(tmp_path, providers=providers))


@pytest.mark.parametrize("key", ["ledger", "state"])
def test_a_password_written_inline_in_a_remote_url_is_refused(tmp_path: Path, key: str) -> None:
    """`postgresql://user:pw@db.example/...` in the file is refused; the password is not shown."""
    scheme = "postgresql" if key == "ledger" else "redis"
    message = _refusal(_write(tmp_path, **{key: f"{scheme}://app:hunter2pw@db.example:5432/0"}))
    assert key in message
    assert "hunter2pw" not in message
    assert "${" in message


def test_a_password_for_a_local_database_is_accepted(tmp_path: Path) -> None:
    """A loopback database's password (a developer's container) is not a production secret."""
    config = load_config(_write(tmp_path, state="redis://:devpw@127.0.0.1:6379/0"))
    assert config.state == "redis://:devpw@127.0.0.1:6379/0"


def test_a_webhook_signing_secret_is_a_secret_whatever_its_option_name(tmp_path: Path) -> None:
    """`whsec_...` is recognised by its shape, so naming the option oddly does not hide it."""
    options = {"api_key": "${STRIPE_KEY}", "signing": "whsec_" + "A1b2C3d4" * 4}
    message = _refusal(_write(tmp_path, providers=[_stripe(options)]))
    assert "providers.0.options.signing" in message
    assert "whsec_" not in message


@pytest.mark.parametrize(
    "config",
    [
        {"notes": f"key {_LIVE_STRIPE}"},
        {"router": {"key_namespace": _LIVE_RESTRICTED}},
        {"providers": [{"name": "sim", "type": "simulated", "wallets": [_LIVE_STRIPE]}]},
    ],
    ids=["unknown-field", "router-setting", "provider-field"],
)
def test_a_live_key_anywhere_in_the_file_is_refused_as_a_secret(
    tmp_path: Path, config: dict[str, Any]
) -> None:
    """Outside options too, a live key is named as a secret to move, not merely as bad input."""
    message = _refusal(_write(tmp_path, **config))
    assert "live secret key" in message
    assert "environment variable" in message
    assert _LIVE_STRIPE[:12] not in message
