"""Code tables a merchant extends: rows added or overridden per provider in config.

Each adapter ships its provider's codes as read-only tables; a code the adapter does not
know yet (a new decline reason, a new error) lands on its conservative default. A merchant
who sees one in the attempt records (`provider_code`) adds a row under the provider's
`codes` in the config file, and the router applies it to every reply of that provider,
whatever the adapter: no release needed.

    providers:
      - name: stripe_main
        type: stripe
        codes:
          do_not_honor: {kind: card_declined, decline: soft}
          issuer_maintenance: provider_down

A row rewrites only a definite failure (`failed`): it never makes an unknown outcome
definite, since money may have moved there, and never touches a success. A row whose kind is
`unknown_outcome` makes the failure unknown, which is always the safe side.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Mapping
from datetime import datetime, timedelta
from typing import Annotated, Self

from pydantic import BaseModel, BeforeValidator, ConfigDict, model_validator

from ._adapter import Adapter, Charge, CompletesApproval, PaymentHandle, ProviderReply
from ._money import Money
from ._reconcile._records import ProviderRecord, RecordsSource
from ._taxonomy import AUTHENTICATION_KINDS, DECLINE_TYPES, DeclineType, FailureKind, Outcome

__all__ = ["CodeRow", "apply_codes", "with_codes"]


def _known_kind(value: object) -> object:
    if isinstance(value, str) and value not in FailureKind.__members__.values():
        known = ", ".join(kind.value for kind in FailureKind)
        raise ValueError(f"unknown failure kind {value!r}: use one of {known}")
    return value


def _known_decline(value: object) -> object:
    if isinstance(value, str) and value not in DeclineType.__members__.values():
        known = ", ".join(kind.value for kind in DeclineType)
        raise ValueError(f"unknown decline type {value!r}: use one of {known}")
    return value


class CodeRow(BaseModel):
    """One merchant row: a provider code's `FailureKind`, and for a decline soft or hard.

    Written as the kind's name alone (`provider_down`) or as a mapping
    (`{kind: card_declined, decline: soft}`); a decline without `decline` is hard.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Annotated[FailureKind, BeforeValidator(_known_kind)]
    decline: Annotated[DeclineType | None, BeforeValidator(_known_decline)] = None

    @model_validator(mode="before")
    @classmethod
    def _kind_alone(cls, data: object) -> object:
        return {"kind": data} if isinstance(data, str) else data

    @model_validator(mode="after")
    def _decline_for_declines(self) -> Self:
        if self.decline is not None and self.kind not in DECLINE_TYPES:
            kinds = ", ".join(kind.value for kind in DECLINE_TYPES)
            raise ValueError(
                f"decline (soft/hard) applies to decline kinds only ({kinds}), "
                f"not to {self.kind.value}"
            )
        if self.decline is DeclineType.SOFT and self.kind in AUTHENTICATION_KINDS:
            raise ValueError(
                f"{self.kind.value} cannot be soft: a reattempt elsewhere would send the card "
                "unauthenticated after a provider asked for authentication; leave decline out"
            )
        return self


def apply_codes(reply: ProviderReply, rows: Mapping[str, CodeRow]) -> ProviderReply:
    """`reply` with its kind (and decline type) from the merchant's row for its code, if any.

    Only a definite failure is rewritten; the advice and everything else are kept.
    """
    if reply.outcome is not Outcome.FAILED or reply.provider_code is None:
        return reply
    row = rows.get(reply.provider_code)
    if row is None:
        return reply
    declines = row.kind in DECLINE_TYPES
    return dataclasses.replace(
        reply,
        failure_kind=row.kind,
        decline=row.decline,
        advice=reply.advice if declines else None,
        advice_code=reply.advice_code if declines else None,
    )


class _Overlaid:
    """An adapter whose replies pass through the merchant's rows; everything else is its."""

    def __init__(self, inner: Adapter, rows: Mapping[str, CodeRow]) -> None:
        self.inner, self.codes = inner, dict(rows)
        self.name = inner.name
        self.capabilities = inner.capabilities
        self.idempotency_key_max_length = inner.idempotency_key_max_length
        self.resolution = inner.resolution

    def __getattr__(self, name: str) -> object:  # adapter extras, e.g. `records_reference`
        return getattr(self.inner, name)

    def __repr__(self) -> str:
        return f"{self.inner!r} with {len(self.codes)} merchant code rows"

    async def pay(self, charge: Charge, *, idempotency_key: str) -> ProviderReply:
        reply = await self.inner.pay(charge, idempotency_key=idempotency_key)
        return apply_codes(reply, self.codes)

    async def lookup(self, handle: PaymentHandle) -> ProviderReply:
        return apply_codes(await self.inner.lookup(handle), self.codes)

    async def capture(
        self, handle: PaymentHandle, amount: Money, *, idempotency_key: str
    ) -> ProviderReply:
        reply = await self.inner.capture(handle, amount, idempotency_key=idempotency_key)
        return apply_codes(reply, self.codes)

    async def refund(
        self, handle: PaymentHandle, amount: Money, *, idempotency_key: str, reason: str | None
    ) -> ProviderReply:
        reply = await self.inner.refund(
            handle, amount, idempotency_key=idempotency_key, reason=reason
        )
        return apply_codes(reply, self.codes)

    async def void(self, handle: PaymentHandle, *, idempotency_key: str) -> ProviderReply:
        return apply_codes(
            await self.inner.void(handle, idempotency_key=idempotency_key), self.codes
        )

    async def cancel_mandate(self, mandate_id: str, *, idempotency_key: str) -> ProviderReply:
        reply = await self.inner.cancel_mandate(mandate_id, idempotency_key=idempotency_key)
        return apply_codes(reply, self.codes)

    async def aclose(self) -> None:
        await self.inner.aclose()


class _Approving(_Overlaid):
    async def complete(
        self, handle: PaymentHandle, *, idempotency_key: str, capture: bool | None = None
    ) -> ProviderReply:
        assert isinstance(self.inner, CompletesApproval)
        reply = await self.inner.complete(handle, idempotency_key=idempotency_key, capture=capture)
        return apply_codes(reply, self.codes)


class _Listing(_Overlaid):
    @property
    def records_delay(self) -> timedelta:
        assert isinstance(self.inner, RecordsSource)
        return self.inner.records_delay

    def list_payments(self, since: datetime, until: datetime) -> AsyncIterator[ProviderRecord]:
        assert isinstance(self.inner, RecordsSource)
        return self.inner.list_payments(since, until)


class _ApprovingListing(_Approving, _Listing):
    pass


def with_codes(adapter: Adapter, rows: Mapping[str, CodeRow]) -> Adapter:
    """`adapter` with the merchant's rows applied to its replies; itself when there are none.

    The wrapper offers exactly the optional protocols the adapter offers (approval
    completion, records listing), so the router treats it as it would the adapter.
    """
    if not rows:
        return adapter
    approving = isinstance(adapter, CompletesApproval)
    listing = isinstance(adapter, RecordsSource)
    cls = {
        (False, False): _Overlaid,
        (True, False): _Approving,
        (False, True): _Listing,
        (True, True): _ApprovingListing,
    }[(approving, listing)]
    wrapped: Adapter = cls(adapter, rows)
    return wrapped
