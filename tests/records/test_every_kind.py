"""A period with one planted difference of every kind, at every provider, reported exactly.

Each provider's real adapter reads its records source from the sandbox stand-in, which
serves them in the provider's own format from the books of money it actually moved. One
order per kind is paid through the router, then the difference is planted where it happens
in life (see `tests.records.kit`); the comparison must find exactly those, with both
references and a suggested action, keep them open in the ledger until resolved or
acknowledged, and show them in `payrouter status` and the metrics.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
import pytest_asyncio
from pydantic import SecretStr

from payrouter import (
    BankTransferSource,
    CardSource,
    MismatchKind,
    Money,
    PaymentRequest,
    PaymentResult,
    PaymentStatus,
    Router,
    WalletSource,
)
from payrouter._paying._fees import FeeRule
from payrouter._paying._routing import ProviderRouting, RoutingPolicy
from payrouter.provider import Adapter, RecordsSource
from payrouter_adapters.adyen import AdyenAdapter
from payrouter_adapters.berlingroup import BerlinGroupAdapter
from payrouter_adapters.paypal import PayPalAdapter
from payrouter_adapters.stripe import StripeAdapter
from payrouter_lab.sandbox import Sandbox, serve
from tests.records.kit import edit, plant_fee, plant_payment, plant_refund
from tests.sandbox.kit import IBAN, issue_paypal_vault_ids, issue_stored_cards


@pytest_asyncio.fixture
async def sandbox() -> AsyncIterator[Sandbox]:
    async with serve(seed=19) as running:
        async with httpx.AsyncClient(base_url=f"{running.admin_url}/_admin") as admin:
            await issue_stored_cards(admin)  # the stored cards the tests charge at Adyen
            await issue_paypal_vault_ids(admin)  # and the PayPal wallets vaulted at PayPal
        yield running


@dataclass(frozen=True)
class Provider:
    name: str
    adapter: Callable[[Sandbox], Adapter]
    request: Callable[[str], PaymentRequest]
    price: FeeRule | None
    """The stand-in's list price as the merchant's fee rule; None: no fees to check."""
    records_reference: Callable[[str], str] = str
    """The ledger's provider reference → the one the provider's records use."""


def transfer(order_id: str) -> PaymentRequest:
    return PaymentRequest(
        order_id=order_id,
        amount=Money.of("10.50", "EUR"),
        sources=[BankTransferSource(iban=IBAN, holder_name="Erika Mustermann")],
        customer_country="DE",
        customer_id="shopper-1",
    )


def stored_card(order_id: str) -> PaymentRequest:
    return card(order_id, "stored_card_1", provider="adyen")


def card(order_id: str, token: str = "pm_card_visa", provider: str | None = None) -> PaymentRequest:
    return PaymentRequest(
        order_id=order_id,
        amount=Money.of("10.50", "EUR"),
        sources=[CardSource(token=SecretStr(token), provider=provider)],
        customer_country="DE",
        customer_id="shopper-1",
    )


def wallet(order_id: str) -> PaymentRequest:
    return PaymentRequest(
        order_id=order_id,
        amount=Money.of("10.50", "EUR"),
        sources=[WalletSource(wallet="paypal", account=SecretStr("vault-1"))],
        customer_country="DE",
        customer_id="shopper-1",
    )


PROVIDERS = [
    Provider(
        "stripe",
        lambda sandbox: StripeAdapter.from_options(
            name="stripe",
            capabilities=None,
            options={"base_url": sandbox.urls["stripe"], "api_key": "sk_test_x"},
        ),
        card,
        FeeRule(percent=Decimal("1.5"), fixed_minor=25),
    ),
    Provider(
        "paypal",
        lambda sandbox: PayPalAdapter.from_options(
            name="paypal",
            capabilities=None,
            options={"base_url": sandbox.urls["paypal"], "client_id": "id", "client_secret": "s"},
        ),
        wallet,
        FeeRule(percent=Decimal("2.49"), fixed_minor=35),
        lambda reference: reference.rsplit(":", 1)[-1],  # ORDER:capture:CAPTURE
    ),
    Provider(
        "adyen",
        lambda sandbox: AdyenAdapter.from_options(
            name="adyen",
            capabilities=None,
            options={
                "base_url": sandbox.urls["adyen"],
                "api_key": "key",
                "merchant_account": "ShopECOM",
                "return_url": "https://shop.example/return",
            },
        ),
        stored_card,
        FeeRule(percent=Decimal("0.6"), fixed_minor=11),
    ),
    Provider(
        "berlingroup",
        lambda sandbox: BerlinGroupAdapter.from_options(
            name="berlingroup",
            capabilities=None,
            options={
                "base_url": sandbox.urls["berlingroup"],
                "access_token": "token",
                "creditor_iban": "DE02100100109307118603",
                "creditor_name": "Example Shop GmbH",
                "account_id": "merchant-account",
                "consent_id": "consent-1",
            },
        ),
        transfer,
        None,  # an incoming SEPA credit costs nothing: no fee to check
        lambda reference: f"tx-{reference}",  # the credit's transactionId on the statement
    ),
]

KINDS = {
    "order-ok": None,
    "order-amount": MismatchKind.AMOUNT_DIFFERS,
    "order-currency": MismatchKind.CURRENCY_DIFFERS,
    "order-status": MismatchKind.STATUS_DIFFERS,
    "order-captured": MismatchKind.CAPTURED_DIFFERS,
    "order-refunded": MismatchKind.REFUNDED_DIFFERS,
    "order-fee": MismatchKind.FEE_DIFFERS,
    "order-lost": MismatchKind.MISSING_IN_LEDGER,
    "order-unanswered": MismatchKind.UNANSWERED,
}


async def pay(router: Router, request: PaymentRequest) -> PaymentResult:
    """Pay; a transfer the customer must authorise is authorised at the bank's SCA page."""
    result = await router.pay(request)
    if result.status is PaymentStatus.REQUIRES_ACTION and result.action_url:
        async with httpx.AsyncClient() as browser:
            assert (await browser.get(result.action_url)).status_code == 200
        refreshed = await router.refresh(request.order_id)
        assert refreshed is not None
        result = refreshed
    return result


