"""Berlin Group NextGenPSD2 adapter: every flow and every table row, over a ScriptedProvider."""

from __future__ import annotations

import json
import logging
import shutil
import subprocess
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx
import pytest

from payrouter import BankTransferSource, CardSource, ConfigurationError, Money, PaymentMethod
from payrouter._paying._attempt import is_conclusive_lookup
from payrouter.provider import (
    Adapter,
    Capabilities,
    Charge,
    FailureKind,
    Outcome,
    PaymentHandle,
    ProviderReply,
)
from payrouter.testing import ScriptedProvider
from payrouter_adapters.berlingroup import (
    DEFAULT_CAPABILITIES,
    FAILURE_BY_CODE,
    STATUS_FAILURE_BY_CODE,
    TRANSACTION_STATUS,
    BerlinGroupAdapter,
    BerlinGroupOptions,
)

DEBTOR_IBAN = "DE40100100103307118608"
CREDITOR_IBAN = "DE02100100109307118603"
TOKEN = "oauth-token-very-secret"
KEY_PASSWORD = "key-password-very-secret"
PAYMENT_ID = "1234-wertiq-983"
PAYMENTS = "/psd2/v1/payments/sepa-credit-transfers"
OPTIONS: dict[str, object] = {
    "base_url": "https://aspsp.example/psd2",
    "creditor_iban": CREDITOR_IBAN,
    "creditor_name": "Example Shop GmbH",
}


def adapter_for(provider: ScriptedProvider, **options: object) -> BerlinGroupAdapter:
    return BerlinGroupAdapter.from_options(
        name="bg",
        capabilities=None,
        options={**OPTIONS, **options},
        transport=provider,
    )


def make_charge(**overrides: object) -> Charge:
    fields: dict[str, object] = {
        "reference": "shop:order-17:1",
        "order_id": "order-17",
        "amount": Money(minor_units=1050, currency="EUR"),
        "source": BankTransferSource(iban=DEBTOR_IBAN),
        "customer_country": "DE",
        "return_url": "https://shop.example/return/order-17",
    }
    fields.update(overrides)
    return Charge(**fields)  # type: ignore[arg-type]


def make_handle(provider_reference: str | None = PAYMENT_ID) -> PaymentHandle:
    return PaymentHandle(
        reference="shop:order-17:1",
        order_id="order-17",
        method=PaymentMethod.BANK_TRANSFER,
        amount=Money(minor_units=1050, currency="EUR"),
        provider_reference=provider_reference,
    )


def initiated(status: str, links: dict[str, str] | None = None, **extra: object) -> httpx.Response:
    body: dict[str, object] = {
        "transactionStatus": status,
        "paymentId": PAYMENT_ID,
        "_links": {name: {"href": href} for name, href in (links or {}).items()},
        **extra,
    }
    return httpx.Response(201, json=body)


def with_resource(
    recorder: ScriptedProvider, payment_id: str = PAYMENT_ID, payments: str = PAYMENTS
) -> ScriptedProvider:
    """`recorder`, also serving the payment initiation resource (10.50 EUR) that a success
    is read with; those requests are kept apart from `recorder.requests`."""
    amount = {"currency": "EUR", "amount": "10.50"}
    body = {"debtorAccount": {"iban": DEBTOR_IBAN}, "instructedAmount": amount}
    recorder.route(f"{payments}/{payment_id}", otherwise=lambda _: httpx.Response(200, json=body))
    return recorder


TEN_FIFTY = Money(minor_units=1050, currency="EUR")


def tpp_error(status: int, code: str, headers: dict[str, str] | None = None) -> httpx.Response:
    body = {"tppMessages": [{"category": "ERROR", "code": code, "text": f"IBAN {DEBTOR_IBAN}"}]}
    return httpx.Response(status, json=body, headers=headers)


@pytest.fixture
def fresh_code() -> str:
    """A code no test has logged yet: warn_unmapped_once remembers codes per process."""
    return f"UNMAPPED_{uuid.uuid4().hex[:8].upper()}"


def unmapped_warnings(caplog: pytest.LogCaptureFixture, code: str) -> int:
    return sum(1 for record in caplog.records if getattr(record, "provider_code", None) == code)


# --- initiation request -----------------------------------------------------------------


async def test_pay_posts_a_sepa_credit_transfer_to_the_merchant_account() -> None:
    """The body carries amount, both IBANs, creditor name, our reference and the order id."""
    recorder = ScriptedProvider.always(
        initiated("RCVD", {"scaRedirect": "https://bank.example/sca"})
    )
    await adapter_for(recorder).pay(make_charge(), idempotency_key="shop:order-17:1")
    request = recorder.last
    assert request.method == "POST"
    assert request.url.path == PAYMENTS
    assert json.loads(request.content) == {
        "endToEndIdentification": "shop:order-17:1",
        "debtorAccount": {"iban": DEBTOR_IBAN},
        "instructedAmount": {"currency": "EUR", "amount": "10.50"},
        "creditorAccount": {"iban": CREDITOR_IBAN},
        "creditorName": "Example Shop GmbH",
        "remittanceInformationUnstructured": "order-17",
    }


