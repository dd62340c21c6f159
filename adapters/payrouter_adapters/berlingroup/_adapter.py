"""The Berlin Group adapter: options, construction and one HTTP exchange per method."""

from __future__ import annotations

import hashlib
import ipaddress
import re
import ssl
import uuid
from collections.abc import AsyncIterator, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Final, Literal, Self
from urllib.parse import quote

import httpx
from pydantic import (
    AfterValidator,
    FilePath,
    IPvAnyAddress,
    SecretStr,
    StringConstraints,
    ValidationError,
    model_validator,
)

from payrouter import (
    BankTransferSource,
    ConfigurationError,
    Money,
    PaymentMethod,
    currency_exponent,
)
from payrouter.provider import (
    Capabilities,
    Charge,
    FailureKind,
    HttpAdapter,
    HttpOptions,
    Outcome,
    PaymentHandle,
    ProviderRecord,
    ProviderReply,
    Resolution,
)

from . import _records
from ._codes import STATUS_FAILURE_BY_CODE
from ._replies import (
    amount_unread,
    cancellation_reply,
    error_reply,
    initiation_reply,
    status_reply,
    with_instructed_amount,
)

__all__ = ["DEFAULT_CAPABILITIES", "BerlinGroupAdapter", "BerlinGroupOptions"]

DEFAULT_CAPABILITIES: Final = Capabilities(
    methods=frozenset({PaymentMethod.BANK_TRANSFER}),
    currencies=frozenset({"EUR"}),
    max_minor_units=99_999_999_999,  # the SEPA scheme's 999,999,999.99 EUR ceiling
)
"""SEPA credit transfers: euro only, from a bank account given by IBAN."""

_REQUEST_ID_NAMESPACE: Final = uuid.uuid5(uuid.NAMESPACE_URL, "payrouter:berlingroup:X-Request-ID")
_UNSPECIFIED_IP: Final = ipaddress.IPv4Address(0)
_PSU_IP_METADATA_KEY: Final = "psu_ip_address"
_END_TO_END_MAX: Final = 35
_REMITTANCE_MAX: Final = 140
# SEPA's Latin character set, without a leading/trailing "/" or a "//" (EPC guidelines).
_SEPA_ID: Final = re.compile(r"(?!/)(?!.*//)[A-Za-z0-9/?:().,'+ -]*(?<!/)")


def _valid_iban(value: SecretStr) -> SecretStr:
    try:
        return BankTransferSource(iban=value).iban
    except ValidationError:
        raise ValueError("is not a valid IBAN (country code, check digits, BBAN)") from None


class BerlinGroupOptions(HttpOptions):
    """Options for one ASPSP speaking NextGenPSD2 1.3.x; secrets are `SecretStr`.

    `base_url` is the ASPSP's PSD2 root without `/v1` (e.g. `https://api.testbank.com/psd2`).
    The creditor is the merchant's own account: every transfer is initiated to it.
    """

    creditor_iban: Annotated[SecretStr, AfterValidator(_valid_iban)]
    creditor_name: Annotated[str, StringConstraints(min_length=1, max_length=70)]
    payment_product: Literal["sepa-credit-transfers", "instant-sepa-credit-transfers"] = (
        "sepa-credit-transfers"
    )
    psu_ip_address: IPvAnyAddress = _UNSPECIFIED_IP
    """Used when a charge has no `metadata["psu_ip_address"]`; 0.0.0.0 says "not known"."""
    redirect_preferred: bool = True
    access_token: SecretStr | None = None
    """OAuth2 bearer token, for ASPSPs that require an OAuth pre-step."""
    client_certificate_file: FilePath | None = None
    """PEM eIDAS QWAC for mutual TLS; the key may be in the same file."""
    client_key_file: FilePath | None = None
    client_key_password: SecretStr | None = None
    account_id: str | None = None
    """AIS resource id of the merchant's receiving account (records reconciliation)."""
    consent_id: SecretStr | None = None
    """The merchant's AIS consent to read that account's transactions."""

    @model_validator(mode="after")
    def _key_needs_certificate(self) -> Self:
        if self.client_certificate_file is None and (
            self.client_key_file is not None or self.client_key_password is not None
        ):
            raise ValueError("client_key_file/client_key_password need client_certificate_file")
        return self


