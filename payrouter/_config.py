"""Router configuration from a YAML or TOML file, validated by pydantic.

Secrets stay out of files: `${NAME}` anywhere in a string option (or `ledger`, `state`) is read
from the environment variable NAME, and a live secret written inline is refused
(`_config_values`). Adapters are found by `type` among the `payrouter.adapters` entry points.
"""

from __future__ import annotations

import inspect
import tomllib
from collections.abc import Mapping
from importlib.metadata import entry_points
from pathlib import Path
from typing import Annotated, Any, Final, Self

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    StringConstraints,
    ValidationError,
    model_validator,
)

from ._adapter import Adapter, AdapterFactory, Capabilities, CredentialRules
from ._codes import CodeRow, with_codes
from ._config_values import (
    EXPANDED_FIELDS,
    TOO_DEEP,
    check_inline_secrets,
    check_shape,
    expand,
    refuse_stray_references,
)
from ._errors import ConfigurationError
from ._health._maintenance import MaintenanceWindow
from ._health._protection import ProviderLimits
from ._models import PaymentMethod
from ._money import CurrencyCode
from ._paying._fees import FeeRule
from ._paying._routing import ProviderRouting, RoutingPolicy, Strategy
from ._settings import RouterSettings
from ._vault import ForwardingVault, ForwardProxyVault

__all__ = [
    "PayrouterConfig",
    "ProviderConfig",
    "VaultConfig",
    "adapters_from_config",
    "load_config",
]

_ENTRY_POINT_GROUP = "payrouter.adapters"
_YAML: Final = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""libyaml's safe loader when PyYAML has it: the same documents, and a nesting limit that
refuses a hostile file in milliseconds where the pure-Python one recurses for seconds."""


class VaultConfig(BaseModel):
    """A forwarding vault's proxy (`vaults` in the file), which providers name in `vault`."""

    model_config = ConfigDict(frozen=True, extra="forbid", hide_input_in_errors=True)

    name: Annotated[str, StringConstraints(pattern=r"^[a-z0-9_][a-z0-9_-]{0,99}$")]
    proxy_url: SecretStr = Field(
        description="The vault's forward proxy with its credentials, e.g. ${VGS_PROXY_URL}."
    )
    ca_file: str | None = Field(
        default=None, description="The vault's CA bundle, trusted on this route only."
    )

    def vault(self) -> ForwardProxyVault:
        return ForwardProxyVault(self.name, self.proxy_url, ca_file=self.ca_file)


class ProviderConfig(BaseModel):
    """One provider: which adapter (`type`), what it may take, and the adapter's options."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: Annotated[str, StringConstraints(pattern=r"^[a-z0-9_][a-z0-9_-]{0,99}$")]
    type: str = Field(description="Adapter entry point name, e.g. 'stripe' or 'simulated'.")
    methods: list[PaymentMethod] | None = Field(
        default=None, description="Restrict to these methods; default: what the adapter offers."
    )
    currencies: list[CurrencyCode] | None = None
    countries: list[Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")]] | None = None
    wallets: list[str] | None = None
    min_amount_minor: int = Field(default=1, ge=1)
    max_amount_minor: int | None = Field(default=None, ge=1)
    rate_limit_per_second: float | None = Field(
        default=None, gt=0, description="The provider's published quota; halved on a 429."
    )
    burst: int | None = Field(default=None, ge=1, description="Tokens saved up at most.")
    max_concurrent: int | None = Field(
        default=None, ge=1, description="Calls in flight to this provider at once (bulkhead)."
    )
    maintenance: list[MaintenanceWindow] = Field(
        default_factory=list, description="Announced windows: traffic drains before each."
    )
    networks: list[str] | None = Field(
        default=None, description="Card networks it should take ('visa', 'mastercard'); any."
    )
    requires_tags: list[str] = Field(
        default_factory=list, description="Only payments carrying all these tags."
    )
    excludes_tags: list[str] = Field(
        default_factory=list, description="Never payments carrying any of these tags."
    )
    fees: list[FeeRule] = Field(
        default_factory=list,
        description="What it charges: the first rule matching method and currency wins.",
    )
    codes: dict[Annotated[str, StringConstraints(min_length=1, max_length=100)], CodeRow] = Field(
        default_factory=dict,
        description="Merchant rows over the adapter's code tables: provider code -> failure "
        "kind (and soft/hard for a decline), applied to every reply of this provider.",
    )
    three_d_secure: bool = Field(
        default=False,
        description="3-D Secure is enabled in this provider's account: a customer-initiated "
        "card payment it refuses for want of authentication (Adyen 38, Stripe "
        "authentication_required) is resent to it once asking for 3-D Secure, and waits for "
        "the customer (requires_action) instead of being declined.",
    )
    options: dict[str, Any] = Field(default_factory=dict)
    vault: str | None = Field(
        default=None,
        description="Reach this provider through this forwarding vault (a `vaults` name): "
        "cards it holds (VaultCard) become eligible here.",
    )

    @model_validator(mode="after")
    def _methods_when_restricting(self) -> Self:
        restricted = (
            self.currencies is not None
            or self.countries is not None
            or self.wallets is not None
            or self.min_amount_minor != 1
            or self.max_amount_minor is not None
        )
        if restricted and self.methods is None:
            raise ValueError("list `methods` too when restricting currencies, countries or amounts")
        return self

    def routing(self) -> ProviderRouting:
        """The merchant's rules for this provider, as the router applies them."""
        return ProviderRouting(
            networks=frozenset(n.lower() for n in self.networks) if self.networks else None,
            requires_tags=frozenset(self.requires_tags),
            excludes_tags=frozenset(self.excludes_tags),
            fees=tuple(self.fees),
            three_d_secure=self.three_d_secure,
        )

    def capabilities(self, defaults: Capabilities | None = None) -> Capabilities | None:
        """The configured limits, over the adapter's `defaults`: the config narrows what the
        merchant sends there, but what the provider's API can charge (its credential rules)
        and, unless listed, its wallets stay the adapter's, so a Stripe `pm_...` never goes
        to Adyen because the config named Adyen's methods."""
        if self.methods is None:
            return None
        wallets = defaults.wallets if defaults is not None else None
        return Capabilities(
            methods=frozenset(self.methods),
            currencies=frozenset(self.currencies) if self.currencies is not None else None,
            countries=frozenset(self.countries) if self.countries is not None else None,
            wallets=frozenset(self.wallets) if self.wallets is not None else wallets,
            min_minor_units=self.min_amount_minor,
            max_minor_units=self.max_amount_minor,
            credentials=defaults.credentials if defaults is not None else CredentialRules(),
            step_up=defaults.step_up if defaults is not None else False,
        )


