"""`NextAction`: what a `requires_action` payment needs from the checkout's front end, one
action per reply, kept by the ledger, and its client secret never in a log line or event."""

from __future__ import annotations

import io
import logging
from pathlib import Path

import pytest
from pydantic import SecretStr

from payrouter import (
    CardSource,
    Money,
    PaymentRequest,
    PaymentStatus,
    Router,
)
from payrouter.instrumentation import LoggingHook, StructlogHook, json_logger
from payrouter.provider import Charge, NextAction, Outcome, PaymentHandle, ProviderReply
from payrouter.testing import ScriptedProvider
from payrouter_adapters.adyen import AdyenAdapter
from payrouter_adapters.stripe import StripeAdapter

SECRET = "pi_3Ds_secret_Kx9q2LmZ7"
THREE_DS2 = {
    "type": "threeDS2",
    "subtype": "fingerprint",
    "paymentMethodType": "scheme",
    "paymentData": "Ab02b4c0!BQABAgA...",
    "token": "eyJ0aHJlZURTTWV0aG9kTm90aWZpY2F0aW9uVVJMIjoi",
    "authorisationToken": "BQABAQ...",
}


def challenged_at_stripe(adapter: type[StripeAdapter]) -> StripeAdapter:
    """A Stripe whose first answer is an intent waiting for Stripe.js (`use_stripe_sdk`)."""
    peer = ScriptedProvider()
    peer.answer(
        200,
        {
            "id": "pi_3Ds",
            "object": "payment_intent",
            "status": "requires_action",
            "amount": 1050,
            "currency": "eur",
            "client_secret": SECRET,
            "next_action": {"type": "use_stripe_sdk", "use_stripe_sdk": {"type": "three_d"}},
        },
    )
    return adapter.from_options(
        name="stripe",
        capabilities=None,
        options={"base_url": "https://api.stripe.test", "api_key": "sk_test_x"},
        transport=peer,
    )


def challenged_card(order_id: str) -> PaymentRequest:
    return PaymentRequest(
        order_id=order_id,
        amount=Money.of("10.50", "EUR"),
        sources=[CardSource(token=SecretStr("pm_card_threeDSecure2Required"))],
        customer_country="DE",
    )


def test_a_bare_action_url_is_a_redirect_action() -> None:
    """Adapters that give only a URL (PayPal, Berlin Group) still give an action."""
    reply = ProviderReply.requires_action("ref-1", "https://bank.example/sca")
    assert reply.action == NextAction.redirect("https://bank.example/sca")


def test_a_redirect_action_is_also_the_action_url_and_an_sdk_action_is_not() -> None:
    """`action_url` stays the one URL a browser can simply be sent to."""
    redirect = ProviderReply.requires_action(
        "r", None, action=NextAction.redirect("https://x.example/3ds")
    )
    sdk = ProviderReply.requires_action(
        "r", None, action=NextAction(kind="sdk", url="https://x.example/fingerprint")
    )
    assert redirect.action_url == "https://x.example/3ds"
    assert sdk.action_url is None


def test_only_a_requires_action_reply_carries_an_action() -> None:
    with pytest.raises(ValueError, match="cannot carry an action"):
        ProviderReply(Outcome.SUCCEEDED, action=NextAction.redirect("https://x.example"))


def test_an_action_survives_the_ledgers_json_and_hides_its_secret_in_repr() -> None:
    action = NextAction(
        kind="sdk",
        provider_type="use_stripe_sdk",
        client_secret=SecretStr(SECRET),
        provider_data={"nested": {"list": [1, "two", None]}},
    )
    assert NextAction.from_stored(action.stored()) == action
    assert SECRET not in repr(action)
    assert SECRET not in str(ProviderReply.requires_action("pi_3Ds", None, action=action))


async def test_adyens_native_three_ds2_action_goes_to_the_drop_in_whole() -> None:
    """A `threeDS2` action has no page to send the browser to: it is the Adyen client's,
    with every field as Adyen sent it (`paymentData`, `token`, ...)."""
    peer = ScriptedProvider()
    peer.answer(
        200,
        {"resultCode": "IdentifyShopper", "pspReference": "PSP9", "action": THREE_DS2},
    )
    adapter = AdyenAdapter.from_options(
        name="adyen",
        capabilities=None,
        options={
            "base_url": "https://checkout.adyen.test/v72",
            "api_key": "key",
            "merchant_account": "Shop",
            "return_url": "https://shop.example/return",
        },
        transport=peer,
    )
    reply = await adapter.pay(
        Charge(
            reference="k-1",
            order_id="o-1",
            amount=Money.of("10.50", "EUR"),
            source=CardSource(token=SecretStr("8315000000000001"), provider="adyen"),
            customer_country="NL",
            customer_id="shopper-1",
        ),
        idempotency_key="k-1",
    )
    await adapter.aclose()
    assert reply.outcome is Outcome.REQUIRES_ACTION
    assert reply.action is not None
    assert (reply.action.kind, reply.action.provider_type, reply.action.url) == (
        "sdk",
        "threeDS2",
        None,
    )
    assert reply.action.provider_data == THREE_DS2
    assert reply.action_url is None


async def test_the_client_secret_never_reaches_a_log_line_or_an_event(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Stripe: the client secret "should not be stored, logged, or exposed to anyone other
    than the customer". The result carries it for the checkout; no hook ever sees it."""
    stripe = challenged_at_stripe(StripeAdapter)
    lines = io.StringIO()
    hooks = [LoggingHook(), StructlogHook(json_logger(lines))]
    caplog.set_level(logging.DEBUG)
    async with Router([stripe], ledger=f"sqlite:///{tmp_path / 'l.db'}", hooks=hooks) as router:
        result = await router.pay(challenged_card("o-secret"))
    assert result.status is PaymentStatus.REQUIRES_ACTION
    assert result.action is not None
    assert result.action.client_secret is not None
    assert result.action.client_secret.get_secret_value() == SECRET
    assert lines.getvalue()
    assert caplog.text
    assert SECRET not in lines.getvalue()
    assert SECRET not in caplog.text


class ForgetfulLookups(StripeAdapter):
    """A provider whose lookup says the payment still waits, but not what for."""

    async def lookup(self, handle: PaymentHandle) -> ProviderReply:
        return ProviderReply.requires_action(handle.provider_reference or "pi_3Ds", None)


async def test_a_lookup_that_does_not_repeat_the_action_keeps_the_one_recorded(
    tmp_path: Path,
) -> None:
    """The customer is not back yet and the provider's answer names no action: `refresh`
    leaves the payment's action as the pay answer gave it, not erased."""
    stripe = challenged_at_stripe(ForgetfulLookups)
    async with Router([stripe], ledger=f"sqlite:///{tmp_path / 'l.db'}", hooks=()) as router:
        paid = await router.pay(
            PaymentRequest(
                order_id="o-keep",
                amount=Money.of("10.50", "EUR"),
                sources=[CardSource(token=SecretStr("pm_card_threeDSecure2Required"))],
                customer_country="DE",
            )
        )
        refreshed = await router.refresh("o-keep")
    assert refreshed is not None
    assert refreshed.status is PaymentStatus.REQUIRES_ACTION
    assert paid.action is not None
    assert refreshed.action == paid.action
