"""An attempt's request is kept as sent, so a replay under its key sends the same body."""

from __future__ import annotations

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
