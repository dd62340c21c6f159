"""Drill customers' card credentials: shares a scenario sets, issued at the stand-ins, and the
report's card failovers, possible or not and why."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from pydantic import SecretStr

from payrouter import CardSource, ConfigurationError, WalletSource
from payrouter_lab.drill import load_scenario, run_drill
from payrouter_lab.drill._card_failovers import MADE, NOT_POSSIBLE, POSSIBLE, card_failover
from payrouter_lab.drill._credentials import wallets_to_issue
from payrouter_lab.drill._scenario import Scenario
from payrouter_lab.drill._traffic import arrivals

CARDS_ONLY = {
    "name": "cards",
    "seed": 3,
    "duration_seconds": 3,
    "rate_per_second": 100,
    "customers": [{"weight": 1, "sources": ["card"]}],
    "providers": [
        {"name": "card_a", "type": "stripe", "methods": ["card"]},
        {"name": "card_b", "type": "adyen", "methods": ["card"]},
    ],
}


def scenario(**changes: object) -> Scenario:
    return Scenario.model_validate({**CARDS_ONLY, **changes})


@pytest.mark.parametrize(
    ("shares", "problem"),
    [
        ({"strip_only": 1.0}, "unknown share 'strip_only'"),
        ({"stripe_only": 0.5, "both": 0.3}, "add up to 1"),
        ({"stripe_only": 1.5, "both": -0.5}, "between 0 and 1"),
    ],
)
def test_credential_shares_are_validated_naming_the_field(
    tmp_path: Path, shares: dict[str, float], problem: str
) -> None:
    """A typo, shares not adding up to 1, a share out of range: a scenario error that says so."""
    path = tmp_path / "bad.yaml"
    path.write_text(str({**CARDS_ONLY, "credentials": shares}).replace("'", '"'))
    with pytest.raises(ConfigurationError, match="credentials") as refused:
        load_scenario(path)
    assert problem in str(refused.value)


def test_cards_carry_credentials_in_the_scenarios_shares() -> None:
    """Each card is tokenized where its drawn share says: at Stripe, at Adyen, at both, or a
    network token; the shares come out as set (seeded, so exactly reproducible)."""
    shares = {"stripe_only": 0.5, "both": 0.3, "adyen_only": 0.1, "network_token": 0.1}
    cards = [
        source
        for arrival in arrivals(scenario(credentials=shares))
        for source in arrival.request.sources
        if isinstance(source, CardSource)
    ]
    kinds = Counter(
        "network_token"
        if card.network_token is not None
        else "both"
        if set(card.tokens) == {"card_a", "card_b"}
        else f"{'stripe' if 'card_a' in card.tokens else 'adyen'}_only"
        for card in cards
    )
    assert len(cards) > 200
    for kind, share in shares.items():
        assert abs(kinds[kind] / len(cards) - share) < 0.06, kinds
    stripe_ids = [c.tokens["card_a"].get_secret_value() for c in cards if "card_a" in c.tokens]
    assert all(token.startswith("pm_") for token in stripe_ids)


def test_without_shares_every_card_is_tokenized_at_the_first_card_provider() -> None:
    """A scenario that sets no shares keeps one token per card, at the first card provider."""
    cards = [
        source
        for arrival in arrivals(scenario())
        for source in arrival.request.sources
        if isinstance(source, CardSource)
    ]
    assert {tuple(card.tokens) for card in cards} == {("card_a",)}


@pytest.mark.parametrize(
    ("left", "route", "excluded", "taken_by", "verdict"),
    [
        (set(), ["card_a"], {"card_b": "no credential for card_b in card #1"}, "card_a", None),
        ({"card_a"}, ["card_a", "card_b"], {}, "card_b", MADE),
        ({"card_a"}, ["card_a", "card_b"], {}, None, POSSIBLE),
        (
            {"card_a"},
            ["card_a"],
            {"card_b": "no credential for card_b in card #2"},
            None,
            NOT_POSSIBLE + "no credential for card_b",
        ),
        ({"card_a"}, ["card_a"], {}, None, NOT_POSSIBLE + "no other card provider"),
    ],
)
def test_each_card_failover_verdict(
    left: set[str], route: list[str], excluded: dict[str, str], taken_by: str | None, verdict: str
) -> None:
    """Needed when a card provider could not take the card; possible when another held a
    credential for it; else not possible, for the route's reason."""
    assert card_failover(left, route, excluded, taken_by) == verdict


