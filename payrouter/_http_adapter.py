"""What every adapter over HTTP repeats, written once: options, the httpx client, its repr.

`HttpAdapter` is a base class, not part of the `Adapter` protocol: an adapter that speaks HTTP
subclasses it and writes only its translation (requests, replies, code tables). The router
never looks at it; third-party adapters get exactly what the bundled ones use.
"""

from __future__ import annotations

import functools
import socket
import ssl
from collections.abc import Mapping
from dataclasses import replace
from typing import ClassVar, Final, Generic, Self, TypeVar, cast

import httpx
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ._adapter import Capabilities, ProviderReply, Resolution
from ._errors import ConfigurationError, PayrouterError
from ._taxonomy import FailureKind
from ._vault import ForwardingVault

__all__ = ["HttpAdapter", "HttpOptions", "UnsendableError"]

OptionsT = TypeVar("OptionsT", bound="HttpOptions")
ModelT = TypeVar("ModelT", bound=BaseModel)


class UnsendableError(PayrouterError, ValueError):
    """A charge or follow-up cannot be expressed as a valid request to this provider.

    Raised by an adapter's request builder before anything is sent (an amount the provider
    cannot represent, a source it does not take); the adapter answers `reply()`, a definite
    INVALID_REQUEST, so the router neither retries nor waits for it. `code` becomes the
    reply's `provider_code`; the message names the fix and holds no secret.
    """

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code

    def reply(self) -> ProviderReply:
        """The reply for this refusal: failed, INVALID_REQUEST, nothing sent."""
        return ProviderReply.failed(
            FailureKind.INVALID_REQUEST, provider_code=self.code, message=str(self)
        )


IDLE_CONNECTION_SECONDS: Final = 2.0
"""How long an idle pooled connection may be reused: well under the 5 s many servers keep one.

A server closes an idle connection on its own clock, from when it sent the last response; the
pool counts from when this process read it, later by however long the event loop was busy.
With both at 5 s (httpx's default and uvicorn's, Node's), a request sent on a connection the
server was closing meets a reset: `read_error`, an unknown outcome, for a request the server
never read. A busy checkout hit it (a bank initiation its bank never received, left open for
the bank's seven-day bound); 2 s leaves 3 s of lag to spare, and a connection that busy
traffic keeps using never idles that long.
"""


class HttpOptions(BaseModel):
    """Options every HTTP adapter takes; each adapter's own model extends this one.

    Secrets are `SecretStr` fields, so neither the model's repr nor a validation error shows
    them (`hide_input_in_errors`).
    """

    model_config = ConfigDict(frozen=True, extra="forbid", hide_input_in_errors=True)

    base_url: str = Field(description="Provider API root: sandbox, live, or a local stand-in.")
    connect_timeout_seconds: float = Field(default=2.0, gt=0)
    read_timeout_seconds: float = Field(default=10.0, gt=0)
    max_connections: int = Field(default=100, ge=1)
    max_idle_connections: int = Field(
        default=10,
        ge=0,
        description="Connections kept open between calls; a burst above it opens new ones. "
        "httpcore checks every idle connection's socket on each request (about 85 us of CPU "
        "each here): 100 idle ones cost 9.8 ms per request, 10 cost 1.2 ms.",
    )

    def pool_limits(self) -> httpx.Limits:
        """The connection pool's limits (`transport`): idle connections reused for
        `IDLE_CONNECTION_SECONDS`."""
        return httpx.Limits(
            max_connections=self.max_connections,
            max_keepalive_connections=min(self.max_idle_connections, self.max_connections),
            keepalive_expiry=IDLE_CONNECTION_SECONDS,
        )

    def transport(self, tls: ssl.SSLContext | None = None) -> httpx.AsyncHTTPTransport:
        """The transport every HTTP adapter's client sends through: these pool limits,
        `TCP_NODELAY`, and `tls` (an adapter's own TLS settings, e.g. mutual TLS with a client
        certificate) or else httpx's defaults, shared by every client in the process.

        Without `TCP_NODELAY` a request written as headers then body may wait for the peer's
        delayed ACK (~40 ms on Linux) before the body leaves. asyncio sets it on every TCP
        connection of its own (`getsockopt` says 1 with or without this option, over plain
        HTTP and mutual TLS alike); it is asked for here so that no client depends on the
        event loop's choice.
        """
        return httpx.AsyncHTTPTransport(
            verify=_default_tls() if tls is None else tls,
            limits=self.pool_limits(),
            socket_options=[(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)],
        )


