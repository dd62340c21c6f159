"""Every bundled adapter passes the conformance suite third-party adapters run.

Each description says how the provider answers (in its documented wire format) and, for each
failure kind it never reports, why; `AdapterConformance` does the checking.
"""

from __future__ import annotations

import httpx
from pydantic import SecretStr

from payrouter import BankTransferSource, CardSource, Money, PaymentMethod, WalletSource
from payrouter.provider import Charge, FailureKind, Outcome, PaymentHandle
from payrouter.testing import HttpAnswer
from payrouter.testing.conformance import (
    AdapterCase,
    AdapterConformance,
    FollowUpCase,
    LookupCase,
)
from payrouter_adapters.adyen import AdyenAdapter
from payrouter_adapters.berlingroup import BerlinGroupAdapter
from payrouter_adapters.paypal import PayPalAdapter
from payrouter_adapters.stripe import StripeAdapter

EUR = Money(minor_units=1050, currency="EUR")
REFERENCE = "shop:order-1:1"

# --- Stripe -------------------------------------------------------------------------------

STRIPE_KEY = "sk_test_conformance-secret"
STRIPE_CARD = "pm_1ConformanceCardToken"
PI = "pi_3Conformance01"


def stripe(transport: httpx.AsyncBaseTransport) -> StripeAdapter:
    options = {"base_url": "https://api.stripe.test", "api_key": STRIPE_KEY}
    return StripeAdapter.from_options(
        name="stripe", capabilities=None, options=options, transport=transport
    )


def stripe_error(status: int, error_type: str, **fields: str) -> HttpAnswer:
    return HttpAnswer(status, {"error": {"type": error_type, "message": "m", **fields}})


def declined(decline_code: str) -> HttpAnswer:
    return stripe_error(402, "card_error", code="card_declined", decline_code=decline_code)


STRIPE_PAYMENT = PaymentHandle(REFERENCE, "order-1", PaymentMethod.CARD, EUR, PI)
INTENT = {"id": PI, "object": "payment_intent", "status": "succeeded"}


class TestStripe(AdapterConformance):
    case = AdapterCase(
        build=stripe,
        charge=Charge(REFERENCE, "order-1", EUR, CardSource(token=STRIPE_CARD), "DE"),
        succeeded=HttpAnswer(200, INTENT),
        failures={
            FailureKind.BUSY: stripe_error(503, "api_error"),
            FailureKind.RATE_LIMITED: stripe_error(429, "invalid_request_error", code="rate_limit"),
            FailureKind.PROVIDER_DOWN: declined("processing_error"),
            FailureKind.CREDENTIALS_REJECTED: stripe_error(401, "invalid_request_error"),
            FailureKind.INSUFFICIENT_FUNDS: declined("insufficient_funds"),
            FailureKind.ACCOUNT_LOCKED: declined("pickup_card"),
            FailureKind.ACCOUNT_CLOSED: declined("new_account_information_available"),
            FailureKind.AUTHENTICATION_FAILED: stripe_error(
                402, "card_error", code="payment_intent_authentication_failure"
            ),
            # Without an intent; with one, Stripe keeps it for the customer: requires_action.
            FailureKind.AUTHENTICATION_REQUIRED: declined("authentication_required"),
            FailureKind.SUSPECTED_FRAUD: declined("fraudulent"),
            FailureKind.CARD_DECLINED: declined("generic_decline"),
            FailureKind.INVALID_REQUEST: stripe_error(
                400, "invalid_request_error", code="parameter_missing"
            ),
            FailureKind.NOT_FOUND: stripe_error(
                404, "invalid_request_error", code="resource_missing"
            ),
        },
        not_reported={
            FailureKind.MAINTENANCE: "Stripe announces maintenance on its status page; the "
            "API itself sheds load with 503, which reads as BUSY",
            FailureKind.ACCOUNT_FROZEN: "no decline code says frozen; restricted_card and "
            "pickup_card read as ACCOUNT_LOCKED",
            FailureKind.REGION_RESTRICTED: "Stripe has no decline code for a card's country",
        },
        after_submission_5xx=stripe_error(500, "api_error"),
        # The saved 500 of a refund: the intent's refunds show none made under the key; of a
        # capture or void: the intent is still requires_capture, and the 500 was no replay.
        after_submission_5xx_by_operation={
            "refund": (
                stripe_error(500, "api_error"),
                HttpAnswer(200, {"object": "list", "data": [], "has_more": False}),
            ),
            **{
                operation: (
                    stripe_error(500, "api_error"),
                    HttpAnswer(200, {**INTENT, "status": "requires_capture"}),
                )
                for operation in ("capture", "void")
            },
        },
        in_doubt={
            "409 idempotency_key_in_use": stripe_error(
                409, "idempotency_error", code="idempotency_key_in_use"
            ),
            "500 Stripe-Should-Retry false": HttpAnswer(
                500, {"error": {"type": "api_error"}}, {"Stripe-Should-Retry": "false"}
            ),
        },
        challenges={
            "3-D Secure redirect": HttpAnswer(
                200,
                {
                    **INTENT,
                    "status": "requires_action",
                    "next_action": {
                        "type": "redirect_to_url",
                        "redirect_to_url": {"url": "https://hooks.stripe.com/3d_secure_2/x"},
                    },
                },
            ),
            "3-D Secure in Stripe.js": HttpAnswer(
                200,
                {**INTENT, "status": "requires_action", "next_action": {"type": "use_stripe_sdk"}},
            ),
            "off session, the intent kept for the customer": stripe_error(
                402,
                "card_error",
                code="authentication_required",
                decline_code="authentication_required",
                payment_intent={**INTENT, "status": "requires_payment_method"},  # type: ignore[arg-type]
            ),
        },
        replay=HttpAnswer(200, INTENT, {"Idempotent-Replayed": "true"}),
        lookup=LookupCase(
            handle=STRIPE_PAYMENT,
            found=HttpAnswer(200, INTENT),
            missing=stripe_error(404, "invalid_request_error", code="resource_missing"),
        ),
        capture=FollowUpCase(STRIPE_PAYMENT, HttpAnswer(200, INTENT)),
        refund=FollowUpCase(
            STRIPE_PAYMENT,
            HttpAnswer(200, {"id": "re_1", "object": "refund", "status": "succeeded"}),
        ),
        void=FollowUpCase(STRIPE_PAYMENT, HttpAnswer(200, {**INTENT, "status": "canceled"})),
        secrets=(STRIPE_KEY, STRIPE_CARD),
    )


