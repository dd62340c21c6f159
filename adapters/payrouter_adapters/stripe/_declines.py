"""A Stripe decline's type and retry advice, read from its error object through `_codes`."""

from __future__ import annotations

from typing import TypedDict

from pydantic import BaseModel, ConfigDict

from payrouter.provider import Advice, DeclineType, FailureKind, policy_for

from .._advice import MERCHANT_ADVICE_CODES, VISA_CATEGORIES, strictest
from ._codes import ADVICE_CODES, DECLINE_TYPES

__all__ = ["DeclineDetails", "DeclineFields", "decline_fields"]

_LENIENT = ConfigDict(extra="ignore", frozen=True)


class DeclineFields(TypedDict):
    """`ProviderReply.failed`'s decline arguments."""

    decline: DeclineType | None
    advice: Advice | None
    advice_code: str | None


class _Card(BaseModel):
    model_config = _LENIENT

    brand: str | None = None


class _Method(BaseModel):
    model_config = _LENIENT

    card: _Card | None = None


class DeclineDetails(BaseModel):
    """The fields of Stripe's error object (or `last_payment_error`) a decline is read from;
    the advice fields come at API versions from 2024-12-18.acacia."""

    model_config = _LENIENT

    code: str | None = None
    decline_code: str | None = None
    advice_code: str | None = None
    network_advice_code: str | None = None
    network_decline_code: str | None = None
    payment_method: _Method | str | None = None
    """An object in Stripe's spec; an id is read as no brand rather than failing the body."""

    @property
    def visa(self) -> bool:
        method = self.payment_method
        card = method.card if isinstance(method, _Method) else None
        return card is not None and (card.brand or "").lower() == "visa"


def decline_fields(kind: FailureKind, problem: DeclineDetails) -> DeclineFields:
    """Soft or hard, and the advice: Stripe's `advice_code`, the network's
    `network_advice_code` (a Mastercard MAC) and, for a Visa card, the decline category of
    its `network_decline_code`; the strictest wins."""
    if not policy_for(kind).is_decline:
        return DeclineFields(decline=None, advice=None, advice_code=None)
    code = problem.decline_code or problem.code
    decline = DECLINE_TYPES.get(code) if code else None
    network = (problem.network_advice_code or "").strip()
    raw = (problem.network_decline_code or "").strip() if problem.visa else ""
    advice = strictest(
        ADVICE_CODES.get(problem.advice_code) if problem.advice_code else None,
        MERCHANT_ADVICE_CODES.get(network) if network else None,
        VISA_CATEGORIES.get(raw) if raw else None,
    )
    given = [
        f"{name}:{value}"
        for name, value in (
            ("advice_code", problem.advice_code),
            ("network_advice_code", network),
            ("visa", raw),
        )
        if value
    ]
    return DeclineFields(decline=decline, advice=advice, advice_code=" ".join(given) or None)