class PayrouterConfig(BaseModel):
    """The whole file: `ledger`, `state`, `router` settings, and `providers` in order of
    preference. Embedded to shared is two URLs: `ledger` to PostgreSQL, `state` to Redis."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    ledger: str = Field(
        default="sqlite:///payrouter.db",
        description="SQLAlchemy URL; a relative SQLite path is relative to the config file.",
    )
    ledger_keys: list[str] | None = Field(
        default=None,
        description="Keys sealing the requests kept for replays, as ${NAME} references; the "
        "first seals, all open. Default: a key file beside a SQLite ledger.",
    )
    state: str | None = Field(
        default=None,
        description="Redis URL shared by every worker process (breaker state); "
        "default: each process keeps its own.",
    )
    router: RouterSettings = RouterSettings()
    routing: dict[PaymentMethod, Strategy] = Field(
        default_factory=dict,
        description="Per method, how its providers are ordered; default: `priority`, the "
        "providers' order in this file.",
    )
    providers: list[ProviderConfig] = Field(min_length=1)
    vaults: list[VaultConfig] = Field(
        default_factory=list, description="Forwarding vaults providers may be reached through."
    )

    @model_validator(mode="after")
    def _known_vaults(self) -> Self:
        names = {vault.name for vault in self.vaults}
        for provider in self.providers:
            if provider.vault is not None and provider.vault not in names:
                raise ValueError(
                    f"providers[{provider.name}].vault: no vault named {provider.vault!r}; "
                    f"add it to `vaults` (configured: {', '.join(sorted(names)) or 'none'})"
                )
        return self

    def ledger_url(self, base: Path) -> str:
        prefix = "sqlite:///"
        if self.ledger.startswith(prefix) and not self.ledger.startswith(prefix + "/"):
            path = self.ledger.removeprefix(prefix)
            if path and path != ":memory:":
                return prefix + str((base / path).resolve())
        return self.ledger

    def limits(self) -> dict[str, ProviderLimits]:
        """Each provider's rate limit and bulkhead, for those that have one."""
        return {
            provider.name: ProviderLimits(
                provider.rate_limit_per_second, provider.burst, provider.max_concurrent
            )
            for provider in self.providers
            if provider.rate_limit_per_second is not None or provider.max_concurrent is not None
        }

    def routing_policy(self) -> RoutingPolicy:
        """Every provider's rules and every method's strategy."""
        return RoutingPolicy(
            providers={provider.name: provider.routing() for provider in self.providers},
            strategies=dict(self.routing),
        )

    def build_adapters(self) -> list[Adapter]:
        """Instantiate every provider's adapter through its entry point."""
        vaults = {vault.name: vault.vault() for vault in self.vaults}
        return [
            _build(provider, vaults[provider.vault] if provider.vault else None)
            for provider in self.providers
        ]


