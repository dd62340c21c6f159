"""Berlin Group NextGenPSD2 1.3.11 payment initiation (PIS) as a stateful stand-in (an ASPSP).

Base URL for the adapter: the listener's root (`http://127.0.0.1:PORT`; paths start `/v1`),
with the adapter's `access_token` option set: the sandbox stands for an ASPSP with an OAuth
pre-step, so `Authorization: Bearer <any>` must be present (real mutual TLS is not simulated).
`X-Request-ID` is the idempotency key of an initiation, as ASPSPs use it to spot duplicates.

An initiation the ASPSP would not take is 400 FORMAT_ERROR, as NextGenPSD2 1.3.11 defines it
(psd2-api_v1.3.11.json): an `X-Request-ID` that is not a UUID (`format: uuid`), a body without
one of `paymentInitiation_json.required` (debtorAccount, instructedAmount, creditorAccount,
creditorName), or an `instructedAmount` whose `currency` is not `[A-Z]{3}` or whose `amount`
is not a decimal string with the fraction its currency has ("fractions must be compliant to
the currency definition", `amountValue`): refused, never truncated to cents.

An initiation answers `RCVD` with an `scaRedirect` link; a GET of that link is the customer's
SCA at the bank, after which the transfer executes: `ACSC` at once, or `ACSP` ("paid but not
arrived") until `settle_after_seconds` with a `pending` fault. Payers are debtor IBANs.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from starlette.datastructures import Headers
from starlette.types import Message, Send

from payrouter import currency_exponent

from ._berlingroup_records import account_transactions
from ._books import EntryKind, EntryStatus
from ._exchange import Call, Operation, Reply, Standin, decimal_to_minor, json_reply
from ._faults import FaultKind

__all__ = ["BerlinGroupStandin"]

REJECTIONS = {
    FaultKind.INSUFFICIENT_FUNDS: (400, "FUNDS_NOT_AVAILABLE"),
    FaultKind.ACCOUNT_LOCKED: (403, "SERVICE_BLOCKED"),
    FaultKind.ACCOUNT_FROZEN: (403, "SERVICE_BLOCKED"),
    # NextGenPSD2 has no "account closed" code: the ASPSP rejects the payment.
    FaultKind.ACCOUNT_CLOSED: (201, "PAYMENT_FAILED"),
    FaultKind.REGION_RESTRICTED: (403, "PRODUCT_INVALID"),
    FaultKind.DECLINED: (201, "PAYMENT_FAILED"),
}
"""Outcome fault → (HTTP status, tppMessages code). 201: the initiation is answered RJCT (a 201
may carry only warnings, so the code is on the status resource); 400: refused outright, as
xs2a refuses an amount above the available funds; 403: the service is barred for this PSU."""
_CANCELABLE = frozenset({"RCVD", "PDNG", "ACTC", "PATC"})
_REQUIRED = ("debtorAccount", "instructedAmount", "creditorAccount", "creditorName")
"""`paymentInitiation_json.required` in psd2-api_v1.3.11.json."""
_AMOUNT = re.compile(r"-?[0-9]{1,14}(\.[0-9]{1,3})?")
"""`amountValue.pattern`; the fraction must also fit the currency."""
_CURRENCY = re.compile(r"[A-Z]{3}")


def _messages(status: int, code: str, text: str) -> Reply:
    return json_reply(status, {"tppMessages": [{"category": "ERROR", "code": code, "text": text}]})


@dataclass(slots=True)
class _Transfer:
    payment_id: str
    product: str
    body: dict[str, object]
    payer: str | None
    minor_units: int
    currency: str
    status: str = "RCVD"
    code: str | None = None
    settle_after: float = 0.0
    settle_at: float | None = None


class BerlinGroupStandin(Standin):
    """An ASPSP's PIS: initiate, status, get, cancel; standing orders can be deleted."""

    name = "berlingroup"
    idempotency_header = "X-Request-ID"

    def __init__(self, seed: int) -> None:
        super().__init__(seed)
        self._transfers: dict[str, _Transfer] = {}
        self._cancelled_orders: set[str] = set()

    def reset(self) -> None:
        """Forget transfers and standing-order cancellations as well."""
        super().reset()
        self._transfers.clear()
        self._cancelled_orders.clear()

    def operations(self) -> Sequence[Operation]:
        """The PIS routes for single payments, and DELETE for standing orders."""
        payment = "/v1/payments/{product}/{payment_id}"
        return (
            Operation("pay", "POST", "/v1/payments/{product}", self._initiate, _body_payer),
            Operation("lookup", "GET", f"{payment}/status", self._status, self._payer),
            Operation("lookup", "GET", payment, self._get, self._payer),
            Operation("void", "DELETE", payment, self._cancel, self._payer),
            Operation(
                "cancel_mandate",
                "DELETE",
                "/v1/periodic-payments/{product}/{payment_id}",
                self._cancel_standing_order,
            ),
            Operation("authenticate", "GET", "/sandbox/sca/{payment_id}", self._sca, public=True),
            Operation("records", "GET", "/v1/accounts/{account}/transactions", self._transactions),
        )

    def authenticated(self, headers: Headers) -> bool:
        """`Authorization: Bearer <token>` from the OAuth pre-step."""
        return headers.get("authorization", "").startswith("Bearer ")

    def unauthorized(self) -> Reply:
        """401 TOKEN_INVALID."""
        return _messages(401, "TOKEN_INVALID", "The OAuth token is invalid or missing.")

    def busy(self, status: int, retry_after: int) -> Reply:
        """429 ACCESS_EXCEEDED, or 503 (the specification defines no body for it)."""
        if status == 429:
            body = _messages(429, "ACCESS_EXCEEDED", "Too many accesses.").body
        else:
            body = b""
        return Reply(status, body, {"Retry-After": str(retry_after)})

    def maintenance(self, retry_after: int) -> Reply:
        """503 while the ASPSP's interface is in its announced maintenance window."""
        return Reply(503, b"", {"Retry-After": str(retry_after)})

    def server_error(self) -> Reply:
        """500 without a body: the specification defines none."""
        return Reply(500, b"")

    def idempotency_conflict(self) -> Reply:
        """A reused X-Request-ID with another payload: 400 FORMAT_ERROR."""
        return _messages(400, "FORMAT_ERROR", "X-Request-ID was used for another request.")

    def in_progress(self) -> Reply:
        """The same X-Request-ID while the first initiation runs: 409 STATUS_INVALID."""
        return _messages(409, "STATUS_INVALID", "A request with this X-Request-ID is running.")

    async def run(self, op: Operation, call: Call, path: str, send: Send) -> None:
        """As every stand-in, but echoing `X-Request-ID`, which the specification requires."""
        request_id = call.headers.get("x-request-id")

        async def echo(message: Message) -> None:
            if message["type"] == "http.response.start" and request_id:
                headers = [h for h in message["headers"] if h[0] != b"x-request-id"]
                message = {**message, "headers": [*headers, (b"x-request-id", request_id.encode())]}
            await send(message)

        await super().run(op, call, path, echo)

    def _payer(self, call: Call) -> str | None:
        transfer = self._transfers.get(call.path_params.get("payment_id", ""))
        return transfer.payer if transfer else None

    def _transfer(self, call: Call) -> _Transfer | None:
        transfer = self._transfers.get(call.path_params["payment_id"])
        if transfer is not None:
            self._settled(transfer)
        return transfer

    def _settled(self, transfer: _Transfer) -> None:
        """A settling transfer completes once its time has come (read lazily)."""
        due = transfer.settle_at
        if due is not None and time.time() >= due:
            transfer.status, transfer.settle_at = "ACSC", None
            self.books.settle(transfer.payment_id, EntryStatus.SUCCEEDED)

    def _links(self, call: Call, transfer: _Transfer) -> dict[str, dict[str, str]]:
        own = f"{call.base_url}/v1/payments/{transfer.product}/{transfer.payment_id}"
        links = {"self": {"href": own}, "status": {"href": f"{own}/status"}}
        if transfer.status == "RCVD":
            links["scaRedirect"] = {"href": f"{call.base_url}/sandbox/sca/{transfer.payment_id}"}
        return links

    async def _initiate(self, call: Call) -> Reply:
        body = call.json()
        amount = body.get("instructedAmount")
        if not _is_uuid(call.headers.get("x-request-id")) or not call.headers.get("psu-ip-address"):
            return _messages(
                400, "FORMAT_ERROR", "X-Request-ID (a UUID) and PSU-IP-Address are required."
            )
        missing = [name for name in _REQUIRED if body.get(name) is None]
        if missing:
            return _messages(400, "FORMAT_ERROR", f"Missing: {', '.join(missing)}.")
        if not isinstance(amount, dict):
            return _messages(400, "FORMAT_ERROR", "instructedAmount must be an object.")
        refused = _amount_refusal(amount)
        if refused is not None:
            return _messages(400, "FORMAT_ERROR", refused)
        currency = str(amount["currency"])
        transfer = _Transfer(
            payment_id=str(uuid.uuid4()),
            product=call.path_params["product"],
            body=body,
            payer=_body_payer(call),
            minor_units=decimal_to_minor(str(amount["amount"]), currency),
            currency=currency,
        )
        kind = call.faulted(*REJECTIONS)
        if kind is not None:
            status, code = REJECTIONS[kind]
            if status != 201:
                return _messages(status, code, "The ASPSP refused the service for this PSU.")
            transfer.status, transfer.code = "RJCT", code
        pending = call.fault if call.faulted(FaultKind.PENDING) else None
        if pending is not None:
            transfer.settle_after = pending.spec.settle_after_seconds
        self._transfers[transfer.payment_id] = transfer
        reply: dict[str, object] = {
            "transactionStatus": transfer.status,
            "paymentId": transfer.payment_id,
            "_links": self._links(call, transfer),
        }
        headers = {
            "Location": reply["_links"]["self"]["href"],  # type: ignore[index]
            "ASPSP-SCA-Approach": "REDIRECT",
        }
        return json_reply(201, reply, headers)

    async def _sca(self, call: Call) -> Reply:
        """The bank's SCA page: the customer authorises, and the transfer executes."""
        transfer = self._transfer(call)
        if transfer is None or transfer.status != "RCVD":
            return Reply(404, b"<html>Unknown payment</html>", media_type="text/html")
        pending = transfer.settle_after > 0
        transfer.status = "ACSP" if pending else "ACSC"
        if pending:
            transfer.settle_at = time.time() + transfer.settle_after
        self.books.record(
            EntryKind.CHARGE,
            transfer.payment_id,
            order_id=_text(transfer.body.get("remittanceInformationUnstructured")),
            reference=_text(transfer.body.get("endToEndIdentification")),
            minor_units=transfer.minor_units,
            currency=transfer.currency,
            status=EntryStatus.PENDING if pending else EntryStatus.SUCCEEDED,
            payer=transfer.payer,
        )
        return Reply(200, b"<html>Payment authorised</html>", media_type="text/html")

    async def _transactions(self, call: Call) -> Reply:
        for transfer in self._transfers.values():
            self._settled(transfer)
        return account_transactions(call, self.books, self._credit_details, _messages)

    def _credit_details(self, payment_id: str) -> tuple[str | None, str | None, str | None]:
        """What SEPA carries to the creditor: endToEndId, remittance, the debtor's IBAN."""
        transfer = self._transfers.get(payment_id)
        if transfer is None:
            return None, None, None
        body = transfer.body
        return (
            _text(body.get("endToEndIdentification")),
            _text(body.get("remittanceInformationUnstructured")),
            transfer.payer,
        )

    async def _status(self, call: Call) -> Reply:
        transfer = self._transfer(call)
        if transfer is None:
            return _unknown()
        body: dict[str, object] = {"transactionStatus": transfer.status}
        if transfer.code is not None:
            body["tppMessages"] = [{"category": "ERROR", "code": transfer.code}]
        if transfer.code == "FUNDS_NOT_AVAILABLE":
            body["fundsAvailable"] = False
        return json_reply(200, body)

    async def _get(self, call: Call) -> Reply:
        transfer = self._transfer(call)
        if transfer is None:
            return _unknown()
        return json_reply(200, {**transfer.body, "transactionStatus": transfer.status})

    async def _cancel(self, call: Call) -> Reply:
        transfer = self._transfer(call)
        if transfer is None:
            return _unknown()
        if transfer.status not in _CANCELABLE or call.faulted(FaultKind.CANCEL_FAILS):
            return _messages(
                405, "CANCELLATION_INVALID", "The payment cannot be cancelled any more."
            )
        transfer.status = "CANC"
        return Reply(204, b"")

    async def _cancel_standing_order(self, call: Call) -> Reply:
        order_id = call.path_params["payment_id"]
        if order_id in self._cancelled_orders:
            return _unknown()
        if call.faulted(FaultKind.CANCEL_FAILS):
            return _messages(405, "CANCELLATION_INVALID", "The standing order cannot be cancelled.")
        self._cancelled_orders.add(order_id)
        return Reply(204, b"")


def _is_uuid(text: str | None) -> bool:
    try:
        uuid.UUID(text or "")
    except ValueError:
        return False
    return True


def _amount_refusal(amount: dict[object, object]) -> str | None:
    """Why the bank would refuse `instructedAmount`, or None when it is well-formed."""
    currency, value = amount.get("currency"), amount.get("amount")
    if not isinstance(currency, str) or not _CURRENCY.fullmatch(currency):
        return "instructedAmount.currency must be an ISO 4217 code."
    if not isinstance(value, str) or not _AMOUNT.fullmatch(value):
        return "instructedAmount.amount must be a decimal string."
    try:
        exponent = currency_exponent(currency)
    except ValueError:
        return f"The currency {currency} is not supported."
    if len(value.partition(".")[2]) > exponent:
        return f"{currency} amounts have at most {exponent} decimals."
    return None


def _body_payer(call: Call) -> str | None:
    debtor = call.json().get("debtorAccount")
    iban = debtor.get("iban") if isinstance(debtor, dict) else None
    return iban if isinstance(iban, str) else None


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _unknown() -> Reply:
    return _messages(404, "RESOURCE_UNKNOWN", "The addressed payment is not known.")
