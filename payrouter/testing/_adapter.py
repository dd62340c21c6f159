"""The adapter in front of `SimulatedProvider`: real httpx code and a classification table.

It is written the way a provider adapter should be, so tests and benchmarks exercise the same
path a real provider takes: one HTTP exchange per call, codes mapped through one table.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Final, Self

import httpx

from .._adapter import Capabilities, Charge, PaymentHandle, ProviderReply, Resolution
from .._errors import ConfigurationError
from .._models import BankTransferSource, CardSource, PaymentMethod
from .._money import Money
from .._taxonomy import Advice, DeclineType, FailureKind
from ._simulator import SimulatedProvider

__all__ = ["SimulatedAdapter"]

_ALL_METHODS: Final = Capabilities(methods=frozenset(PaymentMethod))
DEFAULT_RESOLUTION: Final = Resolution(lookup=True, search_lag_seconds=300.0)
"""The simulator finds a payment by either reference at once; a miss is trusted after 5
minutes, when a request still in flight would have arrived. It keeps keys, but replay is
off unless a test declares a window (`SimulatedAdapter(provider, resolution=...)`)."""

# The simulated provider's error codes; hard declines use the FailureKind values themselves.
_BY_CODE: Final[Mapping[str, FailureKind]] = MappingProxyType(
    {
        "rate_limited": FailureKind.RATE_LIMITED,
        "overloaded": FailureKind.BUSY,
        "unavailable": FailureKind.PROVIDER_DOWN,
        "maintenance": FailureKind.MAINTENANCE,
        "internal_error": FailureKind.UNKNOWN_OUTCOME,  # 500 after processing: money may be gone
        "invalid_api_key": FailureKind.CREDENTIALS_REJECTED,
        "invalid_request": FailureKind.INVALID_REQUEST,
        "idempotency_key_reused": FailureKind.INVALID_REQUEST,
        "not_found": FailureKind.NOT_FOUND,
        **{kind.value: kind for kind in FailureKind},
    }
)
_REPLY_BY_STATUS: Final = {
    "succeeded": ProviderReply.succeeded,
    "authorized": ProviderReply.succeeded,
    "pending": ProviderReply.pending,
}


class SimulatedAdapter:
    """Adapter for a `SimulatedProvider`; `SimulatedAdapter(SimulatedProvider("sim_a"))`."""

    idempotency_key_max_length = 255

    def __init__(
        self,
        provider: SimulatedProvider,
        *,
        name: str | None = None,
        capabilities: Capabilities | None = None,
        resolution: Resolution = DEFAULT_RESOLUTION,
    ) -> None:
        self.name = name or provider.name
        self.provider = provider
        self.capabilities = capabilities or _ALL_METHODS
        self.resolution = resolution
        self._client = httpx.AsyncClient(transport=provider, base_url=f"http://{self.name}.sim")

    @classmethod
    def from_options(
        cls, *, name: str, capabilities: Capabilities | None, options: Mapping[str, object]
    ) -> Self:
        """Entry point `simulated`: options `books_path` (optional SQLite file for the books)."""
        unknown = set(options) - {"books_path"}
        if unknown:
            raise ConfigurationError(
                f"providers[{name}].options: unknown option(s) {sorted(unknown)}; "
                "the simulated provider takes only 'books_path'"
            )
        books = options.get("books_path")
        if books is not None and not isinstance(books, str | Path):
            raise ConfigurationError(f"providers[{name}].options.books_path: give a file path")
        try:
            provider = SimulatedProvider(name, books_path=books)
        except (sqlite3.Error, OSError, ValueError) as error:
            raise ConfigurationError(
                f"providers[{name}].options.books_path: cannot open {books!r} as the simulated "
                f"provider's books ({error}): give a writable file in an existing folder"
            ) from None
        return cls(provider, capabilities=capabilities)

    async def pay(self, charge: Charge, *, idempotency_key: str) -> ProviderReply:
        source = charge.source
        if isinstance(source, CardSource):
            credential = source.token or (source.network_token and source.network_token.number)
            source_id = credential.get_secret_value() if credential else ""
        elif isinstance(source, BankTransferSource):
            source_id = source.iban.get_secret_value()
        else:
            source_id = source.wallet
        response = await self._client.post(
            "/payments",
            headers={"Idempotency-Key": idempotency_key},
            json={
                "reference": charge.reference,
                "order_id": charge.order_id,
                "amount": charge.amount.minor_units,
                "currency": charge.amount.currency,
                "method": charge.method.value,
                "source": source_id,
                "capture": charge.capture,
            },
        )
        return self._reply(response)

    async def lookup(self, handle: PaymentHandle) -> ProviderReply:
        response = await self._client.get("/payments", params={"reference": handle.reference})
        return self._reply(response)

    async def capture(
        self, handle: PaymentHandle, amount: Money, *, idempotency_key: str
    ) -> ProviderReply:
        return await self._follow_up(handle, "capture", idempotency_key, amount)

    async def refund(
        self, handle: PaymentHandle, amount: Money, *, idempotency_key: str, reason: str | None
    ) -> ProviderReply:
        return await self._follow_up(handle, "refund", idempotency_key, amount)

    async def void(self, handle: PaymentHandle, *, idempotency_key: str) -> ProviderReply:
        return await self._follow_up(handle, "void", idempotency_key, None)

    async def cancel_mandate(self, mandate_id: str, *, idempotency_key: str) -> ProviderReply:
        response = await self._client.post(
            f"/mandates/{mandate_id}/cancel", headers={"Idempotency-Key": idempotency_key}
        )
        return self._reply(response)

    async def aclose(self) -> None:
        await self._client.aclose()
        await self.provider.aclose()

    async def _follow_up(
        self, handle: PaymentHandle, operation: str, key: str, amount: Money | None
    ) -> ProviderReply:
        if handle.provider_reference is None:
            return ProviderReply.failed(FailureKind.NOT_FOUND, provider_code="no_reference")
        response = await self._client.post(
            f"/payments/{handle.provider_reference}/{operation}",
            headers={"Idempotency-Key": key},
            json={"amount": amount.minor_units if amount else None},
        )
        return self._reply(response)

    def _reply(self, response: httpx.Response) -> ProviderReply:
        body = response.json()
        if response.status_code == 200:
            status = body["status"]
            if status == "requires_action":
                return ProviderReply.requires_action(body["id"], body.get("action_url"))
            if status == "declined":
                return ProviderReply.failed(FailureKind.CARD_DECLINED, provider_code=status)
            make = _REPLY_BY_STATUS.get(status)
            if make is not None:
                return make(body["id"])
            return ProviderReply.succeeded(body["id"], provider_code=status)
        code = str(body.get("error", ""))
        kind = _BY_CODE.get(code, FailureKind.UNKNOWN_OUTCOME)
        retry_after = response.headers.get("Retry-After")
        decline, advice = body.get("decline"), body.get("advice")
        return ProviderReply.failed(
            kind,
            provider_code=code,
            http_status=response.status_code,
            retry_after=float(retry_after) if retry_after else None,
            decline=DeclineType(decline) if decline else None,
            advice=Advice(advice) if advice else None,
            advice_code=f"advice:{advice}" if advice else None,
        )