async def test_pay_sends_the_tpp_headers() -> None:
    """X-Request-ID is a UUID, PSU-IP-Address is set and the customer returns to return_url."""
    recorder = ScriptedProvider.always(initiated("RCVD"))
    await adapter_for(recorder).pay(make_charge(), idempotency_key="shop:order-17:1")
    headers = recorder.last.headers
    assert uuid.UUID(headers["X-Request-ID"]).version == 5
    assert headers["PSU-IP-Address"] == "0.0.0.0"
    assert headers["TPP-Redirect-URI"] == "https://shop.example/return/order-17"
    assert headers["TPP-Redirect-Preferred"] == "true"
    assert headers["Accept"] == "application/json"
    assert "Authorization" not in headers


async def test_same_idempotency_key_always_gives_the_same_x_request_id() -> None:
    """A replayed key is the same request for the ASPSP; another key is another request."""
    recorder = ScriptedProvider.always(initiated("RCVD"))
    adapter = adapter_for(recorder)
    for key in ("shop:order-17:1", "shop:order-17:1", "shop:order-17:2"):
        await adapter.pay(make_charge(), idempotency_key=key)
    first, replay, other = (request.headers["X-Request-ID"] for request in recorder.requests)
    assert first == replay
    assert other != first


@pytest.mark.parametrize(
    ("minor_units", "currency", "expected"),
    [(1050, "EUR", "10.50"), (1, "EUR", "0.01"), (500, "JPY", "500"), (1234, "KWD", "1.234")],
)
async def test_amount_is_a_decimal_string_from_minor_units(
    minor_units: int, currency: str, expected: str
) -> None:
    """Minor units become the currency's decimal string; no float is involved."""
    recorder = ScriptedProvider.always(initiated("RCVD"))
    amount = Money(minor_units=minor_units, currency=currency)
    await adapter_for(recorder).pay(make_charge(amount=amount), idempotency_key="k")
    assert json.loads(recorder.last.content)["instructedAmount"] == {
        "currency": currency,
        "amount": expected,
    }


@pytest.mark.parametrize("reference", ["x" * 36, "shop#order@17", "/leading-slash", "a//b"])
async def test_reference_that_does_not_fit_end_to_end_id_is_hashed_deterministically(
    reference: str,
) -> None:
    """Too long or outside SEPA's character set: a 35-character hash, the same every time."""
    recorder = ScriptedProvider.always(initiated("RCVD"))
    adapter = adapter_for(recorder)
    for _ in range(2):
        await adapter.pay(make_charge(reference=reference), idempotency_key="k")
    first, second = (json.loads(r.content)["endToEndIdentification"] for r in recorder.requests)
    assert first == second
    assert len(first) == 35
    assert first != reference


async def test_long_order_id_is_fitted_to_remittance_information() -> None:
    """Remittance information holds 140 characters: a longer order id keeps a hashed tail."""
    recorder = ScriptedProvider.always(initiated("RCVD"))
    await adapter_for(recorder).pay(make_charge(order_id="o" * 200), idempotency_key="k")
    remittance = json.loads(recorder.last.content)["remittanceInformationUnstructured"]
    assert len(remittance) == 140
    assert remittance.startswith("o" * 100)


async def test_psu_ip_address_from_charge_metadata_wins_over_the_option() -> None:
    """The customer's own address, passed per charge, is what PSD2 asks for."""
    recorder = ScriptedProvider.always(initiated("RCVD"))
    adapter = adapter_for(recorder, psu_ip_address="192.0.2.1")
    await adapter.pay(make_charge(), idempotency_key="k")
    await adapter.pay(make_charge(metadata={"psu_ip_address": "198.51.100.7"}), idempotency_key="k")
    assert [r.headers["PSU-IP-Address"] for r in recorder.requests] == [
        "192.0.2.1",
        "198.51.100.7",
    ]


async def test_invalid_psu_ip_address_fails_before_any_http_call() -> None:
    """A malformed address would be a 400 at the bank; we refuse it ourselves."""
    recorder = ScriptedProvider.always(initiated("RCVD"))
    reply = await adapter_for(recorder).pay(
        make_charge(metadata={"psu_ip_address": "not-an-ip"}), idempotency_key="k"
    )
    assert reply.failure_kind is FailureKind.INVALID_REQUEST
    assert reply.provider_code == "psu_ip_address_invalid"
    assert recorder.requests == []


async def test_card_source_fails_before_any_http_call() -> None:
    """PIS moves money from a bank account; a card is an invalid request, not a decline."""
    recorder = ScriptedProvider.always(initiated("RCVD"))
    charge = make_charge(source=CardSource(token="pm_card_visa"))
    reply = await adapter_for(recorder).pay(charge, idempotency_key="k")
    assert reply.failure_kind is FailureKind.INVALID_REQUEST
    assert reply.provider_code == "source_unsupported"
    assert recorder.requests == []


async def test_redirect_preference_and_bearer_token_follow_the_options() -> None:
    """An OAuth token becomes a bearer header; redirect preference can be turned off."""
    recorder = ScriptedProvider.always(initiated("RCVD"))
    adapter = adapter_for(recorder, access_token=TOKEN, redirect_preferred=False)
    await adapter.pay(make_charge(), idempotency_key="k")
    assert recorder.last.headers["Authorization"] == f"Bearer {TOKEN}"
    assert recorder.last.headers["TPP-Redirect-Preferred"] == "false"