def _mtls_transport(
    name: str, options: BerlinGroupOptions, certificate: Path
) -> httpx.AsyncHTTPTransport:
    """A transport presenting the TPP's QWAC, otherwise every HTTP adapter's
    (`HttpOptions.transport`: pool limits, `TCP_NODELAY`)."""
    context = ssl.create_default_context()
    password = options.client_key_password
    try:
        context.load_cert_chain(
            certificate,
            options.client_key_file,
            password.get_secret_value() if password is not None else None,
        )
    except (OSError, ssl.SSLError) as error:
        raise ConfigurationError(
            f"providers[{name}].options.client_certificate_file: cannot load the certificate "
            f"and key ({type(error).__name__}); check the PEM files and the key password"
        ) from None
    return options.transport(tls=context)


def request_id(idempotency_key: str) -> str:
    """The `X-Request-ID` for a key: a UUID, the same one every time the key is replayed."""
    return str(uuid.uuid5(_REQUEST_ID_NAMESPACE, idempotency_key))


def end_to_end_id(reference: str) -> str:
    """Our reference as the 35-character `endToEndIdentification`, hashed when it won't fit."""
    if len(reference) <= _END_TO_END_MAX and _SEPA_ID.fullmatch(reference):
        return reference
    return hashlib.sha256(reference.encode()).hexdigest()[:_END_TO_END_MAX]


def _remittance(order_id: str) -> str:
    if len(order_id) <= _REMITTANCE_MAX:
        return order_id
    digest = hashlib.sha256(order_id.encode()).hexdigest()[:16]
    return f"{order_id[: _REMITTANCE_MAX - 17]}-{digest}"


def _amount(money: Money) -> dict[str, str]:
    return {
        "currency": money.currency,
        "amount": f"{money.amount:.{currency_exponent(money.currency)}f}",
    }