# --- Adyen --------------------------------------------------------------------------------

ADYEN_KEY = "AQE-conformance-api-key"
ADYEN_CARD = "M5N7TQ4TG5PFWR50"
PSP = "PSP0000000000001"


def adyen(transport: httpx.AsyncBaseTransport) -> AdyenAdapter:
    options = {
        "base_url": "https://checkout-test.adyen.com/v72",
        "api_key": ADYEN_KEY,
        "merchant_account": "PayrouterECOM",
        "return_url": "https://shop.example/return",
    }
    return AdyenAdapter.from_options(
        name="adyen", capabilities=None, options=options, transport=transport
    )


def refused(code: str) -> HttpAnswer:
    return HttpAnswer(
        200, {"resultCode": "Refused", "pspReference": PSP, "refusalReasonCode": code}
    )


def service_error(status: int, code: str) -> HttpAnswer:
    body = {"status": status, "errorCode": code, "message": "m", "errorType": "validation"}
    return HttpAnswer(status, body)


ADYEN_PAYMENT = PaymentHandle(REFERENCE, "order-1", PaymentMethod.CARD, EUR, PSP)
AUTHORISED = {"resultCode": "Authorised", "pspReference": PSP}
RECEIVED = HttpAnswer(
    201, {"paymentPspReference": PSP, "pspReference": "MOD0000000000001", "status": "received"}
)


