"""Which providers may take a payment, and in which order: pure functions, easy to test.

The order is the customer's: each payment source they offered, in their order of preference,
and for each source every provider that can take it, in the merchant's configured order. So a
busy card provider hands over to the second card provider before the router moves on to the
customer's next source.

Each provider is sent only a credential it can charge (`credential_for`): its own token, a
network token its API takes, or the aliases of a card held by a vault it is reached through.
A provider without one for a source is left out before any call, and `RoutePlanned.excluded`
says why.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from pydantic import SecretStr

from .._adapter import Adapter, Charge
from .._models import (
    BankTransferSource,
    CardSource,
    PaymentMethod,
    PaymentRequest,
    WalletSource,
)

__all__ = [
    "Candidate",
    "Exclusion",
    "Plan",
    "credential_for",
    "eligible",
    "healthy_methods",
    "plan",
]


@dataclass(frozen=True, slots=True)
class Candidate:
    """One (provider, payment source) the router may try."""

    adapter: Adapter
    source: CardSource | WalletSource | BankTransferSource
    source_index: int
    authenticate: bool = False
    """A 3-D Secure step-up: this provider refused the card for want of authentication."""

    @property
    def method(self) -> PaymentMethod:
        return self.source.method

    def charge(self, request: PaymentRequest, *, reference: str) -> Charge:
        """What the adapter is asked to take for `request` from this candidate's source."""
        return Charge(
            reference=reference,
            order_id=request.order_id,
            amount=request.amount,
            source=self.source,
            customer_country=request.customer_country,
            capture=request.capture,
            customer_id=request.customer_id,
            off_session=request.mandate is not None,
            return_url=request.return_url,
            description=request.description,
            metadata=request.metadata,
            authenticate=self.authenticate,
        )


@dataclass(frozen=True, slots=True)
class Exclusion:
    """A provider left out of a payment's route, and why (shown in `RoutePlanned.excluded`)."""

    provider: str
    method: PaymentMethod
    reason: str


def eligible(
    adapter: Adapter,
    source: CardSource | WalletSource | BankTransferSource,
    request: PaymentRequest,
) -> bool:
    """True when `adapter` can legally and technically take `request` paid by `source`."""
    capabilities = adapter.capabilities
    if not capabilities.accepts(source.method, request.amount, request.customer_country):
        return False
    if isinstance(source, WalletSource) and capabilities.wallets is not None:
        return source.wallet in capabilities.wallets
    return True


def credential_for(
    adapter: Adapter,
    source: CardSource | WalletSource | BankTransferSource,
    source_index: int,
    request: PaymentRequest,
) -> CardSource | WalletSource | BankTransferSource | str:
    """`source` narrowed to the one credential `adapter` can charge, or why there is none.

    No provider charges another provider's token, so a card goes to a provider only with a
    token that provider issued or a network token its API takes, and the adapter sees only
    that credential: a Stripe `pm_...` never reaches Adyen.
    """
    rules = adapter.capabilities.credentials
    what = f"{source.method.value} #{source_index + 1}"
    match source:
        case CardSource():
            token = source.token_for(adapter.name, recognizes=rules.recognizes)
            missing = _missing_fields(rules.stored_credential_requires, request)
            if token is not None and not missing:
                if _only_token(source, token):
                    return source  # already that credential alone: nothing to narrow
                return source.model_copy(
                    update={
                        "token": token,
                        "provider": None,
                        "tokens": {},
                        "network_token": None,
                        "vault_card": None,
                    }
                )
            if source.network_token is not None and rules.network_tokens:
                return source.model_copy(
                    update={"token": None, "provider": None, "tokens": {}, "vault_card": None}
                )
            vaulted = source.vault_card
            if vaulted is not None and rules.raw_cards and vaulted.vault in rules.vaults:
                return source.model_copy(
                    update={"token": None, "provider": None, "tokens": {}, "network_token": None}
                )
            if token is not None:
                return f"a stored card at {adapter.name} needs {', '.join(missing)}"
            if vaulted is not None and not source.tokens and source.network_token is None:
                return f"{what} is held by vault {vaulted.vault}, not reached from {adapter.name}"
            return f"no credential for {adapter.name} in {what}"
        case WalletSource():
            account = source.account_for(adapter.name)
            if account is None and source.wallet.lower() in rules.wallet_tokens:
                return f"{source.wallet} at {adapter.name} needs a wallet token for it in {what}"
            # Without an account of its own the provider has the customer approve at the wallet.
            if account is source.account and source.provider is None and not source.accounts:
                return source  # already that account alone (or none): nothing to narrow
            return source.model_copy(update={"account": account, "provider": None, "accounts": {}})
        case BankTransferSource():
            return source


def _only_token(source: CardSource, token: SecretStr) -> bool:
    """True when `source` holds `token` as its one credential, named for no provider: the
    narrowed copy would equal it (sources are frozen, so the router may share it)."""
    return (
        token is source.token
        and source.provider is None
        and not source.tokens
        and source.network_token is None
        and source.vault_card is None
    )


def _missing_fields(fields: frozenset[str], request: PaymentRequest) -> list[str]:
    if not fields:
        return []
    return sorted(name for name in fields if getattr(request, name, None) is None)


@dataclass(frozen=True, slots=True)
class Plan:
    """The candidates, by the customer's source order then the merchant's provider order,
    and the providers left out for want of a credential they could charge."""

    candidates: list[Candidate]
    excluded: list[Exclusion]


def plan(request: PaymentRequest, adapters: Sequence[Adapter]) -> Plan:
    """Every eligible candidate with its credential, and every provider skipped for lack of one."""
    candidates: list[Candidate] = []
    excluded: list[Exclusion] = []
    for index, source in enumerate(request.sources):
        for adapter in adapters:
            if not eligible(adapter, source, request):
                continue
            narrowed = credential_for(adapter, source, index, request)
            if isinstance(narrowed, str):
                excluded.append(Exclusion(adapter.name, source.method, narrowed))
            else:
                candidates.append(Candidate(adapter, narrowed, index))
    return Plan(candidates, excluded)


def healthy_methods(
    request: PaymentRequest,
    adapters: Sequence[Adapter],
    is_open: Callable[[str, PaymentMethod], bool],
) -> tuple[PaymentMethod, ...]:
    """Methods with at least one eligible provider whose breaker admits calls right now.

    Any method a provider could take counts, not only the ones the customer offered, so the
    checkout can offer an alternative at once.
    """
    methods: dict[PaymentMethod, None] = {}
    for adapter in adapters:
        for method in sorted(adapter.capabilities.methods):
            if adapter.capabilities.accepts(
                method, request.amount, request.customer_country
            ) and not is_open(adapter.name, method):
                methods[method] = None
    return tuple(methods)
