"""Stripe events become one normalized WebhookEvent; malformed bodies are refused."""

import json

import pytest

from payrouter import PaymentStatus
from payrouter.provider import FailureKind
from payrouter.webhooks import MalformedNotificationError
from payrouter_adapters.adyen import AdyenWebhooks
from payrouter_adapters.stripe._webhooks import parse_event as parse_stripe
from tests.webhooks.kit import ADYEN_KEY, adyen_body


def stripe_event(kind: str) -> bytes:
    obj = {
        "id": "pi_1",
        "amount": 1130,
        "currency": "eur",
        "metadata": {"payrouter_reference": "o-1"},
    }
    return json.dumps(
        {"id": "evt_1", "type": kind, "created": 1000, "data": {"object": obj}}
    ).encode()


def test_succeeded_event_is_normalized() -> None:
    event = parse_stripe(stripe_event("payment_intent.succeeded"))
    assert (event.event_id, event.provider_reference, event.our_reference) == (
        "evt_1",
        "pi_1",
        "o-1",
    )
    assert (event.amount_minor, event.status) == (1130, PaymentStatus.SUCCEEDED)


def test_unknown_type_moves_no_status() -> None:
    assert parse_stripe(stripe_event("customer.created")).status is None


@pytest.mark.parametrize("body", [b"not json", b"{}", b'{"id":"e","type":"t","created":1}'])
def test_malformed_body_rejected(body: bytes) -> None:
    with pytest.raises(MalformedNotificationError):
        parse_stripe(body)


async def test_adyen_amounts_are_read_back_in_iso_minor_units() -> None:
    """Adyen counts ISK in hundredths: 1000.00 ISK signed as 100000 is 1000 ISO minor units,
    and an amount with no whole ISO value (100050) is no payment's amount."""
    from payrouter_adapters.adyen import AdyenWebhooks

    from .kit import ADYEN_KEY, adyen_body

    whole = await AdyenWebhooks(ADYEN_KEY).read(
        adyen_body("AUTHORISATION", "PSP1", value=100000, currency="ISK"), {}
    )
    broken = await AdyenWebhooks(ADYEN_KEY).read(
        adyen_body("AUTHORISATION", "PSP1", value=100050, currency="ISK"), {}
    )

    assert (whole[0].amount_minor, whole[0].currency) == (1000, "ISK")
    assert (broken[0].amount_minor, broken[0].currency) == (None, "ISK")


@pytest.mark.parametrize(
    ("code", "status"),
    [
        ("authentication_required", PaymentStatus.REQUIRES_ACTION),
        ("payment_intent_authentication_failure", PaymentStatus.DECLINED),
        ("card_declined", PaymentStatus.DECLINED),
    ],
)
def test_payment_failed_for_authentication_still_awaits_the_customer(
    code: str, status: PaymentStatus
) -> None:
    """Stripe reports an off-session charge the issuer wants authenticated as
    `payment_intent.payment_failed`, yet the intent waits for the customer to confirm it on
    session: it keeps the payment requires_action; a failed authentication declines it."""
    body = json.loads(stripe_event("payment_intent.payment_failed"))
    body["data"]["object"]["last_payment_error"] = {"type": "card_error", "code": code}
    assert parse_stripe(json.dumps(body).encode()).status is status


@pytest.mark.parametrize(
    ("problem", "kind"),
    [
        ({"code": "payment_intent_authentication_failure"}, FailureKind.AUTHENTICATION_FAILED),
        (
            {"code": "card_declined", "decline_code": "insufficient_funds"},
            FailureKind.INSUFFICIENT_FUNDS,
        ),
        ({"code": "card_declined", "decline_code": "no_such_code"}, FailureKind.CARD_DECLINED),
        (None, FailureKind.CARD_DECLINED),
    ],
)
def test_a_stripe_decline_says_why(problem: dict[str, str] | None, kind: FailureKind) -> None:
    """`payment_intent.payment_failed` carries the failure's kind from Stripe's tables, so a
    payment declined by notification (a failed 3-D Secure challenge) says why."""
    body = json.loads(stripe_event("payment_intent.payment_failed"))
    if problem is not None:
        body["data"]["object"]["last_payment_error"] = {"type": "card_error", **problem}
    assert parse_stripe(json.dumps(body).encode()).failure_kind is kind


def test_only_a_decline_carries_a_failure_kind() -> None:
    assert parse_stripe(stripe_event("payment_intent.succeeded")).failure_kind is None


@pytest.mark.parametrize(
    ("reason", "kind"),
    [
        ("3D Not Authenticated", FailureKind.AUTHENTICATION_FAILED),
        ("Authentication required", FailureKind.AUTHENTICATION_REQUIRED),
        ("Not enough balance", FailureKind.INSUFFICIENT_FUNDS),
        ("Something new", FailureKind.CARD_DECLINED),
        (None, FailureKind.CARD_DECLINED),
    ],
)
async def test_an_adyen_refused_authorisation_says_why(
    reason: str | None, kind: FailureKind
) -> None:
    """An unsuccessful AUTHORISATION's `reason` is Adyen's refusal reason: its kind rides with
    the decline (after a 3-D Secure challenge the notification is the only answer)."""
    body = adyen_body("AUTHORISATION", "PSP1", success=False, reason=reason)
    (event,) = await AdyenWebhooks(ADYEN_KEY).read(body, {})
    assert event.status is PaymentStatus.DECLINED
    assert event.failure_kind is kind