class TestAdyen(AdapterConformance):
    case = AdapterCase(
        build=adyen,
        charge=Charge(
            REFERENCE, "order-1", EUR, CardSource(token=ADYEN_CARD), "NL", customer_id="cust-42"
        ),
        succeeded=HttpAnswer(200, AUTHORISED),
        failures={
            FailureKind.BUSY: HttpAnswer(503, headers={"Retry-After": "2"}),
            FailureKind.RATE_LIMITED: service_error(429, "00_429"),
            FailureKind.PROVIDER_DOWN: refused("4"),
            FailureKind.CREDENTIALS_REJECTED: service_error(401, "00_401"),
            FailureKind.INSUFFICIENT_FUNDS: refused("12"),
            FailureKind.ACCOUNT_LOCKED: refused("5"),
            FailureKind.REGION_RESTRICTED: refused("25"),
            FailureKind.AUTHENTICATION_FAILED: refused("11"),
            FailureKind.AUTHENTICATION_REQUIRED: refused("38"),
            FailureKind.SUSPECTED_FRAUD: refused("20"),
            FailureKind.CARD_DECLINED: refused("2"),
            FailureKind.INVALID_REQUEST: service_error(422, "137"),
        },
        not_reported={
            FailureKind.NOT_FOUND: "a payment's 800 Contract not found is a stored card this "
            "shopper does not hold: a refused request (INVALID_REQUEST), so the router moves on",
            FailureKind.MAINTENANCE: "Adyen's planned maintenance is announced, not answered; "
            "an unavailable endpoint answers 503 (BUSY)",
            FailureKind.ACCOUNT_FROZEN: "no refusal reason says frozen; Blocked Card reads as "
            "ACCOUNT_LOCKED",
            FailureKind.ACCOUNT_CLOSED: "no refusal reason distinguishes a closed account; "
            "Expired Card is a decline",
        },
        after_submission_5xx=HttpAnswer(500, content=b"upstream"),
        in_doubt={
            "422 errorCode 704 (already processed or in progress)": service_error(422, "704")
        },
        challenges={
            "3-D Secure redirect": HttpAnswer(
                200,
                {
                    "resultCode": "RedirectShopper",
                    "pspReference": PSP,
                    "action": {
                        "type": "redirect",
                        "method": "GET",
                        "url": "https://adyen.test/3ds",
                    },
                },
            ),
            "native 3-D Secure challenge": HttpAnswer(
                200, {"resultCode": "ChallengeShopper", "action": {"type": "threeDS2"}}
            ),
        },
        replay=HttpAnswer(200, AUTHORISED),
        lookup=None,
        capture=FollowUpCase(ADYEN_PAYMENT, RECEIVED, Outcome.PENDING),
        refund=FollowUpCase(ADYEN_PAYMENT, RECEIVED, Outcome.PENDING),
        void=FollowUpCase(ADYEN_PAYMENT, RECEIVED, Outcome.PENDING),
        secrets=(ADYEN_KEY, ADYEN_CARD),
    )


# --- PayPal -------------------------------------------------------------------------------

PAYPAL_TOKEN = "A21conformance-token"
VAULT_ID = "8kk8451t"
ORDER = "5O190127TN364715T"
AUTH = "0VF52814937998046"
CAPTURE = "3C679366HH908993F"


def paypal(transport: httpx.AsyncBaseTransport) -> PayPalAdapter:
    options = {"base_url": "https://api-m.paypal.test", "access_token": PAYPAL_TOKEN}
    return PayPalAdapter.from_options(
        name="paypal", capabilities=None, options=options, transport=transport
    )


def paypal_error(status: int, name: str, issue: str | None = None) -> HttpAnswer:
    body: dict[str, object] = {"name": name, "message": f"{name} message", "debug_id": "d1"}
    if issue is not None:
        body["details"] = [{"issue": issue, "description": f"{issue} description"}]
    return HttpAnswer(status, body)


def unprocessable(issue: str) -> HttpAnswer:
    return paypal_error(422, "UNPROCESSABLE_ENTITY", issue)


CAPTURED_ORDER = {
    "id": ORDER,
    "status": "COMPLETED",
    "purchase_units": [
        {
            "reference_id": "default",
            "payments": {"captures": [{"id": CAPTURE, "status": "COMPLETED"}]},
        }
    ],
}
AUTHORIZED = PaymentHandle(
    REFERENCE, "order-1", PaymentMethod.WALLET, EUR, f"{ORDER}:authorization:{AUTH}"
)
CAPTURED = PaymentHandle(
    REFERENCE, "order-1", PaymentMethod.WALLET, EUR, f"{ORDER}:capture:{CAPTURE}"
)


