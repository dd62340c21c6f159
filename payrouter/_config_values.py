"""Values in a config file: `${NAME}` references, and secrets that must not be written inline.

A config file is committed, copied into images and pasted into tickets, so a live secret
written in it leaks with it. Secrets come from the environment instead: `${NAME}` anywhere in
`ledger`, `ledger_keys`, `state` or a provider's `options` is replaced by the variable NAME
(`$${` writes a literal `${`). A live secret written inline is refused; a test secret is
accepted with a warning; a secret for a local stand-in (a loopback `base_url`) is nobody's
secret. A ledger key is refused inline whatever it looks like.
"""

from __future__ import annotations

import enum
import ipaddress
import os
import re
import warnings
from collections.abc import Iterator, Mapping
from typing import Final
from urllib.parse import urlsplit

from ._errors import ConfigurationError

__all__ = [
    "EXPANDED_FIELDS",
    "TOO_DEEP",
    "check_inline_secrets",
    "check_shape",
    "expand",
    "refuse_stray_references",
]

_MAX_DEPTH: Final = 32
_MAX_NODES: Final = 100_000
TOO_DEEP: Final = (
    f"nested deeper than {_MAX_DEPTH} levels, larger than {_MAX_NODES} values, or "
    "referring to itself through YAML aliases: a router config is a few levels deep"
)

EXPANDED_FIELDS: Final = ("ledger", "ledger_keys", "state", "vaults")
"""Top-level fields whose `${NAME}` references are expanded (besides providers' options)."""

_TOKEN: Final = re.compile(r"\$\$\{|\$\{(?:([A-Za-z_][A-Za-z0-9_]*)\})?")
_FORM: Final = "write ${NAME} (letters, digits and _), or $${ for a literal ${"

# Provider secrets whose live mode shows in the value itself (Stripe's secret and restricted
# keys). Adyen's and PayPal's look the same live and test; their endpoint tells instead.
_LIVE_VALUE: Final = re.compile(r"\b[sr]k_live_[A-Za-z0-9]{8,}")
_TEST_VALUE: Final = re.compile(r"\b[sr]k_test_[A-Za-z0-9]{8,}")
_SECRET_VALUE: Final = re.compile(r"\bwhsec_[A-Za-z0-9]{8,}")
"""Secrets recognisable by shape whatever the option's name (Stripe webhook signing secrets)."""
# Option names that hold secrets in the bundled adapters and the usual names elsewhere.
_SECRET_NAME: Final = re.compile(
    r"(?:^|_)(?:api_?key|apikey|secret|password|passwd|passphrase|token|hmac_key|private_key"
    r"|credentials?)$",
    re.IGNORECASE,
)
_TEST_HOST: Final = re.compile(r"(?:^|[.-])(?:sandbox|test|testing|staging)(?:[.-]|$)")


class _Endpoint(enum.Enum):
    LOCAL = "a local stand-in"
    TEST = "a test or sandbox endpoint"
    LIVE = "a live endpoint"
    UNKNOWN = "the adapter's default endpoint, which may be live"


def check_shape(raw: object, origin: str) -> None:
    """Refuse a document too deep, too large or cyclic (a YAML alias to itself) before any
    recursive walk or validation meets it; iterative, so the check itself cannot recurse.

    Raises:
        ConfigurationError: naming `origin`.
    """
    stack: list[tuple[object, int]] = [(raw, 0)]
    seen = 0
    while stack:
        value, depth = stack.pop()
        seen += 1
        if depth > _MAX_DEPTH or seen > _MAX_NODES:
            raise ConfigurationError(f"{origin}: {TOO_DEEP}")
        if isinstance(value, Mapping):
            stack.extend((item, depth + 1) for item in value.values())
            stack.extend((key, depth + 1) for key in value)
        elif isinstance(value, list | tuple):
            stack.extend((item, depth + 1) for item in value)


def expand(field: str, value: object) -> object:
    """`value` with every `${NAME}` in its strings (at any depth) read from the environment.

    Raises:
        ConfigurationError: a variable is not set (named), or a `${` is not `${NAME}`.
    """
    if isinstance(value, str):
        return _expand_text(field, value)
    if isinstance(value, Mapping):
        return {key: expand(f"{field}.{key}", item) for key, item in value.items()}
    if isinstance(value, list):
        return [expand(f"{field}.{index}", item) for index, item in enumerate(value)]
    return value


def _expand_text(field: str, text: str) -> str:
    def replace(match: re.Match[str]) -> str:
        if match.group(0) == "$${":
            return "${"
        name = match.group(1)
        if name is None:
            raise ConfigurationError(f"{field}: a `${{` that is not a reference: {_FORM}")
        if name not in os.environ:
            raise ConfigurationError(
                f"{field}: environment variable {name} is not set; export it before starting"
            )
        return os.environ[name]

    return _TOKEN.sub(replace, text)


def _literal(text: str) -> str:
    """What is written in the file itself, references taken out."""
    return _TOKEN.sub("", text)


def _leaves(field: str, value: object) -> Iterator[tuple[str, str, str]]:
    """(dotted path, last key, string) for every string at any depth of `value`."""
    if isinstance(value, str):
        yield field, field.rsplit(".", 1)[-1], value
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from _leaves(f"{field}.{key}", item)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _leaves(f"{field}.{index}", item)


