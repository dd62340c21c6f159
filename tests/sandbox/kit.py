"""Helpers for the sandbox tests: the real adapters pointed at a sandbox, charges, admin calls."""

from __future__ import annotations

from typing import Any

import httpx

from payrouter import BankTransferSource, CardSource, Money, PaymentMethod
from payrouter.provider import Charge, PaymentHandle, ProviderReply
from payrouter_adapters.adyen import AdyenAdapter
from payrouter_adapters.berlingroup import BerlinGroupAdapter
from payrouter_adapters.stripe import StripeAdapter
from payrouter_lab.sandbox import Sandbox

CLIENT_TIMEOUT = 0.4
"""Seconds the adapters wait for a response; timeout faults sleep beyond it."""
BEYOND_TIMEOUT = 0.8


async def add_fault(admin: httpx.AsyncClient, provider: str, **spec: object) -> None:
    response = await admin.post(f"/{provider}/faults", json=spec)
    assert response.status_code == 201, response.text


async def books(admin: httpx.AsyncClient, provider: str) -> dict[str, object]:
    response = await admin.get(f"/{provider}/books")
    assert response.status_code == 200
    data: dict[str, object] = response.json()
    return data


def options(sandbox: Sandbox, provider: str, **extra: object) -> dict[str, object]:
    return {
        "base_url": sandbox.urls[provider],
        "read_timeout_seconds": CLIENT_TIMEOUT,
        "connect_timeout_seconds": CLIENT_TIMEOUT,
        **extra,
    }


SHOPPER = "shopper-1"
"""The customer of `charge()`: Adyen's shopperReference for its stored cards."""
STORED_CARDS = ("stored_card_1", "3ds2_visa")
"""Adyen stored cards of `SHOPPER`, issued after each reset (`issue_stored_cards`)."""


async def issue_stored_cards(admin: httpx.AsyncClient) -> None:
    """Store the cards the tests charge at Adyen for `SHOPPER`, as a checkout's tokenization
    would (Adyen refuses a stored id its shopper does not have)."""
    cards = [{"customer": SHOPPER, "id": card} for card in STORED_CARDS]
    response = await admin.post("/adyen/credentials", json=cards)
    assert response.status_code == 201, response.text


PAYPAL_VAULT_IDS = ("vault-1",)
"""PayPal vault payment tokens of `SHOPPER`, issued after each reset (`issue_paypal_vault_ids`)."""


async def issue_paypal_vault_ids(admin: httpx.AsyncClient) -> None:
    """Vault the PayPal wallets the tests charge, as a checkout's vaulting would (PayPal
    refuses a vault id it does not hold with TOKEN_ID_NOT_FOUND)."""
    tokens = [{"customer": SHOPPER, "id": token} for token in PAYPAL_VAULT_IDS]
    response = await admin.post("/paypal/credentials", json=tokens)
    assert response.status_code == 201, response.text


def stripe_adapter(sandbox: Sandbox, **extra: object) -> StripeAdapter:
    return StripeAdapter.from_options(
        name="stripe",
        capabilities=None,
        options=options(sandbox, "stripe", api_key="sk_x", **extra),
    )


def adyen_adapter(sandbox: Sandbox, **extra: object) -> AdyenAdapter:
    return AdyenAdapter.from_options(
        name="adyen",
        capabilities=None,
        options=options(
            sandbox,
            "adyen",
            api_key="key",
            merchant_account="ShopECOM",
            return_url="https://shop.example/return",
            **extra,
        ),
    )


def berlingroup_adapter(sandbox: Sandbox, **extra: object) -> BerlinGroupAdapter:
    return BerlinGroupAdapter.from_options(
        name="berlingroup",
        capabilities=None,
        options=options(
            sandbox,
            "berlingroup",
            access_token="token",
            creditor_iban="DE02100100109307118603",
            creditor_name="Example Shop GmbH",
            **extra,
        ),
    )


AIS_ACCESS = {"account_id": "shop-account", "consent_id": "shop-consent"}
"""The merchant's AIS access to its receiving account (`berlingroup_adapter(**AIS_ACCESS)`)."""


IBAN = "DE89370400440532013000"


def charge(provider: str, order_id: str = "order-1", **extra: object) -> Charge:
    """A charge each adapter can send: a card, an Adyen stored card, a SEPA transfer."""
    source: CardSource | BankTransferSource
    match provider:
        case "stripe":
            source = CardSource(token=str(extra.pop("token", "pm_card_visa")))
        case "adyen":
            source = CardSource(token=str(extra.pop("token", "stored_card_1")))
        case _:
            source = BankTransferSource(iban=IBAN, holder_name="Erika Mustermann")
    fields: dict[str, Any] = {
        "reference": f"ref-{order_id}",
        "order_id": order_id,
        "amount": Money(minor_units=1050, currency="EUR"),
        "source": source,
        "customer_country": "DE",
        "customer_id": SHOPPER,
        **extra,
    }
    return Charge(**fields)


def handle(reply: ProviderReply | None, order_id: str = "order-1") -> PaymentHandle:
    """The handle of a charge made by `charge(order_id=...)`; None: the reply was lost."""
    return PaymentHandle(
        reference=f"ref-{order_id}",
        order_id=order_id,
        method=PaymentMethod.CARD,
        amount=Money(minor_units=1050, currency="EUR"),
        provider_reference=reply.provider_reference if reply else None,
    )