def period() -> tuple[datetime, datetime]:
    now = datetime.now(UTC)
    return now - timedelta(minutes=5), now + timedelta(minutes=5)


async def plant_every_kind(
    provider: Provider,
    sandbox: Sandbox,
    database: Path,
    paid: dict[str, PaymentResult],
    until: datetime,
) -> None:
    def row(statement: str, order: str) -> None:
        edit(database, statement, o=order)

    row("UPDATE payrouter_payments SET amount_minor = 999 WHERE order_id = :o", "order-amount")
    row("UPDATE payrouter_payments SET currency = 'USD' WHERE order_id = :o", "order-currency")
    row("UPDATE payrouter_attempts SET outcome = 'failed' WHERE order_id = :o", "order-status")
    row("UPDATE payrouter_attempts SET outcome = 'unknown' WHERE order_id = :o", "order-unanswered")
    row("UPDATE payrouter_payments SET authorize_only = 1 WHERE order_id = :o", "order-captured")
    plant_refund(database, paid["order-refunded"], 300)
    reference = paid["order-fee"].provider_reference
    assert reference is not None
    if provider.price is not None:
        await plant_fee(sandbox.admin_url, provider.name, provider.records_reference(reference), 1)
    row("DELETE FROM payrouter_attempts WHERE order_id = :o", "order-lost")
    row("DELETE FROM payrouter_payments WHERE order_id = :o", "order-lost")
    plant_payment(database, "order-ghost", provider.name, "never-made", at=until.timestamp())


