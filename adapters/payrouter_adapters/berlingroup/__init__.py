"""Berlin Group NextGenPSD2 1.3.x payment initiation (PIS): SEPA credit transfers by IBAN.

Flows, each one HTTP exchange (a success two: see the amount below):
- `pay`: `POST /v1/payments/{product}` (`sepa-credit-transfers` by default) from the
  customer's IBAN to the merchant's (`creditor_iban`, `creditor_name` options). Our reference
  becomes `endToEndIdentification` (SHA-256 hex when it exceeds 35 characters or SEPA's
  character set), the order id `remittanceInformationUnstructured` (140 characters, hashed
  tail beyond). `transactionStatus` decides: ACSC/ACCC settled -> `succeeded`; RJCT/CANC ->
  `failed` by `tppMessages` code (a bare rejection is a generic decline); the other accepted
  or received states with an SCA link (`scaRedirect` first, then `scaOAuth`, then the
  `startAuthorisation*` links) -> `requires_action` whose `provider_code` names the link, so
  `action_url` is a browser URL only when it is `scaRedirect`; without a link, RCVD and PATC
  (SCA not done, or a multi-level SCA not yet complete: nothing authorised) ->
  `requires_action`, the others -> `pending` (ACSP/ACTC/...: accepted, but the money has not
  arrived).
- `lookup`: `GET .../{paymentId}/status`; its errors map through `STATUS_FAILURE_BY_CODE`,
  where no code is a decline (a status request moves nothing: SERVICE_BLOCKED, PAYMENT_FAILED
  and the PSU codes are `unknown`). Without a `paymentId` PIS cannot be asked (it cannot
  search by `endToEndIdentification`): with AIS access (`account_id`, `consent_id`) the
  merchant's account is read from the day the attempt began, else `unknown` with
  `lookup_unsupported`.
- The amount: a status carries none, so a success (of `pay` or `lookup`) is read together
  with the payment initiation resource, `GET .../{paymentId}`, whose `instructedAmount` the
  specification requires; the router settles the payment only for the amount it asked for
  (another is `unknown` with `amount_mismatch`). A success whose resource cannot be read
  (an error, a timeout, no `instructedAmount`) is `unknown` with `amount_unread`, keeping
  the `paymentId`, so it is looked up again and never settled unchecked.
- `void`: `DELETE /v1/payments/{product}/{paymentId}`; `cancel_mandate`: the same on
  `/v1/periodic-payments/...` (a standing order is PIS's recurring payment). 204 ->
  `succeeded`; 202 with a `startAuthorisation` link -> `requires_action` (its own SCA).
- `capture` and `refund` are no PIS operations: `failed(INVALID_REQUEST)` with
  `capture_unsupported` / `refund_unsupported`, without an HTTP call. A refund of a credit
  transfer is a new transfer from the merchant's account, outside this API.

Idempotency: the router's key becomes the `X-Request-ID` as a UUIDv5, so replays of a key send
the same request id (the specification wants a UUID; ASPSPs use it to spot duplicates).

Errors: 503 is `BUSY` (the ASPSP refuses while unavailable; a payment resource only exists
after 201); 429/`ACCESS_EXCEEDED` is `RATE_LIMITED` with `Retry-After`; 500, 502, 504, 408
and a 409 on an initiation are `unknown` (the specification does not say nothing happened).
Codes map through `_codes.FAILURE_BY_CODE` (a status request's: `STATUS_FAILURE_BY_CODE`).

Authentication: mutual TLS with the TPP's eIDAS QWAC (`client_certificate_file`, ...) and/or an
OAuth bearer `access_token`. Not covered: application-layer signing (`Digest`, `Signature`,
`TPP-Signature-Certificate`), which some ASPSPs demand; the embedded and decoupled SCA steps
(their `startAuthorisation*` link is handed back for the merchant's own flow); bulk payments.
`PSU-IP-Address` comes from `Charge.metadata["psu_ip_address"]`, else the `psu_ip_address`
option (default 0.0.0.0, "not known"; PSD2 banks want the customer's real address).
"""

from ._adapter import DEFAULT_CAPABILITIES, BerlinGroupAdapter, BerlinGroupOptions
from ._codes import FAILURE_BY_CODE, STATUS_FAILURE_BY_CODE, TRANSACTION_STATUS

__all__ = [
    "DEFAULT_CAPABILITIES",
    "FAILURE_BY_CODE",
    "STATUS_FAILURE_BY_CODE",
    "TRANSACTION_STATUS",
    "BerlinGroupAdapter",
    "BerlinGroupOptions",
]
