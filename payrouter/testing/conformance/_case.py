"""What an adapter's author tells the conformance suite: how the provider answers each case.

Answers are values (`HttpAnswer`), not code: the suite puts them under the adapter in the
order given, so one description drives every check.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Final, Literal

import httpx

from ..._adapter import Adapter, Charge, PaymentHandle
from ..._taxonomy import FailureKind, Outcome
from .._scripted import HttpAnswer

__all__ = [
    "KIT_KINDS",
    "AdapterCase",
    "Answers",
    "FollowUpCase",
    "LookupCase",
    "Operation",
    "idempotency_key_header",
]

Answers = HttpAnswer | Sequence[HttpAnswer]
"""One answer, or the answers to each request of one call, in order."""

Operation = Literal["pay", "lookup", "capture", "refund", "void", "complete"]

KIT_KINDS: Final = frozenset({FailureKind.NETWORK_BEFORE_SEND, FailureKind.UNKNOWN_OUTCOME})
"""Kinds the suite produces itself, from transport errors; a description never scripts them."""


def idempotency_key_header(request: httpx.Request) -> str | None:
    """Where most providers take the key: the `Idempotency-Key` header."""
    key: str | None = request.headers.get("Idempotency-Key")
    return key


def answers(given: Answers) -> tuple[HttpAnswer, ...]:
    """`given` as a tuple, whether one answer or several were given."""
    return (given,) if isinstance(given, HttpAnswer) else tuple(given)


@dataclass(frozen=True, slots=True)
class LookupCase:
    """How the provider answers `lookup(handle)` for a payment it took, and for one it never got.

    `found` must read as SUCCEEDED with a provider reference; `missing` as a FAILED NOT_FOUND,
    or UNKNOWN when the provider cannot prove absence, and never anything else.
    """

    handle: PaymentHandle
    found: Answers
    missing: Answers


@dataclass(frozen=True, slots=True)
class FollowUpCase:
    """How the provider accepts a capture, refund or void of `handle`.

    `outcome` is what acceptance reads as: SUCCEEDED, or PENDING when the provider confirms
    later (Adyen answers `received`, then a webhook).
    """

    handle: PaymentHandle
    accepted: Answers
    outcome: Outcome = Outcome.SUCCEEDED


@dataclass(frozen=True, slots=True)
class AdapterCase:
    """One adapter as the conformance suite drives it.

    Attributes:
        build: the adapter over a transport, e.g. `lambda t: MyAdapter.from_options(name=...,
            capabilities=None, options=..., transport=t)`.
        charge: a charge the adapter takes; `pay` sends it.
        succeeded: the answers after which `pay` is SUCCEEDED with the provider's reference.
        failures: for each failure kind the provider reports, answers to `pay` meaning it.
        not_reported: every other kind of the taxonomy, with why the provider never says it.
        after_submission_5xx: a 5xx that may come after the provider acted: UNKNOWN for `pay`
            and for every follow-up.
        after_submission_5xx_by_operation: for an operation whose adapter asks again after
            that 5xx (Stripe lists an intent's refunds after its saved 500), all the answers
            of that call, in order, still UNKNOWN; other operations get `after_submission_5xx`.
        replay: the provider's answer when the key of a succeeded `pay` is sent again; None
            when it documents no replay (its `resolution.replay_window_seconds` is 0).
        lookup: how `lookup` finds a payment; None when the provider cannot look one up (its
            `resolution` declares neither lookup nor search), and then `lookup` must answer
            UNKNOWN without a request.
        capture, refund, void: how each follow-up is accepted; None when the provider does not
            offer it, and then it must fail INVALID_REQUEST without a request.
        complete: for an adapter that `CompletesApproval`, how completing an approved payment
            is accepted (all its requests, in order); None for any other adapter.
        in_doubt: more answers after which `pay` must be UNKNOWN, by name (a key still in use).
        challenges: answers by which the provider asks the customer to act (a 3-D Secure
            challenge, an off-session charge kept for the customer to authenticate, a wallet
            or bank approval), by name: `pay` must read each as REQUIRES_ACTION on the
            provider's payment, never as a failure the router could fail over from.
        key_sent: where the adapter puts the idempotency key in a request (or what it derives
            from it), None when it sends none.
        secrets: strings that must never show in a repr, a str or a reply.
    """

    build: Callable[[httpx.AsyncBaseTransport], Adapter]
    charge: Charge
    succeeded: Answers
    failures: Mapping[FailureKind, Answers]
    not_reported: Mapping[FailureKind, str]
    after_submission_5xx: Answers
    replay: Answers | None
    lookup: LookupCase | None
    capture: FollowUpCase | None
    refund: FollowUpCase | None
    void: FollowUpCase | None
    complete: FollowUpCase | None = None
    in_doubt: Mapping[str, Answers] = field(default_factory=dict)
    after_submission_5xx_by_operation: Mapping[str, Answers] = field(default_factory=dict)
    challenges: Mapping[str, Answers] = field(default_factory=dict)
    key_sent: Callable[[httpx.Request], str | None] = idempotency_key_header
    secrets: Sequence[str] = ()

    def follow_up(self, operation: Operation) -> FollowUpCase | None:
        """The description of `operation` when it is a follow-up."""
        cases = {
            "capture": self.capture,
            "refund": self.refund,
            "void": self.void,
            "complete": self.complete,
        }
        return cases.get(operation)

    def success_answers(self, operation: Operation) -> tuple[HttpAnswer, ...] | None:
        """What the provider answers when `operation` goes well; None when it sends nothing."""
        if operation == "pay":
            return answers(self.succeeded)
        if operation == "lookup":
            return None if self.lookup is None else answers(self.lookup.found)
        described = self.follow_up(operation)
        return None if described is None else answers(described.accepted)

    def after_submission(self, operation: Operation) -> Answers:
        """The answers of one `operation` call met by a 5xx after the provider acted."""
        return self.after_submission_5xx_by_operation.get(operation, self.after_submission_5xx)

    def sending(self, *, moving_money: bool) -> list[Operation]:
        """The operations that send a request (with `moving_money`, all but lookup)."""
        every: tuple[Operation, ...] = ("pay", "lookup", "capture", "refund", "void", "complete")
        return [
            operation
            for operation in every
            if self.success_answers(operation) is not None
            and not (moving_money and operation == "lookup")
        ]