@pytest.mark.parametrize("provider", PROVIDERS, ids=[p.name for p in PROVIDERS])
async def test_every_planted_difference_is_reported_exactly_once(
    provider: Provider, sandbox: Sandbox, tmp_path: Path
) -> None:
    """Nine orders, eight planted differences plus a payment the ledger invented: exactly
    those nine differences (no fee at the bank, which charges none), each with both
    references and an action."""
    database = tmp_path / "ledger.db"
    adapter = provider.adapter(sandbox)
    assert isinstance(adapter, RecordsSource)
    fees = {provider.name: ProviderRouting(fees=(provider.price,) if provider.price else ())}
    since = datetime.now(UTC) - timedelta(minutes=5)
    async with Router(
        [adapter], ledger=f"sqlite:///{database}", hooks=(), routing=RoutingPolicy(fees)
    ) as router:
        paid = {order: await pay(router, provider.request(order)) for order in KINDS}
        assert {r.status for r in paid.values()} == {PaymentStatus.SUCCEEDED}, paid
        until = datetime.now(UTC)  # records lagging behind would be reported late
        clean = await router.compare_records(since, until)
        await plant_every_kind(provider, sandbox, database, paid, until)
        report = await router.compare_records(since, until)
        open_before = await router.discrepancies()

    assert clean.ok, clean.mismatches
    expected = {(kind, order) for order, kind in KINDS.items() if kind is not None}
    if provider.price is None:
        expected.discard((MismatchKind.FEE_DIFFERS, "order-fee"))
    expected.add((MismatchKind.MISSING_AT_PROVIDER, "order-ghost"))
    found = [(m.kind, m.order_id or "") for m in report.mismatches]
    lost = [m for m in report.mismatches if m.kind is MismatchKind.MISSING_IN_LEDGER]
    assert len(lost) == 1
    found = [(k, "order-lost" if k is MismatchKind.MISSING_IN_LEDGER else o) for k, o in found]
    assert sorted(found) == sorted(expected)
    lost_reference = paid["order-lost"].provider_reference
    assert lost_reference is not None
    assert lost[0].provider_reference == provider.records_reference(lost_reference)
    for mismatch in report.mismatches:
        assert mismatch.action
        assert mismatch.provider_reference or mismatch.reference
    assert {d.discrepancy_id for d in open_before} == {m.discrepancy_id for m in report.mismatches}


async def test_discrepancies_stay_open_until_resolved_or_acknowledged(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    """A difference found stays open on reruns; fixing it resolves it, acknowledging closes
    it for good; the open count and age reach `status` and the metrics reader."""
    database = tmp_path / "ledger.db"
    since, until = period()
    async with Router(
        [PROVIDERS[0].adapter(sandbox)], ledger=f"sqlite:///{database}", hooks=()
    ) as router:
        for order in ("order-a", "order-b"):
            await router.pay(card(order))
        edit(database, "UPDATE payrouter_payments SET amount_minor = 999")
        first = await router.compare_records(since, until)
        again = await router.compare_records(since, until)
        stats = router.open_discrepancy_stats()
        a_id, b_id = sorted(m.discrepancy_id for m in first.mismatches)
        acknowledged = await router.acknowledge_discrepancy(a_id, "refunded 0.51 EUR by hand")
        twice = await router.acknowledge_discrepancy(a_id, "again")
        edit(database, "UPDATE payrouter_payments SET amount_minor = 1050")
        fixed = await router.compare_records(since, until)
        left = await router.discrepancies()
        after = await router.discrepancy_stats()

    assert len(first.mismatches) == len(again.mismatches) == 2
    assert stats.open == 2
    assert acknowledged is not None
    assert acknowledged.state == "acknowledged"
    assert acknowledged.note == "refunded 0.51 EUR by hand"
    assert twice is None
    assert fixed.ok
    assert left == []
    assert after.open == 0
    assert b_id.startswith("amount_differs:stripe:pi_")
