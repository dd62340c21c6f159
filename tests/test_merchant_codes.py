"""Code tables a merchant extends in config: validated rows, applied to every reply of the
provider whatever its adapter, and shown by `payrouter status`."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from payrouter import (
    CardSource,
    ConfigurationError,
    Money,
    PaymentRequest,
    PaymentStatus,
    Router,
)
from payrouter._cli._app import app
from payrouter._codes import CodeRow, apply_codes
from payrouter._config import load_config
from payrouter.provider import (
    Advice,
    CompletesApproval,
    DeclineType,
    FailureKind,
    Outcome,
    PaymentHandle,
    ProviderReply,
    RecordsSource,
    adapters_from_config,
)
from payrouter.testing import Behavior


def write(folder: Path, providers: list[dict[str, Any]]) -> Path:
    path = folder / "payrouter.yaml"
    path.write_text(yaml.safe_dump({"ledger": "sqlite:///ledger.db", "providers": providers}))
    return path


def request(order_id: str = "order-1") -> PaymentRequest:
    return PaymentRequest(
        order_id=order_id,
        amount=Money.of("10.00", "EUR"),
        sources=[CardSource(token="pm_card_visa")],
        customer_country="DE",
    )


def test_an_unknown_kind_is_refused_with_the_valid_ones(tmp_path: Path) -> None:
    """A typo in a kind name fails at startup and lists every kind there is."""
    path = write(
        tmp_path, [{"name": "card", "type": "simulated", "codes": {"x_1": "card_declind"}}]
    )
    with pytest.raises(ConfigurationError) as raised:
        load_config(path)
    message = str(raised.value)
    assert "providers.0.codes.x_1" in message
    assert "unknown failure kind 'card_declind'" in message
    assert all(kind.value in message for kind in FailureKind)


def test_an_unknown_decline_type_is_refused(tmp_path: Path) -> None:
    codes = {"x_1": {"kind": "card_declined", "decline": "squishy"}}
    path = write(tmp_path, [{"name": "card", "type": "simulated", "codes": codes}])
    with pytest.raises(ConfigurationError, match="unknown decline type 'squishy': use one of"):
        load_config(path)


def test_soft_or_hard_is_refused_on_a_kind_that_is_no_decline(tmp_path: Path) -> None:
    codes = {"x_1": {"kind": "provider_down", "decline": "soft"}}
    path = write(tmp_path, [{"name": "card", "type": "simulated", "codes": codes}])
    with pytest.raises(ConfigurationError, match="applies to decline kinds only"):
        load_config(path)


def test_a_row_is_a_kind_name_or_a_mapping(tmp_path: Path) -> None:
    codes = {"a": "provider_down", "b": {"kind": "card_declined", "decline": "soft"}}
    path = write(tmp_path, [{"name": "card", "type": "simulated", "codes": codes}])
    (provider,) = load_config(path).providers
    assert provider.codes == {
        "a": CodeRow(kind=FailureKind.PROVIDER_DOWN),
        "b": CodeRow(kind=FailureKind.CARD_DECLINED, decline=DeclineType.SOFT),
    }


def test_a_row_rewrites_a_failure_and_keeps_the_rest() -> None:
    reply = ProviderReply.failed(
        FailureKind.CARD_DECLINED,
        provider_code="27",
        provider_reference="PSP1",
        advice=Advice.TRY_AGAIN_LATER,
        advice_code="merchantAdviceCode:02",
    )
    row = CodeRow(kind=FailureKind.CARD_DECLINED, decline=DeclineType.SOFT)
    rewritten = apply_codes(reply, {"27": row})
    assert rewritten.decline is DeclineType.SOFT
    assert (rewritten.provider_reference, rewritten.advice) == ("PSP1", Advice.TRY_AGAIN_LATER)
    assert apply_codes(reply, {"28": row}) is reply


def test_a_row_never_makes_an_unknown_outcome_definite() -> None:
    """Money may have moved: no merchant row turns an unknown into a failure to fail over."""
    unknown = ProviderReply.unknown(provider_code="500_x")
    assert apply_codes(unknown, {"500_x": CodeRow(kind=FailureKind.PROVIDER_DOWN)}) is unknown
    done = ProviderReply.succeeded("pi_1", provider_code="succeeded")
    assert apply_codes(done, {"succeeded": CodeRow(kind=FailureKind.CARD_DECLINED)}) is done


def test_a_row_may_make_a_failure_unknown() -> None:
    """The safe direction: a failure the merchant distrusts is looked up, never failed over."""
    reply = ProviderReply.failed(FailureKind.PROVIDER_DOWN, provider_code="odd")
    rewritten = apply_codes(reply, {"odd": CodeRow(kind=FailureKind.UNKNOWN_OUTCOME)})
    assert rewritten.outcome is Outcome.UNKNOWN


async def test_the_router_applies_rows_to_every_reply_of_that_provider(tmp_path: Path) -> None:
    """A decline the merchant maps to provider_down fails over; the other provider is
    untouched by the first one's rows."""
    codes = {"card_declined": "provider_down"}
    path = write(
        tmp_path,
        [
            {"name": "card_a", "type": "simulated", "methods": ["card"], "codes": codes},
            {"name": "card_b", "type": "simulated", "methods": ["card"]},
        ],
    )
    async with Router.from_config(path, hooks=()) as router:
        first, second = router.adapters
        first.provider.default = Behavior.decline_with(FailureKind.CARD_DECLINED)  # type: ignore[attr-defined]
        second.provider.default = Behavior.decline_with(FailureKind.CARD_DECLINED)  # type: ignore[attr-defined]
        result = await router.pay(request())
    assert [a.failure_kind for a in result.attempts] == [
        FailureKind.PROVIDER_DOWN,
        FailureKind.CARD_DECLINED,
    ]
    assert result.status is PaymentStatus.DECLINED