def refuse_stray_references(raw: Mapping[object, object]) -> None:
    """Refuse `${` anywhere it would not be expanded, rather than keep it as literal text.

    Raises:
        ConfigurationError: naming the field.
    """
    for key, value in raw.items():
        if key in EXPANDED_FIELDS:
            continue
        providers = value if key == "providers" and isinstance(value, list) else None
        for index, provider in enumerate(providers or []):
            if isinstance(provider, Mapping):
                rest = {k: v for k, v in provider.items() if k != "options"}
                _refuse_references(f"providers.{index}", rest)
        if providers is None:
            _refuse_references(str(key), value)


def _refuse_references(field: str, value: object) -> None:
    for path, _, text in _leaves(field, value):
        if "${" in text:
            raise ConfigurationError(
                f"{path}: `${{...}}` is read from the environment only in "
                f"{', '.join(EXPANDED_FIELDS)} and providers' options; write the value itself"
            )


def check_inline_secrets(raw: Mapping[object, object]) -> None:
    """Refuse live secrets written in the file; warn (UserWarning) about test secrets.

    Raises:
        ConfigurationError: a live secret, a secret-named option for a live or unknown
            endpoint, or a password in a remote `ledger`/`state` URL, written inline; the
            message names the field and never shows the value.
    """
    for key, value in raw.items():
        for path, option, text in _leaves(str(key), value):
            if ".options." not in path and _LIVE_VALUE.search(_literal(text)):
                _refuse(path, "a live secret key", _variable("payrouter", option))
    for key in EXPANDED_FIELDS:
        value = raw.get(key)
        if isinstance(value, str):
            _check_url_password(key, value)
    for path, _, text in _leaves("ledger_keys", raw.get("ledger_keys")):
        if _literal(text).strip():  # a ledger key is a secret whatever it looks like
            _refuse(path, "a ledger key", "PAYROUTER_LEDGER_KEY")
    vaults = raw.get("vaults")
    for index, vault in enumerate(vaults if isinstance(vaults, list) else []):
        url = vault.get("proxy_url") if isinstance(vault, Mapping) else None
        name = vault.get("name") if isinstance(vault, Mapping) else None
        if isinstance(url, str):
            variable = f"{name if isinstance(name, str) else f'vault_{index}'}_proxy".upper()
            _check_url_password(f"vaults.{index}.proxy_url", url, variable)
    providers = raw.get("providers")
    for index, provider in enumerate(providers if isinstance(providers, list) else []):
        options = provider.get("options") if isinstance(provider, Mapping) else None
        if isinstance(options, Mapping):
            name = provider.get("name") if isinstance(provider, Mapping) else None
            prefix = name if isinstance(name, str) else f"provider_{index}"
            _check_options(f"providers.{index}.options", prefix, options)


def _check_options(field: str, provider: str, options: Mapping[object, object]) -> None:
    base_url = options.get("base_url")
    endpoint = _endpoint(base_url if isinstance(base_url, str) else None)
    for path, name, text in _leaves(field, options):
        written = _literal(text)
        if not written:
            continue
        variable = _variable(provider, name)
        if _LIVE_VALUE.search(written):
            _refuse(path, "a live secret key", variable)
        test_value = _TEST_VALUE.search(written) is not None
        secret = _SECRET_NAME.search(name) or _SECRET_VALUE.search(written)
        if endpoint is _Endpoint.LOCAL or not (test_value or secret):
            continue
        if test_value or endpoint is _Endpoint.TEST:
            warnings.warn(
                f"{path}: a test secret is written in the config file; write it as "
                f"${{{variable}}} and export the variable, as live keys must be",
                UserWarning,
                stacklevel=4,
            )
        else:
            _refuse(path, f"a secret for {endpoint.value}", variable)


def _check_url_password(field: str, url: str, variable: str | None = None) -> None:
    try:
        parts = urlsplit(url)
        password, host = parts.password, parts.hostname
    except ValueError:
        return  # not a URL: the ledger or state opener reports it
    if password and _literal(password) and _endpoint_of_host(host) is not _Endpoint.LOCAL:
        raise ConfigurationError(
            f"{field}: the URL carries a password written in the config file: write the URL "
            f"as ${{{variable or field.upper()}_URL}}, or the password as "
            f"${{{variable or field.upper()}_PASSWORD}}, "
            "and export the environment variable"
        )


def _endpoint(base_url: str | None) -> _Endpoint:
    if base_url is None:
        return _Endpoint.UNKNOWN
    if "${" in base_url:
        return _Endpoint.UNKNOWN
    try:
        host = urlsplit(base_url).hostname
    except ValueError:
        return _Endpoint.UNKNOWN
    return _endpoint_of_host(host)


def _endpoint_of_host(host: str | None) -> _Endpoint:
    if host is None:
        return _Endpoint.UNKNOWN
    if host == "localhost" or host.endswith(".localhost"):
        return _Endpoint.LOCAL
    try:
        if ipaddress.ip_address(host).is_loopback:
            return _Endpoint.LOCAL
    except ValueError:
        pass
    return _Endpoint.TEST if _TEST_HOST.search(host.lower()) else _Endpoint.LIVE


def _refuse(path: str, what: str, variable: str) -> None:
    raise ConfigurationError(
        f"{path}: {what} is written in the config file, where it leaks with every copy: "
        f"write it as ${{{variable}}} and export that environment variable"
    )


def _variable(provider: str, option: str) -> str:
    """A variable name to suggest: `card_main` and `api_key` give `CARD_MAIN_API_KEY`."""
    return re.sub(r"[^A-Za-z0-9]+", "_", f"{provider}_{option}").strip("_").upper()