async def test_instant_product_option_changes_the_path() -> None:
    """SEPA Instant uses the same JSON body under its own payment product."""
    recorder = with_resource(
        ScriptedProvider.always(initiated("ACSC")),
        payments="/psd2/v1/payments/instant-sepa-credit-transfers",
    )
    adapter = adapter_for(recorder, payment_product="instant-sepa-credit-transfers")
    await adapter.pay(make_charge(), idempotency_key="k")
    assert recorder.last.url.path == "/psd2/v1/payments/instant-sepa-credit-transfers"


# --- initiation response ----------------------------------------------------------------


async def test_sca_redirect_is_requires_action_with_the_bank_url() -> None:
    """The customer authorises at the bank: requires_action with the scaRedirect URL."""
    links = {"scaRedirect": "https://bank.example/sca/1", "status": "/v1/payments/x/status"}
    reply = await adapter_for(ScriptedProvider.always(initiated("RCVD", links))).pay(
        make_charge(), idempotency_key="k"
    )
    assert reply == ProviderReply.requires_action(
        PAYMENT_ID, "https://bank.example/sca/1", provider_code="scaRedirect", http_status=201
    )


@pytest.mark.parametrize(
    "link",
    [
        "scaOAuth",
        "startAuthorisation",
        "startAuthorisationWithPsuIdentification",
        "startAuthorisationWithPsuAuthentication",
        "startAuthorisationWithAuthenticationMethodSelection",
    ],
)
async def test_explicit_authorisation_link_is_requires_action_naming_the_link(link: str) -> None:
    """OAuth, decoupled and embedded approaches need SCA too; provider_code says which link."""
    reply = await adapter_for(
        ScriptedProvider.always(initiated("RCVD", {link: "/v1/payments/x/auth"}))
    ).pay(make_charge(), idempotency_key="k")
    assert reply.outcome is Outcome.REQUIRES_ACTION
    assert reply.provider_code == link
    assert reply.action_url == "/v1/payments/x/auth"


async def test_accepted_without_sca_link_is_pending_not_succeeded() -> None:
    """ACSP: accepted for execution, but the money has not arrived yet."""
    reply = await adapter_for(ScriptedProvider.always(initiated("ACSP"))).pay(
        make_charge(), idempotency_key="k"
    )
    assert reply == ProviderReply.pending(PAYMENT_ID, provider_code="ACSP", http_status=201)


async def test_settled_initiation_is_succeeded_even_with_links() -> None:
    """ACSC (SCA exemption, executed at once) is success; no redirect is needed."""
    recorder = with_resource(
        ScriptedProvider.always(initiated("ACSC", {"scaRedirect": "https://bank.example/sca"}))
    )
    reply = await adapter_for(recorder).pay(make_charge(), idempotency_key="k")
    assert reply == ProviderReply.succeeded(
        PAYMENT_ID, provider_code="ACSC", http_status=201, amount=TEN_FIFTY
    )


async def test_rejected_initiation_with_funds_message_is_insufficient_funds() -> None:
    """RJCT is a definite failure; its tppMessages code says why."""
    response = initiated("RJCT", tppMessages=[{"category": "ERROR", "code": "FUNDS_NOT_AVAILABLE"}])
    reply = await adapter_for(ScriptedProvider.always(response)).pay(
        make_charge(), idempotency_key="k"
    )
    assert reply.outcome is Outcome.FAILED
    assert reply.failure_kind is FailureKind.INSUFFICIENT_FUNDS
    assert reply.provider_reference == PAYMENT_ID


async def test_rejection_without_reason_is_a_generic_decline() -> None:
    """A bare RJCT: the money did not move, the bank gave no reason."""
    reply = await adapter_for(ScriptedProvider.always(initiated("RJCT"))).pay(
        make_charge(), idempotency_key="k"
    )
    assert reply.failure_kind is FailureKind.CARD_DECLINED
    assert reply.provider_code == "RJCT"


async def test_rejection_with_unmapped_reason_is_a_decline_and_warned_once(
    caplog: pytest.LogCaptureFixture, fresh_code: str
) -> None:
    """An unknown rejection reason is still a rejection; the gap is logged once."""
    response = initiated("RJCT", tppMessages=[{"category": "ERROR", "code": fresh_code}])
    adapter = adapter_for(ScriptedProvider.always(response))
    with caplog.at_level(logging.WARNING, logger="payrouter.adapters"):
        for _ in range(2):
            reply = await adapter.pay(make_charge(), idempotency_key="k")
    assert reply.failure_kind is FailureKind.CARD_DECLINED
    assert unmapped_warnings(caplog, fresh_code) == 1


@pytest.mark.parametrize(
    "response",
    [
        httpx.Response(201, json={"transactionStatus": "RCVD"}),
        httpx.Response(201, text="<html>ok</html>"),
        httpx.Response(201, json=["RCVD"]),
    ],
)
async def test_initiation_without_payment_id_is_unknown(response: httpx.Response) -> None:
    """A 2xx we cannot read on a money-moving call: the payment may exist."""
    reply = await adapter_for(ScriptedProvider.always(response)).pay(
        make_charge(), idempotency_key="k"
    )
    assert reply.outcome is Outcome.UNKNOWN
    assert reply.provider_code == "unexpected_body"


