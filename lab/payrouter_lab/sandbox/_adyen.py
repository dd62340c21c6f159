"""Adyen Checkout API v72 as a stateful stand-in.

Base URL for the adapter: `http://127.0.0.1:PORT/v72`. `X-API-Key` must be present (any
value); `Idempotency-Key` replays. Payers are the `storedPaymentMethodId`, a network token or raw
card number (checked and refused as Adyen does, `_card_numbers`), the IBAN of a SEPA
direct debit, a wallet's token (Apple/Google/Samsung Pay; an Apple Pay token that is not
base64 of its `paymentData` is refused, `_wallet_tokens`), else the wallet type (`paypal`,
`alipay`, ...). Redirect wallets answer `RedirectShopper`; a GET of `action.url` approves the
payment, after which `/payments/details` with `redirectResult=<pspReference>` authorises it.
Stored payment methods exist per shopper, issued through the admin API (`_credentials`): an
id this shopper has not stored here (another provider's token, another shopper's id) is
refused with 422 errorCode 800 "Contract not found", as at Adyen. Stored cards named
`3ds2_...` need 3-D Secure 2 (`_adyen_3ds`). SEPA direct debits answer
`Received` (pending). Modifications answer `201 received`, as
Adyen does; their result would come by webhook, which the sandbox records in its books only.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from starlette.datastructures import Headers

from ._adyen_3ds import CHALLENGE_FAILED, challenge, needs_challenge
from ._adyen_records import report
from ._adyen_wire import REFUSALS, TOKEN_FIELDS, Payment, new_psp, payer_of, service_error
from ._books import EntryKind, EntryStatus
from ._card_numbers import (
    card_number_error,
    card_refusal,
    carries_card_number,
)
from ._credentials import Vault, random_digits
from ._exchange import Call, Operation, Reply, Standin, json_reply
from ._faults import FaultKind
from ._wallet_tokens import wallet_token_error

__all__ = ["AdyenStandin"]


class AdyenStandin(Standin):
    """Adyen's /payments, /payments/details, modifications and stored method deletion."""

    name = "adyen"
    idempotency_header = "Idempotency-Key"
    idempotency_window_seconds = 7 * 24 * 3600  # Adyen keeps keys at least 7 days.

    def __init__(self, seed: int) -> None:
        super().__init__(seed)
        self._payments: dict[str, Payment] = {}
        self._deleted: set[str] = set()
        self.vault = Vault(random_digits(16), needs_customer=True)
        self.time_zone: tzinfo = UTC
        """The account's time zone setting, which the accounting report's days and times
        follow."""

    def reset(self) -> None:
        """Forget payments and deleted stored methods as well; the account is on UTC again."""
        super().reset()
        self._payments.clear()
        self._deleted.clear()
        self.time_zone = UTC

    def configure_account(self, settings: object) -> dict[str, object] | str:
        """`{"time_zone": "<IANA name>"}`: the account's time zone setting (Customer Area,
        Settings > Account settings > Timezone), which its reports are written in."""
        if not isinstance(settings, dict) or set(settings) != {"time_zone"}:
            return 'expected {"time_zone": "<IANA time zone, e.g. Europe/Amsterdam>"}'
        name = settings["time_zone"]
        try:
            zone = ZoneInfo(name) if isinstance(name, str) else None
        except (ZoneInfoNotFoundError, ValueError):
            zone = None
        if zone is None:
            return f"time_zone must name an IANA time zone, not {name!r}"
        self.time_zone = zone
        return {"time_zone": name}

    def operations(self) -> Sequence[Operation]:
        """Adyen's routes under `/v72`."""
        modification = "/v72/payments/{psp}"
        return (
            Operation("pay", "POST", "/v72/payments", self._pay, self._body_payer),
            Operation("details", "POST", "/v72/payments/details", self._details, self._psp_payer),
            Operation("capture", "POST", f"{modification}/captures", self._capture, self._payer),
            Operation("refund", "POST", f"{modification}/refunds", self._refund, self._payer),
            Operation("void", "POST", f"{modification}/cancels", self._cancel, self._payer),
            Operation("void", "POST", "/v72/cancels", self._cancel_by_reference),
            Operation(
                "cancel_mandate",
                "DELETE",
                "/v72/storedPaymentMethods/{stored}",
                self._delete_stored,
                lambda call: call.path_params["stored"],
            ),
            Operation("authenticate", "GET", "/sandbox/redirect/{psp}", self._approve, public=True),
            Operation(
                "records",
                "GET",
                "/reports/download/MerchantAccount/{account}/{file}",
                self._report,
            ),
        )

    async def _report(self, call: Call) -> Reply:
        """The payment accounting report (a CSV download from the Customer Area)."""
        return report(call, self.books, zone=self.time_zone)

    def authenticated(self, headers: Headers) -> bool:
        """`X-API-Key` present."""
        return bool(headers.get("x-api-key"))

    def unauthorized(self) -> Reply:
        """Adyen's 401 ServiceError."""
        return service_error(401, "000", "HTTP Status Response - Unauthorized", "security")

    def busy(self, status: int, retry_after: int) -> Reply:
        """429 or 503 ServiceError with Retry-After."""
        message = "Too Many Requests" if status == 429 else "Service Unavailable"
        reply = service_error(status, "000", message, "internal")
        return Reply(status, reply.body, {"Retry-After": str(retry_after)})

    def maintenance(self, retry_after: int) -> Reply:
        """Adyen answers 503 during a scheduled maintenance window."""
        reply = service_error(503, "000", "Service under scheduled maintenance", "internal")
        return Reply(503, reply.body, {"Retry-After": str(retry_after)})

    def server_error(self) -> Reply:
        """Adyen's internal error."""
        return service_error(500, "00_500", "Internal error", "internal")

    def idempotency_conflict(self) -> Reply:
        """Same key, other body: 422 errorCode 704."""
        return service_error(422, "704", "request already processed or in progress", "validation")

    def in_progress(self) -> Reply:
        """Same key while the first request runs: 409 errorCode 704."""
        return service_error(409, "704", "request already processed or in progress", "validation")

    def _body_payer(self, call: Call) -> str | None:
        return payer_of(call.json().get("paymentMethod"))

    def _payer(self, call: Call) -> str | None:
        payment = self._payments.get(call.path_params.get("psp", ""))
        return payment.payer if payment else None

    def _psp_payer(self, call: Call) -> str | None:
        details = call.json().get("details")
        psp = details.get("redirectResult") if isinstance(details, dict) else None
        payment = self._payments.get(psp) if isinstance(psp, str) else None
        return payment.payer if payment else None

    def _result(self, payment: Payment, extra: Mapping[str, object] | None = None) -> Reply:
        body: dict[str, object] = {
            "pspReference": payment.psp,
            "resultCode": payment.result,
            "merchantReference": payment.reference,
            "amount": {"value": payment.value, "currency": payment.currency},
            **(extra or {}),
        }
        return json_reply(200, body)

    async def _pay(self, call: Call) -> Reply:
        body = call.json()
        amount = body.get("amount")
        method = body.get("paymentMethod")
        if not isinstance(amount, dict) or not isinstance(amount.get("value"), int):
            return service_error(422, "100", "No amount specified", "validation")
        if not body.get("merchantAccount") or not isinstance(method, dict):
            return service_error(422, "702", "Required field missing", "validation")
        assert self.vault is not None
        if not self.vault.stored_for(method, body.get("shopperReference"), self._deleted):
            return service_error(422, "800", "Contract not found", "validation")
        if carries_card_number(method):
            error = card_number_error(method, body)
            if error is not None:
                return service_error(422, *error, "validation")
        wallet_error = wallet_token_error(method)
        if wallet_error is not None:
            return service_error(422, *wallet_error, "validation")
        extra = body.get("additionalData")
        manual = isinstance(extra, dict) and extra.get("manualCapture") == "true"
        payment = Payment(
            psp=new_psp(),
            reference=str(body.get("reference", "")),
            order_id=_text(body.get("merchantOrderReference")),
            value=int(amount["value"]),
            currency=str(amount.get("currency", "")),
            payer=payer_of(method),
            manual=manual,
            result="Authorised",
        )
        self._payments[payment.psp] = payment
        refusal = card_refusal(method) if carries_card_number(method) else None
        if refusal is not None:
            payment.result = "Refused"
            return self._result(payment, refusal)
        kind = call.faulted(*REFUSALS)
        if kind is not None:
            reason, code = REFUSALS[kind]
            payment.result = "Refused"
            extra_fields = {"refusalReason": reason, "refusalReasonCode": code}
            return self._result(payment, extra_fields)
        if needs_challenge(method):
            url = f"{call.base_url}/sandbox/redirect/{payment.psp}"
            payment.result, answer = challenge(body, url)
            return self._result(payment, answer)
        kind_of_method = str(method.get("type", ""))
        token_wallet = any(field in method for field in TOKEN_FIELDS)
        if kind_of_method not in ("scheme", "networkToken", "sepadirectdebit") and not token_wallet:
            payment.result = "RedirectShopper"
            action = {
                "type": "redirect",
                "method": "GET",
                "paymentMethodType": kind_of_method,
                "url": f"{call.base_url}/sandbox/redirect/{payment.psp}",
            }
            return self._result(payment, {"action": action})
        return self._authorise(call, payment, sepa=kind_of_method == "sepadirectdebit")

    def _authorise(self, call: Call, payment: Payment, *, sepa: bool) -> Reply:
        pending = call.faulted(FaultKind.PENDING) is not None
        payment.result = "Received" if sepa else ("Pending" if pending else "Authorised")
        if not payment.manual:
            payment.captured = payment.value
        self.books.record(
            EntryKind.AUTHORIZATION if payment.manual else EntryKind.CHARGE,
            payment.psp,
            order_id=payment.order_id,
            reference=payment.reference,
            minor_units=payment.value,
            currency=payment.currency,
            status=EntryStatus.PENDING if pending else EntryStatus.SUCCEEDED,
            payer=payment.payer,
        )
        return self._result(payment)

    async def _approve(self, call: Call) -> Reply:
        """A wallet's approval page or a 3-D Secure challenge (`?outcome=fail` fails it)."""
        payment = self._payments.get(call.path_params["psp"])
        if payment is None:
            return Reply(404, b"<html>Unknown payment</html>", media_type="text/html")
        failed = call.query.get("outcome") == "fail"
        payment.failed, payment.approved = failed, not failed
        return Reply(200, f"<html>redirectResult={payment.psp}</html>".encode(), {}, "text/html")

    async def _details(self, call: Call) -> Reply:
        details = call.json().get("details")
        psp = details.get("redirectResult") if isinstance(details, dict) else None
        payment = self._payments.get(psp) if isinstance(psp, str) else None
        if payment is None or payment.result != "RedirectShopper":
            return service_error(422, "803", "PaymentDetail not found", "validation")
        if not payment.approved:
            payment.result = "Refused"
            cancelled = {"refusalReason": "Shopper Cancelled", "refusalReasonCode": "16"}
            return self._result(payment, CHALLENGE_FAILED if payment.failed else cancelled)
        return self._authorise(call, payment, sepa=False)

    def _modification(self, call: Call, payment: Payment, extra: dict[str, object]) -> Reply:
        body = call.json()
        return json_reply(
            201,
            {
                "merchantAccount": str(body.get("merchantAccount", "")),
                "paymentPspReference": payment.psp,
                "pspReference": new_psp(),
                "reference": str(body.get("reference", "")),
                "status": "received",
                **extra,
            },
        )

    def _amount(self, call: Call, payment: Payment) -> int | None:
        amount = call.json().get("amount")
        if not isinstance(amount, dict) or amount.get("currency") != payment.currency:
            return None
        value = amount.get("value")
        return value if isinstance(value, int) and value > 0 else None

    async def _capture(self, call: Call) -> Reply:
        payment = self._payments.get(call.path_params["psp"])
        if payment is None:
            return service_error(422, "803", "PaymentDetail not found", "validation")
        value = self._amount(call, payment)
        open_amount = payment.value - payment.captured if _capturable(payment) else 0
        if value is None or value > open_amount or payment.released:
            return service_error(422, "137", "Invalid amount specified", "validation")
        payment.captured += value
        self.books.record(
            EntryKind.CAPTURE,
            payment.psp,
            order_id=payment.order_id,
            reference=payment.reference,
            minor_units=value,
            currency=payment.currency,
            payer=payment.payer,
        )
        amount = {"value": value, "currency": payment.currency}
        return self._modification(call, payment, {"amount": amount})

    async def _refund(self, call: Call) -> Reply:
        payment = self._payments.get(call.path_params["psp"])
        if payment is None:
            return service_error(422, "803", "PaymentDetail not found", "validation")
        value = self._amount(call, payment)
        if value is None or value > payment.captured - payment.refunded:
            return service_error(422, "137", "Invalid amount specified", "validation")
        payment.refunded += value
        pending = call.faulted(FaultKind.PENDING) is not None
        self.books.record(
            EntryKind.REFUND,
            payment.psp,
            order_id=payment.order_id,
            reference=str(call.json().get("reference", "")),
            minor_units=value,
            currency=payment.currency,
            status=EntryStatus.PENDING if pending else EntryStatus.SUCCEEDED,
            payer=payment.payer,
        )
        amount = {"value": value, "currency": payment.currency}
        return self._modification(call, payment, {"amount": amount})

    def _release(self, call: Call, payment: Payment) -> None:
        """A cancel is accepted either way; only a releasable hold is released.

        With `cancel_fails` the hold stays, as a CANCELLATION webhook with success=false
        would report.
        """
        open_amount = payment.value - payment.captured
        holds = payment.manual and open_amount > 0 and payment.result == "Authorised"
        if holds and not payment.released and not call.faulted(FaultKind.CANCEL_FAILS):
            payment.released = True
            self.books.record(
                EntryKind.RELEASE,
                payment.psp,
                order_id=payment.order_id,
                reference=payment.reference,
                minor_units=open_amount,
                currency=payment.currency,
                payer=payment.payer,
            )

    async def _cancel(self, call: Call) -> Reply:
        payment = self._payments.get(call.path_params["psp"])
        if payment is None:
            return service_error(422, "803", "PaymentDetail not found", "validation")
        self._release(call, payment)
        return self._modification(call, payment, {})

    async def _cancel_by_reference(self, call: Call) -> Reply:
        body = call.json()
        reference = str(body.get("paymentReference", ""))
        for payment in self._payments.values():
            if payment.reference == reference:
                self._release(call, payment)
        return json_reply(
            201,
            {
                "merchantAccount": str(body.get("merchantAccount", "")),
                "paymentReference": reference,
                "pspReference": new_psp(),
                "reference": str(body.get("reference", "")),
                "status": "received",
            },
        )

    async def _delete_stored(self, call: Call) -> Reply:
        stored = call.path_params["stored"]
        if call.faulted(FaultKind.CANCEL_FAILS):
            return service_error(422, "802", "Invalid contract", "validation")
        assert self.vault is not None
        shopper = call.query.get("shopperReference")
        if stored in self._deleted or not self.vault.belongs(stored, shopper):
            return service_error(422, "800", "Contract not found", "validation")
        self._deleted.add(stored)
        return Reply(204, b"")


def _capturable(payment: Payment) -> bool:
    """A manual-capture payment its issuer authorised. Adyen "captures an authorised payment"
    (Checkout v72 `/payments/{paymentPspReference}/captures`): a `Refused` payment, or one
    still waiting for its shopper (`RedirectShopper`), holds no money to capture, so the
    stand-in answers as for any capture beyond what is open and books nothing."""
    return payment.manual and payment.result not in ("Refused", "RedirectShopper")


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None