class TestPayPal(AdapterConformance):
    case = AdapterCase(
        build=paypal,
        charge=Charge(
            REFERENCE,
            "order-1",
            EUR,
            WalletSource(wallet="paypal", account=SecretStr(VAULT_ID)),
            "DE",
        ),
        succeeded=HttpAnswer(201, CAPTURED_ORDER),
        failures={
            FailureKind.BUSY: paypal_error(503, "SERVICE_UNAVAILABLE"),
            FailureKind.RATE_LIMITED: paypal_error(429, "RATE_LIMIT_REACHED"),
            FailureKind.CREDENTIALS_REJECTED: paypal_error(401, "AUTHENTICATION_FAILURE"),
            FailureKind.INSUFFICIENT_FUNDS: unprocessable("TRANSACTION_LIMIT_EXCEEDED"),
            FailureKind.ACCOUNT_LOCKED: unprocessable("PAYER_ACCOUNT_LOCKED_OR_CLOSED"),
            FailureKind.ACCOUNT_FROZEN: unprocessable("PAYER_ACCOUNT_RESTRICTED"),
            FailureKind.ACCOUNT_CLOSED: unprocessable("TOKEN_EXPIRED"),
            FailureKind.REGION_RESTRICTED: unprocessable("COUNTRY_NOT_SUPPORTED_BY_PAYMENT_SOURCE"),
            FailureKind.AUTHENTICATION_FAILED: unprocessable(
                "PAYMENT_SOURCE_INFO_CANNOT_BE_VERIFIED"
            ),
            FailureKind.SUSPECTED_FRAUD: unprocessable("COMPLIANCE_VIOLATION"),
            FailureKind.CARD_DECLINED: unprocessable("INSTRUMENT_DECLINED"),
            FailureKind.INVALID_REQUEST: paypal_error(
                400, "INVALID_REQUEST", "MISSING_REQUIRED_PARAMETER"
            ),
            FailureKind.NOT_FOUND: paypal_error(404, "RESOURCE_NOT_FOUND"),
        },
        not_reported={
            FailureKind.PROVIDER_DOWN: "Orders v2 has no 'down' answer of its own (503 is "
            "BUSY); only the OAuth token endpoint's server_error is, and this case uses a "
            "static access token",
            FailureKind.MAINTENANCE: "PayPal's planned maintenance answers 503 "
            "SERVICE_UNAVAILABLE, which reads as BUSY",
            FailureKind.AUTHENTICATION_REQUIRED: "PayPal asks the payer to act with "
            "PAYER_ACTION_REQUIRED, which is requires_action with the payer-action link",
        },
        after_submission_5xx=paypal_error(500, "INTERNAL_SERVER_ERROR"),
        in_doubt={
            "409 request in progress": paypal_error(
                409, "RESOURCE_CONFLICT", "PREVIOUS_REQUEST_IN_PROGRESS"
            ),
            "422 DUPLICATE_INVOICE_ID": unprocessable("DUPLICATE_INVOICE_ID"),
        },
        challenges={
            "the payer must act": HttpAnswer(
                201,
                {
                    "id": ORDER,
                    "status": "PAYER_ACTION_REQUIRED",
                    "links": [{"rel": "payer-action", "href": "https://www.paypal.com/x"}],
                },
            )
        },
        replay=HttpAnswer(200, CAPTURED_ORDER),
        lookup=LookupCase(
            handle=CAPTURED,
            found=HttpAnswer(200, CAPTURED_ORDER),
            missing=paypal_error(404, "RESOURCE_NOT_FOUND"),
        ),
        capture=FollowUpCase(AUTHORIZED, HttpAnswer(201, {"id": CAPTURE, "status": "COMPLETED"})),
        refund=FollowUpCase(
            CAPTURED, HttpAnswer(201, {"id": "1JU08902781691411", "status": "COMPLETED"})
        ),
        void=FollowUpCase(AUTHORIZED, HttpAnswer(204)),
        complete=FollowUpCase(
            PaymentHandle(REFERENCE, "order-1", PaymentMethod.WALLET, EUR, ORDER),
            (
                HttpAnswer(200, {"id": ORDER, "status": "APPROVED", "intent": "CAPTURE"}),
                HttpAnswer(201, CAPTURED_ORDER),
            ),
        ),
        key_sent=lambda request: request.headers.get("PayPal-Request-Id"),
        secrets=(PAYPAL_TOKEN, VAULT_ID),
    )


# --- Berlin Group -------------------------------------------------------------------------

DEBTOR_IBAN = "DE40100100103307118608"
CREDITOR_IBAN = "DE02100100109307118603"
BANK_TOKEN = "oauth-conformance-token"
PAYMENT_ID = "1234-wertiq-983"


def berlingroup(transport: httpx.AsyncBaseTransport) -> BerlinGroupAdapter:
    options = {
        "base_url": "https://aspsp.example/psd2",
        "creditor_iban": CREDITOR_IBAN,
        "creditor_name": "Example Shop GmbH",
        "access_token": BANK_TOKEN,
    }
    return BerlinGroupAdapter.from_options(
        name="bank", capabilities=None, options=options, transport=transport
    )


