"""A forwarding vault's proxy as a stand-in: it swaps card aliases for card data on the way.

`VaultProxy` stores cards and issues an alias per field (`tok_sandbox_...`, the shape of VGS
sandbox aliases). It listens on 127.0.0.1 as an HTTP forward proxy: an adapter built with
`ForwardProxyVault(proxy_url=vault.url)` sends it each request in absolute form, it replaces
every alias in the body with the value it stands for, and forwards the request to the
provider (a sandbox stand-in), answering with the provider's response unchanged. It refuses,
without forwarding, a request without its proxy credentials (407) and a request carrying an
alias it never issued (400), so an unknown alias never reaches a provider. Plain HTTP only:
the sandbox stand-ins speak HTTP, so no CONNECT tunnel or TLS interception is needed here.
"""

from __future__ import annotations

import asyncio
import base64
import json
import re
import secrets
import string
from dataclasses import dataclass, field
from types import TracebackType
from typing import Final, Self

import httpx

__all__ = ["StoredCard", "VaultProxy"]

ALIAS: Final = re.compile(r"tok_sandbox_[A-Za-z0-9]{22}")
_ALPHABET: Final = string.ascii_letters + string.digits
_HOP_BY_HOP: Final = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authorization",
        "proxy-connection",
        "host",
        "content-length",
        "transfer-encoding",
        "te",
        "upgrade",
    }
)


@dataclass(frozen=True, slots=True)
class StoredCard:
    """The aliases a vault issued for one card: give them to the checkout, never the card."""

    number: str
    cvc: str | None


@dataclass(slots=True)
class VaultProxy:
    """The vault's forward proxy on 127.0.0.1 (see the module docstring); an async context."""

    username: str = "vault-user"
    password: str = field(default_factory=lambda: secrets.token_urlsafe(12))
    forwarded: int = 0
    """Requests forwarded to a provider, aliases swapped."""
    refused: int = 0
    """Requests refused without forwarding (credentials, unknown alias)."""
    _values: dict[str, str] = field(default_factory=dict)
    _server: asyncio.Server | None = None
    _client: httpx.AsyncClient | None = None
    _port: int = 0

    def store(self, number: str, cvc: str | None = None) -> StoredCard:
        """Keep a card; its aliases stand for it in requests through this proxy."""
        number_alias = self._alias(number)
        return StoredCard(number_alias, None if cvc is None else self._alias(cvc))

    @property
    def url(self) -> str:
        """The proxy URL with its credentials, for `ForwardProxyVault(proxy_url=...)`."""
        return f"http://{self.username}:{self.password}@127.0.0.1:{self._port}"

    async def __aenter__(self) -> Self:
        self._client = httpx.AsyncClient(timeout=10.0)
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self._port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        if self._client is not None:
            await self._client.aclose()

    def _alias(self, value: str) -> str:
        alias = "tok_sandbox_" + "".join(secrets.choice(_ALPHABET) for _ in range(22))
        self._values[alias] = value
        return alias

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while not reader.at_eof():
                head = await reader.readuntil(b"\r\n\r\n")
                method, target, headers = _parse_head(head)
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                status, answer_headers, answer = await self._handle(method, target, headers, body)
                writer.write(_response(status, answer_headers, answer))
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    async def _handle(
        self, method: str, target: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        expected = base64.b64encode(f"{self.username}:{self.password}".encode()).decode()
        if headers.get("proxy-authorization") != f"Basic {expected}":
            self.refused += 1
            return _error(407, "proxy credentials missing or wrong")
        text = body.decode()
        unknown = [alias for alias in ALIAS.findall(text) if alias not in self._values]
        if unknown:
            self.refused += 1
            return _error(400, "alias not found in this vault")
        revealed = ALIAS.sub(lambda match: self._values[match.group(0)], text)
        if self._client is None:
            return _error(503, "vault proxy is not running")
        sent = {name: value for name, value in headers.items() if name not in _HOP_BY_HOP}
        response = await self._client.request(method, target, headers=sent, content=revealed)
        self.forwarded += 1
        kept = {
            name: value
            for name, value in response.headers.items()
            if name.lower() not in _HOP_BY_HOP and name.lower() != "content-encoding"
        }
        return response.status_code, kept, response.content


def _parse_head(head: bytes) -> tuple[str, str, dict[str, str]]:
    request_line, *lines = head.decode("latin-1").rstrip("\r\n").split("\r\n")
    method, target, _ = request_line.split(" ", 2)
    headers = {}
    for line in lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return method, target, headers


def _error(status: int, message: str) -> tuple[int, dict[str, str], bytes]:
    body = json.dumps({"errors": [{"status": status, "detail": message}]}).encode()
    return status, {"content-type": "application/json"}, body


def _response(status: int, headers: dict[str, str], body: bytes) -> bytes:
    lines = [f"HTTP/1.1 {status} {httpx.codes.get_reason_phrase(status)}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    lines += [f"content-length: {len(body)}", "connection: keep-alive"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body
