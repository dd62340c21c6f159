"""Transport exceptions mapped to the three outcomes, in one table for every adapter.

Whether the request left this machine decides everything: a refused connection moved no
money and may fail over; a timeout or reset after sending may have moved money and is
`unknown` until a lookup says otherwise. Anything we cannot place is `unknown` too.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

import httpx

from .._adapter import ProviderReply
from .._taxonomy import FailureKind

__all__ = ["reply_for_exception"]

_NOT_SENT: Final = FailureKind.NETWORK_BEFORE_SEND

_BY_EXCEPTION: Final[Mapping[type[BaseException], ProviderReply]] = MappingProxyType(
    {
        httpx.ConnectError: ProviderReply.failed(_NOT_SENT, provider_code="connect_error"),
        httpx.ConnectTimeout: ProviderReply.failed(_NOT_SENT, provider_code="connect_timeout"),
        httpx.PoolTimeout: ProviderReply.failed(_NOT_SENT, provider_code="pool_timeout"),
        httpx.ReadTimeout: ProviderReply.unknown(provider_code="read_timeout"),
        httpx.WriteTimeout: ProviderReply.unknown(provider_code="write_timeout"),
        httpx.ReadError: ProviderReply.unknown(provider_code="read_error"),
        httpx.WriteError: ProviderReply.unknown(provider_code="write_error"),
        httpx.RemoteProtocolError: ProviderReply.unknown(provider_code="connection_reset"),
        TimeoutError: ProviderReply.unknown(provider_code="deadline_exceeded"),
    }
)


def reply_for_exception(error: BaseException) -> ProviderReply:
    """The reply an exception from an adapter call stands for; the most specific type wins."""
    for cls in type(error).__mro__:
        reply = _BY_EXCEPTION.get(cls)
        if reply is not None:
            return reply
    return ProviderReply.unknown(provider_code=f"exception:{type(error).__name__}")
