"""What a merchant hands the router and what it gets back: strict, frozen pydantic models.

Validation happens here, at the edge, so that no provider is ever called with input we could
have refused ourselves; every message names the field and the fix. Every string a provider
receives is checked for card numbers and IBANs (`_sensitive`), which are refused.
"""

from __future__ import annotations

import enum
import hashlib
from datetime import datetime
from json.encoder import encode_basestring_ascii as _json_string
from typing import Annotated

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    StringConstraints,
    ValidationInfo,
    field_validator,
)

from ._actions import NextAction
from ._money import Money
from ._sensitive import card_data_problem
from ._sources import (
    BankTransferSource,
    CardSource,
    EdgeModel,
    FreeText,
    NetworkToken,
    PaymentMethod,
    PaymentSource,
    VaultCard,
    WalletSource,
    no_card_data,
    source_identity,
)
from ._taxonomy import Advice, DeclineType, FailureKind, Outcome

__all__ = [
    "AttemptSummary",
    "BankTransferSource",
    "CardSource",
    "Mandate",
    "NetworkToken",
    "PaymentMethod",
    "PaymentRequest",
    "PaymentResult",
    "PaymentSource",
    "PaymentStatus",
    "VaultCard",
    "WalletSource",
]


class PaymentStatus(enum.StrEnum):
    """Where a payment stands, as the merchant sees it; it only ever moves forward."""

    PROCESSING = "processing"
    """Claimed by a worker that is calling providers right now."""
    SUCCEEDED = "succeeded"
    DECLINED = "declined"
    PENDING = "pending"
    """Money may have moved or will settle later; reconcile or a webhook resolves it."""
    REQUIRES_ACTION = "requires_action"
    PARTIALLY_AUTHORISED = "partially_authorised"
    """The issuer authorised less than asked (an Adyen partial authorisation), never
    `succeeded`: capture the part (name the amount) or void it, as your policy says."""
    FAILED = "failed"
    """No provider took it and no money moved; the same order id may be paid again."""

    @property
    def is_final(self) -> bool:
        """True when no lookup, webhook or customer action can change it any more."""
        return self in (PaymentStatus.SUCCEEDED, PaymentStatus.DECLINED)


