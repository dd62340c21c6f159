"""Which providers may take a payment, and in which order: pure functions, easy to test.

The order is the customer's: each payment source they offered, in their order of preference,
and for each source every provider that can take it, in the merchant's configured order. So a
busy card provider hands over to the second card provider before the router moves on to the
customer's next source.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from .._adapter import Adapter, Charge
from .._models import (
    BankTransferSource,
    CardSource,
    PaymentMethod,
    PaymentRequest,
    WalletSource,
)

__all__ = ["Candidate", "eligible", "healthy_methods", "plan"]


@dataclass(frozen=True, slots=True)
class Candidate:
    """One (provider, payment source) the router may try."""

    adapter: Adapter
    source: CardSource | WalletSource | BankTransferSource
    source_index: int

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
        )


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


def plan(request: PaymentRequest, adapters: Sequence[Adapter]) -> list[Candidate]:
    """Every eligible candidate, by the customer's source order, then the merchant's order."""
    return [
        Candidate(adapter, source, index)
        for index, source in enumerate(request.sources)
        for adapter in adapters
        if eligible(adapter, source, request)
    ]


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
