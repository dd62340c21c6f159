"""Forwarding vaults: a provider reached through a vault's proxy, which swaps card aliases
for the card data on the way.

A vault (VGS, Basis Theory, a Spreedly-style forward proxy) holds the card number and CVC
and hands the checkout an alias for each (`VaultCard`). An adapter built with `vault=` sends
its requests through the vault's forward proxy, with the aliases in the provider's raw-card
fields; the proxy replaces them and forwards the request to the provider over TLS. payrouter
and the merchant's servers see aliases only; the vault and the provider see the card
(docs/security.md says what that means for PCI scope).
"""

from __future__ import annotations

import socket
import ssl
from typing import Protocol, runtime_checkable

import httpx
from pydantic import SecretStr

from ._errors import ConfigurationError

__all__ = ["ForwardProxyVault", "ForwardingVault"]


@runtime_checkable
class ForwardingVault(Protocol):
    """A vault whose proxy an adapter's requests go through; it fills in card aliases.

    `name` is what `VaultCard.vault` names; `transport()` is the HTTP transport under the
    adapter's client, routing every request of that adapter through the vault.
    """

    name: str

    def transport(self) -> httpx.AsyncBaseTransport:
        """A new transport that sends each request to its provider through the vault."""
        ...


class ForwardProxyVault:
    """A vault reached as an HTTP forward proxy (VGS outbound routes, for one).

    Requests keep their provider URL and go through `proxy_url` (credentials in its user
    info, e.g. `https://USER:PASS@tntabc.sandbox.verygoodproxy.com:8443`). The proxy
    terminates TLS to read the body, so its certificate authority (`ca_file`, the bundle the
    vault publishes) must be trusted for the provider's hostnames on this route only.
    """

    def __init__(
        self, name: str, proxy_url: SecretStr | str, *, ca_file: str | None = None
    ) -> None:
        """Raises:
        ConfigurationError: `ca_file` cannot be read as a certificate bundle.
        """
        self.name = name
        self._proxy_url = proxy_url if isinstance(proxy_url, SecretStr) else SecretStr(proxy_url)
        self._verify: ssl.SSLContext | bool = True
        if ca_file is not None:
            try:
                self._verify = ssl.create_default_context(cafile=ca_file)
            except (OSError, ssl.SSLError) as error:
                raise ConfigurationError(
                    f"vault {name!r}: ca_file {ca_file!r} is not a readable CA bundle ({error})"
                ) from None

    def __repr__(self) -> str:
        return f"ForwardProxyVault(name={self.name!r})"  # the proxy URL holds credentials

    def transport(self) -> httpx.AsyncBaseTransport:
        """An HTTP transport through the vault's proxy, trusting its CA when one is given."""
        return httpx.AsyncHTTPTransport(
            proxy=httpx.Proxy(self._proxy_url.get_secret_value()),
            verify=self._verify,
            socket_options=[(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)],
        )
