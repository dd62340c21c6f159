"""The PayPal adapter class and its options."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from datetime import datetime, timedelta
from typing import Final, Literal
from urllib.parse import quote

import httpx
from pydantic import Field, SecretStr, ValidationInfo, field_validator

from payrouter import Money, PaymentMethod
from payrouter.provider import (
    Capabilities,
    Charge,
    FailureKind,
    HttpAdapter,
    HttpOptions,
    PaymentHandle,
    ProviderRecord,
    ProviderReply,
    Resolution,
    UnsendableError,
)

from . import _records, _replies
from ._auth import StaticToken, TokenCache, TokenSource
from ._codes import COMPLETION_ACTION_ISSUES
from ._requests import (
    PaymentKind,
    Reference,
    capture_body,
    order_body,
    refund_body,
)

__all__ = ["PayPalAdapter", "PayPalOptions"]

PAYPAL_CURRENCIES: Final = frozenset(
    "AUD BRL CAD CHF CNY CZK DKK EUR GBP HKD HUF ILS JPY MXN MYR NOK NZD PHP PLN SEK SGD THB "
    "TWD USD".split()
)
"""Currencies PayPal accepts for payments (developer.paypal.com/api/rest/reference/
currency-codes); some are domestic-only (BRL, MYR), which PayPal refuses per account."""

DEFAULT_CAPABILITIES: Final = Capabilities(
    methods=frozenset({PaymentMethod.WALLET}),
    currencies=PAYPAL_CURRENCIES,
    wallets=frozenset({"paypal"}),
)

_REPRESENTATION: Final = {"Prefer": "return=representation"}
"""Orders answer with id, status and links only unless asked; completion needs the payments."""

_PAYMENTS: Final[Mapping[PaymentKind, str]] = {
    "capture": "/v2/payments/captures",
    "authorization": "/v2/payments/authorizations",
    "refund": "/v2/payments/refunds",
}
"""Payments v2 resources by kind: where a payment known without its order is looked up."""


class PayPalOptions(HttpOptions):
    """`providers[<name>].options` for PayPal."""

    base_url: str = Field(
        default="https://api-m.sandbox.paypal.com",
        description="PayPal REST root: the sandbox by default; live is https://api-m.paypal.com.",
    )
    access_token: SecretStr | None = Field(
        default=None,
        description="A bearer token to send as is, never refreshed: for mocks and stand-ins "
        "without /v1/oauth2/token, or a token minted elsewhere.",
    )
    client_id: SecretStr | None = Field(default=None, description="REST app client id.")
    client_secret: SecretStr | None = Field(
        default=None,
        validate_default=True,
        description="REST app secret; with client_id, tokens come from POST /v1/oauth2/token.",
    )
    return_url: str | None = Field(
        default=None,
        min_length=1,
        description="Where PayPal sends the payer after approving, when a charge has none.",
    )
    cancel_url: str | None = Field(
        default=None,
        min_length=1,
        description="Where PayPal sends a payer who cancels; defaults to the return URL.",
    )

    @property
    def auth(self) -> Literal["access_token", "client_credentials"]:
        """How the adapter authenticates, named without the credential itself."""
        return "access_token" if self.access_token is not None else "client_credentials"

    @field_validator("client_secret")
    @classmethod
    def _credentials_given(cls, value: SecretStr | None, info: ValidationInfo) -> SecretStr | None:
        if info.data.get("access_token") is None and (
            value is None or info.data.get("client_id") is None
        ):
            raise ValueError("client_id and client_secret are required unless access_token is set")
        return value


class PayPalAdapter(HttpAdapter[PayPalOptions]):
    """PayPal Orders v2 (plus Payments v2 and Vault v3) as a payrouter `Adapter`.

    See the package docstring for what is sent and how answers are read.
    """

    options_model = PayPalOptions
    default_capabilities = DEFAULT_CAPABILITIES
    shown_options = ("base_url", "auth")
    idempotency_key_max_length: int = 108
    resolution: Resolution = Resolution(lookup=True, replay_window_seconds=6 * 3600, webhook=True)
    """Get the order by id; replay order creation with the same PayPal-Request-Id (Orders
    v2 keeps it 6 hours); no search by our reference; CHECKOUT/PAYMENT webhooks."""
    """PayPal's limit for the PayPal-Request-Id header."""
    records_delay: timedelta = _records.RECORDS_DELAY
    """The Transaction Search lags up to three hours."""

    def __init__(
        self,
        *,
        name: str,
        client: httpx.AsyncClient,
        options: PayPalOptions,
        capabilities: Capabilities | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(name=name, client=client, options=options, capabilities=capabilities)
        self._tokens: TokenSource
        if options.access_token is not None:
            self._tokens = StaticToken(options.access_token)
        else:
            assert options.client_id is not None
            assert options.client_secret is not None
            self._tokens = TokenCache(client, name, options.client_id, options.client_secret, clock)

    async def pay(self, charge: Charge, *, idempotency_key: str) -> ProviderReply:
        """`POST /v2/checkout/orders`: requires_action with the approval link, or, for a
        vaulted wallet, the completed order's capture or authorization."""
        try:
            body, vaulted = order_body(charge, self._options.return_url, self._options.cancel_url)
        except UnsendableError as error:
            return error.reply()
        response = await self._send(
            "POST", "/v2/checkout/orders", body, idempotency_key, _REPRESENTATION
        )
        if isinstance(response, ProviderReply):
            return response
        return _replies.order_reply(self.name, response, could_move_money=vaulted)

    async def complete(
        self, handle: PaymentHandle, *, idempotency_key: str, capture: bool | None = None
    ) -> ProviderReply:
        """After the payer approved: `POST /v2/checkout/orders/{id}/capture` (or `/authorize`
        when the charge was authorize-only), which moves the money.

        The router calls it on `refresh` and reconcile with a key of its own (not the pay
        key). `capture=None` reads the order's intent first (one more GET), so an
        authorize-only order is never captured. Not approved yet answers requires_action
        (ORDER_NOT_APPROVED) and moves nothing; so does a funding source that failed
        (INSTRUMENT_DECLINED: the payer picks another at PayPal's `redirect` link,
        `COMPLETION_ACTION_ISSUES`).
        """
        reference = _reference(handle)
        if reference is None or reference.order_id is None:
            return _no_payment("complete", "order")
        if capture is None:
            order = await self._send("GET", _order_path(reference.order_id))
            if isinstance(order, ProviderReply):
                return order
            if not order.is_success:
                return _replies.error_reply(self.name, order, reference=reference.order_id)
            capture = order.json().get("intent") != "AUTHORIZE"
        action = "capture" if capture else "authorize"
        path = f"{_order_path(reference.order_id)}/{action}"
        response = await self._send("POST", path, {}, idempotency_key, _REPRESENTATION)
        if isinstance(response, ProviderReply):
            return response
        if not response.is_success:
            return _replies.error_reply(
                self.name,
                response,
                reference=reference.order_id,
                action_issues=COMPLETION_ACTION_ISSUES,
            )
        return _replies.order_reply(self.name, response, could_move_money=True)

    async def lookup(self, handle: PaymentHandle) -> ProviderReply:
        """`GET /v2/checkout/orders/{id}` by the order id in `handle.provider_reference`.

        Orders v2 cannot search by our reference (invoice_id) and PayPal's transaction search
        lags by hours, so without an order id the answer is unknown (`lookup_needs_order_id`),
        never a NOT_FOUND we could not prove. A payment known only from a notification that
        did not name its order (`capture:ID`) is the one `GET /v2/payments/captures/{id}`
        (or `/authorizations/`) instead, never an order lookup under the payment's id.
        """
        reference = _reference(handle)
        if reference is None:
            return ProviderReply.unknown(
                provider_code="lookup_needs_order_id",
                message="PayPal orders can only be found by their id; none was recorded",
            )
        if reference.order_id is None:
            return await self._lookup_payment(reference)
        response = await self._send("GET", _order_path(reference.order_id))
        if isinstance(response, ProviderReply):
            return response
        return _replies.order_reply(self.name, response, could_move_money=True)

    async def _lookup_payment(self, reference: Reference) -> ProviderReply:
        """`GET /v2/payments/{captures|authorizations}/{id}`: the reply names the order too
        when PayPal's `supplementary_data.related_ids` does."""
        assert reference.kind is not None  # a reference without an order names its payment
        assert reference.payment_id is not None
        path = f"{_PAYMENTS[reference.kind]}/{quote(reference.payment_id, safe='')}"
        response = await self._send("GET", path)
        if isinstance(response, ProviderReply):
            return response
        if not response.is_success:  # a lookup names no reference unless it found one
            return _replies.error_reply(self.name, response)
        return _replies.payment_reply(self.name, response, reference.kind, reference)

    async def capture(
        self, handle: PaymentHandle, amount: Money, *, idempotency_key: str
    ) -> ProviderReply:
        """`POST /v2/payments/authorizations/{id}/capture` (Payments v2, not in the Orders
        spec: written from PayPal's Payments v2 reference and tested with respx only)."""
        reference = _reference(handle, "authorization")
        if reference is None or reference.payment_id is None:
            return _no_payment("capture", "authorization")
        try:
            body = capture_body(amount, handle.amount)
        except UnsendableError as error:
            return error.reply()
        path = f"/v2/payments/authorizations/{quote(reference.payment_id, safe='')}/capture"
        response = await self._send("POST", path, body, idempotency_key)
        if isinstance(response, ProviderReply):
            return response
        return _replies.payment_reply(self.name, response, "capture", reference)

    async def refund(
        self, handle: PaymentHandle, amount: Money, *, idempotency_key: str, reason: str | None
    ) -> ProviderReply:
        """`POST /v2/payments/captures/{id}/refund` (Payments v2, respx-tested only).

        The capture is the handle's own reference when the order was captured at once, or
        `captured_reference` when an authorization was captured later.
        """
        reference = _reference(handle, "capture") or _captured(handle)
        if reference is None or reference.payment_id is None:
            return _no_payment("refund", "capture")
        try:
            body = refund_body(amount, handle.order_id, reason)
        except UnsendableError as error:
            return error.reply()
        path = f"/v2/payments/captures/{quote(reference.payment_id, safe='')}/refund"
        response = await self._send("POST", path, body, idempotency_key)
        if isinstance(response, ProviderReply):
            return response
        return _replies.payment_reply(self.name, response, "refund", reference)

    async def void(self, handle: PaymentHandle, *, idempotency_key: str) -> ProviderReply:
        """`POST /v2/payments/authorizations/{id}/void` (Payments v2, respx-tested only).

        PayPal documents no PayPal-Request-Id here; it is sent anyway, and a repeated void
        answering PREVIOUSLY_VOIDED is the success it reports.
        """
        reference = _reference(handle, "authorization")
        if reference is None or reference.payment_id is None:
            return _no_payment("void", "authorization")
        path = f"/v2/payments/authorizations/{quote(reference.payment_id, safe='')}/void"
        response = await self._send("POST", path, None, idempotency_key)
        if isinstance(response, ProviderReply):
            return response
        return _replies.void_reply(self.name, response, str(reference))

    async def cancel_mandate(self, mandate_id: str, *, idempotency_key: str) -> ProviderReply:
        """`DELETE /v3/vault/payment-tokens/{id}` (Vault v3, respx-tested only): the saved
        wallet can no longer be charged. Legacy billing agreements (B-...) are not covered."""
        path = f"/v3/vault/payment-tokens/{quote(mandate_id, safe='')}"
        response = await self._send("DELETE", path, None, idempotency_key)
        if isinstance(response, ProviderReply):
            return response
        return _replies.delete_reply(self.name, response, mandate_id)

    async def verify_webhook_signature(
        self, verification: Mapping[str, object]
    ) -> httpx.Response | ProviderReply:
        """`POST /v1/notifications/verify-webhook-signature` with this adapter's credentials:
        PayPal itself says whether a notification is genuine (see `PayPalWebhooks`)."""
        return await self._send("POST", "/v1/notifications/verify-webhook-signature", verification)

    def list_payments(self, since: datetime, until: datetime) -> AsyncIterator[ProviderRecord]:
        """Payments in `[since, until]` from PayPal's Transaction Search, with fees and
        refunds (records reconciliation; `RecordsSource`; see `_records`)."""
        return _records.list_payments(lambda path: self._send("GET", path), self.name, since, until)

    async def _send(
        self,
        method: str,
        path: str,
        body: Mapping[str, object] | None = None,
        key: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Response | ProviderReply:
        """One exchange with a bearer token; after a 401 to a cached token, one more with a
        fresh token (PayPal refused it before processing, and the key is the same)."""
        extra = dict(headers or {})
        if key is not None:
            extra["PayPal-Request-Id"] = key

        def request(token: str) -> Awaitable[httpx.Response]:
            built = self._client.build_request(
                method,
                path,
                json=body,
                headers={**extra, "Authorization": f"Bearer {token}"},
            )
            return self._client.send(built)

        token = await self._tokens.bearer()
        if isinstance(token, ProviderReply):
            return token
        response = await request(token)
        if response.status_code != httpx.codes.UNAUTHORIZED or not self._tokens.refreshable:
            return response
        self._tokens.forget(token)
        token = await self._tokens.bearer()
        if isinstance(token, ProviderReply):
            return token
        return await request(token)


def _reference(handle: PaymentHandle, kind: PaymentKind | None = None) -> Reference | None:
    """The handle's PayPal reference; with `kind`, only when it names that kind of payment."""
    if handle.provider_reference is None:
        return None
    reference = Reference.parse(handle.provider_reference)
    if reference is None or (kind is not None and reference.kind != kind):
        return None
    return reference


def _captured(handle: PaymentHandle) -> Reference | None:
    if handle.captured_reference is None:
        return None
    reference = Reference.parse(handle.captured_reference)
    return reference if reference is not None and reference.kind == "capture" else None


def _order_path(order_id: str) -> str:
    return f"/v2/checkout/orders/{quote(order_id, safe='')}"


def _no_payment(operation: str, needed: str) -> ProviderReply:
    return ProviderReply.failed(
        FailureKind.NOT_FOUND,
        provider_code=f"no_{needed}",
        message=f"{operation} needs the PayPal {needed} in the handle's provider_reference; "
        "look the payment up first",
    )
