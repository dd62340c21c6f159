"""PayPal's wire format: ids, timestamps, error bodies and the lookups on order dicts."""

from __future__ import annotations

import re
import secrets
import string
from datetime import UTC, datetime
from decimal import Decimal

from payrouter import currency_exponent

from ._exchange import Call, Reply, json_reply
from ._faults import FaultKind

__all__ = [
    "DESCRIPTIONS",
    "ISSUES",
    "NOT_APPROVED",
    "amount_refusal",
    "body_payer",
    "currency_of",
    "declined",
    "error",
    "invalid_request",
    "new_id",
    "new_token_id",
    "not_found",
    "now",
    "order_key",
    "public",
    "text",
    "unit_of",
    "unprocessable",
    "value_of",
    "vault_id_of",
]

_ID_ALPHABET = string.ascii_uppercase + string.digits
_TOKEN_ALPHABET = string.ascii_lowercase + string.digits
NOT_APPROVED = (
    "Payer has not yet approved the Order for payment. Please redirect the payer to the "
    "'rel':'approve' url returned as part of the HATEOAS links within the Create Order call"
)
DESCRIPTIONS = {
    "INSTRUMENT_DECLINED": "The instrument presented  was either declined by the processor or "
    "bank, or it can't be used for this payment.",
    "PAYER_ACCOUNT_LOCKED_OR_CLOSED": "The payer account cannot be used for this transaction.",
    "PAYER_ACCOUNT_RESTRICTED": "PAYER_ACCOUNT_RESTRICTED",
    "TRANSACTION_REFUSED": "The request was refused.",
    "COUNTRY_NOT_SUPPORTED_BY_PAYMENT_SOURCE": "Country code provided is not supported by the "
    "provided payment source.",
    "ORDER_ALREADY_CAPTURED": "Order already captured.If 'intent=CAPTURE' only one capture per "
    "order is allowed.",
    "ORDER_ALREADY_AUTHORIZED": "Order already authorized.If 'intent=AUTHORIZE' only one "
    "authorization per order is allowed.",
    "INVALID_RESOURCE_ID": "Specified resource ID does not exist. Please check the resource ID "
    "and try again.",
    "MISSING_REQUIRED_PARAMETER": "A required parameter is missing.",
    "INVALID_PARAMETER_SYNTAX": "The value of a field does not conform to the expected format.",
    "INVALID_CURRENCY_CODE": "Currency code is invalid or is not currently supported. Please "
    "refer https://developer.paypal.com/docs/api/reference/currency-codes/ for list of "
    "supported currency codes.",
    "DECIMAL_PRECISION": "If the currency supports decimals, only two decimal place precision "
    "is supported.",
    "DECIMALS_NOT_SUPPORTED": "Currency does not support decimals. Please refer to "
    "https://developer.paypal.com/docs/api/reference/currency-codes/ for more information.",
    "CANNOT_BE_ZERO_OR_NEGATIVE": "Must be greater than zero. If the currency supports "
    "decimals, only two decimal place precision is supported.",
    "AUTH_CAPTURE_CURRENCY_MISMATCH": "Currency of capture must be the same as currency of "
    "authorization.",
    "REFUND_CAPTURE_CURRENCY_MISMATCH": "Refund must be in the same currency as the capture",
    "PREVIOUSLY_CAPTURED": "Authorization has been previously captured and hence cannot be voided.",
    "PREVIOUSLY_VOIDED": "Authorization has been previously voided and hence cannot be voided "
    "again.",
    "TOKEN_ID_NOT_FOUND": "Specified token was not found. Verify the token and try the request "
    "again.",
}
"""`details[].description` as PayPal words it; the Orders and Payments v2 specs pin these
texts per issue."""
_VALUE = re.compile(r"-?[0-9]+|-?[0-9]*[.][0-9]+")
"""`money.value` as both specs pattern it: digits, with an optional fraction and sign."""


def new_id() -> str:
    return "".join(secrets.choice(_ID_ALPHABET) for _ in range(17))


def new_token_id() -> str:
    """A Vault v3 payment token id, shaped like PayPal's (`8kk8451t`)."""
    return "".join(secrets.choice(_TOKEN_ALPHABET) for _ in range(8))


def vault_id_of(call: Call) -> object:
    """`payment_source.paypal.vault_id` of a request's JSON body, if any."""
    source = call.json().get("payment_source")
    wallet = source.get("paypal") if isinstance(source, dict) else None
    return wallet.get("vault_id") if isinstance(wallet, dict) else None


def now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def error(
    status: int,
    name: str,
    message: str,
    issue: str | None = None,
    description: str | None = None,
    links: list[dict[str, str]] | None = None,
    field: str | None = None,
) -> Reply:
    """PayPal's error body; `field` (a JSON pointer into the request body) names the value a
    client-side error is about, as PayPal's `details[].field` and `location` do."""
    body: dict[str, object] = {"name": name, "message": message, "debug_id": new_id().lower()[:13]}
    if issue is not None:
        text = description or DESCRIPTIONS.get(issue, issue.replace("_", " ").capitalize())
        located = {"field": field, "location": "body"} if field is not None else {}
        body["details"] = [{**located, "issue": issue, "description": text}]
    if links:
        body["links"] = links
    return json_reply(status, body)


def unprocessable(
    issue: str,
    description: str | None = None,
    links: list[dict[str, str]] | None = None,
    field: str | None = None,
) -> Reply:
    return error(
        422,
        "UNPROCESSABLE_ENTITY",
        "The requested action could not be performed, semantically incorrect, or failed "
        "business validation.",
        issue,
        description,
        links,
        field,
    )


