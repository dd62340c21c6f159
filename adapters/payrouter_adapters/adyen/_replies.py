"""Adyen responses → `ProviderReply`, through the tables in `_codes`.

Bodies are parsed leniently (unknown fields ignored); a 2xx body we cannot read on a
money-moving call is unknown, because Adyen may have acted on the request.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import TypeVar

import httpx
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from payrouter import Money
from payrouter.provider import (
    Advice,
    DeclineType,
    FailureKind,
    NextAction,
    Outcome,
    ProviderReply,
    policy_for,
)

from .._advice import MERCHANT_ADVICE_CODES, VISA_CATEGORIES, leading_code, strictest
from .._common import parse_retry_after, warn_unmapped_once
from ._amounts import iso_minor
from ._codes import (
    ERROR_CODES,
    HTTP_STATUSES,
    PAYMENT_ERROR_CODES,
    REFUSAL_CODE_BY_REASON,
    REFUSAL_DECLINE_TYPES,
    REFUSALS,
    RESULT_CODES,
    ResultRow,
)

__all__ = ["error_reply", "modification_reply", "payment_reply"]

_LENIENT = ConfigDict(extra="ignore", frozen=True)
_WAIT_KINDS = (FailureKind.RATE_LIMITED, FailureKind.BUSY)

BodyT = TypeVar("BodyT", bound=BaseModel)


class _Action(BaseModel):
    """Adyen's `action`, every field kept: Drop-in and Components take it whole."""

    model_config = ConfigDict(extra="allow", frozen=True)

    type: str | None = None
    url: str | None = None
    method: str | None = None

    def next_action(self) -> NextAction:
        """A GET redirect is a plain one; anything else (`threeDS2`, `sdk`, `qrCode`, a
        redirect that POSTs form `data`) is the Adyen client's to handle, from the object."""
        plain = self.type == "redirect" and (self.method or "GET").upper() == "GET" and self.url
        return NextAction(
            kind="redirect" if plain else "sdk",
            provider_type=self.type,
            url=self.url if plain else None,
            provider_data=self.model_dump(exclude_none=True),
        )


class _Amount(BaseModel):
    model_config = _LENIENT

    value: int | None = None
    currency: str | None = None


class _Payment(BaseModel):
    model_config = _LENIENT

    amount: _Amount | None = None
    """The authorised amount (Checkout v52+): the router compares it with the charge."""
    result_code: str | None = Field(default=None, alias="resultCode")
    psp_reference: str | None = Field(default=None, alias="pspReference")
    refusal_reason: str | None = Field(default=None, alias="refusalReason")
    refusal_reason_code: str | None = Field(default=None, alias="refusalReasonCode")
    action: _Action | None = None
    additional_data: dict[str, str] | None = Field(default=None, alias="additionalData")


class _Modification(BaseModel):
    model_config = _LENIENT

    psp_reference: str | None = Field(default=None, alias="pspReference")
    status: str | None = None
    amount: _Amount | None = None
    """What a capture or refund is for (Adyen echoes it): compared with the follow-up's."""


class _ServiceError(BaseModel):
    model_config = _LENIENT

    error_code: str | None = Field(default=None, alias="errorCode")
    error_type: str | None = Field(default=None, alias="errorType")
    message: str | None = None
    psp_reference: str | None = Field(default=None, alias="pspReference")


def _load(model: type[BodyT], response: httpx.Response) -> BodyT | None:
    try:
        return model.model_validate_json(response.content)
    except ValidationError:
        return None


def payment_reply(provider: str, response: httpx.Response) -> ProviderReply:
    """Translate a `/payments` or `/payments/details` response."""
    if not response.is_success:
        return error_reply(provider, response, PAYMENT_ERROR_CODES)
    status = response.status_code
    body = _load(_Payment, response)
    if body is None:
        return ProviderReply.unknown(
            provider_code="unreadable_body", http_status=status, message="2xx body is not JSON"
        )
    code = body.result_code or ""
    row = RESULT_CODES.get(code)
    if row is None:
        warn_unmapped_once(provider, f"resultCode:{code}")
        return ProviderReply.unknown(
            provider_code=code or "no_result_code",
            http_status=status,
            provider_reference=body.psp_reference,
        )
    psp = body.psp_reference
    match row.outcome:
        case Outcome.REQUIRES_ACTION:
            # A native 3-D Secure action may carry neither URL nor pspReference yet.
            action = body.action.next_action() if body.action else None
            return ProviderReply(
                Outcome.REQUIRES_ACTION,
                provider_reference=psp,
                action_url=action.url if action else None,
                provider_code=code,
                http_status=status,
                action=action,
            )
        case Outcome.FAILED:
            return _refusal(provider, body, row, status)
        case Outcome.PARTIALLY_AUTHORISED if psp is not None:
            return _partial(body, code, psp, status)
        case Outcome.SUCCEEDED | Outcome.PENDING if psp is not None:
            if row.outcome is Outcome.SUCCEEDED:
                try:
                    taken = _authorised(body.amount)
                except ValueError as error:  # authorised, but nothing we could have asked for
                    return ProviderReply.unknown(
                        provider_code="amount_mismatch",
                        http_status=status,
                        provider_reference=psp,
                        message=str(error),
                    )
                return ProviderReply.succeeded(
                    psp, provider_code=code, http_status=status, amount=taken
                )
            return ProviderReply.pending(psp, provider_code=code, http_status=status)
        case _:
            return ProviderReply.unknown(
                provider_code=code,
                http_status=status,
                provider_reference=psp,
                message=None if psp else "result without pspReference",
            )


