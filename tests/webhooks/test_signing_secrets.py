"""A webhook source never starts with a signing secret anyone could sign with."""

from __future__ import annotations

import hashlib
import hmac
import time

import pytest

from payrouter import ConfigurationError
from payrouter_adapters.adyen import AdyenWebhooks
from payrouter_adapters.stripe import StripeWebhooks

BODY = b'{"id":"evt_1","type":"payment_intent.succeeded"}'


@pytest.mark.parametrize("secret", ["", "   "])
def test_an_empty_stripe_secret_is_refused_at_startup(secret: str) -> None:
    """An unset secret (`STRIPE_WEBHOOK_SECRET=`) is a key every stranger holds: refused."""
    now = int(time.time())
    anyone = hmac.new(secret.encode(), f"{now}.".encode() + BODY, hashlib.sha256).hexdigest()
    with pytest.raises(ConfigurationError) as refused:
        StripeWebhooks(secret).verify(f"t={now},v1={anyone}", BODY)  # verified before the fix
    assert "whsec_" in str(refused.value)


@pytest.mark.parametrize("key", ["", "  ", "not-hex-44782DEF547AAA06"])
def test_an_empty_or_non_hex_adyen_key_is_refused_at_startup(key: str) -> None:
    """An empty HMAC key signs for anyone, and a key that is not hex is a configuration
    mistake: both refused as such, without the key in the message."""
    with pytest.raises(ConfigurationError) as refused:
        AdyenWebhooks(key)
    assert "not-hex" not in str(refused.value)