def initiated(status: str, **extra: object) -> HttpAnswer:
    return HttpAnswer(
        201, {"transactionStatus": status, "paymentId": PAYMENT_ID, "_links": {}, **extra}
    )


def tpp_error(status: int, code: str) -> HttpAnswer:
    body = {"tppMessages": [{"category": "ERROR", "code": code, "text": f"IBAN {DEBTOR_IBAN}"}]}
    return HttpAnswer(status, body)


def rejected(code: str) -> HttpAnswer:
    return initiated("RJCT", tppMessages=[{"category": "ERROR", "code": code}])


# What `GET .../{paymentId}` returns: a success is read with it, for its instructedAmount.
RESOURCE = HttpAnswer(
    200,
    {
        "debtorAccount": {"iban": DEBTOR_IBAN},
        "instructedAmount": {"currency": "EUR", "amount": "10.50"},
        "creditorAccount": {"iban": CREDITOR_IBAN},
        "creditorName": "Example Shop GmbH",
        "transactionStatus": "ACSC",
    },
)
TRANSFER = PaymentHandle(REFERENCE, "order-1", PaymentMethod.BANK_TRANSFER, EUR, PAYMENT_ID)


class TestBerlinGroup(AdapterConformance):
    case = AdapterCase(
        build=berlingroup,
        charge=Charge(
            REFERENCE,
            "order-1",
            EUR,
            BankTransferSource(iban=DEBTOR_IBAN),
            "DE",
            return_url="https://shop.example/return/order-1",
        ),
        succeeded=(initiated("ACSC"), RESOURCE),
        failures={
            FailureKind.BUSY: HttpAnswer(503, headers={"Retry-After": "3"}),
            FailureKind.RATE_LIMITED: tpp_error(429, "ACCESS_EXCEEDED"),
            FailureKind.CREDENTIALS_REJECTED: tpp_error(401, "CERTIFICATE_INVALID"),
            FailureKind.INSUFFICIENT_FUNDS: rejected("FUNDS_NOT_AVAILABLE"),
            FailureKind.ACCOUNT_LOCKED: tpp_error(403, "SERVICE_BLOCKED"),
            FailureKind.AUTHENTICATION_FAILED: tpp_error(401, "PSU_CREDENTIALS_INVALID"),
            FailureKind.CARD_DECLINED: initiated("RJCT"),
            FailureKind.INVALID_REQUEST: tpp_error(400, "FORMAT_ERROR"),
            FailureKind.NOT_FOUND: tpp_error(404, "RESOURCE_UNKNOWN"),
        },
        not_reported={
            FailureKind.PROVIDER_DOWN: "NextGenPSD2 answers an unavailable ASPSP with 503, "
            "which reads as BUSY",
            FailureKind.MAINTENANCE: "maintenance answers 503 like any unavailability (BUSY)",
            FailureKind.ACCOUNT_FROZEN: "no message code says frozen; SERVICE_BLOCKED reads "
            "as ACCOUNT_LOCKED",
            FailureKind.ACCOUNT_CLOSED: "no message code distinguishes a closed account",
            FailureKind.REGION_RESTRICTED: "SEPA reaches every member country; no code refuses "
            "by region",
            FailureKind.SUSPECTED_FRAUD: "banks do not tell a TPP a transfer looked fraudulent; "
            "they reject it (RJCT, a decline)",
            FailureKind.AUTHENTICATION_REQUIRED: "the bank's strong customer authentication "
            "is the scaRedirect link: requires_action, never a refusal",
        },
        after_submission_5xx=HttpAnswer(500),
        in_doubt={
            "409 on initiation": tpp_error(409, "STATUS_INVALID"),
            "408": HttpAnswer(408),
        },
        challenges={
            "strong customer authentication": initiated(
                "RCVD", _links={"scaRedirect": {"href": "https://bank.example/sca"}}
            )
        },
        replay=None,
        lookup=LookupCase(
            handle=TRANSFER,
            found=(HttpAnswer(200, {"transactionStatus": "ACSC"}), RESOURCE),
            missing=tpp_error(403, "RESOURCE_UNKNOWN"),
        ),
        capture=None,
        refund=None,
        void=FollowUpCase(TRANSFER, HttpAnswer(204)),
        # A read's X-Request-ID is a fresh UUID naming the request, not the router's key.
        key_sent=lambda request: (
            None if request.method == "GET" else request.headers.get("X-Request-ID")
        ),
        secrets=(BANK_TOKEN, DEBTOR_IBAN, CREDITOR_IBAN),
    )
