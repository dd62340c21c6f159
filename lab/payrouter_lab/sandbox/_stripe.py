"""Stripe PaymentIntents (API 2023-08-16) as a stateful stand-in.

Base URL for the adapter: the listener's root (`http://127.0.0.1:PORT`). Form bodies in,
Stripe-shaped JSON out; `Authorization` must be present (any key works); `Idempotency-Key`
replays the stored answer for 24 hours of sandbox life (until reset), its own 500s included:
a 500 played after processing is what the key keeps, as at Stripe.

Payers are PaymentMethod ids. Stripe's test methods behave as at Stripe (`_stripe_3ds` for
`pm_card_authenticationRequired` and `pm_card_threeDSecure2Required`; the decline test cards
decline); the PaymentMethods issued through the admin API (`_credentials`) or made by `POST
/v1/payment_methods` (`_stripe_payment_methods`: raw card data, refused without the account's
access, or a card token) are good cards, and any other id is refused as at Stripe: 400
`resource_missing` on `payment_method`. Search by metadata is strongly consistent here unless
the `search_lag` fault holds new intents back, as Stripe's eventually consistent search may.
"""

from __future__ import annotations

import json
import re
import secrets
import time
from collections.abc import Sequence

from starlette.datastructures import Headers

from ._books import EntryKind, EntryStatus
from ._credentials import Vault
from ._exchange import Call, Operation, Reply, Standin, json_reply
from ._faults import FaultKind
from ._stripe_3ds import declined, fail_authentication, three_d_secure
from ._stripe_captures import cancel, capture
from ._stripe_methods import TEST_DECLINES, unknown_method
from ._stripe_payment_methods import PaymentMethods
from ._stripe_records import balance_transactions, list_intents, search_intents
from ._stripe_refunds import list_refunds, refund
from ._stripe_webhooks import WebhookEndpoints
from ._stripe_wire import (
    IDEMPOTENCY_CONFLICT,
    IN_PROGRESS,
    UNAUTHORIZED,
    error,
    failed_validation,
    form_payer,
    meta,
    missing,
    new_id,
    payment_method,
    public,
    unexpected_state,
)

__all__ = ["StripeStandin"]

DECLINE_CODES = {
    FaultKind.INSUFFICIENT_FUNDS: "insufficient_funds",
    FaultKind.ACCOUNT_LOCKED: "pickup_card",
    FaultKind.ACCOUNT_FROZEN: "restricted_card",
    FaultKind.ACCOUNT_CLOSED: "new_account_information_available",
    # Stripe has no "not in this region" decline; the issuer answers "not permitted".
    FaultKind.REGION_RESTRICTED: "not_permitted",
    FaultKind.DECLINED: "generic_decline",
}
"""Outcome fault → the `decline_code` Stripe returns for it (docs.stripe.com/declines/codes)."""
_DECLINES = tuple(DECLINE_CODES)
_CONFIRMABLE = frozenset({"requires_payment_method", "requires_confirmation", "requires_action"})
"""Where a confirmation may still pay. Past them (succeeded, requires_capture, processing,
canceled) Stripe refuses it with 400 `payment_intent_unexpected_state` and charges nothing
again (stripe-archive/payment-form-modal#7, stripe-archive/stripe-payments-demo#133)."""
_CONFIRMED = {
    "succeeded": "You cannot confirm this PaymentIntent because it has already succeeded "
    "after being previously confirmed."
}
"""Stripe's own words where they differ from the generic "has a status of ..." message."""