def invalid_request(issue: str, field: str) -> Reply:
    """400 INVALID_REQUEST: the body breaks the schema at `field`."""
    return error(
        400,
        "INVALID_REQUEST",
        "Request is not well-formed, syntactically incorrect, or violates schema.",
        issue,
        field=field,
    )


def amount_refusal(
    amount: object,
    field: str,
    *,
    currency: str | None = None,
    mismatch: str = "CURRENCY_MISMATCH",
    whole_units: str = "DECIMAL_PRECISION",
) -> Reply | None:
    """PayPal's refusal of a `money` object, or None when PayPal takes it.

    Both fields are required (400 MISSING_REQUIRED_PARAMETER) and `value` is a decimal string
    (400 INVALID_PARAMETER_SYNTAX); then 422: INVALID_CURRENCY_CODE, `mismatch` when
    `currency` is given and differs (a capture in the authorization's currency, a refund in
    the capture's), a fraction finer than the currency (DECIMAL_PRECISION, or `whole_units`
    for a currency without decimals: Payments v2 says DECIMALS_NOT_SUPPORTED), and
    CANNOT_BE_ZERO_OR_NEGATIVE. PayPal refuses these amounts; it never rounds them.
    """
    if not isinstance(amount, dict):
        return invalid_request("MISSING_REQUIRED_PARAMETER", field)
    code, value = amount.get("currency_code"), amount.get("value")
    for name, item in (("currency_code", code), ("value", value)):
        if item is None:
            return invalid_request("MISSING_REQUIRED_PARAMETER", f"{field}/{name}")
    if not isinstance(value, str) or not _VALUE.fullmatch(value):
        return invalid_request("INVALID_PARAMETER_SYNTAX", f"{field}/value")
    try:
        exponent = currency_exponent(str(code))
    except ValueError:
        return unprocessable("INVALID_CURRENCY_CODE", field=f"{field}/currency_code")
    if currency is not None and code != currency:
        return unprocessable(mismatch, field=f"{field}/currency_code")
    if len(value.partition(".")[2]) > exponent:
        issue = whole_units if exponent == 0 else "DECIMAL_PRECISION"
        return unprocessable(issue, field=f"{field}/value")
    if Decimal(value) <= 0:
        return unprocessable("CANNOT_BE_ZERO_OR_NEGATIVE", field=f"{field}/value")
    return None


def declined(base_url: str, order: dict[str, object], issue: str) -> Reply:
    """PayPal's 422 for a payment it would not take from `order`.

    When the payer approved the order (no vault id) and the funding source they picked failed
    (INSTRUMENT_DECLINED on capture or authorize), PayPal's answer links back to the approval
    page (`rel: redirect`, beside the `information_link`): its documented remedy is to restart
    the payment with the same order so the payer picks another source. A vaulted payment has
    no payer to send back, and its answer carries the issue alone.
    """
    if issue != "INSTRUMENT_DECLINED" or "payment_source" in order:  # set for a vault id only
        return unprocessable(issue)
    docs = f"https://developer.paypal.com/docs/api/orders/v2/#error-{issue}"
    links = [
        {"href": docs, "rel": "information_link", "method": "GET"},
        {"href": f"{base_url}/checkoutnow?token={order['id']}", "rel": "redirect", "method": "GET"},
    ]
    return unprocessable(issue, links=links)


def not_found() -> Reply:
    return error(
        404,
        "RESOURCE_NOT_FOUND",
        "The specified resource does not exist.",
        "INVALID_RESOURCE_ID",
    )


def body_payer(call: Call) -> str | None:
    source = call.json().get("payment_source")
    wallet = source.get("paypal") if isinstance(source, dict) else None
    if not isinstance(wallet, dict):
        return "paypal"
    for field in ("vault_id", "email_address"):
        value = wallet.get(field)
        if isinstance(value, str):
            return value
    return "paypal"


def unit_of(order: dict[str, object]) -> dict[str, object]:
    units = order["purchase_units"]
    assert isinstance(units, list)
    unit: dict[str, object] = units[0]
    return unit


def order_key(unit: dict[str, object]) -> str | None:
    """The merchant's order id: custom_id, else invoice_id, else the unit's reference_id.

    payrouter's PayPal adapter puts the order id in `custom_id` and the attempt reference in
    `invoice_id`; the books must group by order, or two charges of one order look unrelated.
    """
    for field in ("custom_id", "invoice_id", "reference_id"):
        value = unit.get(field)
        if isinstance(value, str):
            return value
    return None


def currency_of(payment: dict[str, object]) -> str:
    amount = payment["amount"]
    assert isinstance(amount, dict)
    return str(amount["currency_code"])


def value_of(payment: dict[str, object]) -> str:
    amount = payment["amount"]
    assert isinstance(amount, dict)
    return str(amount["value"])


def text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def public(resource: dict[str, object]) -> dict[str, object]:
    return {k: v for k, v in resource.items() if not k.startswith("_")}


ISSUES = {
    FaultKind.INSUFFICIENT_FUNDS: "INSTRUMENT_DECLINED",
    FaultKind.ACCOUNT_LOCKED: "PAYER_ACCOUNT_LOCKED_OR_CLOSED",
    FaultKind.ACCOUNT_FROZEN: "PAYER_ACCOUNT_RESTRICTED",
    FaultKind.ACCOUNT_CLOSED: "PAYER_ACCOUNT_LOCKED_OR_CLOSED",
    FaultKind.REGION_RESTRICTED: "COUNTRY_NOT_SUPPORTED_BY_PAYMENT_SOURCE",
    FaultKind.DECLINED: "TRANSACTION_REFUSED",
}
"""Outcome fault → the Orders v2 `details[].issue` PayPal answers with (422)."""
