"""Adyen's HMAC key is rotated without refusing the notifications signed with the old one."""

from __future__ import annotations

import pytest

from payrouter.webhooks import ForgedNotificationError
from payrouter_adapters.adyen import AdyenWebhooks

from .kit import ADYEN_KEY, adyen_body

NEW_KEY = "0F" * 32
STRANGER = "AB" * 32


async def test_an_item_signed_with_the_previous_key_is_accepted_while_rotating() -> None:
    """Adyen: after a new key is generated, accept the previous key's signatures for some
    time (queued notifications keep the signature they were made with)."""
    source = AdyenWebhooks(NEW_KEY, previous_hmac_keys_hex=[ADYEN_KEY])
    (queued,) = await source.read(adyen_body("AUTHORISATION", "PSP1", key=ADYEN_KEY), {})
    (fresh,) = await source.read(adyen_body("AUTHORISATION", "PSP2", key=NEW_KEY), {})
    assert (queued.provider_reference, fresh.provider_reference) == ("PSP1", "PSP2")
    with pytest.raises(ForgedNotificationError):
        await source.read(adyen_body("AUTHORISATION", "PSP3", key=STRANGER), {})
