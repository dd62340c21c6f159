"""Stripe's records of a period: the payment intents list, and balance transactions for fees.

`GET /v1/payment_intents` (with `expand[]=data.latest_charge`, for the amounts captured and
refunded) says what each payment is; `GET /v1/balance_transactions?type=charge` says what
each charge brought into the balance and the fee Stripe kept, joined by the charge id. Both
page 100 at a time with `starting_after` while `has_more`.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import httpx
from pydantic import BaseModel, ConfigDict, Field

from payrouter.provider import ProviderRecord

from . import _replies
from ._requests import METADATA_ORDER_ID, METADATA_REFERENCE, money_from_stripe

__all__ = ["list_payments"]

_PAGE = "100"


class _BalanceTransaction(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    id: str
    fee: int
    currency: str
    source: str | None = None
    type: str


class _TransactionList(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    data: list[_BalanceTransaction]
    has_more: bool = False


class _ListedCharge(BaseModel):
    model_config = _replies.LENIENT

    id: str
    amount_captured: int = 0
    amount_refunded: int = 0


class _ListedIntent(_replies.Object):
    amount: int
    currency: str
    created: int
    metadata: dict[str, str] = Field(default_factory=dict)
    latest_charge: _ListedCharge | str | None = None


class _IntentList(BaseModel):
    model_config = _replies.LENIENT

    data: list[_ListedIntent]
    has_more: bool = False


def list_page(
    provider: str, response: httpx.Response
) -> tuple[list[tuple[ProviderRecord, str | None]], str | None]:
    """One page of `GET /v1/payment_intents` as records (each with its charge id, which its
    balance transaction names), and the id to continue after.

    Raises:
        httpx.HTTPStatusError: Stripe refused the list; a report cannot be half a period.
        ValueError: the body is not a payment intent list.
    """
    response.raise_for_status()
    page = _replies.load(_IntentList, response)
    if page is None:
        raise ValueError(f"{provider}: unreadable payment intent list")
    records = [_listed(provider, intent, response.status_code) for intent in page.data if intent.id]
    after = page.data[-1].id if page.has_more and page.data else None
    return records, after


def _listed(provider: str, intent: _ListedIntent, status: int) -> tuple[ProviderRecord, str | None]:
    currency = intent.currency.upper()
    charge = intent.latest_charge if isinstance(intent.latest_charge, _ListedCharge) else None
    record = ProviderRecord(
        provider_reference=intent.id or "",
        amount=money_from_stripe(intent.amount, currency),
        outcome=_replies.intent_outcome(provider, intent, status).outcome,
        created_at=datetime.fromtimestamp(intent.created, UTC),
        reference=intent.metadata.get(METADATA_REFERENCE),
        order_id=intent.metadata.get(METADATA_ORDER_ID),
        captured=minor_units(charge.amount_captured, currency) if charge else None,
        refunded=minor_units(charge.amount_refunded, currency) if charge else None,
    )
    charge_id = charge.id if charge else intent.latest_charge
    return record, charge_id if isinstance(charge_id, str) else None


def minor_units(stripe_minor: int, currency: str) -> int:
    """Stripe's minor units in ISO 4217 ones (zero stays zero)."""
    return money_from_stripe(stripe_minor, currency).minor_units if stripe_minor else 0


async def list_payments(
    client: httpx.AsyncClient, provider: str, since: datetime, until: datetime
) -> AsyncIterator[ProviderRecord]:
    """Every payment intent created in `[since, until]`, with its fee where Stripe charged one.

    Raises:
        httpx.HTTPStatusError: Stripe refused a list; a report cannot be half a period.
        ValueError: a body is not the list it should be.
    """
    window = {
        "created[gte]": str(math.floor(since.timestamp())),
        "created[lte]": str(math.ceil(until.timestamp())),
        "limit": _PAGE,
    }
    fees = await _fees(client, provider, window)
    after: str | None = None
    while True:
        page = window | {"expand[]": "data.latest_charge"}
        page |= {"starting_after": after} if after else {}
        response = await client.get("/v1/payment_intents", params=page)
        records, after = list_page(provider, response)
        for record, charge_id in records:
            fee = fees.get(charge_id) if charge_id else None
            yield dataclasses.replace(record, fee=fee) if fee is not None else record
        if after is None:
            return


async def _fees(client: httpx.AsyncClient, provider: str, window: dict[str, str]) -> dict[str, int]:
    """Charge id → the fee its balance transaction records."""
    fees: dict[str, int] = {}
    after: str | None = None
    while True:
        page = window | {"type": "charge"} | ({"starting_after": after} if after else {})
        response = await client.get("/v1/balance_transactions", params=page)
        response.raise_for_status()
        try:
            listed = _TransactionList.model_validate_json(response.content)
        except ValueError as error:
            raise ValueError(f"{provider}: unreadable balance transaction list") from error
        for transaction in listed.data:
            if transaction.source:
                fees[transaction.source] = minor_units(
                    transaction.fee, transaction.currency.upper()
                )
        if not listed.has_more or not listed.data:
            return fees
        after = listed.data[-1].id
