"""The seam between the router and a payment provider.

Adapters translate, the router decides: an adapter turns one call into one HTTP exchange and
one `ProviderReply`; it never retries, sleeps, logs, trips breakers or fails over. Transport
exceptions (`httpx.ConnectError`, `httpx.ReadTimeout`, ...) may propagate: the router maps them
to the three outcomes in one table, so every adapter gets the same, conservative treatment.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol, runtime_checkable

from ._models import BankTransferSource, CardSource, PaymentMethod, WalletSource
from ._money import Money
from ._reply import ProviderReply
from ._resolution import Resolution

__all__ = [
    "Adapter",
    "AdapterFactory",
    "Capabilities",
    "Charge",
    "CompletesApproval",
    "CredentialRules",
    "PaymentHandle",
    "ProviderReply",
    "Resolution",
    "SubmitsDetails",
]


@dataclass(frozen=True, slots=True)
class CredentialRules:
    """Which of a customer's credentials this provider can charge: declared by the adapter.

    No provider can charge another provider's token, so the router sends each provider only a
    credential it issued or can use (`payrouter._paying._plan`); a provider with none for a
    source is skipped before any call, with the reason in `RoutePlanned.excluded`.

    Attributes:
        card_id_format: a regular expression the provider's own card tokens match (Stripe:
            `pm_`, `tok_`, `card_`, `src_` ids). A token the customer's source does not name a
            provider for (`CardSource(token=...)` alone) goes only where it matches. None: the
            provider's tokens cannot be told apart (an Adyen `storedPaymentMethodId`), so they
            must be named (`CardSource(token=..., provider="adyen")` or `tokens`). Default:
            any token, as for adapters that declare nothing.
        network_tokens: the provider's API takes card network tokens (token PAN, expiry and
            cryptogram or network transaction id), so a `NetworkToken` is eligible here.
        stored_credential_requires: `PaymentRequest` fields a stored token needs at this
            provider (Adyen's card-on-file needs `customer_id` as its shopper reference).
        wallet_tokens: wallets this provider charges only with a wallet payment token in the
            source (Apple Pay and Google Pay at Adyen); others redirect the customer instead.
        raw_cards: the adapter can send card fields (number, expiry, CVC) in the provider's
            raw-card API, so a forwarding vault can fill them in from its aliases.
        vaults: the forwarding vaults this provider is reached through (set when the adapter
            is built with `vault=`); a `VaultCard` held by one of them is eligible here.
    """

    card_id_format: str | None = r".+"
    network_tokens: bool = False
    stored_credential_requires: frozenset[str] = frozenset()
    wallet_tokens: frozenset[str] = frozenset()
    raw_cards: bool = False
    vaults: frozenset[str] = frozenset()
    _pattern: re.Pattern[str] | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # Compiled once: a typo fails at import, not on a payment, and no payment looks the
        # text up in `re`'s cache again.
        pattern = re.compile(self.card_id_format) if self.card_id_format else None
        object.__setattr__(self, "_pattern", pattern)

    def recognizes(self, token: str) -> bool:
        """True when `token` has this provider's own token format."""
        return self._pattern is not None and self._pattern.fullmatch(token) is not None


@dataclass(frozen=True, slots=True)
class Capabilities:
    """What a provider can take; the router never sends it a payment outside these.

    `None` means "no restriction" for currencies, countries and wallets.
    """

    methods: frozenset[PaymentMethod]
    currencies: frozenset[str] | None = None
    countries: frozenset[str] | None = None
    wallets: frozenset[str] | None = None
    min_minor_units: int = 1
    max_minor_units: int | None = None
    credentials: CredentialRules = field(default_factory=CredentialRules)
    """What the provider's API can charge: its own tokens, network tokens (see the class)."""
    step_up: bool = False
    """The adapter asks its provider for 3-D Secure when a charge says `authenticate`, so
    a card refused for want of authentication can be resent there with it (where the
    merchant enabled 3-D Secure for the provider: `ProviderRouting.three_d_secure`)."""

    def accepts(self, method: PaymentMethod, amount: Money, country: str) -> bool:
        """True when a payment of `method`, `amount` from `country` is within these limits."""
        return (
            method in self.methods
            and (self.currencies is None or amount.currency in self.currencies)
            and (self.countries is None or country in self.countries)
            and amount.minor_units >= self.min_minor_units
            and (self.max_minor_units is None or amount.minor_units <= self.max_minor_units)
        )


@dataclass(frozen=True, slots=True)
class Charge:
    """One attempt to take a payment, as an adapter receives it.

    `reference` is unique per attempt and is what `Adapter.lookup` finds the payment by;
    adapters store it where the provider lets them search (metadata, merchant reference).
    """

    reference: str
    order_id: str
    amount: Money
    source: CardSource | WalletSource | BankTransferSource
    customer_country: str
    capture: bool = True
    customer_id: str | None = None
    off_session: bool = False
    """A charge against a saved mandate without the customer present (a recurring payment):
    providers must treat it as merchant-initiated (Stripe `off_session`, Adyen `ContAuth`)."""
    return_url: str | None = None
    description: str | None = None
    metadata: Mapping[str, str] = field(default_factory=dict)
    authenticate: bool = False
    """Ask the issuer to authenticate the customer (3-D Secure) whatever the provider's own
    rules would do: a resend of a customer-initiated card charge refused for want of it
    (Stripe `request_three_d_secure=any`, Adyen `attemptAuthentication: always`)."""

    @property
    def method(self) -> PaymentMethod:
        """The payment method family of this charge's source."""
        return self.source.method


@dataclass(frozen=True, slots=True)
class PaymentHandle:
    """How to find a payment again at its provider: our reference, and theirs once known."""

    reference: str
    order_id: str
    method: PaymentMethod
    amount: Money
    provider_reference: str | None = None
    captured_reference: str | None = None
    """For a refund of a payment authorized first and captured later: the reference the
    capture's reply carried (PayPal refunds a capture, not the authorization)."""
    started_at: datetime | None = None
    """When the attempt began (timezone-aware), for a lookup that searches the provider's
    records over a period (the Berlin Group adapter reads the merchant's account from that day
    on). None when not known: such a search can still find the payment, but its absence then
    proves nothing."""


@runtime_checkable
class Adapter(Protocol):
    """One payment provider as the router sees it.

    Every money-moving call takes a keyword-only `idempotency_key`, derived by the router per
    attempt (or per follow-up) and already fitted to `idempotency_key_max_length`; the adapter
    sends it through the provider's own idempotency mechanism and never invents another one.
    """

    name: str
    """Unique within one router; it names breakers, ledger rows and metrics."""
    capabilities: Capabilities
    idempotency_key_max_length: int
    resolution: Resolution
    """How an unknown outcome at this provider is resolved (lookup, replay, search, webhook)."""

    async def pay(self, charge: Charge, *, idempotency_key: str) -> ProviderReply:
        """Create and confirm a payment."""
        ...

    async def lookup(self, handle: PaymentHandle) -> ProviderReply:
        """Find a payment by our reference (or the provider's) and report its outcome.

        A provider with no record under the reference answers `FAILED` with kind `NOT_FOUND`.
        A payment that definitely failed answers `FAILED` carrying the provider's reference
        (the router then settles the attempt: nothing moved); a lookup that itself failed
        (throttled, down, unreadable) carries no reference, or answers `UNKNOWN`.
        """
        ...

    async def capture(
        self, handle: PaymentHandle, amount: Money, *, idempotency_key: str
    ) -> ProviderReply:
        """Capture `amount` of an authorized payment."""
        ...

    async def refund(
        self, handle: PaymentHandle, amount: Money, *, idempotency_key: str, reason: str | None
    ) -> ProviderReply:
        """Refund `amount` of a captured payment."""
        ...

    async def void(self, handle: PaymentHandle, *, idempotency_key: str) -> ProviderReply:
        """Cancel an authorized, not yet captured payment."""
        ...

    async def cancel_mandate(self, mandate_id: str, *, idempotency_key: str) -> ProviderReply:
        """Cancel a recurring mandate or saved payment source at the provider."""
        ...

    async def aclose(self) -> None:
        """Release connections; called once when the router closes."""
        ...


@runtime_checkable
class CompletesApproval(Protocol):
    """An adapter whose provider waits for the merchant after the customer approved.

    Some flows move no money when the customer approves (PayPal Orders: the order is
    `APPROVED` until the merchant captures it). The router calls `complete` for an attempt
    still awaiting action when the customer returns (`Router.refresh`) and on reconcile;
    before the customer approved, it must answer `requires_action` again and move nothing.
    """

    async def complete(
        self, handle: PaymentHandle, *, idempotency_key: str, capture: bool | None = None
    ) -> ProviderReply:
        """Move the approved money; `capture=None` keeps the intent the payment was made with."""
        ...


@runtime_checkable
class SubmitsDetails(Protocol):
    """An adapter whose provider finishes a redirect or 3-D Secure challenge only with what it
    appended to the return URL (Adyen's `redirectResult`), and cannot be asked otherwise.

    The checkout's return page passes those parameters to `Router.refresh(order_id,
    details=...)`; the router sends them for the attempt awaiting action, under a key derived
    from that attempt (a reloaded page replays the answer), and records the answer.
    """

    async def submit_details(
        self, details: Mapping[str, str], *, idempotency_key: str
    ) -> ProviderReply:
        """Finish the flow with `details`; the answer is the payment's, as `pay`'s would be."""
        ...


class AdapterFactory(Protocol):
    """What a `payrouter.adapters` entry point resolves to.

    `options` is the provider's `options` mapping from config; the factory validates it (a
    pydantic model with `SecretStr` secrets) and raises `ConfigurationError` naming the field.
    """

    def __call__(
        self, *, name: str, capabilities: Capabilities | None, options: Mapping[str, object]
    ) -> Adapter: ...
