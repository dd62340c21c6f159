"""One reader for a Stripe object's `status`: its table row, then the reply.

Payment intents and refunds read alike: the status is looked up in the object's table
(`INTENT_STATUSES`, `REFUND_STATUSES`), an unmapped status is warned about once and is
unknown, and the row's outcome gives the reply. Only what differs is given per object: the
outcomes whose reply needs more of the object than its id and status (an intent's amount,
its 3-D Secure redirect, why it failed; a refund's failure reason).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from payrouter.provider import Outcome, ProviderReply

from .._common import warn_unmapped_once
from ._codes import StatusRow

if TYPE_CHECKING:
    from ._replies import Object

__all__ = ["Special", "StatusReader", "read_status"]

Special = Callable[[str, "Object", StatusRow, int], ProviderReply]
"""Builds the reply of one outcome from (provider, object, its row, HTTP status)."""


@dataclass(frozen=True, slots=True)
class StatusReader:
    """How one kind of Stripe object's status reads.

    Attributes:
        table: status → row.
        warned_as: the prefix an unmapped status is warned under (`status:`, `refund_status:`).
        special: the outcomes whose reply is built from more of the object; the others are
            plain: succeeded, pending or requires_action on the object's id, else unknown.
    """

    table: Mapping[str, StatusRow]
    warned_as: str
    special: Mapping[Outcome, Special] = field(default_factory=dict)


def read_status(reader: StatusReader, provider: str, obj: Object, status: int) -> ProviderReply:
    """The reply for `obj` (an object with an id) by its status, through `reader`."""
    assert obj.id is not None
    code = obj.status or ""
    row = reader.table.get(code)
    if row is None:
        warn_unmapped_once(provider, f"{reader.warned_as}:{code}")
        return ProviderReply.unknown(
            provider_code=code or "no_status", http_status=status, provider_reference=obj.id
        )
    special = reader.special.get(row.outcome)
    if special is not None:
        return special(provider, obj, row, status)
    match row.outcome:
        case Outcome.SUCCEEDED:
            return ProviderReply.succeeded(obj.id, provider_code=code, http_status=status)
        case Outcome.PENDING:
            return ProviderReply.pending(obj.id, provider_code=code, http_status=status)
        case Outcome.REQUIRES_ACTION:
            return ProviderReply.requires_action(
                obj.id, None, provider_code=code, http_status=status
            )
        case _:
            return ProviderReply.unknown(
                provider_code=code, http_status=status, provider_reference=obj.id
            )
