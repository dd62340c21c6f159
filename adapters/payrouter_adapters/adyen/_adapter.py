"""The Adyen adapter class and its options."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Final
from urllib.parse import quote
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import httpx
from pydantic import Field, SecretStr, field_validator

from payrouter import Money, PaymentMethod
from payrouter.provider import (
    Capabilities,
    Charge,
    CredentialRules,
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
from ._requests import (
    WALLETS,
    AttemptAuthentication,
    RecurringModel,
    adyen_amount,
    fit,
    payment_body,
    refund_reason,
)

__all__ = ["AdyenAdapter", "AdyenOptions"]

DEFAULT_CAPABILITIES: Final = Capabilities(
    methods=frozenset(PaymentMethod),
    wallets=frozenset(WALLETS),
    credentials=CredentialRules(
        card_id_format=None,
        network_tokens=True,
        raw_cards=True,
        stored_credential_requires=frozenset({"customer_id"}),
        wallet_tokens=frozenset(name for name, row in WALLETS.items() if row.account_field),
    ),
    step_up=True,
)
"""Cards (stored tokens and network tokens), the wallets in `WALLETS`, and SEPA direct debit;
Adyen prices in every currency it settles, so currencies and countries are left to the merchant
account.

A `storedPaymentMethodId` has no format of its own, so an Adyen card token must be named for
its provider (`CardSource(token=..., provider=...)` or `tokens`); it is stored per shopper, so
it needs `customer_id` as the shopper reference. A card network token (`paymentMethod.type`
`networkToken`) needs neither: Adyen charges it like a card number, so it is eligible here
whoever tokenized the card. Raw card fields (`scheme` with `number`, `expiryMonth`,
`expiryYear`, `cvc`) are sent only with a forwarding vault's aliases in them (`VaultCard`,
an adapter built with `vault=`); Adyen must enable raw card data on the merchant account."""


class AdyenOptions(HttpOptions):
    """`providers[<name>].options` for Adyen; `base_url` ends in `/v72`."""

    api_key: SecretStr = Field(description="Web service user's API key, sent as X-API-Key.")
    merchant_account: str = Field(min_length=1, description="Adyen merchant account code.")
    return_url: str = Field(
        min_length=1,
        max_length=1024,
        description="Where Adyen sends the shopper back when a charge has no return_url.",
    )
    report_url: str | None = Field(
        default=None,
        description="Customer Area root the reports are downloaded from; default: "
        "https://ca-test.adyen.com for the test Checkout API, https://ca-live.adyen.com for "
        "live, else base_url without /v72 (a stand-in).",
    )
    report_api_key: SecretStr | None = Field(
        default=None,
        description="A report user's API key (role: Merchant Report download); default: api_key.",
    )
    report_time_zone: str | None = Field(
        default=None,
        description="The merchant account's time zone setting, as an IANA name (e.g. "
        "America/Chicago), which Adyen writes report times in: needed when the reports name it "
        "by an abbreviation that means several zones (CST, CDT, IST, AST); default: each "
        "report row's TimeZone.",
    )

    @field_validator("report_time_zone")
    @classmethod
    def _known_zone(cls, name: str | None) -> str | None:
        if name is not None:
            try:
                ZoneInfo(name)
            except (ZoneInfoNotFoundError, ValueError):
                raise ValueError(
                    f"{name!r} is not an IANA time zone name; use the account's setting as the "
                    "tz database names it, e.g. America/Chicago or Asia/Kolkata"
                ) from None
        return name

    recurring_processing_model: RecurringModel = Field(
        default="CardOnFile",
        description="How stored cards are charged: CardOnFile (shopper present) or a "
        "merchant-initiated model (Subscription, UnscheduledCardOnFile).",
    )
    attempt_authentication: AttemptAuthentication | None = Field(
        default=None,
        description="Sent as authenticationData.attemptAuthentication on shopper-present card "
        "payments: `never` skips 3-D Secure where Adyen may (an issuer wanting it then "
        "refuses, 38, and with `three_d_secure: true` the router resends with `always`); "
        "default: Adyen's dynamic 3-D Secure rules decide.",
    )


class AdyenAdapter(HttpAdapter[AdyenOptions]):
    """Adyen Checkout API v72 as a payrouter `Adapter` (see the package docstring)."""

    options_model = AdyenOptions
    default_capabilities = DEFAULT_CAPABILITIES
    shown_options = ("merchant_account", "base_url")
    idempotency_key_max_length: int = 64
    """Adyen's limit for the Idempotency-Key header."""
    resolution: Resolution = Resolution(replay_window_seconds=7 * 24 * 3600, webhook=True)
    """Checkout v72 cannot read a payment back, so an unknown outcome is replayed: the same
    request with the same Idempotency-Key (kept at least 7 days) returns the original
    result; else the AUTHORISATION webhook settles it."""

    records_delay: timedelta = _records.RECORDS_DELAY
    """A day's accounting report is published the morning after."""

    def __init__(
        self,
        *,
        name: str,
        client: httpx.AsyncClient,
        options: AdyenOptions,
        capabilities: Capabilities | None = None,
    ) -> None:
        super().__init__(name=name, client=client, options=options, capabilities=capabilities)
        if options.recurring_processing_model != "CardOnFile":
            # Every stored card goes out merchant-initiated (ContAuth): there is no shopper
            # to authenticate, so a refusal 38 cannot be stepped up here.
            self.capabilities = replace(self.capabilities, step_up=False)

    def list_payments(self, since: datetime, until: datetime) -> AsyncIterator[ProviderRecord]:
        """Payments in `[since, until]` from the daily payment accounting reports, with
        captures, refunds and fees (records reconciliation; `RecordsSource`)."""
        options = self._options
        key = options.report_api_key or options.api_key
        folder = f"{_report_root(options)}/reports/download/MerchantAccount/"
        folder += quote(options.merchant_account, safe="")
        headers = {"X-API-Key": key.get_secret_value(), "Accept": "text/csv"}
        zone = ZoneInfo(options.report_time_zone) if options.report_time_zone else None
        return _records.list_payments(self._client, self.name, folder, headers, since, until, zone)

    @classmethod
    def client_headers(cls, options: AdyenOptions) -> Mapping[str, str]:
        """The web service user's API key in X-API-Key."""
        return {"X-API-Key": options.api_key.get_secret_value(), "Accept": "application/json"}

    async def pay(self, charge: Charge, *, idempotency_key: str) -> ProviderReply:
        """`POST /payments`: authorise (and capture unless `charge.capture` is False)."""
        try:
            body = payment_body(
                charge,
                merchant_account=self._options.merchant_account,
                default_return_url=self._options.return_url,
                recurring_model=self._options.recurring_processing_model,
                attempt_authentication=self._options.attempt_authentication,
            )
        except UnsendableError as error:
            return error.reply()
        response = await self._post("/payments", body, idempotency_key)
        return _replies.payment_reply(self.name, response)

    async def submit_details(
        self, details: Mapping[str, str], *, idempotency_key: str
    ) -> ProviderReply:
        """`POST /payments/details`: finish a redirect or 3-D Secure flow.

        `details` is what Adyen appended to the return URL (e.g. `{"redirectResult": ...}`).
        This makes the adapter `SubmitsDetails`: `Router.refresh(order_id, details=...)` sends
        them for the attempt awaiting action and records the answer. Not named `complete`:
        the router calls `complete(handle)` on adapters that implement `CompletesApproval`,
        and Adyen cannot complete from a handle alone. Webhooks are the other way to learn
        the result.
        """
        response = await self._post(
            "/payments/details", {"details": dict(details)}, idempotency_key
        )
        return _replies.payment_reply(self.name, response)

    async def lookup(self, handle: PaymentHandle) -> ProviderReply:
        """Always unknown with `lookup_unsupported`: Checkout v72 cannot read a payment back.

        No request is sent. The payment stays pending until Adyen's AUTHORISATION webhook
        (or an operator) settles it; see the package docstring for why nothing else is safe.
        """
        return ProviderReply.unknown(
            provider_code="lookup_unsupported",
            provider_reference=handle.provider_reference,
            message="Adyen Checkout has no payment status endpoint; await the webhook",
        )

    async def capture(
        self, handle: PaymentHandle, amount: Money, *, idempotency_key: str
    ) -> ProviderReply:
        """`POST /payments/{pspReference}/captures`; pending until the CAPTURE webhook."""
        return await self._modify(handle, "captures", idempotency_key, amount, None)

    async def refund(
        self, handle: PaymentHandle, amount: Money, *, idempotency_key: str, reason: str | None
    ) -> ProviderReply:
        """`POST /payments/{pspReference}/refunds`; pending until the REFUND webhook."""
        return await self._modify(handle, "refunds", idempotency_key, amount, reason)

    async def void(self, handle: PaymentHandle, *, idempotency_key: str) -> ProviderReply:
        """Cancel an authorisation: by pspReference, or by our reference when we never got one.

        `POST /cancels` with `paymentReference` reaches a payment whose reply was lost, so a
        timed-out authorisation can still be released.
        """
        if handle.provider_reference is not None:
            return await self._modify(handle, "cancels", idempotency_key, None, None)
        body = {
            "merchantAccount": self._options.merchant_account,
            "paymentReference": fit(handle.reference),
            "reference": fit(idempotency_key),
        }
        response = await self._post("/cancels", body, idempotency_key)
        return _replies.modification_reply(self.name, response)

    async def cancel_mandate(self, mandate_id: str, *, idempotency_key: str) -> ProviderReply:
        """`DELETE /storedPaymentMethods/{id}`; `mandate_id` is `<shopperReference>:<id>`.

        Adyen needs the shopper reference next to the stored method id. DELETE is idempotent
        at Adyen; the key is sent anyway so every money-related call carries one.
        """
        shopper, _, stored_id = mandate_id.rpartition(":")
        if not shopper or not stored_id:
            return ProviderReply.failed(
                FailureKind.INVALID_REQUEST,
                provider_code="mandate_id_format",
                message="Adyen mandate ids are '<shopperReference>:<storedPaymentMethodId>'",
            )
        response = await self._client.delete(
            f"/storedPaymentMethods/{quote(stored_id, safe='')}",
            params={"shopperReference": shopper, "merchantAccount": self._options.merchant_account},
            headers={"Idempotency-Key": idempotency_key},
        )
        if response.is_success:
            return ProviderReply.succeeded(mandate_id, http_status=response.status_code)
        return _replies.error_reply(self.name, response)

    async def _modify(
        self,
        handle: PaymentHandle,
        operation: str,
        idempotency_key: str,
        money: Money | None,
        reason: str | None,
    ) -> ProviderReply:
        if handle.provider_reference is None:
            return ProviderReply.failed(
                FailureKind.NOT_FOUND,
                provider_code="no_psp_reference",
                message=f"{operation} needs the payment's pspReference",
            )
        body: dict[str, object] = {
            "merchantAccount": self._options.merchant_account,
            "reference": fit(idempotency_key),
        }
        if money is not None:
            try:
                body["amount"] = adyen_amount(money)
            except UnsendableError as error:
                return error.reply()
        merchant_reason = refund_reason(reason)
        if merchant_reason is not None:
            body["merchantRefundReason"] = merchant_reason
        path = f"/payments/{quote(handle.provider_reference, safe='')}/{operation}"
        response = await self._post(path, body, idempotency_key)
        return _replies.modification_reply(self.name, response)

    async def _post(self, path: str, body: Mapping[str, object], key: str) -> httpx.Response:
        return await self._client.post(path, json=body, headers={"Idempotency-Key": key})


def _report_root(options: AdyenOptions) -> str:
    """Where reports are downloaded: the configured root, else the Customer Area that goes
    with the Checkout API in use (a stand-in serves both on one port)."""
    if options.report_url:
        return options.report_url.rstrip("/")
    base = options.base_url.rstrip("/")
    if "checkout-test.adyen.com" in base:
        return "https://ca-test.adyen.com"
    if ".adyen.com" in base or ".adyenpayments.com" in base:
        return "https://ca-live.adyen.com"
    return base.removesuffix("/v72")
