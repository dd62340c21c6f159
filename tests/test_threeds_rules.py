"""After a provider asked for authentication, the card is never sent unauthenticated to another
provider: no reattempt at another acquirer whatever an adapter's or a merchant's table calls the
decline, and no merchant row may call an authentication decline soft."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
import yaml

from payrouter import (
    CardSource,
    ConfigurationError,
    Money,
    PaymentRequest,
    PaymentStatus,
    Router,
    RouterSettings,
    SoftDeclineSettings,
)
from payrouter._config import load_config
from payrouter.provider import Charge, DeclineType, FailureKind, ProviderReply
from payrouter.testing import ScriptedProvider
from payrouter_adapters.stripe import StripeAdapter

OPTIONS = {"base_url": "https://api.stripe.test", "api_key": "sk_test_x"}
AUTHENTICATION = [FailureKind.AUTHENTICATION_REQUIRED, FailureKind.AUTHENTICATION_FAILED]


class CallsItSoft(StripeAdapter):
    """An adapter whose own table calls every decline soft (a third party's, say)."""

    async def pay(self, charge: Charge, *, idempotency_key: str) -> ProviderReply:
        reply = await super().pay(charge, idempotency_key=idempotency_key)
        return replace(reply, decline=DeclineType.SOFT) if reply.failure_kind else reply


@pytest.mark.parametrize(
    ("code", "kind"),
    [
        ("authentication_required", FailureKind.AUTHENTICATION_REQUIRED),
        ("payment_intent_authentication_failure", FailureKind.AUTHENTICATION_FAILED),
    ],
)
async def test_an_authentication_decline_is_never_reattempted_elsewhere(
    tmp_path: Path, code: str, kind: FailureKind
) -> None:
    """Soft by its adapter's table or not, a decline about authentication stays declined: the
    second acquirer, which would charge the card unauthenticated, is never called."""
    first_peer, second_peer = ScriptedProvider(), ScriptedProvider()
    first_peer.answer(402, {"error": {"type": "card_error", "code": code}})
    first = CallsItSoft.from_options(
        name="stripe", capabilities=None, options=OPTIONS, transport=first_peer
    )
    second = StripeAdapter.from_options(
        name="stripe_b", capabilities=None, options=OPTIONS, transport=second_peer
    )
    settings = RouterSettings(soft_declines=SoftDeclineSettings(reattempts=1))
    async with Router(
        [first, second], ledger=f"sqlite:///{tmp_path / 'l.db'}", settings=settings, hooks=()
    ) as router:
        result = await router.pay(
            PaymentRequest(
                order_id="o-1",
                amount=Money.of("10.00", "EUR"),
                sources=[CardSource(token="pm_card_visa")],
                customer_country="DE",
            )
        )
    assert result.status is PaymentStatus.DECLINED
    assert result.failure_kind is kind
    assert [a.provider for a in result.attempts] == ["stripe"]
    assert second_peer.requests == []


@pytest.mark.parametrize("kind", AUTHENTICATION, ids=str)
def test_a_merchant_row_cannot_call_an_authentication_decline_soft(
    tmp_path: Path, kind: FailureKind
) -> None:
    """Config refuses it at startup, naming the row and why."""
    codes = {"x_1": {"kind": kind.value, "decline": "soft"}}
    path = tmp_path / "payrouter.yaml"
    providers = [{"name": "card", "type": "simulated", "codes": codes}]
    path.write_text(yaml.safe_dump({"ledger": "sqlite:///ledger.db", "providers": providers}))
    with pytest.raises(ConfigurationError) as raised:
        load_config(path)
    assert "providers.0.codes.x_1" in str(raised.value)
    assert "unauthenticated" in str(raised.value)
