"""PayPal Orders v2, Payments v2 and Vault v3 as a stateful stand-in.

Base URL for the adapter: the listener's root (`http://127.0.0.1:PORT`). `POST
/v1/oauth2/token` needs Basic auth (any client id and secret) and hands out a bearer token;
every other call needs `Authorization: Bearer <any>`. `PayPal-Request-Id` replays.

An order paid with a vaulted PayPal wallet (`payment_source.paypal.vault_id`) completes at once
(intent CAPTURE: a capture; AUTHORIZE: an authorization). Vault payment tokens exist only at
the PayPal account that vaulted them: the stand-in charges only the ones it issued (`POST
/_admin/paypal/credentials`, as a checkout's vaulting would) and not yet deleted. Any other
`vault_id` (made up, another merchant's, another provider's credential) is refused with 422
UNPROCESSABLE_ENTITY, issue `TOKEN_ID_NOT_FOUND` ("Specified token was not found. Verify the
token and try the request again."), the issue PayPal's Orders v2 spec documents for a
payment with a vault token it does not hold (checkout_orders_v2.json, `orders.capture-422`,
`orders.authorize-422`). A vaulted create is that payment (it completes in the call), so it is
refused there too, with no order made, though the spec's create list does not name the issue.
Any other order answers `PAYER_ACTION_REQUIRED` with a `payer-action` link; a GET of that
link approves it, after which `/capture` or `/authorize` completes it. Payers are the vault
id, else the payer's email, else "paypal". Payments v2 and Vault v3 bodies follow PayPal's
documentation; the shared specs hold only Orders v2, so only Orders responses are checked.
"""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import Sequence

from starlette.datastructures import Headers

from ._books import EntryKind, EntryStatus
from ._credentials import Vault
from ._exchange import (
    Call,
    Operation,
    Reply,
    Standin,
    decimal_to_minor,
    json_reply,
)
from ._faults import FaultKind
from ._paypal_payments import PaymentsBooks, capture, payment_resource, refund, void
from ._paypal_records import transactions
from ._paypal_webhooks import verify_webhook_signature
from ._paypal_wire import (
    ISSUES,
    NOT_APPROVED,
    amount_refusal,
    body_payer,
    declined,
    error,
    new_id,
    new_token_id,
    not_found,
    now,
    order_key,
    public,
    text,
    unit_of,
    unprocessable,
    vault_id_of,
)

__all__ = ["PayPalStandin"]