async def test_unmapped_transaction_status_is_unknown_and_warned_once(
    caplog: pytest.LogCaptureFixture, fresh_code: str
) -> None:
    """A status outside ISO 20022's list: we cannot say where the money is."""
    adapter = adapter_for(ScriptedProvider.always(initiated(fresh_code)))
    with caplog.at_level(logging.WARNING, logger="payrouter.adapters"):
        for _ in range(2):
            reply = await adapter.pay(make_charge(), idempotency_key="k")
    assert reply.outcome is Outcome.UNKNOWN
    assert reply.provider_reference == PAYMENT_ID
    assert unmapped_warnings(caplog, fresh_code) == 1


# --- error table ------------------------------------------------------------------------


@pytest.mark.parametrize(("code", "kind"), sorted(FAILURE_BY_CODE.items()))
async def test_failure_code_table_row(code: str, kind: FailureKind) -> None:
    """Every documented tppMessages code maps to its row's kind."""
    reply = await adapter_for(ScriptedProvider.always(tpp_error(400, code))).pay(
        make_charge(), idempotency_key="k"
    )
    assert reply.failure_kind is kind
    assert reply.provider_code == code
    assert reply.http_status == 400


async def test_problem_json_error_code_is_read() -> None:
    """The RFC 7807 variant carries the code at the top level."""
    response = httpx.Response(
        400,
        json={"type": "https://bank.example/err", "code": "EXECUTION_DATE_INVALID"},
        headers={"Content-Type": "application/problem+json"},
    )
    reply = await adapter_for(ScriptedProvider.always(response)).pay(
        make_charge(), idempotency_key="k"
    )
    assert reply.failure_kind is FailureKind.INVALID_REQUEST
    assert reply.provider_code == "EXECUTION_DATE_INVALID"


async def test_error_message_precedes_warning_message() -> None:
    """With several tppMessages, the ERROR-category code is the one classified."""
    body = {
        "tppMessages": [
            {"category": "WARNING", "code": "WARNING"},
            {"category": "ERROR", "code": "PSU_CREDENTIALS_INVALID"},
        ]
    }
    reply = await adapter_for(ScriptedProvider.always(httpx.Response(401, json=body))).pay(
        make_charge(), idempotency_key="k"
    )
    assert reply.failure_kind is FailureKind.AUTHENTICATION_FAILED


@pytest.mark.parametrize(
    "code", ["CERTIFICATE_INVALID", "CERTIFICATE_EXPIRED", "SIGNATURE_MISSING", "TOKEN_EXPIRED"]
)
async def test_401_for_our_certificate_or_token_is_credentials_rejected(code: str) -> None:
    """The TPP's credentials are our configuration: never blamed on the customer."""
    reply = await adapter_for(ScriptedProvider.always(tpp_error(401, code))).pay(
        make_charge(), idempotency_key="k"
    )
    assert reply.failure_kind is FailureKind.CREDENTIALS_REJECTED


@pytest.mark.parametrize("status", [401, 403])
async def test_401_or_403_without_a_code_is_credentials_rejected(status: int) -> None:
    """No body to read: an access refusal is still about our credentials."""
    reply = await adapter_for(ScriptedProvider.always(httpx.Response(status))).pay(
        make_charge(), idempotency_key="k"
    )
    assert reply.failure_kind is FailureKind.CREDENTIALS_REJECTED
    assert reply.provider_code is None


async def test_unmapped_4xx_code_is_invalid_request_and_warned_once(
    caplog: pytest.LogCaptureFixture, fresh_code: str
) -> None:
    """A code missing from the table: definite failure (nothing created), logged once."""
    adapter = adapter_for(ScriptedProvider.always(tpp_error(400, fresh_code)))
    with caplog.at_level(logging.WARNING, logger="payrouter.adapters"):
        for _ in range(2):
            reply = await adapter.pay(make_charge(), idempotency_key="k")
    assert reply.failure_kind is FailureKind.INVALID_REQUEST
    assert reply.provider_code == fresh_code
    assert unmapped_warnings(caplog, fresh_code) == 1


async def test_unmapped_403_code_is_credentials_rejected(fresh_code: str) -> None:
    """The conservative default of a 403 is an access problem, not the customer's."""
    reply = await adapter_for(ScriptedProvider.always(tpp_error(403, fresh_code))).pay(
        make_charge(), idempotency_key="k"
    )
    assert reply.failure_kind is FailureKind.CREDENTIALS_REJECTED


async def test_non_json_400_body_is_invalid_request_without_a_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """An HTML error page has no code: the HTTP status alone decides."""
    with caplog.at_level(logging.WARNING, logger="payrouter.adapters"):
        reply = await adapter_for(
            ScriptedProvider.always(httpx.Response(400, text="<html>bad</html>"))
        ).pay(make_charge(), idempotency_key="k")
    assert reply.failure_kind is FailureKind.INVALID_REQUEST
    assert caplog.records == []


async def test_error_replies_never_copy_the_banks_free_text() -> None:
    """tppMessages text can echo account data; replies end up in logs."""
    reply = await adapter_for(ScriptedProvider.always(tpp_error(400, "FORMAT_ERROR"))).pay(
        make_charge(), idempotency_key="k"
    )
    assert DEBTOR_IBAN not in repr(reply)


