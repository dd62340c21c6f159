"""3-D Secure at the Stripe stand-in: Stripe's test PaymentMethods that need authentication.

As at Stripe (docs.stripe.com/testing#regulatory-cards, docs.stripe.com/payments/save-and-reuse):

- `pm_card_threeDSecure2Required` and `pm_card_authenticationRequired` need the customer to
  authenticate on every payment. Confirmed on session, the intent answers `requires_action`:
  `next_action.redirect_to_url` when a `return_url` was given, else `use_stripe_sdk` (the
  checkout's Stripe.js acts on it).
- Confirmed off session (`off_session=true`, a saved card charged without the customer), no
  challenge can be shown: a 402 `card_error` with code and decline code
  `authentication_required`, and the intent back in `requires_payment_method`, to be
  confirmed again once the customer is back.
- `pm_card_authenticationRequiredOnSetup` and `pm_card_authenticationRequiredSetupForOffSession`
  are challenged on session, and charged off session (a card saved for later, set up with
  authentication: the stand-in has no SetupIntents, so every saved one counts as set up).
- `pm_card_authenticationRequiredChargeDeclinedInsufficientFunds` is challenged, and once
  authenticated declined for `insufficient_funds`.
- The challenge page is `GET /sandbox/3ds/{intent}`: it passes (the payment goes through), or
  with `?outcome=fail` fails, which leaves the intent in `requires_payment_method` with
  `payment_intent_authentication_failure`, as Stripe's test page does.
"""

from __future__ import annotations

from typing import Final

from ._exchange import Reply, json_reply
from ._stripe_wire import new_id, payment_method, public

__all__ = ["THREE_DS", "declined", "fail_authentication", "three_d_secure"]

_SET_UP: Final = frozenset(
    {"pm_card_authenticationRequiredOnSetup", "pm_card_authenticationRequiredSetupForOffSession"}
)
_DECLINED_AFTER: Final = {
    "pm_card_authenticationRequiredChargeDeclinedInsufficientFunds": "insufficient_funds"
}
THREE_DS: Final = frozenset(
    {"pm_card_authenticationRequired", "pm_card_threeDSecure2Required", *_SET_UP, *_DECLINED_AFTER}
)
"""Stripe's test PaymentMethods whose issuer asks for authentication on session."""


def three_d_secure(intent: dict[str, object], method: str, base_url: str) -> Reply | None:
    """What 3-D Secure makes of a confirm of `method`: a challenge, a decline, or None when
    the charge goes ahead (no authentication needed, or the customer passed it)."""
    if method not in THREE_DS:
        return None
    if intent.get("_authenticated"):
        after = _DECLINED_AFTER.get(method)
        return None if after is None else declined(intent, method, "card_declined", after)
    if not intent["_off_session"]:
        return challenge(intent, base_url)
    if method in _SET_UP:
        return None
    code = "authentication_required"  # nobody there to authenticate
    return declined(intent, method, code, code)


_AUTHENTICATION_FAILED: Final = (
    "The provided PaymentMethod has failed authentication. You can provide payment_method_data "
    "or a new PaymentMethod to attempt to fulfill this PaymentIntent again."
)


def challenge(intent: dict[str, object], base_url: str) -> Reply:
    """The intent waits for the customer: a redirect to the challenge page, or Stripe.js."""
    intent_id, return_url = str(intent["id"]), intent["_return_url"]
    action: dict[str, object] = {"type": "use_stripe_sdk", "use_stripe_sdk": {}}
    if isinstance(return_url, str):
        action = {
            "type": "redirect_to_url",
            "redirect_to_url": {
                "url": f"{base_url}/sandbox/3ds/{intent_id}",
                "return_url": return_url,
            },
        }
    intent.update(status="requires_action", next_action=action)
    return json_reply(200, public(intent))


def declined(intent: dict[str, object], method: str, code: str, decline_code: str) -> Reply:
    """Stripe's 402 for a confirm the card refused; the intent wants a payment method again."""
    problem = {
        "type": "card_error",
        "code": code,
        "decline_code": decline_code,
        "message": "Your card was declined."
        if decline_code != "authentication_required"
        else "Your card was declined. This transaction requires authentication.",
        "charge": new_id("ch"),
        "payment_method": payment_method(method),
    }
    intent.update(status="requires_payment_method", last_payment_error=problem)
    intent.update(payment_method=None, latest_charge=problem["charge"], next_action=None)
    return json_reply(402, {"error": {**problem, "payment_intent": public(intent)}})


def fail_authentication(intent: dict[str, object]) -> None:
    """The customer failed the challenge: nothing is charged; a new confirm may try again."""
    method = str(intent["payment_method"])
    problem = {
        "type": "invalid_request_error",
        "code": "payment_intent_authentication_failure",
        "message": _AUTHENTICATION_FAILED,
        "payment_method": payment_method(method),
    }
    intent.update(status="requires_payment_method", last_payment_error=problem)
    intent.update(payment_method=None, next_action=None)