async def test_rows_reach_lookups_too(tmp_path: Path) -> None:
    codes = {"not_found": "provider_down"}
    path = write(tmp_path, [{"name": "card", "type": "simulated", "codes": codes}])
    (adapter,) = adapters_from_config(load_config(path).model_dump())
    try:
        handle = PaymentHandle("ref-1", "order-1", request().sources[0].method, request().amount)
        reply = await adapter.lookup(handle)
        assert reply.failure_kind is FailureKind.PROVIDER_DOWN
    finally:
        await adapter.aclose()


def test_the_overlay_offers_exactly_the_adapters_protocols() -> None:
    """Wrapped or not, Stripe lists its records and PayPal completes approvals."""
    stripe_options = {"api_key": "sk_test_x", "base_url": "https://api.stripe.test"}
    paypal_options = {
        "client_id": "id",
        "client_secret": "secret",
        "base_url": "https://api-m.sandbox.paypal.test",
        "return_url": "https://shop.example/return",
        "cancel_url": "https://shop.example/cancel",
    }
    codes = {"x": "provider_down"}
    config = {
        "providers": [
            {"name": "stripe", "type": "stripe", "options": stripe_options, "codes": codes},
            {"name": "paypal", "type": "paypal", "options": paypal_options, "codes": codes},
        ]
    }
    stripe, paypal = adapters_from_config(config)
    plain_stripe, plain_paypal = adapters_from_config(
        {"providers": [{**p, "codes": {}} for p in config["providers"]]}
    )
    for wrapped, plain in ((stripe, plain_stripe), (paypal, plain_paypal)):
        assert type(wrapped) is not type(plain)
        assert isinstance(wrapped, CompletesApproval) is isinstance(plain, CompletesApproval)
        assert isinstance(wrapped, RecordsSource) is isinstance(plain, RecordsSource)
        assert wrapped.capabilities == plain.capabilities
        assert wrapped.resolution == plain.resolution
    for adapter in (stripe, paypal, plain_stripe, plain_paypal):
        asyncio.run(adapter.aclose())


def test_status_shows_the_merchants_rows(tmp_path: Path) -> None:
    codes = {"do_not_honor": {"kind": "card_declined", "decline": "soft"}}
    path = write(tmp_path, [{"name": "card", "type": "simulated", "codes": codes}])
    done = CliRunner().invoke(app, ["status", "--config", str(path), "--json"])
    assert done.exit_code == 0, done.output
    assert json.loads(done.output)["codes"] == {
        "card": {"do_not_honor": {"kind": "card_declined", "decline": "soft"}}
    }
    table = CliRunner().invoke(app, ["status", "--config", str(path)])
    assert table.exit_code == 0, table.output
    assert "do_not_honor" in table.output
    assert "soft" in table.output


def test_rows_read_from_toml_too(tmp_path: Path) -> None:
    """`[providers.codes]` under a `[[providers]]` table: the same rows."""
    path = tmp_path / "payrouter.toml"
    path.write_text(
        '[[providers]]\nname = "card"\ntype = "simulated"\n\n'
        '[providers.codes]\nissuer_maintenance = "provider_down"\n'
        '"27" = { kind = "card_declined", decline = "soft" }\n'
    )
    (provider,) = load_config(path).providers
    assert provider.codes == {
        "issuer_maintenance": CodeRow(kind=FailureKind.PROVIDER_DOWN),
        "27": CodeRow(kind=FailureKind.CARD_DECLINED, decline=DeclineType.SOFT),
    }
