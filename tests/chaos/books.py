"""The chaos suite's invariants, judged from the providers' books (the sandbox admin API).

The ledger is what is being tested, so it is never the judge of money: a take is what a
provider's books show; the ledger is only asked whether it knows of each take.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from payrouter import FollowUp, FollowUpStatus, PaymentResult, PaymentStatus

TAKES = ("charge", "authorization", "capture")
OPEN = (PaymentStatus.PENDING, PaymentStatus.PROCESSING)
TOLD_FAILED = ("failed", "declined")


@dataclass(frozen=True, slots=True)
class Take:
    """Money a provider took (or holds, or is settling) for one order."""

    provider: str
    order_id: str
    provider_reference: str
    reference: str | None
    status: str


@dataclass
class Verdict:
    """Every breach of the invariants, by name; empty lists mean the run kept them all."""

    double_charged: dict[str, list[Take]] = field(default_factory=dict)
    unrecorded: list[Take] = field(default_factory=list)
    told_failed_but_charged: list[str] = field(default_factory=list)
    """Each with what the caller was told, the take, and the attempts as the ledger ends."""
    refunded_twice: list[str] = field(default_factory=list)
    refunds_disagreeing: list[str] = field(default_factory=list)
    open_but_answered: list[str] = field(default_factory=list)
    """Payments left open although the books show where their money went."""
    settled_against_books: list[str] = field(default_factory=list)
    """Payments the ledger ends as failed or declined although a provider took their money."""


def takes(books: Mapping[str, Sequence[Mapping[str, Any]]]) -> list[Take]:
    """Every entry that moved (or is moving) a customer's money to the merchant."""
    return [
        Take(
            provider,
            str(entry["order_id"]),
            str(entry["provider_reference"]),
            entry["reference"],
            str(entry["status"]),
        )
        for provider, entries in books.items()
        for entry in entries
        if entry["kind"] in TAKES and entry["status"] != "failed"
    ]


def _references(take: Take) -> set[str]:
    """The ids a take's entry carries (PayPal's ledger reference joins the order id and the
    capture id with `:`, so each part is compared)."""
    return {take.provider_reference} | ({take.reference} if take.reference else set())


def judge(
    books: Mapping[str, Sequence[Mapping[str, Any]]],
    ledger: Mapping[str, PaymentResult | None],
    followups: Mapping[str, Sequence[FollowUp]],
    answers: Sequence[Mapping[str, Any]],
) -> Verdict:
    """Check the run: once per order, every take recorded, no caller told "failed" about an
    attempt that took money, nothing left open that the books can answer, every refund
    applied once and as the ledger says."""
    verdict = Verdict()
    by_order: dict[str, set[tuple[str, str]]] = defaultdict(set)
    taken_by_key: dict[str, Take] = {}
    for take in takes(books):
        by_order[take.order_id].add((take.provider, take.provider_reference))
        attempt = next(
            (
                a
                for a in (ledger.get(take.order_id) or _NONE).attempts
                if a.provider == take.provider
                and _references(take) & set((a.provider_reference or "").split(":"))
            ),
            None,
        )
        if attempt is None:
            verdict.unrecorded.append(take)
        else:
            taken_by_key[attempt.idempotency_key] = take
    for order_id, payments in by_order.items():
        if len(payments) > 1:
            verdict.double_charged[order_id] = [t for t in takes(books) if t.order_id == order_id]
    for answer in answers:
        failed = str(answer["status"]).split(":")[0] in TOLD_FAILED
        charged = [taken_by_key[key] for key in answer["keys"] if key in taken_by_key]
        if failed and charged:
            payment = ledger.get(str(answer["order"]))
            final = [
                f"{a.number} {a.provider} {a.outcome} {a.failure_kind} {a.provider_code}"
                for a in (payment.attempts if payment else ())
            ]
            verdict.told_failed_but_charged.append(
                f"{answer['order']}: worker {answer.get('worker')} told {answer['status']} "
                f"{answer.get('seen')}; books {charged}; ledger now {final}"
            )
    for order_id, payment in ledger.items():
        if payment is not None and payment.status in OPEN and order_id in by_order:
            verdict.open_but_answered.append(order_id)
        if payment is not None and payment.status.value in TOLD_FAILED and order_id in by_order:
            verdict.settled_against_books.append(order_id)
    _judge_refunds(books, followups, verdict)
    return verdict


class _Nothing:
    attempts = ()


_NONE = _Nothing()


def _judge_refunds(
    books: Mapping[str, Sequence[Mapping[str, Any]]],
    followups: Mapping[str, Sequence[FollowUp]],
    verdict: Verdict,
) -> None:
    """At most one refund per order at the providers, and exactly where the ledger says one
    succeeded (queued or pending ones are counted as open, not judged here)."""
    refunds: dict[str, int] = defaultdict(int)
    for entries in books.values():
        for entry in entries:
            if entry["kind"] == "refund" and entry["status"] != "failed":
                refunds[str(entry["order_id"])] += 1
    verdict.refunded_twice = sorted(order for order, count in refunds.items() if count > 1)
    for order_id, mine in followups.items():
        done = [f for f in mine if f.status is FollowUpStatus.SUCCEEDED]
        never = all(f.status is FollowUpStatus.REFUSED for f in mine)
        if (done and refunds.get(order_id, 0) != 1) or (never and refunds.get(order_id)):
            verdict.refunds_disagreeing.append(order_id)
