"""A card PaymentMethod made first, for what a PaymentIntent cannot take itself.

The 2023-08-16 PaymentIntent create takes no card fields and no card token:
`payment_method_data[type]` has no `card` value and `payment_method_data` no `card` hash. Both
go only to `POST /v1/payment_methods` (`card` is `card_details_params` {number, exp_month,
exp_year, cvc} or `token_params` {token}), whose `pm_...` the intent is then paid with:
- a card held by a forwarding vault (`VaultCard`): the vault's aliases in `card[number]` and
  `card[cvc]`, which the vault's proxy, which this adapter's requests then go through, swaps
  for the card data. Stripe takes raw card data only on accounts it has enabled for it, and
  refuses it otherwise with HTTP 402 `invalid_request_error` and no code ("Sending credit card
  numbers directly to the Stripe API is generally unsafe..."): read here as
  `raw_card_data_not_enabled`, an invalid request;
- an Apple Pay or Google Pay wallet given as a legacy card token (`tok_...`, Stripe.js
  `createToken` of the sheet): `card[token]`.

No money moves when a PaymentMethod is made, so any failure of this first call is a definite
one: a refusal is an invalid request or the card's own error (an incorrect number), and a
server error or a lost connection is `busy` (the intent was never sent).
"""

from __future__ import annotations

import hashlib
import re
from typing import Final

import httpx
from pydantic import BaseModel

from payrouter import CardSource, VaultCard, WalletSource
from payrouter.provider import FailureKind, ProviderReply

from ._replies import LENIENT, error_reply, load
from ._requests import WALLETS

__all__ = [
    "RAW_CARD_DATA_NOT_ENABLED",
    "created_method",
    "method_key",
    "payment_method_form",
    "transport_failure",
]

RAW_CARD_DATA_NOT_ENABLED: Final = "raw_card_data_not_enabled"
"""Our code for Stripe's code-less 402 refusing raw card data on this account."""
_CARD_TOKEN: Final = re.compile(r"tok_[A-Za-z0-9_]+")
_KEY_MAX_LENGTH: Final = 255
_DEFINITE: Final = frozenset({FailureKind.UNKNOWN_OUTCOME, FailureKind.NOT_FOUND})


class _Made(BaseModel):
    model_config = LENIENT

    id: str = ""


class _Problem(BaseModel):
    model_config = LENIENT

    type: str | None = None
    code: str | None = None
    message: str | None = None


class _Envelope(BaseModel):
    model_config = LENIENT

    error: _Problem | None = None


def payment_method_form(source: object) -> dict[str, str] | None:
    """`POST /v1/payment_methods` body when `source` needs a PaymentMethod made first, else
    None (a PaymentMethod id the intent takes as it is)."""
    match source:
        case CardSource(token=None, vault_card=VaultCard() as card):
            form = {
                "type": "card",
                "card[number]": card.number.get_secret_value(),
                "card[exp_month]": str(card.expiry_month),
                "card[exp_year]": str(card.expiry_year),
            }
            if card.cvc is not None:
                form["card[cvc]"] = card.cvc.get_secret_value()
            return form
        case WalletSource(wallet=wallet, account=account) if (
            wallet.lower() in WALLETS
            and account is not None
            and _CARD_TOKEN.fullmatch(account.get_secret_value())
        ):
            return {"type": "card", "card[token]": account.get_secret_value()}
    return None


def method_key(idempotency_key: str) -> str:
    """The `Idempotency-Key` of the PaymentMethod's creation: derived from the attempt's, so a
    retry of the attempt makes the same PaymentMethod, and within Stripe's 255 characters."""
    key = f"{idempotency_key}:pm"
    if len(key) <= _KEY_MAX_LENGTH:
        return key
    return f"pm:{hashlib.sha256(idempotency_key.encode()).hexdigest()}"


def created_method(provider: str, response: httpx.Response) -> str | ProviderReply:
    """The PaymentMethod id Stripe made, or why not as a definite failure."""
    if response.is_success:
        made = load(_Made, response)
        if made is not None and made.id:
            return made.id
        return ProviderReply.failed(
            FailureKind.BUSY,
            provider_code="payment_method_unreadable",
            http_status=response.status_code,
            message="Stripe's PaymentMethod answer had no id; no payment was attempted",
        )
    if response.status_code == 402 and _raw_card_refusal(response):
        return ProviderReply.failed(
            FailureKind.INVALID_REQUEST,
            provider_code=RAW_CARD_DATA_NOT_ENABLED,
            http_status=402,
            message="Stripe has not enabled raw card data on this account: a vault's card "
            "cannot be charged here until Stripe grants it",
        )
    reply = error_reply(provider, response)
    if reply.failure_kind in _DEFINITE or response.status_code >= 500:
        kind = FailureKind.INVALID_REQUEST if response.status_code < 500 else FailureKind.BUSY
        return ProviderReply.failed(
            kind,
            provider_code=reply.provider_code,
            http_status=response.status_code,
            retry_after=reply.retry_after,
            message=reply.message,
        )
    return reply


def transport_failure(error: httpx.TransportError) -> ProviderReply:
    """A PaymentMethod creation that got no answer: nothing was charged (no intent was sent),
    so it is `busy`, to retry or fail over, never an unknown outcome."""
    return ProviderReply.failed(
        FailureKind.BUSY,
        provider_code="payment_method_no_answer",
        message=f"no answer to the PaymentMethod creation ({type(error).__name__}); "
        "no payment was attempted",
    )


def _raw_card_refusal(response: httpx.Response) -> bool:
    envelope = load(_Envelope, response)
    problem = envelope.error if envelope is not None else None
    return (
        problem is not None
        and problem.type == "invalid_request_error"
        and not problem.code
        and "card numbers" in (problem.message or "")
    )