class StripeStandin(Standin):
    """Stripe's PaymentIntents, Refunds and PaymentMethod detach."""

    name = "stripe"
    idempotency_header = "Idempotency-Key"
    idempotency_window_seconds = 24 * 3600  # Stripe keeps keys at least 24 hours.
    keeps_server_errors = True  # "...return the saved response, including 500 errors"
    replayed_header = "Idempotent-Replayed"  # docs.stripe.com/api/idempotent_requests

    def __init__(self, seed: int) -> None:
        super().__init__(seed)
        self._intents: dict[str, dict[str, object]] = {}
        self._settle_at: dict[str, float] = {}
        self._refunds: dict[str, dict[str, object]] = {}
        self._detached: set[str] = set()
        self.webhooks = WebhookEndpoints()
        """The account's webhook endpoints (`POST /v1/webhook_endpoints`) and deliveries."""
        self.vault = Vault(lambda: new_id("pm"), id_format=re.compile(r"(pm|tok)_[0-9A-Za-z_]+"))
        self.methods = PaymentMethods(self.vault)

    def reset(self) -> None:
        """Forget intents, refunds and detachments as well."""
        super().reset()
        self._intents.clear()
        self._settle_at.clear()
        self._refunds.clear()
        self._detached.clear()
        self.webhooks.clear()
        self.methods.reset()

    def configure_account(self, settings: object) -> dict[str, object] | str:
        """`{"raw_card_data": bool}`: Stripe's raw card data access (off until granted)."""
        return self.methods.configure(settings)

    def operations(self) -> Sequence[Operation]:
        """Stripe's routes; search precedes retrieve so `/search` is not taken for an id."""
        intent = "/v1/payment_intents/{intent}"
        return (
            Operation("tokenize", "POST", "/v1/payment_methods", self.methods.create),
            Operation("pay", "POST", "/v1/payment_intents", self._create, form_payer),
            Operation("lookup", "GET", "/v1/payment_intents/search", self._search),
            Operation("records", "GET", "/v1/payment_intents", self._list),
            Operation("records", "GET", "/v1/balance_transactions", self._balance_transactions),
            Operation("lookup", "GET", intent, self._retrieve, self._payer),
            Operation("pay", "POST", f"{intent}/confirm", self._confirm_route, self._payer),
            Operation("capture", "POST", f"{intent}/capture", self._capture, self._payer),
            Operation("void", "POST", f"{intent}/cancel", self._cancel, self._payer),
            Operation("refund", "POST", "/v1/refunds", self._refund, self._refund_payer),
            Operation("lookup", "GET", "/v1/refunds", self._list_refunds),
            Operation("webhook_endpoints", "POST", "/v1/webhook_endpoints", self._add_endpoint),
            Operation("lookup", "GET", "/v1/refunds/{refund}", self._retrieve_refund),
            Operation(
                "cancel_mandate", "POST", "/v1/payment_methods/{method}/detach", self._detach
            ),
            Operation(
                "authenticate", "GET", "/sandbox/3ds/{intent}", self._authenticate, public=True
            ),
        )

    def authenticated(self, headers: Headers) -> bool:
        """`Authorization: Bearer <key>` (the 3-D Secure page is the customer's, not ours)."""
        return headers.get("authorization", "").startswith("Bearer ")

    def unauthorized(self) -> Reply:
        return UNAUTHORIZED

    def busy(self, status: int, retry_after: int) -> Reply:
        """429 `rate_limit`, or 503 with `Stripe-Should-Retry: true` (load shedding)."""
        headers = {"Retry-After": str(retry_after)}
        if status == 429:
            message = "Too many requests hit the API too quickly."
            body = error(429, "invalid_request_error", message, code="rate_limit").body
            return Reply(429, body, headers)
        body = error(503, "api_error", "Stripe is temporarily unavailable.").body
        return Reply(503, body, {**headers, "Stripe-Should-Retry": "true"})

    def maintenance(self, retry_after: int) -> Reply:
        """Stripe announces maintenance on its status page; the API answers 503."""
        body = error(503, "api_error", "Stripe is down for scheduled maintenance.").body
        return Reply(503, body, {"Retry-After": str(retry_after), "Stripe-Should-Retry": "true"})

    def server_error(self) -> Reply:
        """An indeterminate 500: no `Stripe-Should-Retry`, so the outcome is unknown."""
        return error(500, "api_error", "An unknown error occurred")

    def idempotency_conflict(self) -> Reply:
        return IDEMPOTENCY_CONFLICT

    def in_progress(self) -> Reply:
        return IN_PROGRESS

    def saves(self, reply: Reply) -> bool:
        """Not a request that failed parameter validation: Stripe saves results only once
        the endpoint began (a decline's 402 is saved)."""
        return not failed_validation(reply)

    def _payer(self, call: Call) -> str | None:
        intent = self._intents.get(call.path_params.get("intent", ""))
        method = intent.get("_payer") if intent else None
        return method if isinstance(method, str) else None

    def _refund_payer(self, call: Call) -> str | None:
        intent = self._intents.get(call.form().get("payment_intent", ""))
        method = intent.get("_payer") if intent else None
        return method if isinstance(method, str) else None

    def _intent(self, call: Call) -> dict[str, object] | None:
        intent = self._intents.get(call.path_params["intent"])
        if intent is not None:
            self._settle(intent)
        return intent

    def _settle(self, intent: dict[str, object]) -> None:
        """A `processing` payment settles once its time has come (read lazily)."""
        intent_id = str(intent["id"])
        due = self._settle_at.get(intent_id)
        if due is None or time.time() < due:
            return
        del self._settle_at[intent_id]
        manual = intent["capture_method"] == "manual"
        intent["status"] = "requires_capture" if manual else "succeeded"
        intent["amount_received" if not manual else "amount_capturable"] = intent["amount"]
        self.books.settle(intent_id, EntryStatus.SUCCEEDED)

    async def _create(self, call: Call) -> Reply:
        form = call.form()
        assert self.vault is not None
        unknown = unknown_method(self.vault, form.get("payment_method"))
        if unknown is not None:
            return unknown
        amount, currency = form.get("amount", ""), form.get("currency", "")
        if not amount.isdigit() or not currency:
            missing = "amount" if not amount.isdigit() else "currency"
            return error(
                400,
                "invalid_request_error",
                f"Missing required param: {missing}.",
                code="parameter_missing",
                param=missing,
            )
        intent_id = new_id("pi")
        metadata = {k[9:-1]: v for k, v in form.items() if k.startswith("metadata[")}
        intent: dict[str, object] = {
            "id": intent_id,
            "object": "payment_intent",
            "amount": int(amount),
            "amount_capturable": 0,
            "amount_received": 0,
            "capture_method": form.get("capture_method", "automatic"),
            "client_secret": f"{intent_id}_secret_{secrets.token_hex(8)}",
            "confirmation_method": "automatic",
            "created": int(time.time()),
            "currency": currency.lower(),
            "customer": form.get("customer"),
            "description": form.get("description"),
            "last_payment_error": None,
            "latest_charge": None,
            "livemode": False,
            "metadata": metadata,
            "next_action": None,
            "payment_method": form.get("payment_method"),
            "payment_method_types": [
                v for k, v in form.items() if k.startswith("payment_method_types[")
            ]
            or ["card"],
            "status": "requires_payment_method",
            "cancellation_reason": None,
            "_payer": form.get("payment_method"),
            "_return_url": form.get("return_url"),
            "_off_session": form.get("off_session") == "true",
            "_refunded": 0,
        }
        self._intents[intent_id] = intent
        if form.get("confirm") == "true" and intent["payment_method"]:
            return self._notify(intent, self._confirm(call, intent, call.base_url))
        intent["status"] = "requires_confirmation" if intent["payment_method"] else intent["status"]
        return json_reply(200, public(intent))

    async def _confirm_route(self, call: Call) -> Reply:
        intent = self._intent(call)
        if intent is None:
            return missing("payment_intent", call.path_params["intent"])
        if intent["status"] not in _CONFIRMABLE:
            return unexpected_state(intent, "confirm", _CONFIRMED.get(str(intent["status"])))
        form = call.form()
        method = form.get("payment_method")
        assert self.vault is not None
        unknown = unknown_method(self.vault, method)
        if unknown is not None:
            return unknown
        if method:
            intent["payment_method"] = intent["_payer"] = method
        if not intent["payment_method"]:
            return unexpected_state(intent, "confirm")
        intent["_off_session"] = form.get("off_session") == "true"  # the customer is back
        intent["_return_url"] = form.get("return_url", intent["_return_url"])
        return self._notify(intent, self._confirm(call, intent, call.base_url))

    def _notify(self, intent: dict[str, object], reply: Reply) -> Reply:
        """The event of a confirmation's outcome, to the endpoints that enabled it."""
        if intent["status"] == "succeeded":
            self.webhooks.emit("payment_intent.succeeded", intent)
        elif intent["status"] == "requires_payment_method" and intent["last_payment_error"]:
            self.webhooks.emit("payment_intent.payment_failed", intent)
        return reply

    def _confirm(self, call: Call, intent: dict[str, object], base_url: str) -> Reply:
        method = str(intent["payment_method"])
        decline = TEST_DECLINES.get(self.methods.origin(method))
        kind = call.faulted(*_DECLINES)
        if kind is not None:
            decline = ("card_declined", DECLINE_CODES[kind])
        intent_id = str(intent["id"])
        if decline is not None:
            return declined(intent, method, *decline)
        stopped = three_d_secure(intent, method, base_url)
        if stopped is not None:
            return stopped
        manual = intent["capture_method"] == "manual"
        pending = call.faulted(FaultKind.PENDING) is not None
        intent.update(next_action=None, latest_charge=new_id("ch"), last_payment_error=None)
        self.books.record(
            EntryKind.AUTHORIZATION if manual else EntryKind.CHARGE,
            intent_id,
            order_id=meta(intent, "order_id"),
            reference=meta(intent, "payrouter_reference"),
            minor_units=int(str(intent["amount"])),
            currency=str(intent["currency"]),
            status=EntryStatus.PENDING if pending else EntryStatus.SUCCEEDED,
            payer=method,
        )
        if pending and call.fault is not None:
            intent["status"] = "processing"
            self._settle_at[intent_id] = time.time() + call.fault.spec.settle_after_seconds
        elif manual:
            intent.update(status="requires_capture", amount_capturable=intent["amount"])
        else:
            intent.update(status="succeeded", amount_received=intent["amount"])
        return json_reply(200, public(intent))

    async def _authenticate(self, call: Call) -> Reply:
        """The 3-D Secure page: the customer passes and the payment goes through, or fails
        (`?outcome=fail`) and nothing is charged."""
        intent = self._intent(call)
        if intent is None or intent["status"] != "requires_action":
            return Reply(404, b"<html>No such authentication</html>", media_type="text/html")
        if call.query.get("outcome") == "fail":
            fail_authentication(intent)
            return Reply(200, b"<html>Authentication failed</html>", media_type="text/html")
        intent["_authenticated"] = True
        self._confirm(call, intent, call.base_url)
        return Reply(200, b"<html>Authenticated</html>", media_type="text/html")

    async def _retrieve(self, call: Call) -> Reply:
        intent = self._intent(call)
        if intent is None:
            return missing("payment_intent", call.path_params["intent"])
        return json_reply(200, public(intent))

    async def _search(self, call: Call) -> Reply:
        return search_intents(call, self._intents, self._settle, self.clock())

    async def _list(self, call: Call) -> Reply:
        return list_intents(call, self._intents, self._settle, self.books)

    async def _balance_transactions(self, call: Call) -> Reply:
        for intent in self._intents.values():
            self._settle(intent)
        return balance_transactions(call, self._intents, self.books)

    async def _capture(self, call: Call) -> Reply:
        intent = self._intent(call)
        if intent is None:
            return missing("payment_intent", call.path_params["intent"])
        return capture(call, intent, self.books, self._payer(call))

    async def _cancel(self, call: Call) -> Reply:
        intent = self._intent(call)
        if intent is None:
            return missing("payment_intent", call.path_params["intent"])
        return cancel(call, intent, self.books, self._payer(call))

    async def _refund(self, call: Call) -> Reply:
        payer = self._refund_payer(call)
        made = refund(call, self._intents, self._refunds, self.books, self._settle, payer)
        if made.status == 200:  # Stripe's `refund.created`, the refund as it was made
            self.webhooks.emit("refund.created", json.loads(made.body))
        return made

    async def _retrieve_refund(self, call: Call) -> Reply:
        refund = self._refunds.get(call.path_params["refund"])
        if refund is None:
            return missing("refund", call.path_params["refund"])
        return json_reply(200, refund)

    async def _add_endpoint(self, call: Call) -> Reply:
        return self.webhooks.create(call)

    async def _list_refunds(self, call: Call) -> Reply:
        return list_refunds(call, self._refunds)

    async def _detach(self, call: Call) -> Reply:
        method = call.path_params["method"]
        if method in self._detached or call.faulted(FaultKind.CANCEL_FAILS):
            return error(
                400,
                "invalid_request_error",
                "The payment method you provided is not attached to a customer so detachment "
                "is impossible.",
                code="payment_method_unexpected_state",
            )
        self._detached.add(method)
        return json_reply(200, payment_method(method))
