"""Adyen Checkout API v72: cards, wallets and SEPA direct debit as a payrouter adapter.

Register as `adyen = "payrouter_adapters.adyen:AdyenAdapter.from_options"`; options are
`base_url` (`https://checkout-test.adyen.com/v72`, or the live `…-checkout-live.adyenpayments.com
/checkout/v72` prefix), `api_key`, `merchant_account` and `return_url` (see `AdyenOptions`).

What is sent:
- `pay` → `POST /payments`. `reference` is our attempt reference (Adyen's limit is 80
  characters; longer values are shortened deterministically with a hash suffix),
  `merchantOrderReference` the order id, `shopperReference` the customer id (3-256 chars).
  A card token is a `storedPaymentMethodId` (scheme), charged as `CardOnFile`/`Ecommerce` or
  as the merchant-initiated model set in options. A card network token is
  `paymentMethod.type=networkToken` with the token PAN and expiry: customer-initiated with
  `mpiData` (the cryptogram as `tokenAuthenticationVerificationValue`, the ECI, transStatus
  Y), or merchant-initiated (`ContAuth`, off session or without a cryptogram) with the first
  payment's network transaction id as `networkPaymentReference`; no shopper reference needed.
  Wallets map through `WALLETS` (Alipay, WeChat Pay QR, PayPal redirect, Apple/Google/Samsung
  Pay with their token in `WalletSource.account`, ...); a bank transfer is a SEPA direct debit
  of the IBAN.
  `capture=False` sends `additionalData.manualCapture`; otherwise `captureDelayHours: 0`
  captures at once whatever the account default. Adyen's minor units differ from ISO 4217
  for CLP, CVE, IDR and ISK; amounts are converted, and refused if not representable.
  `Charge.metadata` and `description` are not forwarded: Adyen's metadata limits (20-char
  keys, 80-char values) are tighter than payrouter's, and a partial copy would mislead.
- `capture` / `refund` / `void` → `POST /payments/{pspReference}/captures|refunds|cancels`;
  `void` without a pspReference uses `POST /cancels` with our reference, so an authorisation
  whose reply was lost can still be released. Adyen accepts modifications asynchronously
  (`"status": "received"`), so they reply `pending`; the webhook confirms.
- `cancel_mandate` → `DELETE /storedPaymentMethods/{id}?shopperReference=&merchantAccount=`,
  with `mandate_id` = `"<shopperReference>:<storedPaymentMethodId>"`.
- `submit_details(details)` (`SubmitsDetails`, what `Router.refresh(order_id, details=...)`
  calls) → `POST /payments/details` after a redirect or 3-D Secure challenge.
Every call sends `Idempotency-Key` (Adyen keeps keys at least 31 days, 64 characters max).
A charge Adyen cannot take as it stands (no holder name for SEPA, no customer id for a stored
card, wallet not in the table, sub-unit IDR) is refused as `INVALID_REQUEST` without a call.

Outcomes: `resultCode` via `RESULT_CODES` (Authorised → succeeded, Received/Pending → pending,
RedirectShopper/IdentifyShopper/ChallengeShopper/PresentToShopper → requires_action with
`action.url`, Refused/Error/Cancelled → failed by `refusalReasonCode` via `REFUSALS`).
HTTP errors: status first (`HTTP_STATUSES`: 401/403 credentials, 409 concurrent duplicate →
unknown, 429 rate limited with Retry-After, 503 busy), then `errorCode` (`ERROR_CODES`:
704 in progress → unknown, 905 configuration → invalid request, ...). Unknown vs not processed:
500, 502 and 504 are unknown unless their `errorCode` proves a rejection (Adyen's own
validation/configuration errors, e.g. 905, which the spec documents on 500); a 503 comes from
Adyen's edge before processing and is BUSY (retrying under the same key is safe). Unmapped
codes: unknown on 5xx, INVALID_REQUEST on 4xx, CARD_DECLINED for a refusal; each is logged
once through `warn_unmapped_once`.

Resolution: Checkout v72 has no endpoint that reads a payment's status (only sessions and
payment links can be read), so `lookup` answers unknown (`lookup_unsupported`) without
sending anything. The documented recovery is the adapter's declared rung instead
(`resolution`): the router replays the original request with the same Idempotency-Key
(Adyen keeps keys at least 7 days), which returns the original result, or performs the one
payment now if the first never arrived. The replay goes only to Adyen, never elsewhere, and
only while the attempt is younger than the merchant's `replay_max_age_seconds`; past it,
the AUTHORISATION webhook (or an operator) settles the payment.

Webhooks: `AdyenWebhooks(hmac_key_hex)` is the `payrouter.webhooks.WebhookSource` for Adyen:
each item's HMAC is checked before any other work for it, an AUTHORISATION for less than
asked makes the payment partially_authorised, and the unsigned eventDate is never trusted.
"""

from ._adapter import AdyenAdapter, AdyenOptions
from ._webhooks import AdyenWebhooks

__all__ = ["AdyenAdapter", "AdyenOptions", "AdyenWebhooks"]