async def test_429_is_rate_limited_with_retry_after() -> None:
    """ACCESS_EXCEEDED: the ASPSP throttles us; Retry-After tells the router how long."""
    response = tpp_error(429, "ACCESS_EXCEEDED", headers={"Retry-After": "7"})
    reply = await adapter_for(ScriptedProvider.always(response)).pay(
        make_charge(), idempotency_key="k"
    )
    assert reply == ProviderReply.failed(
        FailureKind.RATE_LIMITED, provider_code="ACCESS_EXCEEDED", http_status=429, retry_after=7.0
    )


async def test_503_before_processing_is_busy_not_unknown() -> None:
    """503: the ASPSP is unavailable and created nothing; retry or fail over."""
    response = httpx.Response(503, headers={"Retry-After": "3"})
    reply = await adapter_for(ScriptedProvider.always(response)).pay(
        make_charge(), idempotency_key="k"
    )
    assert reply.outcome is Outcome.FAILED
    assert reply.failure_kind is FailureKind.BUSY
    assert reply.retry_after == 3.0


@pytest.mark.parametrize("status", [500, 502, 504, 408])
async def test_5xx_or_408_after_submission_is_unknown(status: int) -> None:
    """The specification does not say these were not processed: money may have moved."""
    reply = await adapter_for(ScriptedProvider.always(httpx.Response(status))).pay(
        make_charge(), idempotency_key="k"
    )
    assert reply.outcome is Outcome.UNKNOWN
    assert reply.http_status == status


async def test_409_on_initiation_is_unknown_concurrent_duplicate() -> None:
    """A create conflicts only with our own earlier request under the same X-Request-ID."""
    reply = await adapter_for(ScriptedProvider.always(tpp_error(409, "STATUS_INVALID"))).pay(
        make_charge(), idempotency_key="k"
    )
    assert reply.outcome is Outcome.UNKNOWN


async def test_redirect_status_is_unknown() -> None:
    """A 3xx on a money-moving call is not an answer we can place."""
    response = httpx.Response(302, headers={"Location": "https://elsewhere.example"})
    reply = await adapter_for(ScriptedProvider.always(response)).pay(
        make_charge(), idempotency_key="k"
    )
    assert reply.outcome is Outcome.UNKNOWN


# --- lookup -----------------------------------------------------------------------------


@pytest.mark.parametrize(("status", "outcome"), sorted(TRANSACTION_STATUS.items()))
async def test_transaction_status_table_row(status: str, outcome: Outcome) -> None:
    """Every ISO 20022 status the specification lists maps to its row's outcome."""
    recorder = with_resource(
        ScriptedProvider.always(httpx.Response(200, json={"transactionStatus": status}))
    )
    reply = await adapter_for(recorder).lookup(make_handle())
    assert reply.outcome is outcome
    assert reply.provider_code == status
    assert reply.provider_reference == PAYMENT_ID


async def test_lookup_reads_the_status_by_payment_id() -> None:
    """GET .../{paymentId}/status with a fresh UUID request id; no PSU is present."""
    recorder = with_resource(
        ScriptedProvider.always(httpx.Response(200, json={"transactionStatus": "ACSC"}))
    )
    reply = await adapter_for(recorder).lookup(make_handle())
    assert reply == ProviderReply.succeeded(
        PAYMENT_ID, provider_code="ACSC", http_status=200, amount=TEN_FIFTY
    )
    request = recorder.last
    assert request.method == "GET"
    assert request.url.path == f"{PAYMENTS}/{PAYMENT_ID}/status"
    assert uuid.UUID(request.headers["X-Request-ID"])
    assert "PSU-IP-Address" not in request.headers


async def test_lookup_quotes_the_payment_id_into_one_path_segment() -> None:
    """A paymentId with a slash cannot address another resource."""
    recorder = with_resource(
        ScriptedProvider.always(httpx.Response(200, json={"transactionStatus": "ACSC"})), "a/b"
    )
    await adapter_for(recorder).lookup(make_handle("a/b"))
    assert recorder.last.url.raw_path.decode() == f"{PAYMENTS}/a%2Fb/status"


async def test_lookup_rejection_with_funds_unavailable_is_insufficient_funds() -> None:
    """fundsAvailable false on a rejected payment says why it was rejected."""
    body = {"transactionStatus": "RJCT", "fundsAvailable": False}
    reply = await adapter_for(ScriptedProvider.always(httpx.Response(200, json=body))).lookup(
        make_handle()
    )
    assert reply.failure_kind is FailureKind.INSUFFICIENT_FUNDS


@pytest.mark.parametrize("status", [403, 404])
async def test_lookup_of_unknown_payment_id_is_not_found(status: int) -> None:
    """RESOURCE_UNKNOWN: the ASPSP has no payment under that paymentId."""
    reply = await adapter_for(
        ScriptedProvider.always(tpp_error(status, "RESOURCE_UNKNOWN"))
    ).lookup(make_handle())
    assert reply.outcome is Outcome.FAILED
    assert reply.failure_kind is FailureKind.NOT_FOUND


async def test_404_without_resource_unknown_is_not_proof_of_absence() -> None:
    """A bare 404 may be a wrong base URL: never NOT_FOUND, which would allow failover."""
    reply = await adapter_for(
        ScriptedProvider.always(httpx.Response(404, text="Not Found"))
    ).lookup(make_handle())
    assert reply.failure_kind is FailureKind.INVALID_REQUEST


