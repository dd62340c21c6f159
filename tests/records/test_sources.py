"""Each provider's records source against its stand-in, and the stand-ins' answers against
the providers' official OpenAPI documents where one exists."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from functools import cache

import httpx
import pytest
import pytest_asyncio
from openapi_core import Config, OpenAPI
from openapi_core.testing import MockRequest, MockResponse
from pydantic import SecretStr

from payrouter import (
    BankTransferSource,
    CardSource,
    ConfigurationError,
    Money,
    PaymentMethod,
    WalletSource,
)
from payrouter.provider import Charge, Outcome, PaymentHandle, RecordsNotReadyError
from payrouter_adapters.adyen import AdyenAdapter
from payrouter_adapters.berlingroup import BerlinGroupAdapter
from payrouter_adapters.paypal import PayPalAdapter
from payrouter_lab.sandbox import Sandbox, serve
from tests.peers import SPECS_DIR
from tests.sandbox.kit import IBAN, issue_paypal_vault_ids, issue_stored_cards
from tests.sandbox.test_schemas import Exchange, Recorder


@pytest_asyncio.fixture
async def sandbox() -> AsyncIterator[Sandbox]:
    async with serve(seed=23) as running:
        async with httpx.AsyncClient(base_url=f"{running.admin_url}/_admin") as admin:
            await issue_stored_cards(admin)  # the stored cards the tests charge at Adyen
            await issue_paypal_vault_ids(admin)  # and the PayPal wallets vaulted at PayPal
        yield running


@cache
def official(path: str) -> OpenAPI:
    return OpenAPI.from_dict(json.loads((SPECS_DIR / path).read_text()), config=Config())


def conforms(path: str, host: str, exchanges: list[Exchange], base: str = "") -> int:
    """Validate each exchange's response against the official document; how many."""
    if not (SPECS_DIR / path).is_file():
        pytest.skip(f"{SPECS_DIR / path} absent (set PAYROUTER_SPECS_DIR)")
    for exchange in exchanges:
        request = MockRequest(
            host, exchange.method.lower(), base + exchange.path, args=exchange.query
        )
        response = MockResponse(
            exchange.body,
            status_code=exchange.status,
            content_type=exchange.content_type,
            headers=exchange.headers,
        )
        official(path).validate_response(request, response)
    return len(exchanges)


def paypal(sandbox: Sandbox, transport: httpx.AsyncBaseTransport | None = None) -> PayPalAdapter:
    return PayPalAdapter.from_options(
        name="paypal",
        capabilities=None,
        options={"base_url": sandbox.urls["paypal"], "client_id": "id", "client_secret": "s"},
        transport=transport,
    )


def vaulted(order_id: str) -> Charge:
    return Charge(
        reference=f"ref-{order_id}",
        order_id=order_id,
        amount=Money.of("10.50", "EUR"),
        source=WalletSource(wallet="paypal", account=SecretStr("vault-1")),
        customer_country="DE",
    )


async def test_paypal_transaction_search_gives_fees_and_refunds_in_paypals_format(
    sandbox: Sandbox,
) -> None:
    """Captures with PayPal's fee, a refund summed into its capture, and every search
    answer valid against PayPal's Transaction Search v1 document."""
    recorder = Recorder()
    adapter = paypal(sandbox, recorder)
    since = datetime.now(UTC) - timedelta(minutes=1)
    first = await adapter.pay(vaulted("order-1"), idempotency_key="k1")
    await adapter.pay(vaulted("order-2"), idempotency_key="k2")
    handle = PaymentHandle(
        "ref-order-1",
        "order-1",
        PaymentMethod.WALLET,
        Money.of("10.50", "EUR"),
        first.provider_reference,
    )
    await adapter.refund(handle, Money.of("4.00", "EUR"), idempotency_key="r1", reason=None)
    records = {r.order_id: r async for r in adapter.list_payments(since, datetime.now(UTC))}
    await adapter.aclose()

    searches = [e for e in recorder.exchanges if e.path == "/v1/reporting/transactions"]
    assert set(records) == {"order-1", "order-2"}
    one = records["order-1"]
    assert one.reference == "ref-order-1"
    assert one.outcome is Outcome.SUCCEEDED
    assert (one.amount, one.captured, one.refunded) == (Money.of("10.50", "EUR"), 1050, 400)
    assert one.fee == 61  # 2.49 % of 10.50 EUR is 26 cents, plus 0.35 EUR
    assert f":capture:{one.provider_reference}" in (first.provider_reference or "")
    # The document's server URL already ends in /v1/reporting, which its paths repeat.
    document, server = "paypal/reporting_transactions_v1.json", "https://api-m.paypal.com"
    assert conforms(document, server, searches, base="/v1/reporting") == 1


async def test_paypal_is_searched_31_days_at_a_time_as_paypal_requires(sandbox: Sandbox) -> None:
    recorder = Recorder()
    adapter = paypal(sandbox, recorder)
    now = datetime.now(UTC) - timedelta(seconds=1)
    found = [r async for r in adapter.list_payments(now - timedelta(days=40), now)]
    await adapter.aclose()
    async with httpx.AsyncClient(base_url=sandbox.urls["paypal"]) as raw:
        too_long = await raw.get(
            "/v1/reporting/transactions",
            params={"start_date": "2026-01-01T00:00:00Z", "end_date": "2026-03-01T00:00:00Z"},
            headers={"Authorization": "Bearer x"},
        )

    searches = [e for e in recorder.exchanges if e.path == "/v1/reporting/transactions"]
    assert found == []
    assert len(searches) == 2
    assert too_long.status_code == 400
    assert "31 days" in too_long.text