@pytest.mark.slow
async def test_the_report_shows_which_card_failovers_were_possible_and_why_not(
    tmp_path: Path,
) -> None:
    """Stripe down all along: cards tokenized at both are charged at Adyen (possible, made);
    Stripe-only cards cannot go there, for want of a credential at card_b."""
    short = scenario(
        credentials={"stripe_only": 0.5, "both": 0.5},
        faults=[{"provider": "card_a", "kind": "down"}],
        duration_seconds=1,
        rate_per_second=40,
    )
    outcome = await run_drill(short, tmp_path)
    strategies = outcome.report["strategies"]
    assert isinstance(strategies, list)
    failovers = strategies[0]["card_failovers"]
    assert failovers["needed"] == strategies[0]["payments"]
    assert 0 < failovers["possible"] == failovers["made"] < failovers["needed"]
    assert failovers["not_possible"] == {
        "no credential for card_b": failovers["needed"] - failovers["possible"]
    }
    assert strategies[1]["card_failovers"] is None  # the baselines do not say


def test_a_card_is_possible_only_where_a_provider_can_charge_its_credential() -> None:
    """card_b down: a network-token card (taken by Adyen's API only) or an Adyen-only card
    was not possible; a card tokenized at Stripe too was."""
    from payrouter import PaymentStatus
    from payrouter_lab.drill._engine import _mark_possible
    from payrouter_lab.drill._figures import PaymentRecord

    shares = {"both": 0.4, "adyen_only": 0.3, "network_token": 0.3}
    blocked = scenario(credentials=shares, faults=[{"provider": "card_b", "kind": "down"}])
    traffic = arrivals(blocked)
    records = [PaymentRecord(a.request.order_id, a.at, 0.0, PaymentStatus.FAILED) for a in traffic]
    _mark_possible(records, traffic, blocked, frozenset({"card_b"}))
    cards = [a.request.sources[0] for a in traffic]
    assert [r.possible for r in records] == [
        isinstance(c, CardSource) and "card_a" in c.tokens for c in cards
    ]
    assert 0 < sum(r.possible for r in records) < len(records)


def test_vaulted_paypal_wallets_are_issued_at_every_paypal_provider() -> None:
    """PayPal charges only the vault ids it holds: every vaulted wallet of the traffic is
    vaulted at each PayPal provider before a strategy runs; a payer's e-mail is not a vault id."""
    sources = [
        WalletSource(wallet="paypal", account=SecretStr("payer1")),
        WalletSource(wallet="paypal", account=SecretStr("frozen-payer2")),
        WalletSource(wallet="paypal", account=SecretStr("payer1")),
        WalletSource(wallet="paypal", account=SecretStr("someone@example.com")),
        WalletSource(wallet="paypal"),
        CardSource(token="pm_x"),
    ]
    issued = wallets_to_issue(sources, ["wallet_a", "wallet_b"])
    expected = [{"id": "frozen-payer2"}, {"id": "payer1"}]
    assert issued == {"wallet_a": expected, "wallet_b": expected}


@pytest.mark.slow
async def test_the_drills_vaulted_paypal_wallets_are_charged_at_paypal(tmp_path: Path) -> None:
    """The drill vaults its customers' PayPal wallets at the stand-in, so PayPal charges them
    instead of refusing every one as a vault id it never issued."""
    wallets = scenario(
        customers=[{"weight": 1, "sources": ["wallet"]}],
        providers=[{"name": "wallet_a", "type": "paypal", "methods": ["wallet"]}],
        duration_seconds=1,
        rate_per_second=20,
        frozen_wallet_share=0,
        empty_wallet_share=0,
    )
    outcome = await run_drill(wallets, tmp_path)
    strategies = outcome.report["strategies"]
    assert isinstance(strategies, list)
    router = strategies[0]
    assert router["payments"] > 0
    assert router["succeeded"] == router["payments"], router
