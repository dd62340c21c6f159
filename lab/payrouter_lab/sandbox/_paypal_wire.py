"""PayPal's wire format: ids, timestamps, error bodies and the lookups on order dicts."""

from __future__ import annotations

import secrets
import string
from datetime import UTC, datetime

from ._exchange import Call, Reply, json_reply

__all__ = [
    "DESCRIPTIONS",
    "NOT_APPROVED",
    "body_payer",
    "currency_of",
    "declined",
    "error",
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
    "TOKEN_ID_NOT_FOUND": "Specified token was not found. Verify the token and try the request "
    "again.",
}
"""`details[].description` as PayPal words it; the Orders spec pins these texts per issue."""


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
) -> Reply:
    body: dict[str, object] = {"name": name, "message": message, "debug_id": new_id().lower()[:13]}
    if issue is not None:
        text = description or DESCRIPTIONS.get(issue, issue.replace("_", " ").capitalize())
        body["details"] = [{"issue": issue, "description": text}]
    if links:
        body["links"] = links
    return json_reply(status, body)


def unprocessable(
    issue: str, description: str | None = None, links: list[dict[str, str]] | None = None
) -> Reply:
    return error(
        422,
        "UNPROCESSABLE_ENTITY",
        "The requested action could not be performed, semantically incorrect, or failed "
        "business validation.",
        issue,
        description,
        links,
    )


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
