"""Stripe answers that wait for the customer to authenticate (3-D Secure) on an intent.

An issuer that wants the customer to authenticate a charge Stripe could not challenge (off
session, a saved card charged without the customer) makes Stripe answer
`authentication_required` and keep the intent, back in `requires_payment_method`, for the
customer to confirm on session (docs.stripe.com/payments/save-and-reuse). Stripe steps up on
that same intent, so the answer is `requires_action` on it: the payment waits for the
customer and is never sent unauthenticated to another provider.
"""

from __future__ import annotations

from pydantic import SecretStr

from payrouter.provider import NextAction, ProviderReply

from ._codes import AWAITING_AUTHENTICATION

__all__ = ["awaiting_customer", "awaits_authentication", "intent_action"]


def awaits_authentication(*codes: object) -> bool:
    """One of Stripe's `code` / `decline_code` says the customer must authenticate."""
    return any(code in AWAITING_AUTHENTICATION for code in codes)


def awaiting_customer(intent_id: str, client_secret: str | None, http_status: int) -> ProviderReply:
    """The intent waits for the customer; no URL exists until the checkout confirms it again
    (with Stripe.js and the intent's client secret, or server-side with a `return_url`)."""
    return ProviderReply.requires_action(
        intent_id,
        None,
        provider_code="authentication_required",
        http_status=http_status,
        action=intent_action("authentication_required", None, client_secret),
    )


def intent_action(
    action_type: str | None, redirect_url: str | None, client_secret: str | None
) -> NextAction:
    """What the checkout does with an intent waiting for the customer.

    `redirect_to_url` is a plain redirect (Stripe gives it when a `return_url` was sent);
    anything else (`use_stripe_sdk`, an intent back in `requires_payment_method` after
    `authentication_required`) is finished by Stripe.js from the intent's client secret:
    `stripe.handleNextAction({clientSecret})`, or `stripe.confirmCardPayment(clientSecret)`
    for the latter. The client secret comes with every kind, as Stripe.js may use it either way.
    """
    secret = SecretStr(client_secret) if client_secret else None
    kind = "redirect" if redirect_url else "sdk"
    return NextAction(kind=kind, provider_type=action_type, url=redirect_url, client_secret=secret)
