"""An adapter for AcmePay, a small card provider, written only against payrouter's public API.

AcmePay's API (see `acmepay.openapi.yaml`): `POST /v1/charges` with an `Idempotency-Key`
header, `GET /v1/charges?reference=...`, and follow-ups under `/v1/charges/{id}/...`. The
adapter translates; the router decides. It never retries, sleeps, logs or fails over, and it
lets transport exceptions propagate: the router maps them to the three outcomes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx
from pydantic import SecretStr

from payrouter import CardSource, Money, PaymentMethod
from payrouter.provider import (
    Capabilities,
    Charge,
    CredentialRules,
    FailureKind,
    HttpAdapter,
    HttpOptions,
    PaymentHandle,
    ProviderReply,
    Resolution,
    UnsendableError,
)

# AcmePay's decline codes -> the taxonomy. A table, not ifs: adding a code is adding a row.
DECLINE_CODES: Mapping[str, FailureKind] = {
    "insufficient_funds": FailureKind.INSUFFICIENT_FUNDS,
    "card_blocked": FailureKind.ACCOUNT_LOCKED,
    "card_declined": FailureKind.CARD_DECLINED,
    "country_not_supported": FailureKind.REGION_RESTRICTED,
    "fraud_suspected": FailureKind.SUSPECTED_FRAUD,
}
# HTTP statuses that say, by AcmePay's documentation, that nothing was processed.
NOT_PROCESSED: Mapping[int, FailureKind] = {
    401: FailureKind.CREDENTIALS_REJECTED,
    400: FailureKind.INVALID_REQUEST,
    404: FailureKind.NOT_FOUND,
    429: FailureKind.RATE_LIMITED,
    503: FailureKind.BUSY,
}


class AcmePayOptions(HttpOptions):
    """What `options:` may hold for `type: acmepay` in payrouter.yaml (plus `HttpOptions`'
    timeouts and pool size); `api_key` is a `SecretStr`, so no repr or error shows it."""

    api_key: SecretStr
    base_url: str = "https://api.acmepay.example"


class AcmePayAdapter(HttpAdapter[AcmePayOptions]):
    """AcmePay cards as a payrouter `Adapter`.

    `HttpAdapter` brings `from_options` (the `payrouter.adapters` entry point: validates the
    options and names a bad field), the httpx client with the options' timeouts, a repr
    without secrets, and `aclose`; this class only translates.
    """

    options_model = AcmePayOptions
    # Only AcmePay's own card tokens (`tok_...`) are sent here; another provider's are not.
    default_capabilities = Capabilities(
        methods=frozenset({PaymentMethod.CARD}),
        credentials=CredentialRules(card_id_format=r"tok_[A-Za-z0-9_]+"),
    )
    idempotency_key_max_length = 64
    # Lookup searches charges by our reference; a miss is trusted once a request still in
    # flight would have been recorded (5 minutes). AcmePay keeps no idempotency keys to replay.
    resolution = Resolution(search_lag_seconds=300.0)

    @classmethod
    def client_headers(cls, options: AcmePayOptions) -> Mapping[str, str]:
        """AcmePay takes its API key as a bearer token."""
        return {"Authorization": f"Bearer {options.api_key.get_secret_value()}"}

    async def pay(self, charge: Charge, *, idempotency_key: str) -> ProviderReply:
        if not isinstance(charge.source, CardSource) or charge.source.token is None:
            return UnsendableError(
                "source_unsupported", "AcmePay takes its card tokens only"
            ).reply()
        body = {
            "amount": charge.amount.minor_units,
            "currency": charge.amount.currency,
            "card_token": charge.source.token.get_secret_value(),
            "reference": charge.reference,
            "order_id": charge.order_id,
            "capture": charge.capture,
        }
        response = await self._client.post(
            "/v1/charges", json=body, headers={"Idempotency-Key": idempotency_key}
        )
        return _reply(response)

    async def lookup(self, handle: PaymentHandle) -> ProviderReply:
        response = await self._client.get("/v1/charges", params={"reference": handle.reference})
        if response.status_code != 200:
            return _reply(response)
        charges = response.json()["data"]
        if not charges:
            return ProviderReply.failed(FailureKind.NOT_FOUND, http_status=200)
        return _charge_reply(charges[0], 200)

    async def capture(
        self, handle: PaymentHandle, amount: Money, *, idempotency_key: str
    ) -> ProviderReply:
        return await self._follow_up(handle, "capture", idempotency_key, amount=amount)

    async def refund(
        self, handle: PaymentHandle, amount: Money, *, idempotency_key: str, reason: str | None
    ) -> ProviderReply:
        return await self._follow_up(
            handle, "refunds", idempotency_key, amount=amount, reason=reason
        )

    async def void(self, handle: PaymentHandle, *, idempotency_key: str) -> ProviderReply:
        return await self._follow_up(handle, "void", idempotency_key)

    async def cancel_mandate(self, mandate_id: str, *, idempotency_key: str) -> ProviderReply:
        response = await self._client.delete(
            f"/v1/mandates/{mandate_id}", headers={"Idempotency-Key": idempotency_key}
        )
        if response.status_code == 200:
            return ProviderReply.succeeded(mandate_id, http_status=200)
        return _reply(response)

    async def _follow_up(
        self,
        handle: PaymentHandle,
        action: str,
        idempotency_key: str,
        *,
        amount: Money | None = None,
        reason: str | None = None,
    ) -> ProviderReply:
        if handle.provider_reference is None:
            return ProviderReply.failed(FailureKind.NOT_FOUND, message="no AcmePay charge id")
        body: dict[str, Any] = {}
        if amount is not None:
            body["amount"] = amount.minor_units
        if reason is not None:
            body["reason"] = reason
        response = await self._client.post(
            f"/v1/charges/{handle.provider_reference}/{action}",
            json=body,
            headers={"Idempotency-Key": idempotency_key},
        )
        return _reply(response)


def _reply(response: httpx.Response) -> ProviderReply:
    """One AcmePay answer in the three outcomes; anything not provably unprocessed is unknown."""
    status = response.status_code
    if status in (200, 201):
        return _charge_reply(response.json(), status)
    if status == 402:
        code = response.json()["error"]["code"]
        kind = DECLINE_CODES.get(code, FailureKind.CARD_DECLINED)
        return ProviderReply.failed(kind, provider_code=code, http_status=status)
    if status in NOT_PROCESSED:
        retry_after = response.headers.get("Retry-After")
        return ProviderReply.failed(
            NOT_PROCESSED[status],
            provider_code=str(status),
            http_status=status,
            retry_after=float(retry_after) if retry_after else None,
        )
    # 409 (same key still in flight), 500, 502, 504: the charge may exist. Never "failed".
    return ProviderReply.unknown(provider_code=str(status), http_status=status)


def _charge_reply(charge: Mapping[str, Any], status: int) -> ProviderReply:
    reference, state = charge["id"], charge["status"]
    if state in ("succeeded", "refunded", "voided", "authorized"):
        return ProviderReply.succeeded(reference, provider_code=state, http_status=status)
    if state == "requires_action":
        return ProviderReply.requires_action(
            reference, charge.get("redirect_url"), provider_code=state, http_status=status
        )
    if state == "pending":
        return ProviderReply.pending(reference, provider_code=state, http_status=status)
    code = charge.get("decline_code") or "card_declined"
    kind = DECLINE_CODES.get(code, FailureKind.CARD_DECLINED)
    return ProviderReply.failed(
        kind, provider_code=code, http_status=status, provider_reference=reference
    )