async def test_paypal_records_not_yet_refreshed_are_late_not_missing(sandbox: Sandbox) -> None:
    """PayPal lags up to three hours: a period ending after its last refresh is not ready."""
    adapter = paypal(sandbox)
    now = datetime.now(UTC)
    with pytest.raises(RecordsNotReadyError, match="last refreshed"):
        [r async for r in adapter.list_payments(now - timedelta(hours=1), now + timedelta(hours=1))]
    await adapter.aclose()
    assert adapter.records_delay == timedelta(hours=3)


def adyen(sandbox: Sandbox, transport: httpx.AsyncBaseTransport | None = None) -> AdyenAdapter:
    return AdyenAdapter.from_options(
        name="adyen",
        capabilities=None,
        options={
            "base_url": sandbox.urls["adyen"],
            "api_key": "key",
            "merchant_account": "ShopECOM",
            "return_url": "https://shop.example/return",
        },
        transport=transport,
    )


async def test_adyen_accounting_report_folds_each_payments_rows(sandbox: Sandbox) -> None:
    """The day's CSV from the Customer Area's download path: authorised amount, capture,
    fee from the Settled row, refunds; tomorrow's report does not exist yet (late)."""
    recorder = Recorder()
    adapter = adyen(sandbox, recorder)
    card = CardSource(token=SecretStr("stored_card_1"))
    charge = Charge(
        reference="ref-a1",
        order_id="a1",
        amount=Money.of("10.50", "EUR"),
        source=card,
        customer_country="DE",
        customer_id="shopper-1",
    )
    since = datetime.now(UTC) - timedelta(minutes=1)
    paid = await adapter.pay(charge, idempotency_key="k1")
    handle = PaymentHandle(
        "ref-a1", "a1", PaymentMethod.CARD, Money.of("10.50", "EUR"), paid.provider_reference
    )
    await adapter.refund(handle, Money.of("2.50", "EUR"), idempotency_key="r1", reason=None)
    [record] = [r async for r in adapter.list_payments(since, datetime.now(UTC))]
    tomorrow = datetime.now(UTC) + timedelta(days=1)
    with pytest.raises(RecordsNotReadyError, match="not published yet"):
        [r async for r in adapter.list_payments(tomorrow, tomorrow + timedelta(hours=1))]
    await adapter.aclose()

    [download] = [e for e in recorder.exchanges if "/reports/download/" in e.path][:1]
    assert download.path.startswith("/reports/download/MerchantAccount/ShopECOM/payments_acc")
    assert download.content_type == "text/csv"
    assert record.provider_reference == paid.provider_reference
    assert record.reference == "ref-a1"
    assert (record.amount, record.captured, record.refunded) == (
        Money.of("10.50", "EUR"),
        1050,
        250,
    )
    assert record.fee == 17  # 0.6 % of 10.50 EUR is 6 cents, plus 0.11 EUR
    assert adapter.records_delay >= timedelta(days=1)


async def test_the_banks_account_report_is_valid_nextgenpsd2(sandbox: Sandbox) -> None:
    """A settled transfer is a booked credit carrying our endToEndId and the order id; the
    stand-in's report validates against NextGenPSD2 1.3.11; without consent it is refused."""
    recorder = Recorder()
    options = {
        "base_url": sandbox.urls["berlingroup"],
        "access_token": "token",
        "creditor_iban": "DE02100100109307118603",
        "creditor_name": "Example Shop GmbH",
    }
    bank = BerlinGroupAdapter.from_options(
        name="bank",
        capabilities=None,
        options={**options, "account_id": "merchant", "consent_id": "c1"},
        transport=recorder,
    )
    unconsented = BerlinGroupAdapter.from_options(name="bank", capabilities=None, options=options)
    source = BankTransferSource(iban=IBAN, holder_name="Erika Mustermann")
    charge = Charge(
        reference="ref-b1",
        order_id="b1",
        amount=Money.of("10.50", "EUR"),
        source=source,
        customer_country="DE",
        return_url="https://shop.example/back",
    )
    since = datetime.now(UTC) - timedelta(minutes=1)
    started = await bank.pay(charge, idempotency_key="k1")
    async with httpx.AsyncClient() as browser:
        assert (await browser.get(started.action_url or "")).status_code == 200
    [record] = [r async for r in bank.list_payments(since, datetime.now(UTC))]
    with pytest.raises(ConfigurationError, match="account_id and consent_id"):
        unconsented.list_payments(since, datetime.now(UTC))
    await bank.aclose()
    await unconsented.aclose()

    reports = [e for e in recorder.exchanges if e.path.endswith("/transactions")]
    assert record.reference == bank.records_reference("ref-b1") == "ref-b1"
    assert record.order_id == "b1"
    assert record.provider_reference == f"tx-{started.provider_reference}"
    assert (record.outcome, record.captured, record.fee) == (Outcome.SUCCEEDED, 1050, None)
    document, server = "berlingroup/psd2-api_v1.3.11.json", "https://api.testbank.com"
    assert conforms(document, server, reports, base="/psd2") == 1
