"""Drill customers' card credentials: at which providers each card is tokenized.

No provider charges another provider's token, so a card can fail over only to a provider
holding a credential for it: a token that provider issued, or a network token its API takes.
A scenario sets the shares (`credentials: {stripe_only: 0.5, both: 0.3, network_token: 0.2}`):
`<type>_only` is a card tokenized at that card provider alone, `both` at every card provider,
`network_token` a card network token. The drill issues every token at its stand-in through
the admin API before each strategy runs, as a checkout's tokenization would have; so too each
customer's vaulted PayPal wallet at every PayPal provider (`wallets_to_issue`), as PayPal
charges only the vault ids it holds.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from typing import Final

from pydantic import SecretStr

from payrouter import CardSource, NetworkToken, PaymentMethod, WalletSource

__all__ = [
    "BOTH",
    "NETWORK_TOKEN",
    "card_source",
    "cards_of",
    "check_shares",
    "to_issue",
    "wallets_to_issue",
]

BOTH: Final = "both"
NETWORK_TOKEN: Final = "network_token"  # noqa: S105 - a share's name, not a secret
_SUM_TOLERANCE: Final = 1e-6


def check_shares(shares: Mapping[str, float], card_types: Sequence[str]) -> str | None:
    """A message naming what is wrong with `shares` for these card provider types, or None."""
    valid = [f"{kind}_only" for kind in card_types] + [BOTH, NETWORK_TOKEN]
    if len(set(card_types)) != len(card_types):
        return "card providers share a type, so shares by type cannot tell them apart"
    for key, share in shares.items():
        if key not in valid:
            return f"unknown share {key!r}: one of {valid}"
        if not 0 <= share <= 1:
            return f"{key} must be between 0 and 1, not {share}"
    total = sum(shares.values())
    if abs(total - 1) > _SUM_TOLERANCE:
        return f"shares must add up to 1, not {total:g}"
    return None


def card_source(
    rng: random.Random,
    shares: Mapping[str, float],
    card_providers: Sequence[tuple[str, str]],
) -> CardSource:
    """A card tokenized as a share drawn from `shares` says; `card_providers` are the
    scenario's (name, type) of card providers, in its order."""
    kinds = list(shares)
    kind = rng.choices(kinds, [shares[k] for k in kinds])[0] if kinds else ""
    number = rng.randrange(10**9)  # 9 digits: never mistaken for a card number
    if kind == NETWORK_TOKEN:
        return CardSource(network_token=_network_token(number))
    holders = (
        card_providers if kind == BOTH else [p for p in card_providers if kind == f"{p[1]}_only"]
    )
    tokens = {name: SecretStr(_token(kind_of, number)) for name, kind_of in holders}
    return CardSource(tokens=tokens)


def to_issue(
    sources: Sequence[tuple[str, CardSource]],
) -> dict[str, list[dict[str, str]]]:
    """Per provider name, the admin API's credential requests for every (customer, card)."""
    found: dict[str, list[dict[str, str]]] = {}
    for customer, card in sources:
        for provider, token in card.tokens.items():
            found.setdefault(provider, []).append(
                {"id": token.get_secret_value(), "customer": customer}
            )
    return found


def wallets_to_issue(
    sources: Sequence[object], paypal_providers: Sequence[str]
) -> dict[str, list[dict[str, str]]]:
    """Per PayPal provider name, the admin API's requests vaulting every vaulted PayPal wallet
    among `sources` (a wallet whose account is its vault id, not a payer's e-mail)."""
    vault_ids = sorted(
        {
            source.account.get_secret_value()
            for source in sources
            if isinstance(source, WalletSource)
            and source.wallet == "paypal"
            and source.account is not None
            and "@" not in source.account.get_secret_value()
        }
    )
    return {name: [{"id": vault_id} for vault_id in vault_ids] for name in paypal_providers}


def cards_of(sources: Sequence[object]) -> list[CardSource]:
    """The card sources among a payment's sources."""
    return [s for s in sources if isinstance(s, CardSource) and s.method is PaymentMethod.CARD]


def _token(provider_type: str, number: int) -> str:
    """An id in the provider's own format: Stripe `pm_...`; Adyen's 16 digits beginning with 8
    (which no card network's number does); else a plain id."""
    if provider_type == "stripe":
        return f"pm_drill{number}"
    if provider_type == "adyen":
        return f"8{number:015d}"
    return f"{provider_type}_{number}"


def _network_token(number: int) -> NetworkToken:
    """A Visa token PAN (Luhn-valid) with a customer-initiated payment's cryptogram."""
    body = f"4895{number:011d}"
    digits = [int(d) for d in body]
    total = sum(
        d if i % 2 else (d * 2 - 9 if d > 4 else d * 2) for i, d in enumerate(reversed(digits))
    )
    return NetworkToken(
        number=SecretStr(body + str((10 - total % 10) % 10)),
        expiry_month=12,
        expiry_year=2030,
        cryptogram=SecretStr("AgAAAAAAAIR8CQrXcIhbQAAAAAA="),
        eci="05",
    )
