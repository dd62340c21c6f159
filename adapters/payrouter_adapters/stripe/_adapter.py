"""The Stripe adapter class and its options."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from datetime import datetime, timedelta
from typing import Final
from urllib.parse import quote

import httpx
from pydantic import Field, SecretStr

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

from . import _followup_replies, _records, _replies
from ._payment_methods import created_method, method_key, payment_method_form, transport_failure
from ._refund_replies import refund_reply
from ._requests import WALLETS, intent_form, refund_form, search_query, stripe_amount
from ._saved_errors import FollowUpOperation, after_saved_500, refund_after_saved_500

__all__ = ["StripeAdapter", "StripeOptions"]

DEFAULT_CAPABILITIES: Final = Capabilities(
    methods=frozenset({PaymentMethod.CARD, PaymentMethod.WALLET}),
    wallets=frozenset(WALLETS),
    credentials=CredentialRules(
        card_id_format=r"(pm|tok|card|src)_[A-Za-z0-9_]+",
        network_tokens=False,
        wallet_tokens=frozenset(WALLETS),
        raw_cards=True,
    ),
    step_up=True,
)
"""Cards, charged by Stripe's own ids (PaymentMethod `pm_`, test token `tok_`, legacy Card
`card_` and Source `src_`), never a merchant's network token, for which Stripe's public API has
no field (see the package docstring); and Apple Pay and Google Pay, charged only by the Stripe
credential Stripe made of the wallet's token (`WalletSource.accounts["<this provider>"]`): a
PaymentMethod, or a legacy card token (`tok_...`) made into one first. Cards held by a
forwarding vault, when built with `vault=` (`raw_cards`): a PaymentMethod is made of the
vault's aliases first, and the account needs Stripe's raw card data access.
Stripe charges in 135+ currencies, so currencies and countries are left to the merchant's account
(configure `capabilities` to narrow them)."""

API_VERSION: Final = "2023-08-16"
"""The API version of the spec this adapter was written and contract-tested against."""


class StripeOptions(HttpOptions):
    """`providers[<name>].options` for Stripe."""

    base_url: str = Field(
        default="https://api.stripe.com", description="Stripe API root, or a local stand-in."
    )
    api_key: SecretStr = Field(description="Secret (sk_...) or restricted (rk_...) key.")
    api_version: str = Field(
        default=API_VERSION,
        min_length=1,
        description="Sent as Stripe-Version, so replies keep the shape this adapter reads.",
    )
    return_url: str | None = Field(
        default=None,
        min_length=1,
        description="Where 3-D Secure sends the customer back when a charge has no "
        "return_url; without either, Stripe answers next_action=use_stripe_sdk (no URL).",
    )


class StripeAdapter(HttpAdapter[StripeOptions]):
    """Stripe PaymentIntents as a payrouter `Adapter` (see the package docstring)."""

    options_model = StripeOptions
    default_capabilities = DEFAULT_CAPABILITIES
    shown_options = ("base_url", "api_version")
    idempotency_key_max_length: int = 255
    """Stripe's limit for the Idempotency-Key header."""
    resolution: Resolution = Resolution(
        lookup=True,
        replay_window_seconds=24 * 3600,
        search_lag_seconds=3600,
        webhook=True,
        saved_error_statuses=frozenset({500}),
        already_done=frozenset(
            {
                ("refund", "charge_already_refunded"),
                ("capture", "payment_intent_unexpected_state:succeeded"),
                ("void", "payment_intent_unexpected_state:canceled"),
            }
        ),
    )
    """Retrieve by intent id; replay with the same Idempotency-Key (kept at least 24 hours),
    which repeats a saved 500 ("retries with the same key return the saved response,
    including 500 errors"); search by our metadata, which Stripe documents as lagging up to
    an hour during incidents; `payment_intent.*` webhooks. Past the key window, a resent
    follow-up may be refused as done: a refund `charge_already_refunded`, a capture or cancel
    `payment_intent_unexpected_state` with the intent `succeeded` or `canceled` (its status
    named in the code: `_codes.STATE_ERRORS`)."""

    records_delay: timedelta = timedelta(0)
    """Stripe's lists are current: a period's records are complete when it ends."""

    @classmethod
    def client_headers(cls, options: StripeOptions) -> Mapping[str, str]:
        """The secret key as a bearer token, and the API version this adapter reads."""
        return {
            "Authorization": f"Bearer {options.api_key.get_secret_value()}",
            "Stripe-Version": options.api_version,
            "Accept": "application/json",
        }

    async def pay(self, charge: Charge, *, idempotency_key: str) -> ProviderReply:
        """`POST /v1/payment_intents` with `confirm=true`: authorize, and capture unless
        `charge.capture` is False (then `requires_capture` answers succeeded). A vault's card
        or a wallet's card token is made into a PaymentMethod first (`_payment_methods`)."""
        made: str | None = None
        method_form = payment_method_form(charge.source)
        if method_form is not None:
            answer = await self._make_payment_method(method_form, idempotency_key)
            if isinstance(answer, ProviderReply):
                return answer
            made = answer
        try:
            form = intent_form(charge, self._options.return_url, made)
        except UnsendableError as error:
            return error.reply()
        response = await self._post("/v1/payment_intents", form, idempotency_key)
        return _replies.intent_reply(self.name, response)

    async def _make_payment_method(
        self, form: Mapping[str, str], idempotency_key: str
    ) -> str | ProviderReply:
        """`POST /v1/payment_methods` (see `_payment_methods`): the `pm_...` to pay with, or
        why not, always a definite failure, as making a PaymentMethod moves no money."""
        try:
            response = await self._post("/v1/payment_methods", form, method_key(idempotency_key))
        except httpx.TransportError as error:
            return transport_failure(error)
        return created_method(self.name, response)

    async def lookup(self, handle: PaymentHandle) -> ProviderReply:
        """Retrieve the intent by id when known, else search its metadata for our reference.

        Search is eventually consistent (Stripe: usually under a minute, up to an hour during
        incidents), so an empty result is a `NOT_FOUND` the router trusts only once the
        attempt is older than `resolution.search_lag_seconds`.
        """
        if handle.provider_reference is not None:
            response = await self._client.get(_intent_path(handle.provider_reference))
            return _replies.intent_reply(self.name, response)
        response = await self._client.get(
            "/v1/payment_intents/search",
            params={"query": search_query(handle.reference), "limit": "2"},
        )
        return _replies.search_reply(self.name, response)

    def list_payments(self, since: datetime, until: datetime) -> AsyncIterator[ProviderRecord]:
        """Payment intents created in `[since, until]` with captured, refunded and fee
        (records reconciliation; `RecordsSource`; see `_records`)."""
        return _records.list_payments(self._client, self.name, since, until)

    async def capture(
        self, handle: PaymentHandle, amount: Money, *, idempotency_key: str
    ) -> ProviderReply:
        """`POST /v1/payment_intents/{id}/capture` with `amount_to_capture`."""
        if handle.provider_reference is None:
            return _no_intent("capture")
        try:
            form = {"amount_to_capture": str(stripe_amount(amount))}
        except UnsendableError as error:
            return error.reply()
        path = f"{_intent_path(handle.provider_reference)}/capture"
        response = await self._post(path, form, idempotency_key)
        reply = _followup_replies.capture_reply(self.name, response)
        return await self._settle_saved_500("capture", reply, response, handle.provider_reference)

    async def refund(
        self, handle: PaymentHandle, amount: Money, *, idempotency_key: str, reason: str | None
    ) -> ProviderReply:
        """`POST /v1/refunds` for the intent; the reply's reference is the refund id."""
        if handle.provider_reference is None:
            return _no_intent("refund")
        try:
            form = refund_form(
                handle.provider_reference, amount, reason, idempotency_key, handle.order_id
            )
        except UnsendableError as error:
            return error.reply()
        response = await self._post("/v1/refunds", form, idempotency_key)
        reply = refund_reply(self.name, response)
        if not self.resolution.repeats_saved_error(reply):
            return reply
        # Stripe's own 500, which a resend under this key would only repeat for 24 hours:
        # the intent's refunds (a list, current, unlike search) say whether it made one.
        listed = await self._client.get(
            "/v1/refunds", params={"payment_intent": handle.provider_reference, "limit": "100"}
        )
        return refund_after_saved_500(self.name, reply, response, listed, idempotency_key)

    async def void(self, handle: PaymentHandle, *, idempotency_key: str) -> ProviderReply:
        """`POST /v1/payment_intents/{id}/cancel`: release an uncaptured authorization.

        Needs the intent id: when a `pay` reply was lost, `lookup` finds the id first.
        """
        if handle.provider_reference is None:
            return _no_intent("void")
        path = f"{_intent_path(handle.provider_reference)}/cancel"
        response = await self._post(path, {}, idempotency_key)
        reply = _followup_replies.void_reply(self.name, response)
        return await self._settle_saved_500("void", reply, response, handle.provider_reference)

    async def cancel_mandate(self, mandate_id: str, *, idempotency_key: str) -> ProviderReply:
        """`POST /v1/payment_methods/{id}/detach`: the saved card can no longer be charged.

        `mandate_id` is the PaymentMethod id (`pm_...`) saved to a Stripe customer.
        """
        path = f"/v1/payment_methods/{quote(mandate_id, safe='')}/detach"
        response = await self._post(path, {}, idempotency_key)
        return _followup_replies.detach_reply(self.name, response)

    async def _settle_saved_500(
        self,
        operation: FollowUpOperation,
        reply: ProviderReply,
        answered: httpx.Response,
        intent_id: str,
    ) -> ProviderReply:
        """After Stripe's own 500 to a capture or void, which the same key would repeat for
        24 hours, the intent says whether it was done (see `_saved_errors`)."""
        if not self.resolution.repeats_saved_error(reply):
            return reply
        intent = await self._client.get(_intent_path(intent_id))
        return after_saved_500(self.name, operation, reply, answered, intent)

    async def _post(self, path: str, form: Mapping[str, str], key: str) -> httpx.Response:
        return await self._client.post(path, data=dict(form), headers={"Idempotency-Key": key})


def _intent_path(intent_id: str) -> str:
    return f"/v1/payment_intents/{quote(intent_id, safe='')}"


def _no_intent(operation: str) -> ProviderReply:
    return ProviderReply.failed(
        FailureKind.NOT_FOUND,
        provider_code="no_payment_intent",
        message=f"{operation} needs the payment intent id; look the payment up first",
    )
