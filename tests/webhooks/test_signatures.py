"""Forged and stale notifications are refused; genuine ones pass."""

import base64
import hashlib
import hmac

import pytest

from payrouter import PaymentStatus as S
from payrouter.webhooks import ForgedNotificationError, StaleNotificationError
from payrouter.webhooks._transitions import is_legal_transition
from payrouter_adapters.adyen import AdyenWebhooks
from payrouter_adapters.stripe import StripeWebhooks

SECRET = "whsec_test"
BODY = b'{"id":"evt_1","type":"payment_intent.succeeded"}'


def stripe_header(t: int, body: bytes = BODY, secret: str = SECRET) -> str:
    sig = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={t},v1={sig}"


def test_stripe_genuine_event_passes() -> None:
    StripeWebhooks(SECRET, clock=lambda: 1000.0).verify(stripe_header(1000), BODY)


def test_stripe_forged_signature_rejected() -> None:
    with pytest.raises(ForgedNotificationError):
        StripeWebhooks(SECRET, clock=lambda: 1000.0).verify(stripe_header(1000, secret="x"), BODY)


def test_stripe_tampered_body_rejected() -> None:
    with pytest.raises(ForgedNotificationError):
        StripeWebhooks(SECRET, clock=lambda: 1000.0).verify(stripe_header(1000), BODY + b" ")


def test_stripe_malformed_header_rejected() -> None:
    with pytest.raises(ForgedNotificationError):
        StripeWebhooks(SECRET).verify("garbage", BODY)


def test_stripe_stale_timestamp_rejected() -> None:
    with pytest.raises(StaleNotificationError):
        StripeWebhooks(SECRET, tolerance=300, clock=lambda: 1301.0).verify(
            stripe_header(1000), BODY
        )


KEY_HEX = "44782DEF547AAA06C910C43932B1EB0C71FC68D9D0C057550C48EC2ACF6BA056"


def adyen_item(key_hex: str = KEY_HEX) -> dict[str, object]:
    item: dict[str, object] = {
        "pspReference": "7914073381342284",
        "merchantAccountCode": "TestMerchant",
        "merchantReference": "order-1",
        "amount": {"value": 1130, "currency": "EUR"},
        "eventCode": "AUTHORISATION",
        "success": "true",
    }
    data = "7914073381342284::TestMerchant:order-1:1130:EUR:AUTHORISATION:true"
    digest = hmac.new(bytes.fromhex(key_hex), data.encode(), hashlib.sha256).digest()
    item["additionalData"] = {"hmacSignature": base64.b64encode(digest).decode()}
    return item


def test_adyen_genuine_item_passes() -> None:
    AdyenWebhooks(KEY_HEX).verify(adyen_item())


def test_adyen_forged_item_rejected() -> None:
    item = adyen_item()
    item["amount"] = {"value": 1, "currency": "EUR"}
    with pytest.raises(ForgedNotificationError):
        AdyenWebhooks(KEY_HEX).verify(item)


def test_adyen_unsigned_item_rejected() -> None:
    with pytest.raises(ForgedNotificationError):
        AdyenWebhooks(KEY_HEX).verify({"eventCode": "AUTHORISATION"})


def test_pending_may_settle_but_succeeded_never_moves_back() -> None:
    assert is_legal_transition(S.PENDING, S.SUCCEEDED)
    assert is_legal_transition(S.REQUIRES_ACTION, S.DECLINED)
    assert not is_legal_transition(S.SUCCEEDED, S.PROCESSING)
    assert not is_legal_transition(S.SUCCEEDED, S.REQUIRES_ACTION)
    assert not is_legal_transition(S.DECLINED, S.SUCCEEDED)


def test_adyen_documented_example_verifies() -> None:
    """Adyen's published example item and signature, so the field order is not our guess."""
    item = {
        "pspReference": "7914073381342284",
        "merchantAccountCode": "TestMerchant",
        "merchantReference": "TestPayment-1407325143704",
        "amount": {"value": 1130, "currency": "EUR"},
        "eventCode": "AUTHORISATION",
        "success": "true",
        "additionalData": {"hmacSignature": "coqCmt/IZ4E3CzPvMY8zTjQVL5hYJUiBRg8UU+iCWo0="},
    }
    AdyenWebhooks(KEY_HEX).verify(item)
