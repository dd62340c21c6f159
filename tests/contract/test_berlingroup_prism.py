"""Contract: every request the Berlin Group adapter makes is valid for the official spec.

Prism serves the NextGenPSD2 1.3.11 document (adorsys/xs2a), validates each request the real
adapter sends and answers with the spec's examples; the adapter must read those into sensible
replies. Prism keeps no state and ignores X-Request-ID: this proves shapes, not behaviour.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from payrouter import BankTransferSource, Money, PaymentMethod
from payrouter.provider import Charge, FailureKind, Outcome, PaymentHandle, ProviderReply
from payrouter_adapters.berlingroup import BerlinGroupAdapter
from tests.peers import prism

pytestmark = pytest.mark.slow

OPTIONS: dict[str, object] = {
    "creditor_iban": "DE02100100109307118603",
    "creditor_name": "Example Shop GmbH",
}


@dataclass(frozen=True)
class Exchange:
    method: str
    path: str
    status: int
    violations: str


class PrismTransport(httpx.AsyncBaseTransport):
    """Sends through a real connection, optionally with `Prefer`, and records what Prism said."""

    def __init__(self, prefer: str | None = None) -> None:
        self.prefer = prefer
        self.exchanges: list[Exchange] = []
        self._inner = httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self.prefer is not None:
            request.headers["Prefer"] = self.prefer
        response = await self._inner.handle_async_request(request)
        self.exchanges.append(
            Exchange(
                request.method,
                request.url.path,
                response.status_code,
                response.headers.get("sl-violations", "[]"),
            )
        )
        return response

    async def aclose(self) -> None:
        await self._inner.aclose()

    def assert_requests_valid(self, expected_calls: int = 1) -> None:
        """No violation located in the request; a request violation is a wrong shape."""
        assert len(self.exchanges) == expected_calls
        for exchange in self.exchanges:
            request_violations = [
                violation
                for violation in json.loads(exchange.violations)
                if violation.get("location", [""])[0] == "request"
            ]
            assert not request_violations, (
                f"Prism rejected {exchange.method} {exchange.path} ({exchange.status}): "
                f"sl-violations={exchange.violations}"
            )


@pytest.fixture(scope="module")
def prism_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with prism("berlingroup", tmp_path_factory.mktemp("prism-berlingroup")) as url:
        yield url


OPERATIONS: dict[str, Callable[[BerlinGroupAdapter], Awaitable[ProviderReply]]] = {
    "pay": lambda adapter: adapter.pay(charge(), idempotency_key="shop:order-17:1"),
    "lookup": lambda adapter: adapter.lookup(handle()),
    "void": lambda adapter: adapter.void(handle(), idempotency_key="shop:order-17:void"),
    "cancel_mandate": lambda adapter: adapter.cancel_mandate("so-42", idempotency_key="m:1"),
    "capture": lambda adapter: adapter.capture(handle(), handle().amount, idempotency_key="c"),
    "refund": lambda adapter: adapter.refund(
        handle(), handle().amount, idempotency_key="r", reason=None
    ),
}


async def call(
    url: str, transport: PrismTransport, operation: str, **options: object
) -> ProviderReply:
    """Run one adapter operation against Prism through `transport`."""
    adapter = BerlinGroupAdapter.from_options(
        name="bg-prism",
        capabilities=None,
        options={"base_url": url, **OPTIONS, **options},
        transport=transport,
    )
    try:
        return await OPERATIONS[operation](adapter)
    finally:
        await adapter.aclose()


def charge(**overrides: object) -> Charge:
    fields: dict[str, object] = {
        "reference": "shop:order-17:1",
        "order_id": "order-17",
        "amount": Money(minor_units=1050, currency="EUR"),
        "source": BankTransferSource(iban="DE40100100103307118608"),
        "customer_country": "DE",
        "return_url": "https://shop.example/return/order-17",
    }
    fields.update(overrides)
    return Charge(**fields)  # type: ignore[arg-type]


def handle() -> PaymentHandle:
    return PaymentHandle(
        reference="shop:order-17:1",
        order_id="order-17",
        method=PaymentMethod.BANK_TRANSFER,
        amount=Money(minor_units=1050, currency="EUR"),
        provider_reference="1234-wertiq-983",
    )


@pytest.mark.parametrize(
    "options",
    [
        {},
        {"payment_product": "instant-sepa-credit-transfers"},
        {"access_token": "oauth-token", "psu_ip_address": "192.0.2.10"},
        {"redirect_preferred": False},
    ],
    ids=["sct", "instant", "bearer-and-ip", "no-redirect"],
)
async def test_pay_request_is_valid_and_redirect_example_is_requires_action(
    prism_url: str, options: dict[str, object]
) -> None:
    """Initiation shapes pass; the first 201 example (redirect) reads as requires_action."""
    transport = PrismTransport()
    reply = await call(prism_url, transport, "pay", **options)
    transport.assert_requests_valid()
    assert reply.outcome is Outcome.REQUIRES_ACTION
    assert reply.provider_code == "scaRedirect"
    assert reply.action_url == "https://www.testbank.com/asdfasdfasdf"
    assert reply.provider_reference == "1234-wertiq-983"


async def test_pay_with_customer_ip_in_metadata_and_no_return_url_is_valid(
    prism_url: str,
) -> None:
    """The optional TPP-Redirect-URI may be absent; a per-charge PSU IP is sent instead."""
    transport = PrismTransport()
    adapter = BerlinGroupAdapter.from_options(
        name="bg-prism",
        capabilities=None,
        options={"base_url": prism_url, **OPTIONS},
        transport=transport,
    )
    try:
        payment = charge(return_url=None, metadata={"psu_ip_address": "198.51.100.7"})
        reply = await adapter.pay(payment, idempotency_key="k")
    finally:
        await adapter.aclose()
    transport.assert_requests_valid()
    assert reply.outcome is Outcome.REQUIRES_ACTION


_CASE = "Response in case of "
INITIATION_EXAMPLES = {
    "explicit": (
        f"{_CASE}a redirect where an explicit authorisation start is needed",
        "startAuthorisation",
    ),
    "oauth2": (
        f"{_CASE}an OAuth2 SCA approach approach with implicitly creating an authorisation "
        "sub-resource",
        "scaOAuth",
    ),
    "decoupled": (
        f"{_CASE}the decoupled approach with explicit start of authorisation needed (will be "
        "done with the update PSU identification function)",
        "startAuthorisationWithPsuIdentification",
    ),
    "embedded": (
        f"{_CASE}the embedded approach with explicit start of authorisation",
        "startAuthorisationWithPsuAuthentication",
    ),
}
"""The 201 examples' names in the spec, with the `_links` entry each one carries."""