class BerlinGroupAdapter(HttpAdapter[BerlinGroupOptions]):
    """NextGenPSD2 payment initiation (PIS) for one ASPSP: see the package docstring."""

    options_model = BerlinGroupOptions
    default_capabilities = DEFAULT_CAPABILITIES
    idempotency_key_max_length: int = 255
    """Keys become UUIDv5 `X-Request-ID`s, so any length fits."""
    resolution: Resolution = Resolution(lookup=True)
    """The transfer's status by paymentId; NextGenPSD2 has no idempotent replay (X-Request-ID
    identifies a request, it does not deduplicate one), no search and no webhook. With AIS
    access to the merchant's receiving account (`account_id`, `consent_id`), an initiation
    without a paymentId is searched for there: a booked credit settles it, and its absence
    once `_records.CREDIT_BOUND` has passed since the attempt began (see `__init__`)."""
    records_delay: timedelta = _records.RECORDS_DELAY
    """A credit is booked by the next banking day."""

    def __init__(
        self,
        *,
        name: str,
        client: httpx.AsyncClient,
        options: BerlinGroupOptions,
        capabilities: Capabilities | None = None,
    ) -> None:
        super().__init__(name=name, client=client, options=options, capabilities=capabilities)
        if options.account_id is not None and options.consent_id is not None:
            bound = _records.CREDIT_BOUND.total_seconds()
            self.resolution = Resolution(lookup=True, search_lag_seconds=bound)
        self._payments = f"/v1/payments/{options.payment_product}"
        self._standing_orders = f"/v1/periodic-payments/{options.payment_product}"

    @classmethod
    def client_headers(cls, options: BerlinGroupOptions) -> Mapping[str, str]:
        """The OAuth2 bearer token, for ASPSPs that require the OAuth pre-step."""
        headers = {"Accept": "application/json"}
        if options.access_token is not None:
            headers["Authorization"] = f"Bearer {options.access_token.get_secret_value()}"
        return headers

    @classmethod
    def client_transport(
        cls, name: str, options: BerlinGroupOptions
    ) -> httpx.AsyncBaseTransport | None:
        """Mutual TLS with the TPP's eIDAS QWAC when one is configured.

        Raises:
            ConfigurationError: the certificate or its key cannot be loaded.
        """
        if options.client_certificate_file is None:
            return None
        return _mtls_transport(name, options, options.client_certificate_file)

    async def pay(self, charge: Charge, *, idempotency_key: str) -> ProviderReply:
        """Initiate a SEPA credit transfer from the customer's IBAN to the merchant's.

        Usually `requires_action` with the ASPSP's `scaRedirect` URL: the customer authorises
        at their bank, and a later `lookup` tells how the transfer went.
        """
        source = charge.source
        if not isinstance(source, BankTransferSource):
            return ProviderReply.failed(
                FailureKind.INVALID_REQUEST,
                provider_code="source_unsupported",
                message="Berlin Group PIS initiates transfers from bank accounts (IBAN) only",
            )
        psu_ip = charge.metadata.get(_PSU_IP_METADATA_KEY, str(self._options.psu_ip_address))
        try:
            ipaddress.ip_address(psu_ip)
        except ValueError:
            return ProviderReply.failed(
                FailureKind.INVALID_REQUEST,
                provider_code="psu_ip_address_invalid",
                message=f'metadata["{_PSU_IP_METADATA_KEY}"] must be an IP address',
            )
        headers = {
            "X-Request-ID": request_id(idempotency_key),
            "PSU-IP-Address": psu_ip,
            "TPP-Redirect-Preferred": "true" if self._options.redirect_preferred else "false",
        }
        if charge.return_url is not None:
            headers["TPP-Redirect-URI"] = charge.return_url
        body = {
            "endToEndIdentification": end_to_end_id(charge.reference),
            "debtorAccount": {"iban": source.iban.get_secret_value()},
            "instructedAmount": _amount(charge.amount),
            "creditorAccount": {"iban": self._options.creditor_iban.get_secret_value()},
            "creditorName": self._options.creditor_name,
            "remittanceInformationUnstructured": _remittance(charge.order_id),
        }
        response = await self._client.post(self._payments, json=body, headers=headers)
        if response.is_success:
            return await self._with_amount(initiation_reply(self.name, response))
        return error_reply(self.name, response, creating=True)

    def list_payments(self, since: datetime, until: datetime) -> AsyncIterator[ProviderRecord]:
        """Credits to the merchant's account on the days of `[since, until]`, from AIS
        (records reconciliation; `RecordsSource`; see `_records`).

        Raises:
            ConfigurationError: `account_id` or `consent_id` is not configured.
        """
        account, consent = self._options.account_id, self._options.consent_id
        if account is None or consent is None:
            raise ConfigurationError(
                f"{self.name}: records need the receiving account's AIS access: set "
                "options account_id and consent_id"
            )
        return _records.list_payments(
            self._client, self.name, account, consent.get_secret_value(), since, until
        )

    def records_reference(self, reference: str) -> str:
        """Our reference as the bank's records carry it: the `endToEndId` sent."""
        return end_to_end_id(reference)

    async def lookup(self, handle: PaymentHandle) -> ProviderReply:
        """The transfer's `transactionStatus`, by the ASPSP's `paymentId`.

        PIS has no search by `endToEndIdentification`: without a `paymentId` (the initiation
        timed out before answering) PIS cannot be asked. With AIS access to the merchant's
        account the credit is looked for there from the day the attempt began
        (`handle.started_at`; `_records.find_credit`: booked settles it, absence is
        `NOT_FOUND`, trusted only past `CREDIT_BOUND`, and `unknown` when the start is not
        known); without it the reply is `unknown` with `lookup_unsupported`, never a
        `NOT_FOUND` we could not prove. `X-Request-ID` of a status request is a fresh UUID: it
        identifies the request and moves no money, and its errors go through
        `STATUS_FAILURE_BY_CODE`, where none is a verdict on the payment.
        """
        payment_id = handle.provider_reference
        account, consent = self._options.account_id, self._options.consent_id
        if payment_id is None and account is not None and consent is not None:
            return await _records.find_credit(
                self._client,
                self.name,
                account,
                consent.get_secret_value(),
                end_to_end_id(handle.reference),
                started_at=handle.started_at,
                now=datetime.now(UTC),
            )
        if payment_id is None:
            return ProviderReply.unknown(
                provider_code="lookup_unsupported",
                message="no paymentId, and no AIS access to the merchant's account "
                "(account_id, consent_id): NextGenPSD2 PIS cannot search by our reference",
            )
        response = await self._client.get(
            f"{self._payments}/{quote(payment_id, safe='')}/status",
            headers={"X-Request-ID": str(uuid.uuid4())},
        )
        if response.is_success:
            return await self._with_amount(status_reply(self.name, response, payment_id))
        return error_reply(self.name, response, STATUS_FAILURE_BY_CODE, creating=False)

    async def _with_amount(self, reply: ProviderReply) -> ProviderReply:
        """A success with the amount the ASPSP holds for the transfer, which the router
        compares with the charge (as every provider's): a status carries no amount, the
        payment initiation resource (`GET .../{paymentId}`) must carry `instructedAmount`.
        Only a success settles a payment, so only a success costs the second request."""
        if reply.outcome is not Outcome.SUCCEEDED or reply.provider_reference is None:
            return reply
        try:
            response = await self._client.get(
                f"{self._payments}/{quote(reply.provider_reference, safe='')}",
                headers={"X-Request-ID": str(uuid.uuid4())},
            )
        except httpx.HTTPError:  # the transfer is known: keep its paymentId for a lookup
            return amount_unread(reply, None)
        return with_instructed_amount(reply, response)

    async def capture(
        self, handle: PaymentHandle, amount: Money, *, idempotency_key: str
    ) -> ProviderReply:
        """Not a PIS concept: a credit transfer is final once the customer authorises it."""
        return ProviderReply.failed(
            FailureKind.INVALID_REQUEST,
            provider_code="capture_unsupported",
            provider_reference=handle.provider_reference,
            message="a SEPA credit transfer cannot be authorized and captured separately",
        )

    async def refund(
        self, handle: PaymentHandle, amount: Money, *, idempotency_key: str, reason: str | None
    ) -> ProviderReply:
        """Not in PIS: refunding a credit transfer is a new transfer from the merchant's account."""
        return ProviderReply.failed(
            FailureKind.INVALID_REQUEST,
            provider_code="refund_unsupported",
            provider_reference=handle.provider_reference,
            message="refund with a new credit transfer from the merchant's account",
        )

    async def void(self, handle: PaymentHandle, *, idempotency_key: str) -> ProviderReply:
        """Cancel a not yet executed transfer: `DELETE /v1/payments/{product}/{paymentId}`.

        204 is `succeeded`; 202 with a `startAuthorisation*` link is `requires_action`,
        because the cancellation needs the customer's own SCA.
        """
        if handle.provider_reference is None:
            return ProviderReply.failed(
                FailureKind.INVALID_REQUEST,
                provider_code="payment_id_missing",
                message="no paymentId: the ASPSP cannot address the payment to cancel",
            )
        return await self._cancel(self._payments, handle.provider_reference, idempotency_key)

    async def cancel_mandate(self, mandate_id: str, *, idempotency_key: str) -> ProviderReply:
        """Cancel a standing order (PIS periodic payment) by its `paymentId`, like `void`."""
        return await self._cancel(self._standing_orders, mandate_id, idempotency_key)

    async def _cancel(
        self, collection: str, payment_id: str, idempotency_key: str
    ) -> ProviderReply:
        headers = {
            "X-Request-ID": request_id(idempotency_key),
            "TPP-Redirect-Preferred": "true" if self._options.redirect_preferred else "false",
        }
        response = await self._client.delete(
            f"{collection}/{quote(payment_id, safe='')}", headers=headers
        )
        if response.is_success:
            return cancellation_reply(response, payment_id)
        return error_reply(self.name, response, creating=False)
