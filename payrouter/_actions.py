"""What the customer's browser must do for a payment that `requires_action`: `NextAction`.

A URL is not always enough. Stripe answers most card challenges with `use_stripe_sdk`, which
has no URL: the checkout hands the PaymentIntent's client secret to Stripe.js
(`stripe.handleNextAction`). Adyen's Drop-in and Components take the `/payments` response's
raw `action` object (`threeDS2`, a `redirect` that may be a POST with form data, ...). So an
action carries what each provider's client SDK needs, kept by the ledger with the attempt, so
`Router.get`, `refresh` and a second `pay` of the same order answer with it again.

The client secret is held as `SecretStr`: it completes that one payment from the customer's
browser, so it reaches the front end only through `get_secret_value()` and never appears in a
repr, a log line or an event.
"""

from __future__ import annotations

import json
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue, SecretStr, model_validator

__all__ = ["ActionKind", "NextAction"]


ActionKind = Literal["redirect", "sdk"]
"""How a checkout carries an action out: `redirect` sends the browser to `url` (a plain GET;
the provider sends the customer back); `sdk` hands the action to the provider's client SDK
(Stripe.js with `client_secret`, Adyen's Drop-in or Components with `provider_data`)."""


class NextAction(BaseModel):
    """The action a `requires_action` payment waits for, as its provider's client SDK takes it.

    `kind` says which field to use: `redirect` needs only `url`; `sdk` needs the provider's
    SDK, given `client_secret` (Stripe) or `provider_data` (Adyen's `action` object as sent).
    """

    model_config = ConfigDict(frozen=True)

    kind: ActionKind
    provider_type: str | None = Field(
        default=None,
        description="The provider's own name for the action: Stripe's `next_action.type` "
        "(`use_stripe_sdk`, `redirect_to_url`), Adyen's `action.type` (`threeDS2`, `redirect`).",
    )
    url: str | None = Field(default=None, description="Where to send the browser, if anywhere.")
    client_secret: SecretStr | None = Field(
        default=None,
        description="Stripe's PaymentIntent client secret, for Stripe.js "
        "(`handleNextAction`, `confirmCardPayment`); for the customer's browser only.",
    )
    provider_data: dict[str, JsonValue] | None = Field(
        default=None,
        description="The provider's action object for its client SDK, as the provider sent it "
        "(Adyen's `action`, with `paymentData`, `token`, ...).",
    )

    @model_validator(mode="after")
    def _redirect_has_url(self) -> NextAction:
        if self.kind == "redirect" and not self.url:
            raise ValueError("a redirect action needs the url to send the browser to")
        return self

    @classmethod
    def redirect(cls, url: str, *, provider_type: str | None = None) -> NextAction:
        """A plain browser redirect (PayPal's approval link, a bank's SCA page)."""
        return cls(kind="redirect", url=url, provider_type=provider_type)

    def stored(self) -> str:
        """The action as the ledger keeps it (JSON, the client secret included)."""
        secret = self.client_secret.get_secret_value() if self.client_secret else None
        return json.dumps(
            {
                "kind": self.kind,
                "provider_type": self.provider_type,
                "url": self.url,
                "client_secret": secret,
                "provider_data": self.provider_data,
            },
            separators=(",", ":"),
        )

    @classmethod
    def from_stored(cls, text: str) -> NextAction:
        """An action as `stored` wrote it; the ledger validated it on the way in."""
        data = json.loads(text)
        secret = data.get("client_secret")
        return cls.model_construct(
            kind=data["kind"],
            provider_type=data.get("provider_type"),
            url=data.get("url"),
            client_secret=SecretStr(secret) if secret is not None else None,
            provider_data=data.get("provider_data"),
        )
