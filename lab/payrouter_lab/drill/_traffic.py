"""The drill's customers: who pays what, how, and when; the same for every strategy.

Everything derives from the scenario's seed, so a drill replays exactly: the same
customers in the same order at the same offsets, whichever strategy serves them.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from payrouter import (
    BankTransferSource,
    CardSource,
    Money,
    PaymentMethod,
    PaymentRequest,
    WalletSource,
    currency_exponent,
)

from ._credentials import card_source
from ._scenario import Scenario

__all__ = ["EMPTY_PREFIX", "FROZEN_PREFIX", "Arrival", "arrivals"]

FROZEN_PREFIX = "frozen-"
"""Wallet accounts of frozen wallets start with this, so a fault can target them."""
EMPTY_PREFIX = "empty-"

# Valid German IBANs (mod 97) for the bank-transfer customers; the sandbox takes any.
_IBANS = ("DE89370400440532013000", "DE02120300000000202051", "DE02500105170137075030")


@dataclass(frozen=True, slots=True)
class Arrival:
    """One customer's payment and when, in seconds from the drill's start, it is sent."""

    at: float
    request: PaymentRequest


def arrivals(scenario: Scenario) -> list[Arrival]:
    """Open-loop arrivals at the scenario's rate (Poisson), with seeded customers."""
    rng = random.Random(scenario.seed)  # noqa: S311 - a simulation, not cryptography
    weights = [mix.weight for mix in scenario.customers]
    smallest = 10 ** currency_exponent(scenario.currency)
    found: list[Arrival] = []
    at = 0.0
    for index in range(scenario.payments):
        at += rng.expovariate(scenario.rate_per_second)
        if at >= scenario.duration_seconds:
            break
        mix = rng.choices(scenario.customers, weights)[0]
        sources = tuple(_source(method, rng, scenario) for method in mix.sources)
        request = PaymentRequest(
            order_id=f"{scenario.name}-{scenario.seed}-{index}",
            amount=Money(minor_units=rng.randrange(5, 200) * smallest, currency=scenario.currency),
            sources=sources,
            customer_country=rng.choice(scenario.countries),
            customer_id=f"cus_drill{index}",
            return_url="https://shop.example/return",
        )
        found.append(Arrival(at, request))
    return found


def _source(
    method: PaymentMethod, rng: random.Random, scenario: Scenario
) -> CardSource | WalletSource | BankTransferSource:
    if method is PaymentMethod.CARD:
        return card_source(rng, scenario.credential_shares, scenario.card_providers)
    if method is PaymentMethod.WALLET:
        draw = rng.random()
        prefix = ""
        if draw < scenario.frozen_wallet_share:
            prefix = FROZEN_PREFIX
        elif draw < scenario.frozen_wallet_share + scenario.empty_wallet_share:
            prefix = EMPTY_PREFIX
        return WalletSource(wallet="paypal", account=f"{prefix}payer{rng.randrange(10**9)}")
    return BankTransferSource(iban=rng.choice(_IBANS), holder_name="Drill Customer")
