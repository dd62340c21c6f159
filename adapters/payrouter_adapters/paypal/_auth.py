"""PayPal's OAuth2 bearer tokens: client credentials, cached until shortly before expiry.

The token exchange is the one HTTP call an adapter method may make besides its own. Its
failures are translated here into replies that say the payment was never sent: a token that
cannot be had means PayPal's payment endpoint was not reached, so nothing can have moved,
whatever the token call itself ran into (even a read timeout).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Final

import httpx
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError

from payrouter.provider import FailureKind, ProviderReply

from .._common import warn_unmapped_once
from ._codes import HTTP_STATUSES, OAUTH_ERRORS
from ._replies import load_body, mapped_kind, retry_after

__all__ = ["StaticToken", "TokenCache", "TokenSource"]

_GRANT_PATH: Final = "/v1/oauth2/token"
_REFRESH_MARGIN_SECONDS: Final = 300.0
"""Refresh this long before PayPal's `expires_in` runs out (tokens live about 9 hours)."""


class _Grant(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    access_token: str = Field(min_length=1)
    expires_in: float = Field(gt=0)


class StaticToken:
    """A bearer token given in the options (mocks, or a token minted elsewhere); never refreshed."""

    refreshable = False

    def __init__(self, token: SecretStr) -> None:
        self._token = token

    async def bearer(self) -> str | ProviderReply:
        """The configured token."""
        return self._token.get_secret_value()

    def forget(self, token: str) -> None:
        """Nothing to forget: a rejected static token is a configuration fault."""


class TokenCache:
    """OAuth2 client credentials against `POST /v1/oauth2/token`, one fetch at a time.

    A token is kept until `expires_in` minus a margin (at most 5 minutes, at most a tenth of
    its life); `forget` drops it after PayPal answered 401 to it, so the next call fetches a
    new one. Concurrent callers wait on one lock and share the token the first one fetched.
    """

    refreshable = True

    def __init__(
        self,
        client: httpx.AsyncClient,
        provider: str,
        client_id: SecretStr,
        client_secret: SecretStr,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self._provider = provider
        self._client_id = client_id
        self._client_secret = client_secret
        self._clock = clock
        self._lock = asyncio.Lock()
        self._token: str | None = None
        self._expires_at = 0.0

    async def bearer(self) -> str | ProviderReply:
        """A valid access token, or the reply explaining why none could be had."""
        token = self._valid()
        if token is not None:
            return token
        async with self._lock:
            token = self._valid()
            if token is not None:
                return token
            return await self._fetch()

    def forget(self, token: str) -> None:
        """Drop `token` if it is still the cached one (a concurrent refresh may have won)."""
        if self._token == token:
            self._token = None

    def _valid(self) -> str | None:
        if self._token is not None and self._clock() < self._expires_at:
            return self._token
        return None

    async def _fetch(self) -> str | ProviderReply:
        auth = (self._client_id.get_secret_value(), self._client_secret.get_secret_value())
        started = self._clock()
        try:
            response = await self._client.post(
                _GRANT_PATH, data={"grant_type": "client_credentials"}, auth=auth
            )
        except httpx.TransportError as error:
            return ProviderReply.failed(
                FailureKind.NETWORK_BEFORE_SEND,
                provider_code=f"oauth_token:{type(error).__name__}",
                message="no access token, so the payment request was not sent",
            )
        if not response.is_success:
            return _token_error_reply(self._provider, response)
        try:
            grant = _Grant.model_validate_json(response.content)
        except ValidationError:
            return ProviderReply.failed(
                FailureKind.PROVIDER_DOWN,
                provider_code="oauth_token:unreadable_body",
                http_status=response.status_code,
                message="the token answer had no access_token; the payment was not sent",
            )
        margin = min(_REFRESH_MARGIN_SECONDS, grant.expires_in / 10)
        self._token = grant.access_token
        self._expires_at = started + grant.expires_in - margin
        return grant.access_token


TokenSource = StaticToken | TokenCache


class _OAuthError(BaseModel):
    """The token endpoint's error body (OAuth 2.0, RFC 6749 section 5.2)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    error: str | None = None
    error_description: str | None = None


def _token_error_reply(provider: str, response: httpx.Response) -> ProviderReply:
    """Translate a failed `POST /v1/oauth2/token`: the payment itself was never sent."""
    status = response.status_code
    error = load_body(_OAuthError, response) or _OAuthError()
    kind = mapped_kind(provider, OAUTH_ERRORS, error.error, "oauth_token:")
    kind = kind or HTTP_STATUSES.get(status)
    if kind is None:
        warn_unmapped_once(provider, f"oauth_token:http_{status}")
        kind = FailureKind.PROVIDER_DOWN if status >= 500 else FailureKind.INVALID_REQUEST
    if kind is FailureKind.UNKNOWN_OUTCOME:
        kind = FailureKind.PROVIDER_DOWN
    return ProviderReply.failed(
        kind,
        provider_code=f"oauth_token:{error.error or f'http_{status}'}",
        http_status=status,
        retry_after=retry_after(kind, response),
        message=error.error_description,
    )