@pytest.mark.parametrize(
    ("example", "link"), list(INITIATION_EXAMPLES.values()), ids=list(INITIATION_EXAMPLES)
)
async def test_every_initiation_example_is_requires_action_naming_its_link(
    prism_url: str, example: str, link: str
) -> None:
    """Each SCA approach of the spec's examples is read as requires_action, never a failure."""
    transport = PrismTransport(prefer=f"example={example}")
    reply = await call(prism_url, transport, "pay")
    transport.assert_requests_valid()
    assert reply.outcome is Outcome.REQUIRES_ACTION
    assert reply.provider_code == link


async def test_lookup_request_is_valid_and_status_example_is_pending(prism_url: str) -> None:
    """GET status passes; ACCP (accepted, not settled) reads as pending."""
    transport = PrismTransport()
    reply = await call(prism_url, transport, "lookup")
    transport.assert_requests_valid()
    assert reply == ProviderReply.pending("1234-wertiq-983", provider_code="ACCP", http_status=200)


@pytest.mark.parametrize("operation", ["void", "cancel_mandate"])
async def test_cancellation_request_is_valid_and_202_example_needs_sca(
    prism_url: str, operation: str
) -> None:
    """DELETE passes; the 202 example with startAuthorisation reads as requires_action."""
    transport = PrismTransport()
    reply = await call(prism_url, transport, operation)
    transport.assert_requests_valid()
    assert reply.outcome is Outcome.REQUIRES_ACTION
    assert reply.provider_code == "startAuthorisation"


