"""An attempt's request is kept as sent, so a replay under its key sends the same body."""

from __future__ import annotations

import dataclasses

import pytest
from pydantic import SecretStr

from payrouter import CardSource, Money, NetworkToken, WalletSource
from payrouter._paying._replay import decode_charge, encode_charge
from payrouter.provider import Charge

NETWORK_TOKEN = NetworkToken(
    number=SecretStr("4895370012003478"),
    expiry_month=3,
    expiry_year=2030,
    cryptogram=SecretStr("AgAAAAAABk4DWZ4C28yUQAAAAAA="),
    eci="05",
)


@pytest.mark.parametrize(
    "source",
    [
        CardSource(token=SecretStr("pm_card_visa")),
        CardSource(network_token=NETWORK_TOKEN),
        WalletSource(wallet="applepay", account=SecretStr("apple-pay-token")),
    ],
    ids=["card-token", "network-token", "wallet"],
)
def test_a_kept_request_decodes_to_the_charge_that_was_sent(
    source: CardSource | WalletSource,
) -> None:
    """Every credential, nested ones too (a network token's PAN and cryptogram), survives."""
    charge = Charge(
        reference="attempt-1",
        order_id="order-1",
        amount=Money(minor_units=1050, currency="EUR"),
        source=source,
        customer_country="DE",
    )
    assert decode_charge(encode_charge(charge)) == charge


def test_every_field_of_a_charge_survives_so_a_stepped_up_replay_asks_for_3ds_again() -> None:
    """A replay must send what the original sent, or the provider refuses it as another
    request under the same key (Adyen 704): a stepped-up attempt's `authenticate` was once
    lost, and its replay asked for no authentication. Every field here differs from its
    default, and a field added to `Charge` later fails this test until it is given one."""
    charge = Charge(
        reference="attempt-2",
        order_id="order-1",
        amount=Money(minor_units=1050, currency="EUR"),
        source=CardSource(token=SecretStr("pm_card_visa")),
        customer_country="DE",
        capture=False,
        customer_id="cus_1",
        off_session=True,
        return_url="https://shop.example/return",
        description="Order 1",
        metadata={"cart": "42"},
        authenticate=True,
    )
    defaults = Charge(
        reference="", order_id="", amount=charge.amount, source=charge.source, customer_country=""
    )
    assert [
        field.name
        for field in dataclasses.fields(Charge)
        if getattr(charge, field.name) == getattr(defaults, field.name)
    ] == ["amount", "source"]
    assert decode_charge(encode_charge(charge)) == charge
