"""Fuzzing the three providers' webhook sources: whatever the bytes, only the documented
`WebhookError`s come out (each answered with its 4xx/5xx), never a crash.

Bodies are signed correctly where the fuzz can (Stripe's HMAC over the body, Adyen's over
the item's fields, PayPal's verification API answering SUCCESS), so the parsers behind the
signature checks are reached, not only the checks. Derandomized and bounded: seconds.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import SecretStr

from payrouter.webhooks import WebhookError, WebhookEvent
from payrouter_adapters.adyen import AdyenWebhooks
from payrouter_adapters.paypal import PayPalAdapter, PayPalOptions, PayPalWebhooks
from payrouter_adapters.stripe import StripeWebhooks

from .kit import ADYEN_KEY, STRIPE_SECRET, adyen_body, stripe_headers

_PROFILE = settings(
    max_examples=100,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# A genuine body with one field replaced finds the most per example: it gets more of them.
_FIELD_BY_FIELD = settings(_PROFILE, max_examples=300)

_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
    | st.sampled_from(["", "true", "false", "EUR", "eur", "1.00", "9e99", "2024-01-01T00:00:00"])
)
_JSON = st.recursive(
    _SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


def _field(names: list[str]) -> Any:
    """An object whose listed keys hold any JSON value (or are absent)."""
    return st.fixed_dictionaries({}, optional={name: _JSON for name in names})


def _only_documented(read: Callable[[], Awaitable[list[WebhookEvent]]]) -> None:
    try:
        events = asyncio.run(read())
    except WebhookError:
        return
    assert all(isinstance(event, WebhookEvent) for event in events)


@_PROFILE
@given(body=st.binary(max_size=300), header=st.text(max_size=120))
def test_stripe_any_bytes_and_any_signature_header(body: bytes, header: str) -> None:
    source = StripeWebhooks(STRIPE_SECRET)
    _only_documented(lambda: source.read(body, {"stripe-signature": header}))


_STRIPE_OBJECT = _field(["id", "amount", "currency", "metadata", "status", "payment_intent"])


@_PROFILE
@given(
    event=_field(["id", "type", "created"]),
    kind=st.sampled_from(
        ["payment_intent.succeeded", "refund.updated", "charge.dispute.created", "x"]
    ),
    obj=_STRIPE_OBJECT | _JSON,
    nesting=st.integers(min_value=0, max_value=3),
)
def test_stripe_signed_events_of_any_shape(
    event: dict[str, Any], kind: str, obj: Any, nesting: int
) -> None:
    document: dict[str, Any] = {"type": kind, **event}
    document.setdefault("id", "evt_1")
    document.setdefault("created", int(time.time()))
    document["data"] = {"object": obj} if nesting else obj
    body = json.dumps(document).encode()
    stamp = int(time.time())
    mac = hmac.new(STRIPE_SECRET.encode(), f"{stamp}.".encode() + body, hashlib.sha256)
    source = StripeWebhooks(STRIPE_SECRET)
    _only_documented(
        lambda: source.read(body, {"stripe-signature": f"t={stamp},v1={mac.hexdigest()}"})
    )


_TEXT = st.text(max_size=12)
_AMOUNT = st.fixed_dictionaries(
    {},
    optional={
        "value": st.integers(min_value=-1, max_value=2**64) | _JSON,
        "currency": st.sampled_from(["EUR", "eur", "XXXX", ""]) | _JSON,
    },
)


def _mostly(plausible: Any) -> Any:
    """Twice as often a plausible value as any JSON value, so items get past the first check."""
    return st.one_of(plausible, plausible, _JSON)


_ADYEN_ITEM = st.fixed_dictionaries(
    {
        "eventCode": _mostly(st.sampled_from(["AUTHORISATION", "REFUND", "CHARGEBACK", "X"])),
        "pspReference": _mostly(_TEXT),
        "success": _mostly(st.sampled_from(["true", "false", "TRUE", ""])),
    },
    optional={
        "originalReference": _mostly(_TEXT),
        "merchantAccountCode": _mostly(_TEXT),
        "merchantReference": _mostly(_TEXT),
        "amount": _mostly(_AMOUNT),
        "eventDate": _mostly(st.sampled_from(["2026-01-01T00:00:00", "9999-12-31T23:59:59-14:00"])),
        "additionalData": _mostly(st.just({})),
    },
)


def _sign_adyen(item: dict[str, Any]) -> None:
    """Sign the item the way Adyen does when its fields let us (else leave it unsigned)."""
    amount = item.get("amount") if isinstance(item.get("amount"), dict) else {}
    try:
        fields = [str(item.get(n) or "") for n in ("pspReference", "originalReference")]
        fields += [str(item.get(n) or "") for n in ("merchantAccountCode", "merchantReference")]
        fields += [str(amount.get("value", "")), str(amount.get("currency", ""))]
        fields += [str(item.get("eventCode", "")), str(item.get("success", ""))]
        message = ":".join(fields).encode()
    except UnicodeEncodeError:
        return
    digest = hmac.new(bytes.fromhex(ADYEN_KEY), message, hashlib.sha256).digest()
    if isinstance(item.get("additionalData", {}), dict):
        item["additionalData"] = {"hmacSignature": base64.b64encode(digest).decode()}


@_PROFILE
@given(
    items=st.lists(_ADYEN_ITEM, min_size=1, max_size=3),
    sign=st.booleans() | st.just(True),
    wrap=st.booleans() | st.just(True),
)
def test_adyen_items_of_any_shape_signed_or_not(
    items: list[dict[str, Any]], sign: bool, wrap: bool
) -> None:
    for item in items:
        if sign:
            _sign_adyen(item)
    entries: list[Any] = [{"NotificationRequestItem": item} if wrap else item for item in items]
    body = json.dumps({"live": "false", "notificationItems": entries}).encode()
    _only_documented(lambda: AdyenWebhooks(ADYEN_KEY).read(body, {}))


@_PROFILE
@given(body=st.binary(max_size=300))
def test_adyen_any_bytes(body: bytes) -> None:
    _only_documented(lambda: AdyenWebhooks(ADYEN_KEY).read(body, {}))


def _paypal(verdict: Callable[[], httpx.Response]) -> PayPalWebhooks:
    """PayPal's verification API answering `verdict` over httpx's MockTransport."""
    transport = httpx.MockTransport(lambda request: verdict())
    adapter = PayPalAdapter(
        name="paypal",
        client=httpx.AsyncClient(transport=transport, base_url="https://paypal.test"),
        options=PayPalOptions(base_url="https://paypal.test", access_token=SecretStr("t")),
    )
    return PayPalWebhooks(adapter, "WH-ID-1")


_PAYPAL_HEADERS = {
    "paypal-auth-algo": "SHA256withRSA",
    "paypal-cert-url": "https://api.paypal.com/v1/notifications/certs/CERT",
    "paypal-transmission-id": "tx-1",
    "paypal-transmission-sig": "sig",
}


@_PROFILE
@given(
    event=_field(["id", "event_type", "create_time", "resource"]),
    kind=st.sampled_from(["PAYMENT.CAPTURE.COMPLETED", "CUSTOMER.DISPUTE.CREATED", "X"]),
    resource=_field(["id", "amount", "invoice_id", "disputed_transactions"]),
    money=_field(["value", "currency_code"]),
    sent=st.sampled_from(["2026-01-01T00:00:00Z", "not a time", "9999-12-31T23:59:59+14:00"]),
    answer=st.sampled_from(
        [
            httpx.Response(200, json={"verification_status": "SUCCESS"}),
            httpx.Response(200, json={"verification_status": "FAILURE"}),
            httpx.Response(200, text="<html>"),
            httpx.Response(200, json=["SUCCESS"]),
            httpx.Response(503),
        ]
    ),
)
def test_paypal_events_of_any_shape_whatever_paypal_answers(
    event: dict[str, Any],
    kind: str,
    resource: dict[str, Any],
    money: dict[str, Any],
    sent: str,
    answer: httpx.Response,
) -> None:
    document: dict[str, Any] = {"event_type": kind, "id": "WH-1", **event}
    if "resource" not in event:
        document["resource"] = {"amount": money, **resource}
    body = json.dumps(document).encode()
    source = _paypal(lambda: httpx.Response(answer.status_code, content=answer.content))
    headers = _PAYPAL_HEADERS | {"paypal-transmission-time": sent}
    _only_documented(lambda: source.read(body, headers))


@_PROFILE
@given(
    body=st.binary(max_size=200),
    headers=st.dictionaries(
        st.sampled_from([*_PAYPAL_HEADERS, "paypal-transmission-time"]), st.text(max_size=10)
    ),
)
def test_paypal_any_bytes_and_headers(body: bytes, headers: dict[str, str]) -> None:
    source = _paypal(lambda: httpx.Response(200, json={"verification_status": "SUCCESS"}))
    _only_documented(lambda: source.read(body, headers))


_ADYEN_FIELDS = [
    "eventCode",
    "pspReference",
    "originalReference",
    "merchantAccountCode",
    "merchantReference",
    "amount",
    "success",
    "eventDate",
    "additionalData",
    "amount.value",
    "amount.currency",
]


@_FIELD_BY_FIELD
@given(field=st.sampled_from(_ADYEN_FIELDS), value=_JSON, sign=st.booleans())
def test_a_genuine_adyen_item_with_one_field_of_any_value(
    field: str, value: Any, sign: bool
) -> None:
    """Each field in turn holds any JSON value, re-signed when it can be: a wrong type is a
    400, a wrong signature a 401, anything else a readable event."""
    notification = json.loads(adyen_body("AUTHORISATION", "PSP1"))
    item = notification["notificationItems"][0]["NotificationRequestItem"]
    outer, _, inner = field.partition(".")
    if inner:
        item[outer] = dict(item[outer], **{inner: value})
    else:
        item[outer] = value
    if sign:
        _sign_adyen(item)
    body = json.dumps(notification).encode()
    _only_documented(lambda: AdyenWebhooks(ADYEN_KEY).read(body, {}))


_STRIPE_FIELDS = [
    "id",
    "type",
    "created",
    "data",
    "data.object",
    "object.id",
    "object.amount",
    "object.currency",
    "object.metadata",
    "object.status",
    "object.payment_intent",
]


@_FIELD_BY_FIELD
@given(
    field=st.sampled_from(_STRIPE_FIELDS),
    value=_JSON,
    kind=st.sampled_from(["payment_intent.succeeded", "refund.updated", "charge.dispute.created"]),
)
def test_a_genuine_stripe_event_with_one_field_of_any_value(
    field: str, value: Any, kind: str
) -> None:
    obj: dict[str, Any] = {"id": "pi_1", "amount": 1000, "currency": "eur", "status": "succeeded"}
    document: dict[str, Any] = {"id": "evt_1", "type": kind, "created": int(time.time())}
    document["data"] = {"object": obj}
    where, _, name = field.partition(".")
    if where == "object":
        obj[name] = value
    elif name:
        document["data"][name] = value
    else:
        document[where] = value
    body = json.dumps(document).encode()
    source = StripeWebhooks(STRIPE_SECRET)
    _only_documented(lambda: source.read(body, stripe_headers(body)))