@pytest.mark.parametrize("operation", ["void", "cancel_mandate"])
async def test_cancellation_204_is_succeeded(prism_url: str, operation: str) -> None:
    """A 204 cancellation is done."""
    transport = PrismTransport(prefer="code=204")
    reply = await call(prism_url, transport, operation)
    transport.assert_requests_valid()
    assert reply.outcome is Outcome.SUCCEEDED


@pytest.mark.parametrize("operation", ["capture", "refund"])
async def test_operations_outside_pis_send_nothing(prism_url: str, operation: str) -> None:
    """Capture and refund do not exist in PIS: an honest failure and no request at all."""
    transport = PrismTransport()
    reply = await call(prism_url, transport, operation)
    transport.assert_requests_valid(expected_calls=0)
    assert reply.failure_kind is FailureKind.INVALID_REQUEST


@pytest.mark.parametrize(
    ("operation", "status", "outcome", "kind"),
    [
        ("pay", 400, Outcome.FAILED, FailureKind.INVALID_REQUEST),
        ("pay", 401, Outcome.FAILED, FailureKind.CREDENTIALS_REJECTED),
        ("pay", 403, Outcome.FAILED, FailureKind.CREDENTIALS_REJECTED),
        ("pay", 405, Outcome.FAILED, FailureKind.INVALID_REQUEST),
        ("pay", 409, Outcome.UNKNOWN, FailureKind.UNKNOWN_OUTCOME),
        ("pay", 429, Outcome.FAILED, FailureKind.RATE_LIMITED),
        ("pay", 500, Outcome.UNKNOWN, FailureKind.UNKNOWN_OUTCOME),
        ("pay", 503, Outcome.FAILED, FailureKind.BUSY),
        ("lookup", 404, Outcome.FAILED, FailureKind.INVALID_REQUEST),
        ("lookup", 503, Outcome.FAILED, FailureKind.BUSY),
        ("void", 409, Outcome.FAILED, FailureKind.INVALID_REQUEST),
        ("void", 500, Outcome.UNKNOWN, FailureKind.UNKNOWN_OUTCOME),
    ],
)
async def test_spec_error_responses_map_conservatively(
    prism_url: str, operation: str, status: int, outcome: Outcome, kind: FailureKind
) -> None:
    """The spec's error bodies (placeholder codes, a 409 array) still map by HTTP status."""
    transport = PrismTransport(prefer=f"code={status}")
    reply = await call(prism_url, transport, operation)
    transport.assert_requests_valid()
    assert transport.exchanges[0].status == status
    assert (reply.outcome, reply.failure_kind) == (outcome, kind)


async def test_prism_rejects_a_malformed_request(prism_url: str) -> None:
    """A non-UUID X-Request-ID is refused: the validation above is not vacuous."""
    async with httpx.AsyncClient(base_url=prism_url) as client:
        response = await client.post(
            "/v1/payments/sepa-credit-transfers",
            headers={"X-Request-ID": "not-a-uuid", "PSU-IP-Address": "192.0.2.1"},
            json={"instructedAmount": {"currency": "EUR", "amount": "1.00"}},
        )
    assert response.status_code == 400
    assert '"request"' in response.headers.get("sl-violations", "")


async def test_the_account_transactions_request_is_valid_and_its_example_is_read(
    prism_url: str,
) -> None:
    """Records reconciliation's AIS read: a valid request (Consent-ID, X-Request-ID, dates,
    bookingStatus) and the spec's example report read into records."""
    transport = PrismTransport()
    adapter = BerlinGroupAdapter.from_options(
        name="bg-prism",
        capabilities=None,
        options={
            "base_url": prism_url,
            **OPTIONS,
            "account_id": "3dc3d5b3-7023-4848-9853-f5400a64e80f",
            "consent_id": "consent-1",
        },
        transport=transport,
    )
    since = datetime(2026, 11, 1, tzinfo=UTC)
    try:
        records = [r async for r in adapter.list_payments(since, since + timedelta(days=1))]
    finally:
        await adapter.aclose()

    transport.assert_requests_valid(expected_calls=1)
    assert transport.exchanges[0].status == 200
    for record in records:
        assert record.amount.minor_units > 0
        assert record.outcome in (Outcome.SUCCEEDED, Outcome.PENDING)
