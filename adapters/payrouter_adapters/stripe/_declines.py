"""A Stripe decline's type and retry advice, read from its error object through `_codes`."""

from __future__ import annotations

from typing import Protocol, TypedDict

from payrouter.provider import Advice, DeclineType, FailureKind, policy_for

from .._advice import MERCHANT_ADVICE_CODES, strictest
from ._codes import ADVICE_CODES, DECLINE_TYPES

__all__ = ["DeclineFields", "StripeProblem", "decline_fields"]


class DeclineFields(TypedDict):
    """`ProviderReply.failed`'s decline arguments."""

    decline: DeclineType | None
    advice: Advice | None
    advice_code: str | None


class StripeProblem(Protocol):
    """The fields of Stripe's error object (or `last_payment_error`) a decline is read from."""

    @property
    def code(self) -> str | None: ...
    @property
    def decline_code(self) -> str | None: ...
    @property
    def advice_code(self) -> str | None: ...
    @property
    def network_advice_code(self) -> str | None: ...


def decline_fields(kind: FailureKind, problem: StripeProblem) -> DeclineFields:
    """Soft or hard, and the advice: Stripe's `advice_code` and the network's
    `network_advice_code` (a Mastercard MAC), the stricter of the two winning."""
    if not policy_for(kind).is_decline:
        return DeclineFields(decline=None, advice=None, advice_code=None)
    code = problem.decline_code or problem.code
    decline = DECLINE_TYPES.get(code) if code else None
    own = ADVICE_CODES.get(problem.advice_code) if problem.advice_code else None
    network = problem.network_advice_code
    from_network = MERCHANT_ADVICE_CODES.get(network.strip()) if network else None
    given = [
        f"{name}:{value}"
        for name, value in (
            ("advice_code", problem.advice_code),
            ("network_advice_code", network),
        )
        if value
    ]
    advice = strictest(own, from_network)
    return DeclineFields(decline=decline, advice=advice, advice_code=" ".join(given) or None)
