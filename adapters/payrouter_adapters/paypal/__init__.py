"""PayPal Orders v2 for PayPal wallets, with Payments v2 follow-ups, as a payrouter adapter.

Register as `paypal = "payrouter_adapters.paypal:PayPalAdapter.from_options"`; options are
`client_id` + `client_secret` (OAuth2 client credentials) or a static `access_token` (for
mocks: Prism serves no `/v1/oauth2/token`), `base_url` (default the sandbox,
`https://api-m.sandbox.paypal.com`; live is `https://api-m.paypal.com`), and default
`return_url` / `cancel_url` for the payer's approval (see `PayPalOptions`).

Auth: `POST /v1/oauth2/token` with HTTP basic auth and `grant_type=client_credentials`; the
token is cached until shortly before `expires_in` and refreshed under an `asyncio.Lock`, so
concurrent calls share one fetch. A 401 to a cached token drops it and the call is sent once
more with a fresh one (the one allowed second exchange: PayPal refused before processing,
and the PayPal-Request-Id is the same). A token that cannot be had answers without sending
the payment: 401 `invalid_client` CREDENTIALS_REJECTED, 429 RATE_LIMITED, 5xx PROVIDER_DOWN
(503 BUSY), and even a transport error of the token call is NETWORK_BEFORE_SEND rather than
a propagated exception, because the router would read a token read-timeout as "payment may
have moved" when the payment request never left. Every other transport error propagates.

What is sent (JSON; `PayPal-Request-Id` = the router's key on every POST and the DELETE,
at most 108 characters, `idempotency_key_max_length`):
- `pay` → `POST /v2/checkout/orders` with `Prefer: return=representation`, intent CAPTURE
  (or AUTHORIZE when `Charge.capture` is False), one purchase unit with `amount` (a decimal
  string from minor units; HUF and TWD whole units only, `PAYPAL_EXPONENTS`), `invoice_id` =
  our attempt reference (what the router looks up by), `custom_id` = the order id (both
  fitted to 127 characters by a deterministic hash), `description`, and
  `payment_source.paypal` with `experience_context` (return_url, cancel_url, PAY_NOW).
  `WalletSource.account` is a Vault v3 payment token id (`vault_id`: PayPal completes the
  order in the same call) or, holding an `@`, the payer's e-mail (prefilled; still approved).
  A vault id PayPal does not hold is refused 422 `TOKEN_ID_NOT_FOUND` (Orders v2 spec,
  `orders.capture-422`/`orders.authorize-422`), INVALID_REQUEST here: nothing was charged, so
  the router moves on. Without a vault id the charge needs a return_url. A charge PayPal
  cannot take as it stands is refused as INVALID_REQUEST without a call.
- `complete(handle, *, idempotency_key, capture=True)` (extra, not in the protocol) → `POST
  /v2/checkout/orders/{id}/capture` or `/authorize` once the payer approved.
- `capture` → `POST /v2/payments/authorizations/{id}/capture` (`amount`, `final_capture`
  when taking the whole authorization); `void` → `POST /v2/payments/authorizations/{id}/void`;
  `refund` → `POST /v2/payments/captures/{id}/refund` (`amount`, `custom_id`, `note_to_payer`
  = reason); `cancel_mandate(token)` → `DELETE /v3/vault/payment-tokens/{id}`. These are not
  in the Orders spec: they follow PayPal's Payments v2 / Vault v3 references and are tested
  with respx only. Legacy billing agreements (`B-...`, v1 API) are not supported.

References: `provider_reference` is the order id while the payer approves, then
`ORDER:capture:ID` or `ORDER:authorization:ID` (and `ORDER:refund:ID` for a refund), so a
lookup (by the order) and each follow-up (by the payment) stay one HTTP exchange. A
follow-up without the payment it needs answers NOT_FOUND without a call: look it up first.
A notification names a capture or authorization the same way (the order from PayPal's
`supplementary_data.related_ids.order_id` or `up` link); one naming no order gives
`capture:ID`, refunded by the capture and looked up at `GET /v2/payments/captures/{id}`.

Outcomes: `order.status` via `ORDER_STATUSES`: CREATED / PAYER_ACTION_REQUIRED are
requires_action with the `payer-action` (else `approve`) link; APPROVED is requires_action
without a URL (the payer is done; `complete()` is ours to call, nothing moved yet); SAVED
pending; VOIDED failed; COMPLETED is decided by the payment inside it, the latest capture
(`CAPTURE_STATUSES`), else the latest authorization (`AUTHORIZATION_STATUSES`).

Errors: the first `details[].issue`, then the error `name`, in one table (`CODES`), then the
HTTP status (`HTTP_STATUSES`); 429 and 5xx are decided by their status alone (a code in such
a body cannot prove the request was refused). Issues asking the payer to act (`ACTION_ISSUES`:
PAYER_ACTION_REQUIRED, ORDER_NOT_APPROVED, REDIRECT_PAYER_FOR_ALTERNATE_FUNDING) are
requires_action when the order is known, never failures; so is INSTRUMENT_DECLINED when
completing an approved order (`COMPLETION_ACTION_ISSUES`: the payer picks another funding
source at the `redirect` link), while on a vaulted create it stays a decline. Unknown vs
not processed: 503 SERVICE_UNAVAILABLE is BUSY (refused before processing; PayPal names
maintenance as one cause but does not tell it apart), 429 RATE_LIMITED with Retry-After, 500
INTERNAL_SERVER_ERROR / 502 / 504 and 409 (a request under our PayPal-Request-Id still
running) are unknown, and so are DUPLICATE_INVOICE_ID (a transaction already carries our
attempt reference) and ORDER_ALREADY_CAPTURED/AUTHORIZED. 401/403 and merchant-account
issues are CREDENTIALS_REJECTED. Unmapped issues fall back to the name, then the status
(unknown on 5xx, INVALID_REQUEST on 4xx), and are logged once through `warn_unmapped_once`.

Why an unknown create is not always unknown: creating an order moves no money. Without a
vault id the payer must approve at a link only our response carries, and then we must call
`complete()`. So on such a create a 5xx, 409 or unreadable 2xx is BUSY, not unknown: the
router retries under the same PayPal-Request-Id (PayPal replays the order it made, if any)
and may fail over, which cannot double charge. A vaulted create completes in the same call
and keeps the unknown. (A transport timeout still propagates and the router reads it as
unknown; the lookup below then cannot help, see Limits.)

Idempotency window: PayPal keeps Orders request ids for 6 hours (Payments v2: 45 days).
Replay protection for a create older than that relies on the router's ledger, which never
re-sends an attempt's key after it finished; DUPLICATE_INVOICE_ID (if the account blocks
duplicate invoice ids) is a second guard.

Limits: lookup needs the order id. Orders v2 has no search by invoice_id, and transaction
search lags by hours, so a handle without `provider_reference` answers unknown
(`lookup_needs_order_id`), never a NOT_FOUND we could not prove; such a payment stays
pending until a webhook or an operator resolves it.

Webhooks: `PayPalWebhooks(adapter, webhook_id)` is the `payrouter.webhooks.WebhookSource` for
PayPal: PayPal's verify-webhook-signature decides (its FAILURE, or a 400/422 refusing the
delivery, is a forgery; 429, 408, 401/403, 5xx and the like leave it unverified, 503, for
PayPal to deliver again), freshness comes from the signed transmission time, and captures,
refunds and disputes become neutral events.
"""

from ._adapter import PayPalAdapter, PayPalOptions
from ._webhooks import PayPalWebhooks

__all__ = ["PayPalAdapter", "PayPalOptions", "PayPalWebhooks"]
