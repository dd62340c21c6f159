"""Stripe PaymentIntents (API 2023-08-16) for cards, Apple Pay and Google Pay, as a payrouter
adapter.

Register as `stripe = "payrouter_adapters.stripe:StripeAdapter.from_options"`; options are
`api_key` (sent as `Authorization: Bearer`), `base_url` (default `https://api.stripe.com`),
`api_version` (sent as `Stripe-Version`, default the spec's 2023-08-16) and an optional
default `return_url` (see `StripeOptions`).

What is sent (form-encoded, `Idempotency-Key` on every POST; Stripe keeps keys 24 hours and
takes at most 255 characters, which `idempotency_key_max_length` tells the router):
- `pay` → `POST /v1/payment_intents` with `confirm=true`, `payment_method=<CardSource.token>`
  (a PaymentMethod, Card or Source id; raw `tok_` tokens must become a PaymentMethod first),
  `payment_method_types[0]=card`, `capture_method=manual` when `Charge.capture` is False
  (else `automatic`), `return_url` (the charge's, else the option's), `description`, and
  metadata: `payrouter_reference` (our attempt reference, at most 255 characters, well under
  Stripe's 500), `order_id`, the charge's own metadata, and `customer_id` unless it is a
  Stripe customer (`cus_...`), which goes in `customer`. Amounts are minor units; ISK and MGA
  are converted to Stripe's units (`STRIPE_EXPONENTS`), and unrepresentable MGA is refused.
- `capture` → `/v1/payment_intents/{id}/capture` with `amount_to_capture`; `void` →
  `/v1/payment_intents/{id}/cancel`; `refund` → `POST /v1/refunds` with `payment_intent`,
  `amount`, Stripe's `reason` when it is one of its three, and metadata with the follow-up
  key and order id. All three need the intent id (`PaymentHandle.provider_reference`);
  without it they answer NOT_FOUND without a call, so the caller looks the payment up first.
- `cancel_mandate(pm_id)` → `POST /v1/payment_methods/{id}/detach`. This path is not in the
  cut-down Prism spec; its shape comes from the full spec3.json.
Apple Pay and Google Pay: `payment_method=<the pm_... Stripe made of the wallet's token>`
(`WalletSource.accounts[<this provider>]`; a `tok_...` is made into one first), charged as a
card; a wallet without one is not eligible here (`CredentialRules.wallet_tokens`), and any
other credential is refused.
A charge Stripe cannot take as it stands (another source, a metadata key with brackets) is
refused as INVALID_REQUEST without a call.

Network tokens: not taken (`CredentialRules.network_tokens=False`). Stripe's public API
(2023-08-16 spec: PaymentIntent `payment_method_data`, `payment_method_options[card]`,
PaymentMethod `card`) has no field for a merchant's own token PAN, cryptogram or network
transaction id; Stripe uses network tokens only as its own managed ones (reported in
`payment_method_details.card.network_token.used`). So a card offered only as a
`NetworkToken` is never sent to Stripe: the router skips it with the reason and tries
the providers that take network tokens (Adyen).

Forwarding vaults and legacy card tokens (`_payment_methods`): a PaymentIntent (2023-08-16)
takes neither card fields nor a card token, so a `VaultCard` (built with `vault=`, which
`CredentialRules.raw_cards` allows) or an Apple Pay / Google Pay `tok_...` is first made into a
PaymentMethod, `POST /v1/payment_methods` (`card[number]`/`card[exp_month]`/`card[exp_year]`/
`card[cvc]` holding the vault's aliases, swapped by its proxy; or `card[token]`) under the
attempt's key + `:pm`, and the intent is paid with the `pm_...`. Stripe refuses raw card data on
accounts it has not enabled (402, no code): `raw_card_data_not_enabled`, INVALID_REQUEST. That
first call moves no money, so each of its failures is definite (a 5xx or no answer: BUSY).

Outcomes: `payment_intent.status` via `INTENT_STATUSES` (succeeded and requires_capture →
succeeded, processing → pending, requires_action → requires_action with
`next_action.redirect_to_url.url`, which Stripe gives only when a return_url was sent,
requires_payment_method → failed by `last_payment_error`, canceled → failed by
`cancellation_reason`). Errors: `decline_code` first (`DECLINE_CODES`), then `code`
(`ERROR_CODES`), then `type` (`ERROR_TYPES`: a 400 `idempotency_error`, our attempt's key
reused with other parameters, is unknown, as Stripe already holds a request under it), then
the HTTP status (`HTTP_STATUSES`); a 402 decline carries the intent, whose id becomes the
reply's reference. A `payment_intent_unexpected_state` carrying the intent names its status
(`payment_intent_unexpected_state:succeeded`, `STATE_ERRORS`) and its `amount_received`, so
a capture resent past the key window and refused for an intent already `succeeded` (a cancel:
already `canceled`) is settled by `resolution.already_done`. Unknown vs not processed: a 5xx
is decided by `Stripe-Should-Retry` first (`true` → BUSY: Stripe caches the result of every
request whose endpoint began executing, so "retry" means it never ran; `false` → unknown),
then by status: 500/502/504 unknown (Stripe: "treat a 500 as indeterminate"), 503 BUSY
(Stripe's load shedders reject with 503 before the API runs). On a 4xx the header is
ignored: 409 (`idempotency_key_in_use`, a request under our key still running) says "retry"
yet stays unknown, and so does 424; 429 is RATE_LIMITED (`lock_timeout` BUSY) with
Retry-After; 401/403 and key problems are CREDENTIALS_REJECTED. Unmapped codes fall back to
the status row (402 → CARD_DECLINED), then to INVALID_REQUEST on 4xx and unknown on 5xx, and
are logged once through `warn_unmapped_once`. Messages are kept with payment source ids
redacted.

Lookup: by intent id with `GET /v1/payment_intents/{id}` when known; otherwise by
`GET /v1/payment_intents/search?query=metadata['payrouter_reference']:'<ref>'`. Search is
eventually consistent (usually under a minute, up to an hour in incidents) and unavailable
for accounts in India: an empty result answers NOT_FOUND (`search_no_match`), which the
router trusts only once the attempt is older than the declared search lag
(`resolution.search_lag_seconds`, an hour). Before that, the router replays the original
request under the same Idempotency-Key (Stripe keeps keys 24 hours), which returns the
original intent, or the 500 Stripe saved for it ("including 500 errors":
`resolution.saved_error_statuses`), which settles nothing: search or a webhook then does.
Two or more matches answer unknown (`search_ambiguous`). A refund answered by Stripe's own
500 is looked for in `GET /v1/refunds?payment_intent=...` by the key in its metadata.

Webhooks: `StripeWebhooks(secret)` is the `payrouter.webhooks.WebhookSource` for Stripe: the
`Stripe-Signature` HMAC over the raw body, then the signed timestamp's tolerance, then the
Event read with amounts in ISO 4217 minor units.
"""

from ._adapter import StripeAdapter, StripeOptions
from ._webhooks import StripeWebhooks

__all__ = ["StripeAdapter", "StripeOptions", "StripeWebhooks"]