class HttpAdapter(Generic[OptionsT]):
    """Base of an adapter that talks to its provider through one `httpx.AsyncClient`.

    A subclass sets `options_model` (its `HttpOptions` subclass), `default_capabilities`,
    `idempotency_key_max_length` and `resolution`, overrides `client_headers` to
    authenticate, and implements the `Adapter` calls with `self._client` and
    `self._options`. `from_options` is its `payrouter.adapters` entry point; `shown_options`
    lists the option fields its repr shows (a `SecretStr` field still shows only as
    `**********`).
    """

    options_model: ClassVar[type[HttpOptions]] = HttpOptions
    default_capabilities: ClassVar[Capabilities]
    shown_options: ClassVar[tuple[str, ...]] = ("base_url",)
    idempotency_key_max_length: int
    resolution: Resolution
    """Declared by each subclass from its provider's documentation; no default is safe."""

    def __init__(
        self,
        *,
        name: str,
        client: httpx.AsyncClient,
        options: OptionsT,
        capabilities: Capabilities | None = None,
    ) -> None:
        self.name = name
        self.capabilities = capabilities or self.default_capabilities
        self._client = client
        self._options = options

    @classmethod
    def from_options(
        cls,
        *,
        name: str,
        capabilities: Capabilities | None,
        options: Mapping[str, object],
        transport: httpx.AsyncBaseTransport | None = None,
        vault: ForwardingVault | None = None,
    ) -> Self:
        """Build from config; `transport` lets tests put a scripted provider under the client.

        With `vault`, every request goes through the vault's proxy (`vault.transport()`, or
        `transport` when both are given: a test's stand-in of the vault), and cards the vault
        holds (`VaultCard`) become eligible here.

        Raises:
            ConfigurationError: an option is missing or invalid (the message names the
                field), or `vault` is given to an adapter that cannot send card fields.
        """
        parsed = cast("OptionsT", parse_options(cls.options_model, name, options))
        if vault is not None:
            capabilities = _through_vault(name, capabilities or cls.default_capabilities, vault)
            transport = transport or vault.transport()
        if transport is None:
            transport = cls.client_transport(name, parsed)
        client = build_client(parsed, cls.client_headers(parsed), transport)
        return cls(name=name, client=client, options=parsed, capabilities=capabilities)

    @classmethod
    def client_headers(cls, options: OptionsT) -> Mapping[str, str]:
        """Headers on every request (credentials, API version); JSON answers by default."""
        return {"Accept": "application/json"}

    @classmethod
    def client_transport(cls, name: str, options: OptionsT) -> httpx.AsyncBaseTransport | None:
        """A transport of the adapter's own (mutual TLS, say); None takes the default one.

        Raises:
            ConfigurationError: the transport's own set-up (a certificate) is wrong.
        """
        return None

    def __repr__(self) -> str:
        shown = "".join(
            f", {field}={getattr(self._options, field)!r}" for field in self.shown_options
        )
        return f"{type(self).__name__}(name={self.name!r}{shown})"

    async def aclose(self) -> None:
        """Close the HTTP client and its connections; the router calls it once on close."""
        await self._client.aclose()


def _through_vault(name: str, capabilities: Capabilities, vault: ForwardingVault) -> Capabilities:
    rules = capabilities.credentials
    if not rules.raw_cards:
        raise ConfigurationError(
            f"providers[{name}]: its adapter cannot send card fields, so vault {vault.name!r} "
            "has nothing to fill in; reach a provider with a raw-card API through the vault"
        )
    credentials = replace(rules, vaults=rules.vaults | {vault.name})
    return replace(capabilities, credentials=credentials)


def parse_options(model: type[ModelT], name: str, options: Mapping[str, object]) -> ModelT:
    """Validate a provider's `options` from config, naming the bad field and the fix.

    Raises:
        ConfigurationError: an option is missing, unknown or of the wrong type.
    """
    try:
        return model.model_validate(dict(options))
    except ValidationError as error:
        problems = "; ".join(
            f"providers[{name}].options.{'.'.join(str(part) for part in issue['loc'])}: "
            f"{issue['msg']}"
            for issue in error.errors()
        )
        raise ConfigurationError(problems) from None


def build_client(
    options: HttpOptions,
    headers: Mapping[str, str],
    transport: httpx.AsyncBaseTransport | None = None,
) -> httpx.AsyncClient:
    """An `httpx.AsyncClient` with the adapter's base URL, timeouts and pool limits."""
    timeout = httpx.Timeout(
        options.read_timeout_seconds,
        connect=options.connect_timeout_seconds,
        pool=options.connect_timeout_seconds,
    )
    return httpx.AsyncClient(
        base_url=options.base_url,
        headers=dict(headers),
        timeout=timeout,
        limits=options.pool_limits(),
        transport=options.transport() if transport is None else transport,
    )


@functools.cache
def _default_tls() -> ssl.SSLContext:
    """The TLS settings httpx gives a client by default (certifi's CA bundle, or
    `SSL_CERT_FILE` / `SSL_CERT_DIR` when set), built once per process and shared by every
    adapter's client: building it loads and parses the whole CA bundle, about 35 ms of CPU
    measured here, which each adapter paid again before. An `SSLContext` holds settings, not
    connections, and is meant to be shared (httpcore sets its ALPN list on each connection,
    the same HTTP/1.1 for every client built here); an adapter that needs its own (mutual
    TLS, the Berlin Group adapter) passes its own transport."""
    return httpx.create_ssl_context()
