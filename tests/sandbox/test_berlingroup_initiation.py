"""A payment initiation the ASPSP would not take is refused with 400 FORMAT_ERROR, as NextGenPSD2
1.3.11 defines it (psd2-api_v1.3.11.json: `paymentInitiation_json.required`, `amountValue`,
`currencyCode`, and the `X-Request-ID` header, `format: uuid`).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
import pytest_asyncio

from payrouter_lab.sandbox import Sandbox

pytestmark = pytest.mark.asyncio(loop_scope="session")

VALID: dict[str, object] = {
    "instructedAmount": {"currency": "EUR", "amount": "10.50"},
    "debtorAccount": {"iban": "DE89370400440532013000"},
    "creditorAccount": {"iban": "DE02100100109307118603"},
    "creditorName": "Example Shop GmbH",
    "remittanceInformationUnstructured": "order-1",
}


@pytest_asyncio.fixture(loop_scope="session")
async def bank(sandbox: Sandbox) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=sandbox.urls["berlingroup"]) as client:
        client.headers.update({"Authorization": "Bearer any", "PSU-IP-Address": "192.0.2.1"})
        yield client


async def initiate(
    bank: httpx.AsyncClient, body: dict[str, object], request_id: str | None = None
) -> httpx.Response:
    headers = {"X-Request-ID": request_id or str(uuid.uuid4())}
    return await bank.post("/v1/payments/sepa-credit-transfers", json=body, headers=headers)


async def test_a_complete_initiation_is_received(bank: httpx.AsyncClient) -> None:
    """The template the refusals below break is itself accepted (201 RCVD)."""
    response = await initiate(bank, VALID)
    assert (response.status_code, response.json()["transactionStatus"]) == (201, "RCVD")


@pytest.mark.parametrize(
    "change",
    [
        {"creditorName": None},
        {"instructedAmount": {"currency": "EUR", "amount": "10.505"}},
        {"instructedAmount": {"currency": "JPY", "amount": "1050.5"}},
        {"instructedAmount": {"currency": "EUR", "amount": "ten"}},
        {"instructedAmount": {"currency": "eur", "amount": "10.50"}},
        {"instructedAmount": {"currency": "EUR"}},
    ],
    ids=[
        "no-creditorName",
        "finer-than-cents",
        "yen-fraction",
        "not-a-number",
        "lower-case",
        "no-amount",
    ],
)
async def test_an_initiation_the_bank_would_not_take_is_format_error(
    bank: httpx.AsyncClient, change: dict[str, object]
) -> None:
    """No creditorName, an amount whose fraction the currency does not have (never truncated
    to cents), or a malformed amount or currency: 400 FORMAT_ERROR, not a payment."""
    body = {**VALID, **change}
    body = {k: v for k, v in body.items() if v is not None}
    response = await initiate(bank, body)
    assert response.status_code == 400
    (message,) = response.json()["tppMessages"]
    assert (message["category"], message["code"]) == ("ERROR", "FORMAT_ERROR")
    assert message["text"]


async def test_an_x_request_id_that_is_not_a_uuid_is_format_error(bank: httpx.AsyncClient) -> None:
    """X-Request-ID is a UUID in NextGenPSD2; anything else is refused, not used as a key."""
    response = await initiate(bank, VALID, request_id="order-1-attempt-1")
    assert response.status_code == 400
    assert response.json()["tppMessages"][0]["code"] == "FORMAT_ERROR"