async def test_lookup_without_payment_id_is_unknown_lookup_unsupported() -> None:
    """PIS cannot search by endToEndIdentification; absence is not provable, so no call."""
    recorder = ScriptedProvider.always(httpx.Response(200, json={"transactionStatus": "ACSC"}))
    reply = await adapter_for(recorder).lookup(make_handle(None))
    assert reply.outcome is Outcome.UNKNOWN
    assert reply.provider_code == "lookup_unsupported"
    assert recorder.requests == []


async def test_lookup_500_is_unknown() -> None:
    """A failed status request tells nothing about the money."""
    reply = await adapter_for(ScriptedProvider.always(httpx.Response(500))).lookup(make_handle())
    assert reply.outcome is Outcome.UNKNOWN


async def test_lookup_with_unreadable_body_is_unknown() -> None:
    """A status response without transactionStatus is no answer."""
    reply = await adapter_for(ScriptedProvider.always(httpx.Response(200, json={}))).lookup(
        make_handle()
    )
    assert reply.outcome is Outcome.UNKNOWN
    assert reply.provider_code == "unexpected_body"


@pytest.mark.parametrize(
    ("status", "code"),
    [
        (403, "SERVICE_BLOCKED"),
        (400, "PAYMENT_FAILED"),
        (403, "PRODUCT_INVALID"),
        (401, "PSU_CREDENTIALS_INVALID"),
        (400, "FUNDS_NOT_AVAILABLE"),
    ],
)
async def test_a_refused_status_request_is_no_verdict_on_the_payment(
    status: int, code: str
) -> None:
    """A status request moves nothing: its error is unknown, never a decline reconcile keeps."""
    reply = await adapter_for(ScriptedProvider.always(tpp_error(status, code))).lookup(
        make_handle()
    )
    assert reply.outcome is Outcome.UNKNOWN
    assert reply.provider_code == code
    assert reply.http_status == status
    assert not is_conclusive_lookup(reply)


@pytest.mark.parametrize(("code", "kind"), sorted(STATUS_FAILURE_BY_CODE.items()))
@pytest.mark.parametrize("status", [400, 403])
async def test_status_failure_code_table_row(status: int, code: str, kind: FailureKind) -> None:
    """Every code answering a status request maps to its row, and none settles the payment."""
    reply = await adapter_for(ScriptedProvider.always(tpp_error(status, code))).lookup(
        make_handle()
    )
    assert reply.failure_kind is kind
    assert reply.provider_code == code
    assert not is_conclusive_lookup(reply)


async def test_patc_is_requires_action_not_pending() -> None:
    """PATC: a multi-level SCA with some authorisations still missing, so nothing is
    authorised (the ASPSP rejects it if they do not come): as RCVD, not accepted-to-settle."""
    response = httpx.Response(200, json={"transactionStatus": "PATC"})
    reply = await adapter_for(ScriptedProvider.always(response)).lookup(make_handle())
    assert reply == ProviderReply.requires_action(
        PAYMENT_ID, None, provider_code="PATC", http_status=200
    )


async def test_patc_with_an_sca_link_hands_the_link_back() -> None:
    """The next authorisation's link, when the answer carries one, is the customer's action."""
    reply = await adapter_for(
        ScriptedProvider.always(initiated("PATC", {"scaRedirect": "https://bank.example/sca"}))
    ).pay(make_charge(), idempotency_key="k")
    assert reply == ProviderReply.requires_action(
        PAYMENT_ID, "https://bank.example/sca", provider_code="scaRedirect", http_status=201
    )


# --- cancellation -----------------------------------------------------------------------


async def test_void_204_is_cancelled_with_the_key_as_request_id() -> None:
    """DELETE .../{paymentId} answered 204: cancelled; the key is sent as X-Request-ID."""
    recorder = ScriptedProvider.always(httpx.Response(204))
    adapter = adapter_for(recorder)
    reply = await adapter.void(make_handle(), idempotency_key="shop:order-17:void")
    assert reply == ProviderReply.succeeded(PAYMENT_ID, provider_code="CANC", http_status=204)
    request = recorder.last
    assert request.method == "DELETE"
    assert request.url.path == f"{PAYMENTS}/{PAYMENT_ID}"
    await adapter.void(make_handle(), idempotency_key="shop:order-17:void")
    assert recorder.requests[0].headers["X-Request-ID"] == request.headers["X-Request-ID"]
    assert uuid.UUID(request.headers["X-Request-ID"]).version == 5


async def test_void_202_with_start_authorisation_is_requires_action() -> None:
    """The cancellation needs its own SCA: requires_action with the authorisation link."""
    body = {
        "transactionStatus": "ACTC",
        "_links": {"startAuthorisation": {"href": "/v1/payments/x/cancellation-authorisations"}},
    }
    reply = await adapter_for(ScriptedProvider.always(httpx.Response(202, json=body))).void(
        make_handle(), idempotency_key="k"
    )
    assert reply == ProviderReply.requires_action(
        PAYMENT_ID,
        "/v1/payments/x/cancellation-authorisations",
        provider_code="startAuthorisation",
        http_status=202,
    )


