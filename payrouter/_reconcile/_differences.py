"""The kinds of difference between the ledger and a provider's records, and how each is found.

Each comparison is a small pure function of one ledger attempt and one provider record, so a
test can plant each kind and read exactly one difference back. What to do about each kind is
data (`ACTIONS`), shown beside every difference and explained in the runbook.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from types import MappingProxyType
from typing import Final

from .._ledger._books import PeriodAttempt
from .._models import PaymentMethod
from .._money import Money, currency_exponent
from .._paying._fees import FeeRule, fee_minor
from .._taxonomy import Outcome

__all__ = ["ACTIONS", "Mismatch", "MismatchKind", "ProviderRecord", "differences", "missing"]


@dataclass(frozen=True, slots=True)
class ProviderRecord:
    """One payment as the provider's own records show it, translated by its adapter.

    `captured`, `refunded` and `fee` are integer minor units of `amount`'s currency (zero is
    a statement, so not `Money`), None when the provider's records do not say; a comparison
    is only made where they do.
    """

    provider_reference: str
    amount: Money
    outcome: Outcome
    created_at: datetime
    reference: str | None = None
    """Our attempt reference, when the provider stores it (metadata, merchant reference)."""
    order_id: str | None = None
    captured: int | None = None
    """Money taken (captured) so far."""
    refunded: int | None = None
    """Money given back so far."""
    fee: int | None = None
    """What the provider charged the merchant for this payment."""


class MismatchKind(enum.StrEnum):
    """How the ledger and a provider disagree."""

    MISSING_AT_PROVIDER = "missing_at_provider"
    MISSING_IN_LEDGER = "missing_in_ledger"
    AMOUNT_DIFFERS = "amount_differs"
    CURRENCY_DIFFERS = "currency_differs"
    STATUS_DIFFERS = "status_differs"
    CAPTURED_DIFFERS = "captured_differs"
    REFUNDED_DIFFERS = "refunded_differs"
    FEE_DIFFERS = "fee_differs"
    UNANSWERED = "unanswered"
    """The provider took (or holds) the money; the ledger still waits for its answer."""


ACTIONS: Final[Mapping[MismatchKind, str]] = MappingProxyType(
    {
        MismatchKind.MISSING_AT_PROVIDER: (
            "run `payrouter reconcile`; if the provider still has nothing, the customer was "
            "not charged: hold the goods and ask the customer to pay again"
        ),
        MismatchKind.MISSING_IN_LEDGER: (
            "money taken that the ledger never recorded (paid but not arrived): find the "
            "order by the references, then deliver it or refund the payment at the provider"
        ),
        MismatchKind.AMOUNT_DIFFERS: (
            "compare the order's total with what the provider took; refund the excess, or "
            "collect the shortfall from the customer"
        ),
        MismatchKind.CURRENCY_DIFFERS: (
            "the provider took another currency: refund the payment and charge the order's "
            "currency again"
        ),
        MismatchKind.STATUS_DIFFERS: (
            "run `payrouter reconcile` for the order; if it still differs, the provider's "
            "books win: correct the order (deliver, or cancel and tell the customer)"
        ),
        MismatchKind.CAPTURED_DIFFERS: (
            "capture the rest or void it so the provider's capture matches the order; check "
            "`payrouter reconcile` for a capture still in the outbox"
        ),
        MismatchKind.REFUNDED_DIFFERS: (
            "a refund exists on one side only: send the missing refund, or record the one "
            "made in the provider's dashboard; check the outbox for one still queued"
        ),
        MismatchKind.UNANSWERED: (
            "the provider took this payment but never answered for it (paid, not arrived): "
            "run `payrouter reconcile`; if it cannot ask (no provider reference), use the "
            "provider's reference shown here: deliver the order, or refund it"
        ),
        MismatchKind.FEE_DIFFERS: (
            "the fee is not what the merchant's fee rules say: claim the difference from the "
            "provider, or correct the fee rules in the config if the contract changed"
        ),
    }
)
"""What to do about each kind: printed with every difference (docs/runbook.md says more)."""


@dataclass(frozen=True, slots=True)
class Mismatch:
    """One disagreement, with both sides' references and values as far as they are known."""

    kind: MismatchKind
    provider: str
    provider_reference: str | None
    order_id: str | None
    ledger: str | None
    """The ledger's side: an amount like `10.00 EUR` or an outcome; None when absent."""
    provider_side: str | None
    reference: str | None = None
    """The ledger's attempt reference (the idempotency key the provider was sent)."""
    occurred_at: float = 0.0
    """When it happened (epoch seconds): the attempt's start, or the provider's record."""

    @property
    def action(self) -> str:
        """The suggested action for this kind of difference."""
        return ACTIONS[self.kind]

    @property
    def discrepancy_id(self) -> str:
        """Stable across reruns, so a difference found again is the same discrepancy."""
        anchor = self.provider_reference or self.reference or self.order_id or "-"
        return f"{self.kind.value}:{self.provider}:{anchor}"

    def as_json(self) -> dict[str, str | None]:
        """The mismatch as a JSON object (the CLI's `--json` file)."""
        return {
            "id": self.discrepancy_id,
            "kind": self.kind.value,
            "provider": self.provider,
            "provider_reference": self.provider_reference,
            "order_id": self.order_id,
            "reference": self.reference,
            "ledger": self.ledger,
            "provider_side": self.provider_side,
            "action": self.action,
        }