def _partial(body: _Payment, code: str, psp: str, status: int) -> ProviderReply:
    """`PartiallyAuthorised` with the authorised part (the router checks it is a part of the
    charge); without a readable part nobody can tell what a capture may take: unknown."""
    try:
        part = _authorised(body.amount)
    except ValueError as error:
        part, why = None, str(error)
    else:
        why = "partial authorisation without the authorised amount"
    if part is None:
        return ProviderReply.unknown(
            provider_code=code, http_status=status, provider_reference=psp, message=why
        )
    return ProviderReply.partially_authorised(psp, part, provider_code=code, http_status=status)


def _authorised(amount: _Amount | None) -> Money | None:
    """The authorised amount as `Money`; None when the answer does not say.

    Raises:
        ValueError: it says something no charge of ours could be (an unknown currency, a
            value that is not a positive number of minor units).
    """
    if amount is None or amount.value is None or amount.currency is None:
        return None
    minor = iso_minor(amount.value, amount.currency)
    if minor is None:
        raise ValueError(f"{amount.value} {amount.currency} is no whole ISO minor unit")
    return Money(minor_units=minor, currency=amount.currency)


def _refusal(provider: str, body: _Payment, row: ResultRow, status: int) -> ProviderReply:
    reason = body.refusal_reason
    code = body.refusal_reason_code or REFUSAL_CODE_BY_REASON.get((reason or "").strip().lower())
    kind = REFUSALS.get(code) if code is not None else None
    if kind is None:
        if code or reason:
            warn_unmapped_once(provider, f"refusal:{code or reason}")
        kind = row.default_kind or FailureKind.CARD_DECLINED
    decline, advice, advice_code = _decline_fields(kind, code, body.additional_data or {})
    return ProviderReply.failed(
        kind,
        provider_code=code or body.result_code,
        http_status=status,
        provider_reference=body.psp_reference,
        message=reason,
        decline=decline,
        advice=advice,
        advice_code=advice_code,
    )


def _decline_fields(
    kind: FailureKind, code: str | None, data: dict[str, str]
) -> tuple[DeclineType | None, Advice | None, str | None]:
    """Soft or hard by the refusal code, and the advice: the Mastercard merchant advice code,
    or for a Visa card its raw response code's decline category; the stricter wins.

    Both come in `additionalData`, which Adyen sends only when the merchant enabled those
    fields in its Customer Area; without them the refusal code alone decides.
    """
    if not policy_for(kind).is_decline:
        return None, None, None
    decline = REFUSAL_DECLINE_TYPES.get(code) if code else None
    mac = leading_code(data.get("merchantAdviceCode"))
    raw = data.get("refusalReasonRaw")
    visa = data.get("paymentMethod", "").lower().startswith("visa")
    category = leading_code(raw) if visa else None
    advice = strictest(
        MERCHANT_ADVICE_CODES.get(mac) if mac else None,
        VISA_CATEGORIES.get(category) if category else None,
    )
    given = [f"merchantAdviceCode:{mac}"] if mac else []
    given += [f"visa:{category}"] if category else []
    return decline, advice, " ".join(given) or None


def modification_reply(provider: str, response: httpx.Response) -> ProviderReply:
    """Translate a capture, refund or cancel response.

    Adyen answers `201 {"status": "received"}` and reports the result later by webhook
    (CAPTURE, REFUND, CANCELLATION), so an accepted modification is `pending`, not final.
    """
    if not response.is_success:
        return error_reply(provider, response)
    body = _load(_Modification, response)
    if body is None or body.status != "received" or body.psp_reference is None:
        return ProviderReply.unknown(
            provider_code="unexpected_body",
            http_status=response.status_code,
            message="modification reply without status 'received' and a pspReference",
        )
    accepted = ProviderReply.pending(
        body.psp_reference, provider_code=body.status, http_status=response.status_code
    )
    try:
        return replace(accepted, amount=_authorised(body.amount))
    except ValueError as error:  # accepted, but for nothing we could have asked for
        return replace(accepted, provider_code="amount_mismatch", message=str(error))


def error_reply(
    provider: str, response: httpx.Response, codes: Mapping[str, FailureKind] = ERROR_CODES
) -> ProviderReply:
    """Translate a non-2xx response: HTTP status first, then the body's `errorCode` (in
    `codes`: the call's own table, `PAYMENT_ERROR_CODES` for a payment)."""
    status = response.status_code
    body = _load(_ServiceError, response)
    code = body.error_code if body else None
    kind = HTTP_STATUSES.get(status)
    if kind is None and code is not None:
        kind = codes.get(code)
    if kind is None:
        warn_unmapped_once(provider, code or f"http_{status}")
        kind = FailureKind.INVALID_REQUEST if 400 <= status < 500 else FailureKind.UNKNOWN_OUTCOME
    retry_after = None
    if kind in _WAIT_KINDS:
        retry_after = parse_retry_after(response.headers.get("Retry-After"))
    return ProviderReply.failed(
        kind,
        provider_code=code or f"http_{status}",
        http_status=status,
        retry_after=retry_after,
        provider_reference=body.psp_reference if body else None,
        message=body.message if body else None,
    )