def _build(provider: ProviderConfig, vault: ForwardingVault | None = None) -> Adapter:
    factory = _factory(provider)
    options = {key: _expand(provider.name, key, value) for key, value in provider.options.items()}
    # An adapter class's `from_options` carries the class's own declaration of what it takes.
    defaults = getattr(getattr(factory, "__self__", factory), "default_capabilities", None)
    capabilities = provider.capabilities(defaults if isinstance(defaults, Capabilities) else None)
    if vault is None:
        adapter = factory(name=provider.name, capabilities=capabilities, options=options)
    elif "vault" in inspect.signature(factory).parameters:
        build_through: Any = factory  # `vault` is HttpAdapter.from_options', beyond the protocol
        adapter = build_through(
            name=provider.name, capabilities=capabilities, options=options, vault=vault
        )
    else:
        raise ConfigurationError(
            f"providers[{provider.name}].vault: adapter {provider.type!r} cannot be reached "
            "through a vault (its factory takes no `vault`)"
        )
    return with_codes(adapter, provider.codes)


def _factory(provider: ProviderConfig) -> AdapterFactory:
    found = entry_points(group=_ENTRY_POINT_GROUP, name=provider.type)
    if not found:
        known = sorted(point.name for point in entry_points(group=_ENTRY_POINT_GROUP))
        raise ConfigurationError(
            f"providers[{provider.name}].type: no adapter named {provider.type!r}; "
            f"installed adapters: {', '.join(known) or 'none'}"
        )
    factory: AdapterFactory = next(iter(found)).load()
    return factory


def _expand(provider: str, key: str, value: object) -> object:
    return expand(f"providers[{provider}].options.{key}", value)


def load_config(path: str | Path) -> PayrouterConfig:
    """Read and validate a `.yaml`/`.yml` or `.toml` config file.

    `${NAME}` in `ledger` and `state` is read from the environment here; in providers'
    options, when the adapters are built. A test secret written inline warns (UserWarning).

    Raises:
        ConfigurationError: unreadable file, invalid content, a `${NAME}` whose variable is
            not set, or a live secret written inline; each problem names its field.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise ConfigurationError(f"cannot read config file {path}: {error.strerror}") from None
    except UnicodeDecodeError as error:
        raise ConfigurationError(
            f"{path} is not UTF-8 text (byte {error.start}): save it as UTF-8"
        ) from None
    try:
        raw: object = (
            tomllib.loads(text) if path.suffix == ".toml" else yaml.load(text, _YAML)  # noqa: S506 - _YAML is a safe loader, C or Python
        )
    except (tomllib.TOMLDecodeError, yaml.YAMLError) as error:
        raise ConfigurationError(
            f"{path} is not valid {path.suffix[1:]}: {_syntax_problem(error)}"
        ) from None
    except RecursionError:
        raise ConfigurationError(f"{path}: {TOO_DEEP}") from None
    if not isinstance(raw, Mapping):
        raise ConfigurationError(f"{path}: expected a mapping with a `providers` list at the top")
    check_shape(raw, str(path))
    refuse_stray_references(raw)
    check_inline_secrets(raw)
    raw = {
        key: expand(str(key), value) if key in EXPANDED_FIELDS else value
        for key, value in raw.items()
    }
    try:
        return PayrouterConfig.model_validate(raw)
    except ValidationError as error:
        raise ConfigurationError.from_validation(error, str(path)) from None


def _syntax_problem(error: tomllib.TOMLDecodeError | yaml.YAMLError) -> str:
    """The parser's complaint on one line, with its position: PyYAML's own text spans several
    lines with a drawing of the source, which a log line or a terminal error cannot hold."""
    if isinstance(error, yaml.MarkedYAMLError):
        mark = error.problem_mark or error.context_mark
        problem = error.problem or error.context or "syntax error"
        if mark is not None:
            return f"{problem} at line {mark.line + 1}, column {mark.column + 1}"
        return problem
    return " ".join(str(error).split())


def adapters_from_config(config: Mapping[str, Any]) -> list[Adapter]:
    """Build every provider's adapter from a config mapping (the `providers` list and the rest,
    as in the YAML file), through the `payrouter.adapters` entry points."""
    try:
        return PayrouterConfig.model_validate(config).build_adapters()
    except ValidationError as error:
        raise ConfigurationError.from_validation(error, "the config") from None
