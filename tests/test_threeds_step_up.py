"""The 3-D Secure step-up's rules, against a scripted Stripe: a card refused for want of
authentication is resent once to the same provider asking for it (`request_three_d_secure`),
where the merchant enabled 3-D Secure; a second refusal stands, and the card never goes to
another provider, whatever became of the step-up."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs

import yaml
from pydantic import SecretStr

from payrouter import (
    CardSource,
    Money,
    NetworkToken,
    PaymentRequest,
    PaymentStatus,
    ProviderRouting,
    Router,
    RoutingPolicy,
)
from payrouter._config import load_config
from payrouter.provider import FailureKind
from payrouter.testing import ScriptedProvider
from payrouter_adapters.adyen import AdyenAdapter
from payrouter_adapters.stripe import StripeAdapter

OPTIONS = {"base_url": "https://api.stripe.test", "api_key": "sk_test_x"}
REFUSED = {"error": {"type": "card_error", "code": "authentication_required"}}
"""Stripe's decline asking for authentication, with no intent kept for the customer."""
CHALLENGE = {
    "id": "pi_3Up",
    "object": "payment_intent",
    "status": "requires_action",
    "amount": 1050,
    "currency": "eur",
    "client_secret": "pi_3Up_secret_x",
    "next_action": {"type": "redirect_to_url", "redirect_to_url": {"url": "https://3ds.test"}},
}
STEP_UP = "payment_method_options[card][request_three_d_secure]"


def stripe(name: str, peer: ScriptedProvider) -> StripeAdapter:
    return StripeAdapter.from_options(name=name, capabilities=None, options=OPTIONS, transport=peer)


def enabled(*names: str) -> RoutingPolicy:
    return RoutingPolicy(providers={n: ProviderRouting(three_d_secure=True) for n in names})


def card(order_id: str) -> PaymentRequest:
    return PaymentRequest(
        order_id=order_id,
        amount=Money.of("10.50", "EUR"),
        sources=[CardSource(token=SecretStr("pm_card_visa"))],
        customer_country="DE",
    )


def form(peer: ScriptedProvider, index: int) -> dict[str, list[str]]:
    return parse_qs(peer.requests[index].content.decode())


async def test_authentication_required_is_resent_with_three_d_secure_requested(
    tmp_path: Path,
) -> None:
    """The resend asks for 3-D Secure under its own key; the first call did not."""
    first_peer, second_peer = ScriptedProvider(), ScriptedProvider()
    first_peer.answer(402, REFUSED)
    first_peer.answer(200, CHALLENGE)
    adapters = [stripe("stripe", first_peer), stripe("stripe_b", second_peer)]
    ledger = f"sqlite:///{tmp_path / 'l.db'}"
    async with Router(adapters, ledger=ledger, hooks=(), routing=enabled("stripe")) as router:
        result = await router.pay(card("o-1"))
    assert result.status is PaymentStatus.REQUIRES_ACTION
    assert result.action_url == "https://3ds.test"
    assert STEP_UP not in form(first_peer, 0)
    assert form(first_peer, 1)[STEP_UP] == ["any"]
    keys = [r.headers["Idempotency-Key"] for r in first_peer.requests]
    assert len(set(keys)) == 2
    assert second_peer.requests == []


async def test_a_second_refusal_stands_and_no_other_provider_is_called(tmp_path: Path) -> None:
    """Stepped up once and refused again: declined for authentication, two attempts."""
    first_peer, second_peer = ScriptedProvider(), ScriptedProvider()
    first_peer.answer(402, REFUSED)
    first_peer.answer(402, REFUSED)
    adapters = [stripe("stripe", first_peer), stripe("stripe_b", second_peer)]
    policy = enabled("stripe", "stripe_b")
    ledger = f"sqlite:///{tmp_path / 'l.db'}"
    async with Router(adapters, ledger=ledger, hooks=(), routing=policy) as router:
        result = await router.pay(card("o-2"))
    assert result.status is PaymentStatus.DECLINED
    assert result.failure_kind is FailureKind.AUTHENTICATION_REQUIRED
    assert [a.provider for a in result.attempts] == ["stripe", "stripe"]
    assert second_peer.requests == []


async def test_a_step_up_that_cannot_be_taken_never_fails_over_elsewhere(tmp_path: Path) -> None:
    """The resend could not be taken (a failure that fails over: the key was revoked): the
    card is not sent to the next provider unauthenticated; the payment is declined for
    authentication, as first refused."""
    first_peer, second_peer = ScriptedProvider(), ScriptedProvider()
    first_peer.answer(402, REFUSED)
    first_peer.answer(401, {"error": {"type": "invalid_request_error"}})  # a key revoked
    adapters = [stripe("stripe", first_peer), stripe("stripe_b", second_peer)]
    ledger = f"sqlite:///{tmp_path / 'l.db'}"
    async with Router(adapters, ledger=ledger, hooks=(), routing=enabled("stripe")) as router:
        result = await router.pay(card("o-3"))
    assert result.status is PaymentStatus.DECLINED
    assert result.failure_kind is FailureKind.AUTHENTICATION_REQUIRED
    assert second_peer.requests == []


async def test_a_network_token_is_not_stepped_up(tmp_path: Path) -> None:
    """A network token's cryptogram is its authentication: refusal 38 stands, one call."""
    peer = ScriptedProvider()
    peer.answer(
        200,
        {
            "resultCode": "Refused",
            "pspReference": "PSP38",
            "refusalReason": "Authentication required",
            "refusalReasonCode": "38",
        },
    )
    adyen = AdyenAdapter.from_options(
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
    token = NetworkToken(
        number=SecretStr("4895370015293175"),
        expiry_month=12,
        expiry_year=2031,
        cryptogram=SecretStr("AgAAAAAABk4DWZ4C28yUQAAAAAA="),
        eci="05",
    )
    request = PaymentRequest(
        order_id="o-4",
        amount=Money.of("10.50", "EUR"),
        sources=[CardSource(network_token=token)],
        customer_country="DE",
    )
    ledger = f"sqlite:///{tmp_path / 'l.db'}"
    async with Router([adyen], ledger=ledger, hooks=(), routing=enabled("adyen")) as router:
        result = await router.pay(request)
    assert result.status is PaymentStatus.DECLINED
    assert len(peer.requests) == 1


def test_the_config_enables_three_d_secure_per_provider(tmp_path: Path) -> None:
    """`three_d_secure: true` on a provider is the router's step-up rule for it."""
    path = tmp_path / "payrouter.yaml"
    providers = [
        {"name": "card_a", "type": "simulated", "three_d_secure": True},
        {"name": "card_b", "type": "simulated"},
    ]
    path.write_text(yaml.safe_dump({"ledger": "sqlite:///ledger.db", "providers": providers}))
    rules = load_config(path).routing_policy().providers
    assert (rules["card_a"].three_d_secure, rules["card_b"].three_d_secure) == (True, False)