class PayPalStandin(Standin):
    """PayPal's OAuth token, Orders v2, authorization capture/void, refunds, vault tokens."""

    name = "paypal"
    idempotency_header = "PayPal-Request-Id"
    idempotency_window_seconds = 6 * 3600  # Orders v2 keeps PayPal-Request-Id 6 hours.

    def __init__(self, seed: int) -> None:
        super().__init__(seed)
        self._orders: dict[str, dict[str, object]] = {}
        self._payments: dict[str, dict[str, object]] = {}
        self._payment_order: dict[str, str] = {}
        self._settle_at: dict[str, float] = {}
        self._deleted: set[str] = set()
        self.vault = Vault(new_token_id, id_format=re.compile(r"[0-9A-Za-z_-]{1,255}"))

    def reset(self) -> None:
        """Forget orders, payments and vault deletions as well."""
        super().reset()
        for table in (self._orders, self._payments, self._payment_order, self._settle_at):
            table.clear()
        self._deleted.clear()

    def operations(self) -> Sequence[Operation]:
        """PayPal's routes."""
        order = "/v2/checkout/orders/{order}"
        auth = "/v2/payments/authorizations/{payment}"
        return (
            Operation("token", "POST", "/v1/oauth2/token", self._token, public=True),
            Operation("pay", "POST", "/v2/checkout/orders", self._create, body_payer),
            Operation("lookup", "GET", order, self._get_order, self._order_payer),
            Operation("pay", "POST", f"{order}/capture", self._complete, self._order_payer),
            Operation("pay", "POST", f"{order}/authorize", self._complete, self._order_payer),
            Operation("lookup", "GET", auth, self._get_payment, self._payment_payer),
            Operation("capture", "POST", f"{auth}/capture", self._capture, self._payment_payer),
            Operation("void", "POST", f"{auth}/void", self._void, self._payment_payer),
            Operation("lookup", "GET", "/v2/payments/captures/{payment}", self._get_payment),
            Operation(
                "refund",
                "POST",
                "/v2/payments/captures/{payment}/refund",
                self._refund,
                self._payment_payer,
            ),
            Operation(
                "cancel_mandate",
                "DELETE",
                "/v3/vault/payment-tokens/{token}",
                self._delete_token,
                lambda call: call.path_params["token"],
            ),
            Operation("records", "GET", "/v1/reporting/transactions", self._transactions),
            Operation("authenticate", "GET", "/checkoutnow", self._approve, public=True),
            Operation(
                "verify_webhook",
                "POST",
                "/v1/notifications/verify-webhook-signature",
                verify_webhook_signature,
            ),
        )

    def authenticated(self, headers: Headers) -> bool:
        """`Authorization: Bearer <token>`."""
        return headers.get("authorization", "").startswith("Bearer ")

    def unauthorized(self) -> Reply:
        """PayPal's 401 AUTHENTICATION_FAILURE."""
        return error(
            401,
            "AUTHENTICATION_FAILURE",
            "Authentication failed due to missing authorization header, or invalid "
            "authentication credentials.",
        )

    def busy(self, status: int, retry_after: int) -> Reply:
        """429 RATE_LIMIT_REACHED or 503 SERVICE_UNAVAILABLE, with Retry-After."""
        if status == 429:
            reply = error(
                429, "RATE_LIMIT_REACHED", "Too many requests. Blocked due to rate limiting."
            )
        else:
            reply = error(503, "SERVICE_UNAVAILABLE", "Service Unavailable.")
        return Reply(status, reply.body, {"Retry-After": str(retry_after)})

    def maintenance(self, retry_after: int) -> Reply:
        """PayPal's 503 during scheduled maintenance."""
        reply = error(503, "SERVICE_UNAVAILABLE", "Service Unavailable: scheduled maintenance.")
        return Reply(503, reply.body, {"Retry-After": str(retry_after)})

    def server_error(self) -> Reply:
        """PayPal's 500 INTERNAL_SERVER_ERROR."""
        return error(500, "INTERNAL_SERVER_ERROR", "An internal server error has occurred.")

    def idempotency_conflict(self) -> Reply:
        """Same PayPal-Request-Id, other body: 422 PAYPAL_REQUEST_ID_PREVIOUSLY_USED."""
        return unprocessable("PAYPAL_REQUEST_ID_PREVIOUSLY_USED")

    def in_progress(self) -> Reply:
        """Same PayPal-Request-Id while the first request runs: 409."""
        return error(
            409,
            "RESOURCE_CONFLICT",
            "The server has detected a conflict while processing this request.",
            "PREVIOUS_REQUEST_IN_PROGRESS",
        )

    def _order_payer(self, call: Call) -> str | None:
        order = self._orders.get(call.path_params.get("order", ""))
        payer = order.get("_payer") if order else None
        return payer if isinstance(payer, str) else None

    def _payment_payer(self, call: Call) -> str | None:
        order_id = self._payment_order.get(call.path_params.get("payment", ""), "")
        payer = self._orders[order_id].get("_payer") if order_id in self._orders else None
        return payer if isinstance(payer, str) else None

    async def _token(self, call: Call) -> Reply:
        if not call.headers.get("authorization", "").startswith("Basic "):
            return json_reply(
                401,
                {"error": "invalid_client", "error_description": "Client Authentication failed"},
            )
        return json_reply(
            200,
            {
                "scope": "https://uri.paypal.com/services/payments/payment",
                "access_token": f"A21AA{secrets.token_urlsafe(40)}",
                "token_type": "Bearer",
                "app_id": "APP-80W284485P519543T",
                "expires_in": 32400,
                "nonce": f"{now()}{secrets.token_hex(8)}",
            },
        )

    async def _create(self, call: Call) -> Reply:
        body = call.json()
        units = body.get("purchase_units")
        intent = body.get("intent")
        unit = units[0] if isinstance(units, list) and units else None
        amount = unit.get("amount") if isinstance(unit, dict) else None
        if intent not in ("CAPTURE", "AUTHORIZE") or not isinstance(amount, dict):
            return error(
                400,
                "INVALID_REQUEST",
                "Request is not well-formed, syntactically incorrect, or violates schema.",
                "MISSING_REQUIRED_PARAMETER",
            )
        assert isinstance(unit, dict)
        pointer = f"/purchase_units/@reference_id=='{unit.get('reference_id', 'default')}'/amount"
        refused = amount_refusal(amount, pointer)
        if refused is not None:
            return refused
        source = body.get("payment_source")
        wallet = source.get("paypal") if isinstance(source, dict) else None
        vault_id = vault_id_of(call)
        if vault_id is not None and not self._holds(vault_id):
            return unprocessable("TOKEN_ID_NOT_FOUND")
        order_id = new_id()
        links: list[dict[str, str]] = [
            {
                "href": f"{call.base_url}/v2/checkout/orders/{order_id}",
                "rel": "self",
                "method": "GET",
            }
        ]
        order: dict[str, object] = {
            "id": order_id,
            "intent": intent,
            "status": "CREATED",
            "purchase_units": [{**unit, "reference_id": unit.get("reference_id", "default")}],
            "create_time": now(),
            "links": links,
            "_payer": body_payer(call),
        }
        self._orders[order_id] = order
        if isinstance(vault_id, str):
            order["payment_source"] = {"paypal": {"vault_id": vault_id}}
            order["status"] = "APPROVED"
            return self._settle_order(call, order, 201)
        order["status"] = "PAYER_ACTION_REQUIRED" if wallet is not None else "CREATED"
        rel = "payer-action" if wallet is not None else "approve"
        links.append(
            {"href": f"{call.base_url}/checkoutnow?token={order_id}", "rel": rel, "method": "GET"}
        )
        return json_reply(201, public(order))

    def _holds(self, vault_id: object) -> bool:
        """Whether `vault_id` is a payment token this PayPal account vaulted and still has."""
        assert self.vault is not None
        known = isinstance(vault_id, str) and self.vault.knows(vault_id)
        return known and vault_id not in self._deleted

    async def _approve(self, call: Call) -> Reply:
        """The PayPal approval page: the payer approves the order (again, with another funding
        source, when completing it was declined)."""
        order = self._orders.get(call.query.get("token", ""))
        if order is None or order["status"] not in ("CREATED", "PAYER_ACTION_REQUIRED", "APPROVED"):
            return Reply(404, b"<html>Unknown order</html>", media_type="text/html")
        order["status"] = "APPROVED"
        return Reply(200, b"<html>Approved</html>", media_type="text/html")

    async def _complete(self, call: Call) -> Reply:
        order = self._orders.get(call.path_params["order"])
        if order is None:
            return not_found()
        capture = order["intent"] == "CAPTURE"
        if order["status"] == "COMPLETED":
            return unprocessable(
                "ORDER_ALREADY_CAPTURED" if capture else "ORDER_ALREADY_AUTHORIZED"
            )
        vault_id = vault_id_of(call)
        if vault_id is not None and not self._holds(vault_id):
            return unprocessable("TOKEN_ID_NOT_FOUND")
        if vault_id is not None and order["status"] in ("CREATED", "PAYER_ACTION_REQUIRED"):
            order["payment_source"] = {"paypal": {"vault_id": vault_id}}
            order["status"] = "APPROVED"
        if order["status"] != "APPROVED":
            suffix = " or provide a valid `payment_source` in the request." if capture else "."
            return unprocessable("ORDER_NOT_APPROVED", NOT_APPROVED + suffix)
        return self._settle_order(call, order, 201)

    def _settle_order(self, call: Call, order: dict[str, object], status: int) -> Reply:
        """Take (or hold) the order's money, or decline it with PayPal's issue."""
        kind = call.faulted(*ISSUES)
        if kind is not None:
            return declined(call.base_url, order, ISSUES[kind])
        unit = unit_of(order)
        amount = unit["amount"]
        assert isinstance(amount, dict)
        currency, value = str(amount["currency_code"]), str(amount["value"])
        capture = order["intent"] == "CAPTURE"
        pending = call.faulted(FaultKind.PENDING) is not None and call.fault is not None
        payment_id = new_id()
        payment: dict[str, object] = {
            "id": payment_id,
            "status": ("PENDING" if pending else "COMPLETED") if capture else "CREATED",
            "amount": {"currency_code": currency, "value": value},
            "create_time": now(),
            "custom_id": unit.get("custom_id"),
            "invoice_id": unit.get("invoice_id"),
        }
        if pending and call.fault is not None:
            payment["status_details"] = {"reason": "PENDING_REVIEW"}
            self._settle_at[payment_id] = time.time() + call.fault.spec.settle_after_seconds
        payment = {k: v for k, v in payment.items() if v is not None}
        payment["_captured"] = 0
        payment["_refunded"] = 0
        self._payments[payment_id] = payment
        self._payment_order[payment_id] = str(order["id"])
        unit["payments"] = {"captures" if capture else "authorizations": [public(payment)]}
        order["status"] = "COMPLETED"
        order["update_time"] = now()
        minor = decimal_to_minor(value, currency)
        if capture:
            payment["_captured"] = minor
        self.books.record(
            EntryKind.CHARGE if capture else EntryKind.AUTHORIZATION,
            payment_id,
            order_id=order_key(unit),
            reference=str(order["id"]),
            minor_units=minor,
            currency=currency,
            status=EntryStatus.PENDING if pending else EntryStatus.SUCCEEDED,
            payer=text(order.get("_payer")),
        )
        return json_reply(status, public(order))

    def _settle(self, payment_id: str) -> None:
        due = self._settle_at.get(payment_id)
        if due is not None and time.time() >= due:
            del self._settle_at[payment_id]
            self._payments[payment_id]["status"] = "COMPLETED"
            self._payments[payment_id].pop("status_details", None)
            self.books.settle(payment_id, EntryStatus.SUCCEEDED)
            order = self._orders[self._payment_order[payment_id]]
            unit_of(order)["payments"] = {"captures": [public(self._payments[payment_id])]}

    async def _transactions(self, call: Call) -> Reply:
        for payment_id in list(self._settle_at):
            self._settle(payment_id)
        return transactions(call, self.books, self._unit_ids)

    def _unit_ids(self, payment_id: str) -> tuple[str | None, str | None]:
        """The `invoice_id` and `custom_id` of the purchase unit a payment belongs to."""
        order = self._orders.get(self._payment_order.get(payment_id, ""))
        if order is None:
            return None, None
        unit = unit_of(order)
        return text(unit.get("invoice_id")), text(unit.get("custom_id"))

    async def _get_order(self, call: Call) -> Reply:
        order = self._orders.get(call.path_params["order"])
        if order is None:
            return not_found()
        for payment_id, order_id in list(self._payment_order.items()):
            if order_id == order["id"]:
                self._settle(payment_id)
        return json_reply(200, public(order))

    async def _get_payment(self, call: Call) -> Reply:
        payment_id = call.path_params["payment"]
        if payment_id not in self._payments:
            return not_found()
        self._settle(payment_id)
        return json_reply(200, payment_resource(call.base_url, payment_id, self._ledgers()))

    def _ledgers(self) -> PaymentsBooks:
        return PaymentsBooks(self._payments, self._payment_order, self._orders, self.books)

    async def _capture(self, call: Call) -> Reply:
        return capture(call, self._ledgers())

    async def _void(self, call: Call) -> Reply:
        return void(call, self._ledgers())

    async def _refund(self, call: Call) -> Reply:
        payment_id = call.path_params["payment"]
        if "_captured" in self._payments.get(payment_id, {}):  # a capture: settle it first
            self._settle(payment_id)
        return refund(call, self._ledgers())

    async def _delete_token(self, call: Call) -> Reply:
        token = call.path_params["token"]
        if not self._holds(token):  # never vaulted here, or deleted already
            return not_found()
        if call.faulted(FaultKind.CANCEL_FAILS):
            return self.server_error()
        self._deleted.add(token)
        return Reply(204, b"")
