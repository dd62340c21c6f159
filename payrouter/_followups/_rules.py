"""The money rules every follow-up passes before it is recorded, let alone sent.

They run inside the ledger transaction that records the follow-up, with the payment's row
locked, so two processes refunding the same payment at once cannot both pass: the second one
sees the first one's refund and is held to what is left.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .._errors import FollowUpNotAllowedError
from .._models import PaymentResult, PaymentStatus
from .._money import Money
from ._model import FollowUp, FollowUpKind, FollowUpStatus

__all__ = ["PaymentBooks", "allowed_amount"]

_NOT_YET_TAKEN = (
    PaymentStatus.PROCESSING,
    PaymentStatus.REQUIRES_ACTION,
)


@dataclass(frozen=True, slots=True)
class PaymentBooks:
    """A payment and its follow-ups so far: what was authorized, captured and refunded."""

    payment: PaymentResult
    authorize_only: bool
    followups: Sequence[FollowUp]
    authorised_part: int | None = None
    """Minor units the issuer authorised when it granted less than asked (the payment is
    `partially_authorised`), as the provider's notification reported; else None."""

    def _sum(self, kind: FollowUpKind, statuses: frozenset[FollowUpStatus] | None = None) -> int:
        return sum(
            f.amount.minor_units
            for f in self.followups
            if f.kind is kind
            and f.amount is not None
            and f.status.holds_money
            and (statuses is None or f.status in statuses)
        )

    def holding(self, kind: FollowUpKind) -> list[FollowUp]:
        return [f for f in self.followups if f.kind is kind and f.status.holds_money]

    @property
    def captured(self) -> int:
        """Minor units the provider took or accepted to take (queued captures not counted)."""
        if not self.authorize_only:
            return self.payment.amount.minor_units
        return self._sum(
            FollowUpKind.CAPTURE, frozenset({FollowUpStatus.SUCCEEDED, FollowUpStatus.PENDING})
        )

    @property
    def refunded(self) -> int:
        """Minor units refunded, accepted for refund, or queued to be: all spoken for."""
        return self._sum(FollowUpKind.REFUND)


def allowed_amount(
    kind: FollowUpKind, books: PaymentBooks, requested: Money | None
) -> Money | None:
    """The amount this follow-up may carry (None for a void), or why it may not be made.

    Raises:
        FollowUpNotAllowedError: the message names the payment, the rule and what to do.
    """
    payment = books.payment
    order = payment.order_id
    _require_money_taken(kind, payment)
    if requested is not None and requested.currency != payment.amount.currency:
        raise FollowUpNotAllowedError(
            f"amount is in {requested.currency} but payment {order!r} is in "
            f"{payment.amount.currency}: pass an amount in {payment.amount.currency}",
            order_id=order,
        )
    match kind:
        case FollowUpKind.CAPTURE:
            return _capture(books, requested)
        case FollowUpKind.VOID:
            _void(books)
            return None
        case FollowUpKind.REFUND:
            return _refund(books, requested)
        case FollowUpKind.CANCEL_MANDATE:  # pragma: no cover - mandates have no payment
            raise AssertionError("a mandate cancellation has no payment to check")


def _require_money_taken(kind: FollowUpKind, payment: PaymentResult) -> None:
    order, status = payment.order_id, payment.status
    if status is PaymentStatus.SUCCEEDED:
        return
    partial = status is PaymentStatus.PARTIALLY_AUTHORISED
    if partial and kind in (FollowUpKind.CAPTURE, FollowUpKind.VOID):
        return  # the merchant's policy: capture the authorised part, or release it
    if partial:
        why = "is partially_authorised: capture the authorised part or void it first"
    elif status is PaymentStatus.PENDING:
        why = (
            "is pending: whether money moved is not known yet. Resolve it first "
            "(`payrouter reconcile`, `router.refresh` or the provider's webhook)"
        )
    elif status in _NOT_YET_TAKEN:
        why = f"is {status.value}: no money has been taken yet"
    else:
        why = f"was {status.value}: no money moved"
    raise FollowUpNotAllowedError(
        f"cannot {kind.value} payment {order!r}: it {why}", order_id=order
    )


def _capture(books: PaymentBooks, requested: Money | None) -> Money:
    order, authorized = books.payment.order_id, books.payment.amount
    if not books.authorize_only:
        raise FollowUpNotAllowedError(
            f"payment {order!r} was captured when it was paid (capture=True): refund it instead",
            order_id=order,
        )
    if books.holding(FollowUpKind.VOID):
        raise FollowUpNotAllowedError(
            f"payment {order!r} was voided: its authorization is released", order_id=order
        )
    captures = books.holding(FollowUpKind.CAPTURE)
    if captures:
        raise FollowUpNotAllowedError(
            f"payment {order!r} is already captured ({captures[0].followup_id}): a payment is "
            "captured once and the rest of its authorization is released",
            order_id=order,
        )
    if books.payment.status is PaymentStatus.PARTIALLY_AUTHORISED:
        if books.authorised_part is None:
            raise FollowUpNotAllowedError(
                f"payment {order!r} was only partly authorised, by an amount the ledger does "
                "not hold: capture it at the provider, or void it",
                order_id=order,
            )
        authorized = Money(minor_units=books.authorised_part, currency=authorized.currency)
    amount = requested or authorized
    if amount.minor_units > authorized.minor_units:
        raise FollowUpNotAllowedError(
            f"cannot capture {amount} of payment {order!r}: only {authorized} was authorized",
            order_id=order,
        )
    return amount


def _void(books: PaymentBooks) -> None:
    order = books.payment.order_id
    if not books.authorize_only:
        raise FollowUpNotAllowedError(
            f"payment {order!r} was captured when it was paid: refund it instead of voiding",
            order_id=order,
        )
    if books.holding(FollowUpKind.CAPTURE):
        raise FollowUpNotAllowedError(
            f"payment {order!r} is captured: void only releases an uncaptured authorization; "
            "refund it instead",
            order_id=order,
        )


def _refund(books: PaymentBooks, requested: Money | None) -> Money:
    payment = books.payment
    order, currency = payment.order_id, payment.amount.currency
    if books.authorize_only and not books.holding(FollowUpKind.CAPTURE):
        raise FollowUpNotAllowedError(
            f"payment {order!r} is authorized only: void it to release the money, or capture "
            "it before refunding",
            order_id=order,
        )
    captured = books.captured
    if captured == 0:
        raise FollowUpNotAllowedError(
            f"payment {order!r}'s capture is not confirmed by the provider yet: refund once "
            "it is (see router.followups)",
            order_id=order,
        )
    left = captured - books.refunded
    if left <= 0:
        raise FollowUpNotAllowedError(
            f"payment {order!r} is fully refunded (or its refunds are queued)", order_id=order
        )
    amount = requested or Money(minor_units=left, currency=currency)
    if amount.minor_units > left:
        raise FollowUpNotAllowedError(
            f"cannot refund {amount} of payment {order!r}: "
            f"{Money(minor_units=left, currency=currency)} of the "
            f"{Money(minor_units=captured, currency=currency)} captured is left to refund",
            order_id=order,
        )
    return amount