_TOOK: Final = (Outcome.SUCCEEDED, Outcome.PENDING)
"""Provider outcomes in which the payer's money was taken or is on its way."""

_MOVED_NOTHING: Final = (Outcome.FAILED.value, Outcome.REQUIRES_ACTION.value, None)
"""Ledger outcomes a provider may legitimately have no record of: refused before a record was
made, waiting for the customer's approval (a bank credits nothing before SCA), or still in
flight (written before the call)."""


def missing(provider: str, attempt: PeriodAttempt) -> Mismatch | None:
    """The provider has no record of this attempt: a difference unless nothing moved."""
    if attempt.outcome in _MOVED_NOTHING:
        return None
    return _mismatch(
        MismatchKind.MISSING_AT_PROVIDER,
        provider,
        attempt,
        attempt.provider_reference,
        f"{attempt.amount} {attempt.outcome or 'in flight'}",
        None,
    )


def differences(
    provider: str, attempt: PeriodAttempt, record: ProviderRecord, fees: Sequence[FeeRule]
) -> list[Mismatch]:
    """Every way one attempt and its provider record disagree (none when they agree)."""
    ref = record.provider_reference or attempt.provider_reference
    found: list[Mismatch] = []
    ours, theirs = attempt.amount, record.amount
    if ours.currency != theirs.currency:
        found.append(
            _mismatch(MismatchKind.CURRENCY_DIFFERS, provider, attempt, ref, str(ours), str(theirs))
        )
    elif ours != theirs:
        found.append(
            _mismatch(MismatchKind.AMOUNT_DIFFERS, provider, attempt, ref, str(ours), str(theirs))
        )
    if attempt.outcome in (None, Outcome.UNKNOWN.value):
        if record.outcome in _TOOK:  # the answer was lost: the records are the only witness
            side = f"{record.amount} {record.outcome.value}"
            found.append(
                _mismatch(MismatchKind.UNANSWERED, provider, attempt, ref, "no answer", side)
            )
        return found
    if attempt.outcome != record.outcome:
        found.append(
            _mismatch(
                MismatchKind.STATUS_DIFFERS,
                provider,
                attempt,
                ref,
                attempt.outcome,
                record.outcome.value,
            )
        )
        return found  # totals and fees follow from the status: one difference says it
    if found or attempt.outcome != Outcome.SUCCEEDED.value:
        return found  # captured, refunded and fee are measured against the right amount
    found += _totals(provider, attempt, record, ref)
    expected = fee_minor(fees, PaymentMethod(attempt.method), ours) if fees else None
    if record.fee is not None and expected is not None and record.fee != expected:
        found.append(
            _mismatch(
                MismatchKind.FEE_DIFFERS,
                provider,
                attempt,
                ref,
                f"{_show(expected, ours)} by the fee rules",
                f"{_show(record.fee, ours)} charged",
            )
        )
    return found


def _totals(
    provider: str, attempt: PeriodAttempt, record: ProviderRecord, ref: str | None
) -> list[Mismatch]:
    """Captured and refunded totals, where the provider's records state them."""
    found: list[Mismatch] = []
    captured = attempt.captured if attempt.authorize_only else attempt.amount.minor_units
    if record.captured is not None and record.captured != captured:
        found.append(
            _mismatch(
                MismatchKind.CAPTURED_DIFFERS,
                provider,
                attempt,
                ref,
                f"{_show(captured, attempt.amount)} captured",
                f"{_show(record.captured, attempt.amount)} captured",
            )
        )
    if record.refunded is not None and record.refunded != attempt.refunded:
        found.append(
            _mismatch(
                MismatchKind.REFUNDED_DIFFERS,
                provider,
                attempt,
                ref,
                f"{_show(attempt.refunded, attempt.amount)} refunded",
                f"{_show(record.refunded, attempt.amount)} refunded",
            )
        )
    return found


def _show(minor_units: int, like: Money) -> str:
    """`minor_units` of `like`'s currency as `like` prints (zero included)."""
    exponent = currency_exponent(like.currency)
    return f"{Decimal(minor_units).scaleb(-exponent):.{exponent}f} {like.currency}"


def _mismatch(
    kind: MismatchKind,
    provider: str,
    attempt: PeriodAttempt,
    provider_reference: str | None,
    ledger: str | None,
    provider_side: str | None,
) -> Mismatch:
    return Mismatch(
        kind,
        provider,
        provider_reference,
        attempt.order_id,
        ledger,
        provider_side,
        reference=attempt.reference,
        occurred_at=attempt.started_at,
    )