@pytest.mark.parametrize(("status", "outcome"), [("CANC", Outcome.SUCCEEDED), ("ACTC", None)])
async def test_void_202_without_links_follows_the_transaction_status(
    status: str, outcome: Outcome | None
) -> None:
    """202 CANC is done; any other status without an SCA link is a cancellation in progress."""
    response = httpx.Response(202, json={"transactionStatus": status})
    reply = await adapter_for(ScriptedProvider.always(response)).void(
        make_handle(), idempotency_key="k"
    )
    assert reply.outcome is (outcome or Outcome.PENDING)
    assert reply.provider_code == status


@pytest.mark.parametrize(
    ("status", "code"), [(405, "CANCELLATION_INVALID"), (409, "STATUS_INVALID")]
)
async def test_void_of_an_executed_payment_is_a_definite_failure(status: int, code: str) -> None:
    """An executed transfer cannot be cancelled; a 409 here is the payment's state."""
    reply = await adapter_for(ScriptedProvider.always(tpp_error(status, code))).void(
        make_handle(), idempotency_key="k"
    )
    assert reply.failure_kind is FailureKind.INVALID_REQUEST
    assert reply.provider_code == code


async def test_void_without_payment_id_fails_without_http_call() -> None:
    """Nothing addresses the payment at the ASPSP, so nothing is sent."""
    recorder = ScriptedProvider.always(httpx.Response(204))
    reply = await adapter_for(recorder).void(make_handle(None), idempotency_key="k")
    assert reply.failure_kind is FailureKind.INVALID_REQUEST
    assert reply.provider_code == "payment_id_missing"
    assert recorder.requests == []


@pytest.mark.parametrize(("code", "kind"), sorted(FAILURE_BY_CODE.items()))
async def test_cancellation_errors_map_through_the_initiation_table(
    code: str, kind: FailureKind
) -> None:
    """Only a status request has its own table: a cancellation's codes are unchanged."""
    reply = await adapter_for(ScriptedProvider.always(tpp_error(400, code))).void(
        make_handle(), idempotency_key="k"
    )
    assert reply.failure_kind is kind
    assert reply.provider_code == code


async def test_cancel_mandate_deletes_the_standing_order() -> None:
    """A mandate is a periodic payment: DELETE /v1/periodic-payments/{product}/{id}."""
    recorder = ScriptedProvider.always(httpx.Response(204))
    reply = await adapter_for(recorder).cancel_mandate("so-42", idempotency_key="m:1")
    assert reply.outcome is Outcome.SUCCEEDED
    assert recorder.last.method == "DELETE"
    assert recorder.last.url.path == "/psd2/v1/periodic-payments/sepa-credit-transfers/so-42"
    assert recorder.last.headers["X-Request-ID"] == str(
        uuid.UUID(recorder.last.headers["X-Request-ID"])
    )


async def test_cancel_503_is_busy_and_500_unknown() -> None:
    """Cancellation follows the same 5xx split as initiation."""
    busy = await adapter_for(ScriptedProvider.always(httpx.Response(503))).void(
        make_handle(), idempotency_key="k"
    )
    unknown = await adapter_for(ScriptedProvider.always(httpx.Response(500))).void(
        make_handle(), idempotency_key="k"
    )
    assert busy.failure_kind is FailureKind.BUSY
    assert unknown.outcome is Outcome.UNKNOWN


# --- not PIS operations -----------------------------------------------------------------


async def test_capture_is_unsupported_without_http_call() -> None:
    """A credit transfer is final once authorised: there is nothing to capture."""
    recorder = ScriptedProvider.always(httpx.Response(204))
    reply = await adapter_for(recorder).capture(
        make_handle(), Money(minor_units=1050, currency="EUR"), idempotency_key="k"
    )
    assert reply.outcome is Outcome.FAILED
    assert reply.failure_kind is FailureKind.INVALID_REQUEST
    assert reply.provider_code == "capture_unsupported"
    assert recorder.requests == []


async def test_refund_is_unsupported_without_http_call() -> None:
    """Refunding a credit transfer is a new transfer from the merchant, outside PIS."""
    recorder = ScriptedProvider.always(httpx.Response(204))
    reply = await adapter_for(recorder).refund(
        make_handle(), Money(minor_units=100, currency="EUR"), idempotency_key="k", reason=None
    )
    assert reply.failure_kind is FailureKind.INVALID_REQUEST
    assert reply.provider_code == "refund_unsupported"
    assert recorder.requests == []


# --- transport errors -------------------------------------------------------------------


OPERATIONS: dict[str, Callable[[BerlinGroupAdapter], Awaitable[ProviderReply]]] = {
    "pay": lambda adapter: adapter.pay(make_charge(), idempotency_key="k"),
    "lookup": lambda adapter: adapter.lookup(make_handle()),
    "void": lambda adapter: adapter.void(make_handle(), idempotency_key="k"),
    "cancel_mandate": lambda adapter: adapter.cancel_mandate("so-1", idempotency_key="k"),
}


@pytest.mark.parametrize("operation", sorted(OPERATIONS))
@pytest.mark.parametrize(
    "error",
    [
        httpx.ConnectTimeout("connect timed out"),
        httpx.ConnectError("refused"),
        httpx.ReadTimeout("read timed out"),
        httpx.RemoteProtocolError("reset mid-response"),
    ],
    ids=lambda error: type(error).__name__,
)
async def test_transport_errors_propagate_for_the_router_to_map(
    operation: str, error: httpx.TransportError
) -> None:
    """The adapter never decides what a timeout means: the router's table does."""
    adapter = adapter_for(ScriptedProvider.always(error))
    with pytest.raises(type(error)):
        await OPERATIONS[operation](adapter)


