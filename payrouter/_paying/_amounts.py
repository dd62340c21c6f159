"""What a provider says it took, held to what we asked: one check for every answer about a
payment (the pay answer, a replay, a lookup), and one report when they differ.

`check_amount` runs where every such answer passes (`call_safely` with the charge's amount),
so no path can settle a payment for another amount. `report_amount` raises the difference as
`AmountMismatch` and keeps it as an open discrepancy, through the same ledger writer the
notifications use (`_ledger/_amount_discrepancy.py`).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from contextlib import suppress

from .._adapter import ProviderReply
from .._errors import LedgerUnavailableError
from .._ledger import Ledger
from .._ledger._amount_discrepancy import AmountDifference
from .._money import Money
from .._taxonomy import Outcome
from ..instrumentation._events import AmountMismatch, Hook, emit

__all__ = [
    "AMOUNT_MISMATCH",
    "PARTIALLY_AUTHORISED",
    "check_amount",
    "check_followup_amount",
    "report_amount",
]

AMOUNT_MISMATCH = "amount_mismatch"
PARTIALLY_AUTHORISED = Outcome.PARTIALLY_AUTHORISED.value


def check_amount(reply: ProviderReply, expected: Money) -> ProviderReply:
    """A success is a success only for the charge's amount and currency, and a partial
    authorisation only for a part of it (same currency, more than nothing, less than asked).

    Money moved, but not what was asked: never `succeeded` (nor failed over: money moved),
    so it is `unknown` with `amount_mismatch` and both figures, the payment stays pending
    for a person, and every later lookup answers the same. A partial authorisation of the
    whole amount is a plain success. A success that reports no amount is taken as it is
    (most adapters' answers say nothing about it).
    """
    if reply.outcome is Outcome.PARTIALLY_AUTHORISED:
        taken = reply.amount
        assert taken is not None  # ProviderReply refuses a partial reply without it
        if taken == expected:
            return ProviderReply.succeeded(
                reply.provider_reference or "",
                provider_code=reply.provider_code,
                http_status=reply.http_status,
                amount=taken,
            )
        if taken.currency == expected.currency and 0 < taken.minor_units < expected.minor_units:
            return reply
    elif reply.outcome is not Outcome.SUCCEEDED or reply.amount in (None, expected):
        return reply
    return ProviderReply(
        Outcome.UNKNOWN,
        provider_code=AMOUNT_MISMATCH,
        http_status=reply.http_status,
        provider_reference=reply.provider_reference,
        message=f"the provider reported {reply.amount} for a payment of {expected}",
        amount=reply.amount,
    )


def check_followup_amount(reply: ProviderReply, expected: Money | None) -> ProviderReply:
    """A capture or refund answered for another amount than the follow-up's is not done.

    Money may have moved, but not what was asked: the answer becomes `pending` with
    `amount_mismatch` (its notification, held to the same amount, or a person settles it),
    never `succeeded`, and never resent (the provider would answer the same). A void names
    no amount (`expected` None), and an answer that reports none is taken as it is.
    """
    accepted = (Outcome.SUCCEEDED, Outcome.PENDING, Outcome.REQUIRES_ACTION)
    if expected is None or reply.amount in (None, expected) or reply.outcome not in accepted:
        return reply
    return ProviderReply(
        Outcome.PENDING,
        provider_code=AMOUNT_MISMATCH,
        http_status=reply.http_status,
        provider_reference=reply.provider_reference,
        message=f"the provider reported {reply.amount} for a follow-up of {expected}",
        amount=reply.amount,
    )


async def report_amount(
    ledger: Ledger,
    hooks: Sequence[Hook],
    reply: ProviderReply,
    *,
    order_id: str,
    provider: str,
    reference: str,
    expected: Money,
    source: str,
    followup_id: str | None = None,
) -> None:
    """Keep and raise what `check_amount` found in `reply`: a partial authorisation or an
    amount that is not the charge's. `source` says which answer it was (`reply` for the pay
    answer and its replays, `reconcile` for reconcile's and `refresh`'s); `followup_id` names
    the capture or refund an answer was about (`expected` is then its amount). It is raised once,
    when the discrepancy is new (or could not be written), not at every lookup that finds it.

    A ledger that cannot take the discrepancy now loses no money fact: the attempt's outcome,
    written next, holds the difference (`amount_mismatch`, or `partially_authorised` with
    the authorised part), and records reconciliation finds it under the same id later.
    """
    partial = reply.outcome is Outcome.PARTIALLY_AUTHORISED
    if reply.amount is None or not (partial or reply.provider_code == AMOUNT_MISMATCH):
        return
    result = PARTIALLY_AUTHORISED if partial else AMOUNT_MISMATCH
    what = "the pay answer" if source == "reply" else f"a {source}"
    difference = AmountDifference(
        provider=provider,
        order_id=order_id,
        expected=expected,
        reported_minor=reply.amount.minor_units,
        reported_currency=reply.amount.currency,
        seen_in=f"{what} ({reply.provider_code or result})",
        occurred_at=time.time(),
        provider_reference=reply.provider_reference,
        reference=reference,
        partial=partial,
        followup_id=followup_id,
    )
    new = True
    with suppress(LedgerUnavailableError):  # see above: the attempt row keeps the difference
        new = await ledger.record_amount_difference(difference)
    if not new:
        return  # raised when first seen; a later lookup answering the same is no news
    emit(
        hooks,
        AmountMismatch(
            order_id=order_id,
            provider=provider,
            source=source,
            reference=reference,
            result=result,
            expected_minor=expected.minor_units,
            expected_currency=expected.currency,
            reported_minor=reply.amount.minor_units,
            reported_currency=reply.amount.currency,
            followup_id=followup_id,
        ),
    )
