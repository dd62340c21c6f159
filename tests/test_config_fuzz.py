"""Fuzzing the config loader: whatever a YAML or TOML file holds, and whatever its `${NAME}`
references find in the environment, only `ConfigurationError` comes out (and, for a test
secret written inline, a `UserWarning`): never a crash, never a raw library error.

Files are generated from structures shaped like a real config (known keys, providers with
options, env references, secrets, card numbers, markup) as well as from arbitrary text and
bytes. Derandomized and bounded: seconds.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import tempfile
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from payrouter import ConfigurationError
from payrouter._config import load_config

_PROFILE = settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
_SET = "PAYROUTER_FUZZ_SET"
_UNSET = "PAYROUTER_FUZZ_UNSET"

_FRAGMENTS = st.sampled_from(
    [
        "${",
        "$${",
        "}",
        "$",
        f"${{{_SET}}}",
        f"${{{_UNSET}}}",
        "${1X}",
        "sqlite:///",
        "sqlite:///:memory:",
        "postgresql://u:pw@db.example/x",
        "redis://:pw@127.0.0.1:6379/0",
        "http://127.0.0.1:1",
        "https://api-m.sandbox.paypal.com",
        "https://x-checkout-live.adyenpayments.com",
        "sk_live_abcdefgh1234",
        "sk_test_abcdefgh1234",
        "[/x]",
        "[red]",
        "4111 1111 1111 1111",
        "DE89370400440532013000",
        "EUR",
        "card",
        "wallet",
        "simulated",
        "\x00",
        "é",
        "://",
        "[",
        "@",
    ]
)
_TEXT = st.lists(_FRAGMENTS | st.text(max_size=6), max_size=5).map("".join)
_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats()
    | _TEXT
)
_KEYS = st.sampled_from(
    [
        "ledger",
        "state",
        "router",
        "routing",
        "providers",
        "options",
        "name",
        "type",
        "methods",
        "currencies",
        "max_amount_minor",
        "deadline_seconds",
        "retry",
        "api_key",
        "base_url",
        "client_secret",
        "books_path",
        "[/x]",
    ]
) | st.text(max_size=8)
_VALUES = st.recursive(
    _SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_KEYS, inner, max_size=4),
    max_leaves=16,
)
_PROVIDER = st.fixed_dictionaries(
    {},
    optional={
        "name": st.sampled_from(["card_main", "sim", "Bad Name", ""]) | _TEXT,
        "type": st.sampled_from(["simulated", "stripe", "adyen", "paypal", "nosuch"]) | _TEXT,
        "methods": st.lists(st.sampled_from(["card", "wallet", "bank_transfer", "cash"])),
        "currencies": st.lists(st.sampled_from(["EUR", "JPY", "EUX"])),
        "max_amount_minor": st.integers(min_value=-1, max_value=2**64),
        "options": st.dictionaries(_KEYS, _VALUES, max_size=4),
    },
)
_DOCUMENT = (
    st.fixed_dictionaries(
        {},
        optional={
            "ledger": _TEXT,
            "state": _TEXT | st.none(),
            "router": st.dictionaries(_KEYS, _VALUES, max_size=4),
            "routing": _VALUES,
            "providers": st.lists(_PROVIDER | _VALUES, max_size=3),
        },
    )
    | st.dictionaries(_KEYS, _VALUES, max_size=5)
    | _VALUES
)


@pytest.fixture(scope="module")
def folder() -> Iterator[Path]:
    with tempfile.TemporaryDirectory() as name:
        yield Path(name)


@pytest.fixture(scope="module", autouse=True)
def _environment() -> Iterator[None]:
    previous = os.environ.get(_SET)
    os.environ[_SET] = "from-the-environment"
    os.environ.pop(_UNSET, None)
    yield
    if previous is None:
        os.environ.pop(_SET, None)
    else:
        os.environ[_SET] = previous


def _load_and_build(path: Path) -> None:
    """Load the file and build its adapters: only the documented outcomes may happen."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with contextlib.suppress(ConfigurationError):
            load_config(path).build_adapters()
    assert all(issubclass(w.category, UserWarning) for w in caught), [w.message for w in caught]


def _toml_value(value: Any) -> str | None:
    """`value` as a TOML inline value, or None where TOML has none (null)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value) if -(2**63) <= value < 2**63 else json.dumps(str(value))
    if isinstance(value, float):
        return (
            "nan"
            if math.isnan(value)
            else ("inf" if value > 0 else "-inf")
            if math.isinf(value)
            else repr(value)
        )
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list):
        items = [text for text in map(_toml_value, value) if text is not None]
        return "[" + ", ".join(items) + "]"
    pairs = {json.dumps(str(k)): _toml_value(v) for k, v in value.items()}
    return "{" + ", ".join(f"{k} = {v}" for k, v in pairs.items() if v is not None) + "}"


@_PROFILE
@given(document=_DOCUMENT)
def test_any_yaml_document_raises_only_configuration_error(folder: Path, document: Any) -> None:
    path = folder / "fuzz.yaml"
    path.write_text(yaml.safe_dump(document, allow_unicode=True))
    _load_and_build(path)


@_PROFILE
@given(document=_DOCUMENT)
def test_any_toml_document_raises_only_configuration_error(folder: Path, document: Any) -> None:
    path = folder / "fuzz.toml"
    table = document if isinstance(document, dict) else {"value": document}
    lines = [
        f"{json.dumps(str(key))} = {text}"
        for key, value in table.items()
        if (text := _toml_value(value)) is not None
    ]
    path.write_text("\n".join(lines) + "\n")
    _load_and_build(path)


@_PROFILE
@given(
    content=st.binary(max_size=300) | _TEXT.map(str.encode),
    suffix=st.sampled_from([".yaml", ".toml", ".yml", ".txt"]),
)
def test_any_bytes_raise_only_configuration_error(
    folder: Path, content: bytes, suffix: str
) -> None:
    path = folder / f"raw{suffix}"
    path.write_bytes(content)
    _load_and_build(path)


@pytest.mark.parametrize(
    "text",
    [
        "[" * 1500,
        "a: " + "[" * 1500 + "]" * 1500,
        "providers: " + "{a: " * 1500 + "1" + "}" * 1500,
        "x = " + "[" * 1500 + "]" * 1500,
        "&a [*a]",
        "a: !!python/object:os.system 'true'",
        "a: &x 1\nb: *y",
    ],
    ids=[
        "yaml-open",
        "yaml-nested",
        "yaml-maps",
        "toml-nested",
        "yaml-alias",
        "yaml-tag",
        "yaml-bad-alias",
    ],
)
def test_hostile_documents_raise_only_configuration_error(folder: Path, text: str) -> None:
    """Deep nesting, self-referencing aliases and unsafe tags are configuration errors."""
    path = folder / ("hostile.toml" if text.startswith("x =") else "hostile.yaml")
    path.write_text(text)
    with pytest.raises(ConfigurationError):
        load_config(path)


def test_a_file_that_is_not_utf8_is_a_configuration_error(folder: Path) -> None:
    """Bytes that are not UTF-8 name the file and the encoding to use."""
    path = folder / "latin1.yaml"
    path.write_bytes("ledger: café\n".encode("latin-1"))
    with pytest.raises(ConfigurationError, match="UTF-8"):
        load_config(path)


def test_a_folder_given_as_the_config_file_is_a_configuration_error(folder: Path) -> None:
    """A directory where a file is expected is refused like an unreadable file."""
    with pytest.raises(ConfigurationError, match="cannot read config file"):
        load_config(folder)