# --- construction and secrets -----------------------------------------------------------


def test_adapter_satisfies_the_protocol_with_default_capabilities() -> None:
    """Bank transfers in euro by default; a generous key length since keys become UUIDs."""
    adapter = adapter_for(ScriptedProvider.always(httpx.Response(204)))
    assert isinstance(adapter, Adapter)
    assert adapter.capabilities == DEFAULT_CAPABILITIES
    assert adapter.capabilities.methods == {PaymentMethod.BANK_TRANSFER}
    assert adapter.idempotency_key_max_length >= 255


def test_given_capabilities_are_used() -> None:
    """Config may narrow what the router sends here."""
    narrow = Capabilities(
        methods=frozenset({PaymentMethod.BANK_TRANSFER}), countries=frozenset({"DE"})
    )
    adapter = BerlinGroupAdapter.from_options(name="bg", capabilities=narrow, options=OPTIONS)
    assert adapter.capabilities is narrow


def test_no_secret_in_repr_or_str_of_adapter_or_options() -> None:
    """Token, creditor IBAN and key password stay out of repr() and str()."""
    parsed = BerlinGroupOptions.model_validate({**OPTIONS, "access_token": TOKEN})
    adapter = adapter_for(ScriptedProvider.always(httpx.Response(204)), access_token=TOKEN)
    texts = [repr(adapter), str(adapter), repr(parsed), str(parsed)]
    for text in texts:
        assert TOKEN not in text
        assert CREDITOR_IBAN not in text


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({**OPTIONS, "creditor_iban": "DE02100100109307118604"}, "creditor_iban"),
        ({**OPTIONS, "creditor_name": "x" * 71}, "creditor_name"),
        ({**OPTIONS, "psu_ip_address": "300.1.1.1"}, "psu_ip_address"),
        ({**OPTIONS, "payment_product": "target-2-payments"}, "payment_product"),
        ({**OPTIONS, "acces_token": TOKEN}, "acces_token"),
        ({**OPTIONS, "client_key_password": KEY_PASSWORD}, "client_certificate_file"),
        ({k: v for k, v in OPTIONS.items() if k != "base_url"}, "base_url"),
    ],
)
def test_bad_options_raise_configuration_error_naming_the_field(
    options: dict[str, object], field: str
) -> None:
    """The message names the field and never echoes a secret or an IBAN."""
    with pytest.raises(ConfigurationError) as raised:
        BerlinGroupAdapter.from_options(name="bg", capabilities=None, options=options)
    message = str(raised.value)
    assert field in message
    for secret in (TOKEN, KEY_PASSWORD, "DE02100100109307118604", CREDITOR_IBAN):
        assert secret not in message


@pytest.fixture(scope="module")
def qwac(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A throw-away self-signed certificate and encrypted key, standing in for a QWAC."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("openssl not installed: cannot make a test certificate")
    folder = tmp_path_factory.mktemp("qwac")
    cert, key = folder / "cert.pem", folder / "key.pem"
    command = [openssl, "req", "-x509", "-newkey", "rsa:2048", "-days", "1"]
    command += ["-keyout", str(key), "-out", str(cert), "-subj", "/CN=tpp.example"]
    subprocess.run(
        [*command, "-passout", f"pass:{KEY_PASSWORD}"],
        check=True,
        capture_output=True,
    )
    return cert, key


async def test_qwac_options_build_a_mutual_tls_client(qwac: tuple[Path, Path]) -> None:
    """Certificate, key and password load; the adapter is usable and closes cleanly; its own
    transport keeps the pool limits every HTTP adapter has (few idle connections, 2 s)."""
    cert, key = qwac
    options = {
        **OPTIONS,
        "client_certificate_file": str(cert),
        "client_key_file": str(key),
        "client_key_password": KEY_PASSWORD,
        "max_idle_connections": 3,
    }
    adapter = BerlinGroupAdapter.from_options(name="bg", capabilities=None, options=options)
    assert KEY_PASSWORD not in repr(adapter)
    pool = adapter._client._transport._pool  # type: ignore[attr-defined]  # httpcore's pool
    assert (pool._max_keepalive_connections, pool._keepalive_expiry) == (3, 2.0)
    await adapter.aclose()


def test_qwac_with_wrong_password_is_a_configuration_error(qwac: tuple[Path, Path]) -> None:
    """A key that cannot be loaded fails at startup, naming the field, never the password."""
    cert, key = qwac
    options = {
        **OPTIONS,
        "client_certificate_file": str(cert),
        "client_key_file": str(key),
        "client_key_password": "wrong-password-secret",
    }
    with pytest.raises(ConfigurationError, match="client_certificate_file") as raised:
        BerlinGroupAdapter.from_options(name="bg", capabilities=None, options=options)
    assert "wrong-password-secret" not in str(raised.value)


async def test_aclose_closes_the_client() -> None:
    """After aclose the connection pool is released."""
    adapter = adapter_for(ScriptedProvider.always(httpx.Response(204)))
    await adapter.aclose()
    with pytest.raises(RuntimeError):
        await adapter.lookup(make_handle())