OrderId = Annotated[
    str,
    StringConstraints(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9._:/@#+=-]+$"),
    AfterValidator(no_card_data),
]
CountryCode = Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")]


class Mandate(EdgeModel):
    """A customer's standing permission at one provider to charge them again.

    Charges against it and its cancellation must go to the provider that holds it, never
    another one, so the provider travels with the id. Frozen and strict: a mandate is a
    reference the merchant stores and passes back, not something the SDK edits.
    """

    provider: str = Field(
        min_length=1, description="Name of the configured provider that holds the mandate."
    )
    # Sent to the provider when charged and when cancelled: never a card number or an IBAN.
    mandate_id: FreeText = Field(
        min_length=1, description="The provider's own id for the mandate (e.g. a Stripe pm_...)."
    )
    method: PaymentMethod = Field(description="How the customer pays under this mandate.")
    wallet: FreeText | None = Field(
        default=None, description="For a wallet mandate, the wallet type ('paypal' if omitted)."
    )

    def as_source(self) -> CardSource | WalletSource:
        """The payment source a charge against this mandate sends to its provider.

        Raises:
            ValueError: a bank-transfer mandate: recurring bank payments are standing orders
                the bank executes itself; payrouter can cancel them, not charge them.
        """
        secret = SecretStr(self.mandate_id)
        match self.method:
            case PaymentMethod.CARD:
                return CardSource(token=secret, provider=self.provider)
            case PaymentMethod.WALLET:
                return WalletSource(
                    wallet=self.wallet or "paypal", account=secret, provider=self.provider
                )
            case _:
                raise ValueError(
                    "a bank-transfer mandate is a standing order the bank executes itself: "
                    "cancel it with router.cancel_mandate, it cannot be charged"
                )


class PaymentRequest(EdgeModel):
    """One order to pay, with the sources the customer accepts in their order of preference.

    `order_id` is the merchant's idempotency key: the router takes at most one charge per
    order id, across providers and processes.
    """

    order_id: OrderId
    amount: Money
    mandate: Mandate | None = Field(
        default=None,
        description="Charge this saved mandate off-session (a recurring payment) instead of "
        "`sources`: only the mandate's provider is tried, since no other holds it.",
    )
    sources: tuple[PaymentSource, ...] = Field(
        default=(), max_length=10, strict=False, validate_default=True
    )
    customer_country: CountryCode = Field(description="ISO 3166-1 alpha-2, e.g. 'DE'.")
    customer_id: Annotated[FreeText, StringConstraints(min_length=1, max_length=200)] | None = None
    capture: bool = Field(
        default=True, description="False authorizes only; capture later with a follow-up."
    )
    return_url: Annotated[FreeText, StringConstraints(pattern=r"^https?://\S+$")] | None = None
    description: Annotated[FreeText, StringConstraints(max_length=500)] | None = None
    metadata: dict[str, str] = Field(default_factory=dict, max_length=20)
    tags: frozenset[Annotated[FreeText, StringConstraints(pattern=r"^[a-z0-9_-]{1,40}$")]] = Field(
        default=frozenset(),
        max_length=20,
        strict=False,
        description="Merchant labels routing rules match ('b2b', 'subscription', ...).",
    )

    @field_validator("sources")
    @classmethod
    def _sources_or_mandate(
        cls, value: tuple[PaymentSource, ...], info: ValidationInfo
    ) -> tuple[PaymentSource, ...]:
        mandate = info.data.get("mandate")
        if mandate is None and not value:
            raise ValueError("give at least one payment source, or a mandate to charge")
        if mandate is not None and value:
            raise ValueError(
                "give either sources or a mandate, not both: a mandate is charged at its own "
                "provider only"
            )
        return (mandate.as_source(),) if mandate is not None else value

    @field_validator("metadata")
    @classmethod
    def _bounded_metadata(cls, value: dict[str, str]) -> dict[str, str]:
        for key, item in value.items():
            if (problem := card_data_problem(key)) is not None:  # first: never echo it
                raise ValueError(f"a metadata key {problem}")
            if (problem := card_data_problem(item)) is not None:
                raise ValueError(f"metadata[{key[:40]!r}] {problem}")
            if not 0 < len(key) <= 40 or len(item) > 500:
                raise ValueError(
                    f"entry {key[:40]!r}: keys need 1-40 characters and values at most 500"
                )
            if "[" in key or "]" in key:
                raise ValueError(
                    f"entry {key[:40]!r}: keys cannot contain square brackets (Stripe refuses "
                    "them: they nest form fields); use letters, digits, '_' or '-'"
                )
        return value

    @property
    def methods(self) -> tuple[PaymentMethod, ...]:
        """The customer's acceptable methods, in their order of preference."""
        return tuple(dict.fromkeys(source.method for source in self.sources))

    def fingerprint(self) -> str:
        """A hash of every money-relevant field: the same order id with another one conflicts.

        Secrets enter only as part of the hash input, which never leaves the process unhashed.
        The input is the compact JSON of these fields with sorted keys, written out here with
        `json`'s own string escaping: the very text `json.dumps(..., sort_keys=True,
        separators=(",", ":"))` gives, so fingerprints in existing ledgers hold, at a third
        of its cost (it builds an encoder per call).
        """
        sources = ",".join(
            "[" + ",".join(map(_json_string, source_identity(source))) + "]"
            for source in self.sources
        )
        customer_id = "null" if self.customer_id is None else _json_string(self.customer_id)
        # The mandate only when there is one, so earlier fingerprints stay as they were.
        mandate = (
            ""
            if self.mandate is None
            else f'"mandate_provider":{_json_string(self.mandate.provider)},'
        )
        canonical = (
            f'{{"amount":{int(self.amount.minor_units)},'
            f'"capture":{"true" if self.capture else "false"},'
            f'"currency":{_json_string(self.amount.currency)},'
            f'"customer_country":{_json_string(self.customer_country)},'
            f'"customer_id":{customer_id},{mandate}"sources":[{sources}]}}'
        )
        return hashlib.sha256(canonical.encode()).hexdigest()


class AttemptSummary(BaseModel):
    """One provider attempt of a payment, as recorded in the ledger."""

    model_config = ConfigDict(frozen=True)

    number: int = Field(description="1 for the first attempt of the order, then 2, 3, ...")
    provider: str
    method: PaymentMethod
    outcome: Outcome | None = Field(description="None while the call has not finished.")
    failure_kind: FailureKind | None = None
    provider_code: str | None = None
    provider_reference: str | None = None
    action_url: str | None = None
    action: NextAction | None = Field(
        default=None, description="What the customer must do, when the outcome is requires_action."
    )
    idempotency_key: str
    tries: int = Field(default=0, description="Calls sent with this attempt's key.")
    latency_ms: float | None = None
    decline: DeclineType | None = Field(
        default=None, description="A decline's type: soft (may pass elsewhere) or hard."
    )
    advice: Advice | None = Field(
        default=None, description="The card network's advice on retrying this card."
    )
    advice_code: str | None = Field(default=None, description="The advice as the provider gave it.")
    started_at: datetime
    finished_at: datetime | None = None


class PaymentResult(BaseModel):
    """What became of a payment, with every attempt the router made for it."""

    model_config = ConfigDict(frozen=True)

    order_id: str
    status: PaymentStatus
    amount: Money
    provider: str | None = Field(default=None, description="Who took (or holds) the payment.")
    method: PaymentMethod | None = None
    provider_reference: str | None = None
    action_url: str | None = Field(
        default=None, description="Where to send the customer when status is requires_action."
    )
    action: NextAction | None = Field(
        default=None,
        description="Everything the checkout's front end needs when status is requires_action: "
        "a redirect URL, or what the provider's client SDK takes (a client secret, an action "
        "object); `action_url` is its URL, when it has one.",
    )
    failure_kind: FailureKind | None = None
    decline_reason: str | None = Field(
        default=None, description="Customer-safe text for a declined payment."
    )
    attempts: tuple[AttemptSummary, ...] = ()
    created_at: datetime
    updated_at: datetime
