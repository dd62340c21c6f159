"""The Adyen adapter translates: one call, one HTTP exchange, one ProviderReply per table row."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from payrouter import (
    BankTransferSource,
    CardSource,
    ConfigurationError,
    Money,
    NetworkToken,
    PaymentMethod,
    VaultCard,
    WalletSource,
)
from payrouter.provider import (
    Adapter,
    Capabilities,
    Charge,
    FailureKind,
    Outcome,
    PaymentHandle,
    ProviderReply,
)
from payrouter.testing import ScriptedProvider
from payrouter_adapters.adyen import AdyenAdapter, AdyenOptions
from payrouter_adapters.adyen._codes import (
    ERROR_CODES,
    HTTP_STATUSES,
    PAYMENT_ERROR_CODES,
    REFUND_REASONS,
    REFUSAL_CODE_BY_REASON,
    REFUSALS,
    RESULT_CODES,
)
from payrouter_adapters.adyen._requests import WALLETS, fit, payment_body

API_KEY = "AQE-adyen-api-key-do-not-print"
CARD_TOKEN = "M5N7TQ4TG5PFWR50"  # a storedPaymentMethodId, not a card number
IBAN = "NL13TEST0123456789"
APPLE_TOKEN = "apple-pay-token-secret"
KEY = "attempt-key-0001"
BASE = "https://checkout-test.adyen.com/v72"
OPTIONS: dict[str, object] = {
    "base_url": BASE,
    "api_key": API_KEY,
    "merchant_account": "PayrouterECOM",
    "return_url": "https://shop.example/return",
}
HANDLE = PaymentHandle(
    reference="attempt-key-0001",
    order_id="order-1",
    method=PaymentMethod.CARD,
    amount=Money(minor_units=1050, currency="EUR"),
    provider_reference="PSP0000000000001",
)


@pytest.fixture
def peer() -> ScriptedProvider:
    return ScriptedProvider()


@pytest.fixture
async def adapter(peer: ScriptedProvider) -> AsyncIterator[AdyenAdapter]:
    built = AdyenAdapter.from_options(
        name="adyen", capabilities=None, options=OPTIONS, transport=peer
    )
    yield built
    await built.aclose()


def charge(
    source: CardSource | WalletSource | BankTransferSource | None = None, **kw: Any
) -> Charge:
    fields: dict[str, Any] = {
        "reference": "attempt-key-0001",
        "order_id": "order-1",
        "amount": Money(minor_units=1050, currency="EUR"),
        "source": source or CardSource(token=SecretStr(CARD_TOKEN)),
        "customer_country": "NL",
        "customer_id": "cust-42",
    }
    fields.update(kw)
    return Charge(**fields)


def authorised(psp: str = "PSP0000000000001") -> dict[str, object]:
    return {"resultCode": "Authorised", "pspReference": psp}


# --- construction, capabilities, secrets ------------------------------------------------------


def test_adapter_satisfies_the_protocol(adapter: AdyenAdapter) -> None:
    """The router accepts it: every protocol method and attribute is there."""
    assert isinstance(adapter, Adapter)
    assert adapter.idempotency_key_max_length == 64


def test_default_capabilities_cover_every_method_and_mapped_wallet(adapter: AdyenAdapter) -> None:
    """Without configured capabilities, cards, the wallet table and SEPA are offered."""
    assert adapter.capabilities.methods == frozenset(PaymentMethod)
    assert adapter.capabilities.wallets == frozenset(WALLETS)


async def test_configured_capabilities_win() -> None:
    """Capabilities from config replace the defaults."""
    custom = Capabilities(methods=frozenset({PaymentMethod.CARD}), currencies=frozenset({"EUR"}))
    built = AdyenAdapter.from_options(name="adyen-eu", capabilities=custom, options=OPTIONS)
    await built.aclose()
    assert built.capabilities is custom
    assert built.name == "adyen-eu"


def test_missing_option_is_a_configuration_error_naming_the_field() -> None:
    """A missing merchant account fails at startup, naming the option."""
    options = {key: value for key, value in OPTIONS.items() if key != "merchant_account"}
    with pytest.raises(ConfigurationError, match=r"providers\[adyen\]\.options\.merchant_account"):
        AdyenAdapter.from_options(name="adyen", capabilities=None, options=options)


@pytest.mark.parametrize(
    "bad",
    [
        {"merchant_account": ""},
        {"api_key": 12345},
        {"recurring_processing_model": API_KEY},
        {"unexpected": API_KEY},
    ],
)
def test_configuration_error_never_shows_the_api_key(bad: dict[str, object]) -> None:
    """Bad options raise without echoing the key or any input value."""
    with pytest.raises(ConfigurationError) as caught:
        AdyenAdapter.from_options(name="adyen", capabilities=None, options={**OPTIONS, **bad})
    assert API_KEY not in str(caught.value)
    assert "12345" not in str(caught.value)


def test_repr_and_str_hide_the_api_key(adapter: AdyenAdapter) -> None:
    """Neither the adapter nor its options print the key."""
    options = AdyenOptions.model_validate(OPTIONS)
    for text in (repr(adapter), str(adapter), repr(options), str(options)):
        assert API_KEY not in text
    assert "PayrouterECOM" in repr(adapter)


async def test_api_key_is_sent_as_x_api_key(adapter: AdyenAdapter, peer: ScriptedProvider) -> None:
    """Adyen authenticates the web service user by the X-API-Key header."""
    peer.answer(200, authorised())
    await adapter.pay(charge(), idempotency_key=KEY)
    assert peer.last.headers["X-API-Key"] == API_KEY


async def test_secrets_never_appear_in_replies(
    adapter: AdyenAdapter, peer: ScriptedProvider
) -> None:
    """Replies, including local refusals, carry no card token, IBAN or wallet token."""
    peer.answer(200, authorised())
    replies = [
        await adapter.pay(charge(), idempotency_key=KEY),
        await adapter.pay(charge(customer_id=None), idempotency_key=KEY),
        await adapter.pay(charge(BankTransferSource(iban=SecretStr(IBAN))), idempotency_key=KEY),
        await adapter.pay(
            charge(WalletSource(wallet="nope", account=SecretStr(APPLE_TOKEN))),
            idempotency_key=KEY,
        ),
    ]
    for reply in replies:
        for secret in (CARD_TOKEN, IBAN, APPLE_TOKEN, API_KEY):
            assert secret not in repr(reply)


async def test_aclose_closes_the_client(peer: ScriptedProvider) -> None:
    """aclose releases the connection pool."""
    client = httpx.AsyncClient(base_url=BASE, transport=peer)
    built = AdyenAdapter(name="adyen", client=client, options=AdyenOptions.model_validate(OPTIONS))
    await built.aclose()
    assert client.is_closed


# --- request shapes -----------------------------------------------------------------------


async def test_card_charge_sends_stored_card_with_our_references(
    adapter: AdyenAdapter, peer: ScriptedProvider
) -> None:
    """A card is a scheme storedPaymentMethodId; reference, order and shopper ride along."""
    peer.answer(200, authorised())
    await adapter.pay(charge(), idempotency_key=KEY)
    assert peer.last.method == "POST"
    assert peer.last.url == f"{BASE}/payments"
    assert peer.last.headers["Idempotency-Key"] == KEY
    assert peer.last_json == {
        "amount": {"value": 1050, "currency": "EUR"},
        "merchantAccount": "PayrouterECOM",
        "reference": "attempt-key-0001",
        "merchantOrderReference": "order-1",
        "returnUrl": "https://shop.example/return",
        "countryCode": "NL",
        "shopperReference": "cust-42",
        "paymentMethod": {"type": "scheme", "storedPaymentMethodId": CARD_TOKEN},
        "recurringProcessingModel": "CardOnFile",
        "shopperInteraction": "Ecommerce",
        "authenticationData": {"threeDSRequestData": {"nativeThreeDS": "disabled"}},
        "captureDelayHours": 0,
    }


async def test_merchant_initiated_model_sends_cont_auth(peer: ScriptedProvider) -> None:
    """A subscription charge is ContAuth, as Adyen requires for merchant-initiated payments."""
    built = AdyenAdapter.from_options(
        name="adyen",
        capabilities=None,
        options={**OPTIONS, "recurring_processing_model": "Subscription"},
        transport=peer,
    )
    peer.answer(200, authorised())
    await built.pay(charge(), idempotency_key=KEY)
    assert peer.last_json["recurringProcessingModel"] == "Subscription"
    assert peer.last_json["shopperInteraction"] == "ContAuth"


async def test_charge_return_url_overrides_the_default(
    adapter: AdyenAdapter, peer: ScriptedProvider
) -> None:
    """The charge's own return URL is where the shopper comes back to."""
    peer.answer(200, authorised())
    await adapter.pay(charge(return_url="https://shop.example/o/1"), idempotency_key=KEY)
    assert peer.last_json["returnUrl"] == "https://shop.example/o/1"


async def test_authorise_only_requests_manual_capture(
    adapter: AdyenAdapter, peer: ScriptedProvider
) -> None:
    """capture=False asks Adyen for manual capture instead of an immediate one."""
    peer.answer(200, authorised())
    await adapter.pay(charge(capture=False), idempotency_key=KEY)
    assert peer.last_json["additionalData"] == {"manualCapture": "true"}
    assert "captureDelayHours" not in peer.last_json


@pytest.mark.parametrize(("wallet", "row"), sorted(WALLETS.items()))
async def test_each_wallet_is_sent_as_its_adyen_type(
    adapter: AdyenAdapter, peer: ScriptedProvider, wallet: str, row: Any
) -> None:
    """Every wallet row becomes its Adyen payment method, with the token where one is needed."""
    peer.answer(200, {"resultCode": "RedirectShopper", "action": {"url": "https://x"}})
    source = WalletSource(wallet=wallet, account=SecretStr(APPLE_TOKEN))
    await adapter.pay(charge(source), idempotency_key=KEY)
    method = peer.last_json["paymentMethod"]
    assert method["type"] == row.type
    assert {k: v for k, v in method.items() if k in row.extra} == dict(row.extra)
    if row.account_field:
        assert method[row.account_field] == APPLE_TOKEN
    else:
        assert APPLE_TOKEN not in json.dumps(method)


async def test_token_wallet_without_token_is_refused_before_sending(
    adapter: AdyenAdapter, peer: ScriptedProvider
) -> None:
    """Apple Pay without its payment token cannot be charged: invalid request, nothing sent."""
    reply = await adapter.pay(charge(WalletSource(wallet="applepay")), idempotency_key=KEY)
    assert reply.failure_kind is FailureKind.INVALID_REQUEST
    assert reply.provider_code == "wallet_token_required"
    assert peer.requests == []


async def test_unmapped_wallet_is_refused_before_sending(
    adapter: AdyenAdapter, peer: ScriptedProvider
) -> None:
    """A wallet with no Adyen mapping is an invalid request, not a guess."""
    reply = await adapter.pay(charge(WalletSource(wallet="bitcoin")), idempotency_key=KEY)
    assert reply.failure_kind is FailureKind.INVALID_REQUEST
    assert reply.provider_code == "wallet_unsupported"
    assert peer.requests == []


async def test_bank_transfer_is_a_sepa_direct_debit_of_the_iban(
    adapter: AdyenAdapter, peer: ScriptedProvider
) -> None:
    """A bank transfer debits the IBAN by SEPA direct debit in the holder's name."""
    peer.answer(200, {"resultCode": "Received", "pspReference": "PSP2"})
    source = BankTransferSource(iban=SecretStr(IBAN), holder_name="A. Shopper")
    reply = await adapter.pay(charge(source), idempotency_key=KEY)
    assert peer.last_json["paymentMethod"] == {
        "type": "sepadirectdebit",
        "iban": IBAN,
        "ownerName": "A. Shopper",
    }
    assert reply == ProviderReply.pending("PSP2", provider_code="Received", http_status=200)


async def test_sepa_without_holder_is_refused_before_sending(
    adapter: AdyenAdapter, peer: ScriptedProvider
) -> None:
    """Adyen requires ownerName for SEPA; without it nothing is sent."""
    reply = await adapter.pay(charge(BankTransferSource(iban=SecretStr(IBAN))), idempotency_key=KEY)
    assert reply.provider_code == "owner_name_required"
    assert peer.requests == []


async def test_stored_card_without_customer_is_refused_before_sending(
    adapter: AdyenAdapter, peer: ScriptedProvider
) -> None:
    """A storedPaymentMethodId belongs to a shopperReference; without one nothing is sent."""
    reply = await adapter.pay(charge(customer_id=None), idempotency_key=KEY)
    assert reply.failure_kind is FailureKind.INVALID_REQUEST
    assert reply.provider_code == "shopper_reference_required"
    assert peer.requests == []


async def test_overlong_card_token_is_refused_before_sending(
    adapter: AdyenAdapter, peer: ScriptedProvider
) -> None:
    """storedPaymentMethodId holds at most 64 characters."""
    reply = await adapter.pay(charge(CardSource(token=SecretStr("t" * 65))), idempotency_key=KEY)
    assert reply.provider_code == "token_too_long"
    assert peer.requests == []


TOKEN_PAN = "4895370012003478"  # a Luhn-valid token PAN (Visa Token Service test range)
CRYPTOGRAM = "AgAAAAAABk4DWZ4C28yUQAAAAAA="
FIRST_PAYMENT_ID = "583131161310021"


def network_card(*, cryptogram: bool = True, transaction_id: bool = False) -> CardSource:
    return CardSource(
        network_token=NetworkToken(
            number=SecretStr(TOKEN_PAN),
            expiry_month=3,
            expiry_year=2030,
            cryptogram=SecretStr(CRYPTOGRAM) if cryptogram else None,
            eci="05" if cryptogram else None,
            network_transaction_id=FIRST_PAYMENT_ID if transaction_id else None,
        )
    )


def test_adyen_declares_network_tokens() -> None:
    """Checkout v72 takes a network token (paymentMethod.type networkToken), so it is eligible."""
    assert AdyenAdapter.default_capabilities.credentials.network_tokens is True


async def test_customer_initiated_network_token_sends_token_pan_and_cryptogram(
    adapter: AdyenAdapter, peer: ScriptedProvider
) -> None:
    """A CIT network token is a networkToken payment method, its TAVV and ECI in mpiData."""
    peer.answer(200, authorised())
    await adapter.pay(charge(network_card(), customer_id=None), idempotency_key=KEY)
    sent = peer.last_json
    assert sent["paymentMethod"] == {
        "type": "networkToken",
        "number": TOKEN_PAN,
        "expiryMonth": "03",
        "expiryYear": "2030",
    }
    assert sent["mpiData"] == {
        "directoryResponse": "Y",
        "authenticationResponse": "Y",
        "tokenAuthenticationVerificationValue": CRYPTOGRAM,
        "eci": "05",
    }
    assert sent["shopperInteraction"] == "Ecommerce"
    assert sent["recurringProcessingModel"] == "CardOnFile"
    assert "authenticationData" not in sent  # the token's cryptogram is the authentication
    assert "shopperReference" not in sent  # no stored Adyen token, so no shopper needed


async def test_merchant_initiated_network_token_sends_the_first_payments_reference(
    adapter: AdyenAdapter, peer: ScriptedProvider
) -> None:
    """An MIT network token carries networkPaymentReference, ContAuth and no mpiData."""
    peer.answer(200, authorised())
    source = network_card(cryptogram=False, transaction_id=True)
    await adapter.pay(charge(source, off_session=True), idempotency_key=KEY)
    sent = peer.last_json
    assert sent["paymentMethod"] == {
        "type": "networkToken",
        "number": TOKEN_PAN,
        "expiryMonth": "03",
        "expiryYear": "2030",
        "networkPaymentReference": FIRST_PAYMENT_ID,
    }
    assert "mpiData" not in sent
    assert sent["shopperInteraction"] == "ContAuth"
    assert sent["recurringProcessingModel"] == "UnscheduledCardOnFile"


async def test_off_session_token_with_both_uses_the_transaction_id(
    adapter: AdyenAdapter, peer: ScriptedProvider
) -> None:
    """Off session the shopper is absent, so the first payment's id is sent, not a cryptogram."""
    peer.answer(200, authorised())
    source = network_card(cryptogram=True, transaction_id=True)
    await adapter.pay(charge(source, off_session=True), idempotency_key=KEY)
    assert peer.last_json["paymentMethod"]["networkPaymentReference"] == FIRST_PAYMENT_ID
    assert "mpiData" not in peer.last_json


async def test_network_token_never_appears_in_the_reply(
    adapter: AdyenAdapter, peer: ScriptedProvider
) -> None:
    """The token PAN and cryptogram go to Adyen only, never into a reply or message."""
    peer.answer(422, {"status": 422, "errorCode": "101", "message": "Invalid card number"})
    reply = await adapter.pay(charge(network_card()), idempotency_key=KEY)
    assert TOKEN_PAN not in repr(reply)
    assert CRYPTOGRAM not in repr(reply)


NUMBER_ALIAS = "tok_sandbox_bhtsCwFUzoJMw9rWUfEV5e"
CVC_ALIAS = "tok_sandbox_3Jm6ZrP5f2Wq8N1aXc4Hk7"


async def test_vault_card_sends_the_aliases_in_adyens_raw_card_fields(
    adapter: AdyenAdapter, peer: ScriptedProvider
) -> None:
    """A vault-held card is a scheme payment whose number and CVC are the vault's aliases,
    for its proxy to swap; no stored card, so no shopper reference needed."""
    peer.answer(200, authorised())
    card = VaultCard(
        vault="vgs",
        number=SecretStr(NUMBER_ALIAS),
        expiry_month=3,
        expiry_year=2030,
        cvc=SecretStr(CVC_ALIAS),
    )
    await adapter.pay(charge(CardSource(vault_card=card), customer_id=None), idempotency_key=KEY)
    sent = peer.last_json
    assert sent["paymentMethod"] == {
        "type": "scheme",
        "number": NUMBER_ALIAS,
        "expiryMonth": "03",
        "expiryYear": "2030",
        "cvc": CVC_ALIAS,
    }
    assert sent["shopperInteraction"] == "Ecommerce"
    assert "shopperReference" not in sent


async def test_long_reference_is_shortened_deterministically(
    adapter: AdyenAdapter, peer: ScriptedProvider
) -> None:
    """References over Adyen's 80 characters are cut with a hash suffix, the same every time."""
    long_reference = "r" * 120
    peer.answer(200, authorised())
    peer.answer(200, authorised())
    await adapter.pay(charge(reference=long_reference), idempotency_key=KEY)
    first = peer.last_json["reference"]
    await adapter.pay(charge(reference=long_reference), idempotency_key=KEY)
    assert len(first) == 80
    assert first == peer.last_json["reference"] == fit(long_reference)
    assert fit("r" * 119) != first


@pytest.mark.parametrize(
    ("money", "value"),
    [
        (Money(minor_units=1050, currency="EUR"), 1050),
        (Money(minor_units=500, currency="JPY"), 500),
        (Money(minor_units=1500, currency="KWD"), 1500),
        (Money(minor_units=10, currency="ISK"), 1000),  # Adyen counts ISK in 2 decimals
        (Money(minor_units=10, currency="CLP"), 1000),
        (Money(minor_units=1000, currency="IDR"), 10),  # and IDR, CVE in whole units
        (Money(minor_units=1000, currency="CVE"), 10),
    ],
)
async def test_amount_is_sent_in_adyen_minor_units(
    adapter: AdyenAdapter, peer: ScriptedProvider, money: Money, value: int
) -> None:
    """Adyen's minor units follow ISO 4217 except CLP, CVE, IDR and ISK."""
    peer.answer(200, authorised())
    await adapter.pay(charge(amount=money), idempotency_key=KEY)
    assert peer.last_json["amount"] == {"value": value, "currency": money.currency}


async def test_amount_adyen_cannot_represent_is_refused(
    adapter: AdyenAdapter, peer: ScriptedProvider
) -> None:
    """10.50 IDR has no Adyen value (whole rupiah only): refused, never rounded."""
    reply = await adapter.pay(
        charge(amount=Money(minor_units=1050, currency="IDR")), idempotency_key=KEY
    )
    assert reply.provider_code == "amount_not_representable"
    assert peer.requests == []


# --- resultCode ---------------------------------------------------------------------------


@pytest.mark.parametrize(("code", "row"), sorted(RESULT_CODES.items()))
async def test_each_result_code_maps_to_its_outcome(
    adapter: AdyenAdapter, peer: ScriptedProvider, code: str, row: Any
) -> None:
    """Every resultCode row yields the outcome the table names (a partial one says how much)."""
    amount = {"value": 500, "currency": "EUR"}
    body = {"resultCode": code, "pspReference": "PSP1", "action": {"url": "https://a"}}
    peer.answer(200, body | {"amount": amount} if code == "PartiallyAuthorised" else body)
    reply = await adapter.pay(charge(), idempotency_key=KEY)
    assert reply.outcome is row.outcome
    if row.default_kind is not None:
        assert reply.failure_kind is row.default_kind


async def test_authorised_is_succeeded_with_psp_reference(
    adapter: AdyenAdapter, peer: ScriptedProvider
) -> None:
    """Authorised: the payment is taken, identified by Adyen's pspReference."""
    peer.answer(200, authorised("993617895204576J"))
    reply = await adapter.pay(charge(), idempotency_key=KEY)
    assert reply == ProviderReply.succeeded(
        "993617895204576J", provider_code="Authorised", http_status=200
    )


async def test_redirect_shopper_requires_action_with_the_url(
    adapter: AdyenAdapter, peer: ScriptedProvider
) -> None:
    """RedirectShopper sends the customer to action.url; it is never a failure."""
    peer.answer(
        200,
        {
            "resultCode": "RedirectShopper",
            "pspReference": "PSP3",
            "action": {"type": "redirect", "method": "GET", "url": "https://adyen.test/3ds"},
        },
    )
    reply = await adapter.pay(charge(), idempotency_key=KEY)
    assert reply.outcome is Outcome.REQUIRES_ACTION
    assert reply.action_url == "https://adyen.test/3ds"
    assert reply.provider_reference == "PSP3"


async def test_native_action_without_url_still_requires_action(
    adapter: AdyenAdapter, peer: ScriptedProvider
) -> None:
    """A 3-D Secure fingerprint action has no URL and no pspReference yet: still an action."""
    peer.answer(200, {"resultCode": "IdentifyShopper", "action": {"type": "threeDS2"}})
    reply = await adapter.pay(charge(), idempotency_key=KEY)
    assert reply.outcome is Outcome.REQUIRES_ACTION
    assert reply.action_url is None
    assert reply.provider_reference is None


async def test_authorised_without_psp_reference_is_unknown(
    adapter: AdyenAdapter, peer: ScriptedProvider
) -> None:
    """A success we cannot reference is not trusted: unknown, looked at before anything else."""
    peer.answer(200, {"resultCode": "Authorised"})
    reply = await adapter.pay(charge(), idempotency_key=KEY)
    assert reply.outcome is Outcome.UNKNOWN


async def test_unmapped_result_code_is_unknown_and_warned_once(
    adapter: AdyenAdapter, peer: ScriptedProvider, caplog: pytest.LogCaptureFixture
) -> None:
    """A resultCode outside the table may hide moved money: unknown, logged once."""
    caplog.set_level(logging.WARNING, logger="payrouter.adapters")
    for _ in range(2):
        peer.answer(200, {"resultCode": "AuthenticationFinished", "pspReference": "P"})
        reply = await adapter.pay(charge(), idempotency_key=KEY)
        assert reply.outcome is Outcome.UNKNOWN
    logged = [r for r in caplog.records if getattr(r, "provider_code", "").endswith("Finished")]
    assert len(logged) == 1


async def test_unreadable_2xx_body_is_unknown(
    adapter: AdyenAdapter, peer: ScriptedProvider
) -> None:
    """A 200 we cannot parse may be a taken payment: unknown."""
    peer.respond(httpx.Response(200, content=b"<html>oops</html>"))
    reply = await adapter.pay(charge(), idempotency_key=KEY)
    assert reply.outcome is Outcome.UNKNOWN
    assert reply.provider_code == "unreadable_body"


# --- refusals -----------------------------------------------------------------------------


@pytest.mark.parametrize(("code", "kind"), sorted(REFUSALS.items()))
async def test_each_refusal_code_maps_to_its_kind(
    adapter: AdyenAdapter, peer: ScriptedProvider, code: str, kind: FailureKind
) -> None:
    """Every refusalReasonCode row yields the failure kind the table names."""
    peer.answer(200, {"resultCode": "Refused", "pspReference": "P", "refusalReasonCode": code})
    reply = await adapter.pay(charge(), idempotency_key=KEY)
    assert reply.outcome is Outcome.FAILED
    assert reply.failure_kind is kind
    assert reply.provider_code == code


@pytest.mark.parametrize(("reason", "code"), sorted(REFUSAL_CODE_BY_REASON.items()))
async def test_refusal_reason_text_alone_maps_like_its_code(
    adapter: AdyenAdapter, peer: ScriptedProvider, reason: str, code: str
) -> None:
    """A reply with only refusalReason text is classified as its numeric code would be."""
    peer.answer(200, {"resultCode": "Refused", "refusalReason": reason.upper()})
    reply = await adapter.pay(charge(), idempotency_key=KEY)
    assert reply.failure_kind is REFUSALS[code]


@pytest.mark.parametrize(
    ("reason", "kind"),
    [
        ("Not enough balance", FailureKind.INSUFFICIENT_FUNDS),
        ("Blocked Card", FailureKind.ACCOUNT_LOCKED),
        ("Expired Card", FailureKind.CARD_DECLINED),
        ("CVC Declined", FailureKind.CARD_DECLINED),
        ("FRAUD", FailureKind.SUSPECTED_FRAUD),
        ("Issuer Unavailable", FailureKind.CARD_DECLINED),
        ("Acquirer Error", FailureKind.PROVIDER_DOWN),
        ("Restricted Card", FailureKind.REGION_RESTRICTED),
        ("Withdrawal count exceeded", FailureKind.CARD_DECLINED),
        ("Shopper Cancelled", FailureKind.AUTHENTICATION_FAILED),
        ("3D Not Authenticated", FailureKind.AUTHENTICATION_FAILED),
    ],
)
async def test_key_refusals(
    adapter: AdyenAdapter, peer: ScriptedProvider, reason: str, kind: FailureKind
) -> None:
    """The refusals merchants meet most map to the kinds the checkout explains."""
    code = REFUSAL_CODE_BY_REASON[reason.lower()]
    peer.answer(
        200,
        {
            "resultCode": "Refused",
            "pspReference": "P",
            "refusalReason": reason,
            "refusalReasonCode": code,
        },
    )
    reply = await adapter.pay(charge(), idempotency_key=KEY)
    assert reply.failure_kind is kind
    assert reply.message == reason


async def test_unmapped_refusal_is_a_card_decline_warned_once(
    adapter: AdyenAdapter, peer: ScriptedProvider, caplog: pytest.LogCaptureFixture
) -> None:
    """A refusal code outside the table is still a definite decline, and logged once."""
    caplog.set_level(logging.WARNING, logger="payrouter.adapters")
    for _ in range(2):
        peer.answer(200, {"resultCode": "Refused", "refusalReasonCode": "9901"})
        reply = await adapter.pay(charge(), idempotency_key=KEY)
        assert reply.failure_kind is FailureKind.CARD_DECLINED
    logged = [r for r in caplog.records if getattr(r, "provider_code", "") == "refusal:9901"]
    assert len(logged) == 1


async def test_error_result_with_unmapped_reason_is_provider_down(
    adapter: AdyenAdapter, peer: ScriptedProvider
) -> None:
    """resultCode Error is final but not the shopper's fault: another provider may succeed."""
    peer.answer(200, {"resultCode": "Error", "refusalReason": "Something odd"})
    reply = await adapter.pay(charge(), idempotency_key=KEY)
    assert reply.failure_kind is FailureKind.PROVIDER_DOWN


async def test_cancelled_without_reason_is_failed_authentication(
    adapter: AdyenAdapter, peer: ScriptedProvider, caplog: pytest.LogCaptureFixture
) -> None:
    """Cancelled means the shopper abandoned the approval; no reason, nothing to warn about."""
    caplog.set_level(logging.WARNING, logger="payrouter.adapters")
    peer.answer(200, {"resultCode": "Cancelled", "pspReference": "P"})
    reply = await adapter.pay(charge(), idempotency_key=KEY)
    assert reply.failure_kind is FailureKind.AUTHENTICATION_FAILED
    assert caplog.records == []


# --- HTTP errors --------------------------------------------------------------------------


def service_error(status: int, code: str, error_type: str = "validation") -> dict[str, object]:
    return {"status": status, "errorCode": code, "message": "m", "errorType": error_type}


@pytest.mark.parametrize(("status", "kind"), sorted(HTTP_STATUSES.items()))
async def test_each_http_status_row_maps_to_its_kind(
    adapter: AdyenAdapter, peer: ScriptedProvider, status: int, kind: FailureKind
) -> None:
    """Every HTTP status row wins over the body's code."""
    peer.answer(status, service_error(status, "905"))
    reply = await adapter.pay(charge(), idempotency_key=KEY)
    assert reply.failure_kind is kind
    assert reply.http_status == status


@pytest.mark.parametrize(("code", "kind"), sorted(PAYMENT_ERROR_CODES.items()))
async def test_each_error_code_maps_to_its_kind(
    adapter: AdyenAdapter, peer: ScriptedProvider, code: str, kind: FailureKind
) -> None:
    """Every errorCode row of a payment yields the kind the table names."""
    peer.answer(422, service_error(422, code))
    reply = await adapter.pay(charge(), idempotency_key=KEY)
    assert reply.failure_kind is kind
    assert reply.provider_code == code


@pytest.mark.parametrize(("code", "kind"), sorted(ERROR_CODES.items()))
async def test_each_error_code_of_a_deletion_maps_to_its_kind(
    adapter: AdyenAdapter, peer: ScriptedProvider, code: str, kind: FailureKind
) -> None:
    """Outside a payment the shared rows apply: 800 on a deletion is a stored method gone."""
    peer.answer(422, service_error(422, code))
    reply = await adapter.cancel_mandate("shopper-1:8415718415172200", idempotency_key=KEY)
    assert reply.failure_kind is kind


async def test_a_stored_card_adyen_does_not_have_is_a_refused_payment(
    adapter: AdyenAdapter, peer: ScriptedProvider
) -> None:
    """800 "Contract not found" on /payments: another provider's token or another shopper's
    id, refused before any payment: INVALID_REQUEST, so the router moves on."""
    peer.answer(422, service_error(422, "800"))
    reply = await adapter.pay(charge(), idempotency_key=KEY)
    assert (reply.outcome, reply.failure_kind) == (Outcome.FAILED, FailureKind.INVALID_REQUEST)


@pytest.mark.parametrize("status", [401, 403])
async def test_rejected_api_key_is_credentials_not_the_customer(
    adapter: AdyenAdapter, peer: ScriptedProvider, status: int
) -> None:
    """401/403 are our configuration fault, never a decline."""
    peer.answer(status, service_error(status, "000", "security"))
    reply = await adapter.pay(charge(), idempotency_key=KEY)
    assert reply.outcome is Outcome.FAILED
    assert reply.failure_kind is FailureKind.CREDENTIALS_REJECTED


async def test_429_is_rate_limited_with_retry_after(
    adapter: AdyenAdapter, peer: ScriptedProvider
) -> None:
    """429 is throttling; Retry-After tells the router how long to wait."""
    peer.answer(429, service_error(429, "000"), **{"Retry-After": "7"})
    reply = await adapter.pay(charge(), idempotency_key=KEY)
    assert reply.failure_kind is FailureKind.RATE_LIMITED
    assert reply.retry_after == 7.0


async def test_503_before_processing_is_busy_not_unknown(
    adapter: AdyenAdapter, peer: ScriptedProvider
) -> None:
    """A 503 from Adyen's edge never reached processing: busy, retryable, with Retry-After."""
    peer.respond(httpx.Response(503, content=b"", headers={"Retry-After": "2"}))
    reply = await adapter.pay(charge(), idempotency_key=KEY)
    assert reply.outcome is Outcome.FAILED
    assert reply.failure_kind is FailureKind.BUSY
    assert reply.retry_after == 2.0


@pytest.mark.parametrize("status", [500, 502, 504])
async def test_5xx_after_submission_is_unknown(
    adapter: AdyenAdapter, peer: ScriptedProvider, status: int
) -> None:
    """500/502/504 without a rejecting errorCode may follow processing: unknown."""
    peer.respond(httpx.Response(status, content=b"upstream"))
    reply = await adapter.pay(charge(), idempotency_key=KEY)
    assert reply.outcome is Outcome.UNKNOWN
    assert reply.http_status == status


async def test_500_internal_error_is_unknown(adapter: AdyenAdapter, peer: ScriptedProvider) -> None:
    """Adyen's internal error code on a 500 means it may have processed the payment."""
    peer.answer(500, service_error(500, "00_500", "internal"))
    reply = await adapter.pay(charge(), idempotency_key=KEY)
    assert reply.outcome is Outcome.UNKNOWN


async def test_500_with_configuration_error_is_not_processed(
    adapter: AdyenAdapter, peer: ScriptedProvider
) -> None:
    """905 "Payment details are not supported" on a 500 proves a rejection: invalid request."""
    peer.answer(500, service_error(500, "905", "configuration"))
    reply = await adapter.pay(charge(), idempotency_key=KEY)
    assert reply.outcome is Outcome.FAILED
    assert reply.failure_kind is FailureKind.INVALID_REQUEST


@pytest.mark.parametrize("status", [409, 422])
async def test_key_in_use_by_a_concurrent_request_is_unknown(
    adapter: AdyenAdapter, peer: ScriptedProvider, status: int
) -> None:
    """704 "request already processed or in progress": a duplicate is in flight, unknown."""
    peer.answer(status, service_error(status, "704"), **{"transient-error": "true"})
    reply = await adapter.pay(charge(), idempotency_key=KEY)
    assert reply.outcome is Outcome.UNKNOWN
    assert reply.failure_kind is FailureKind.UNKNOWN_OUTCOME


async def test_unmapped_4xx_code_is_invalid_request_warned_once(
    adapter: AdyenAdapter, peer: ScriptedProvider, caplog: pytest.LogCaptureFixture
) -> None:
    """An unknown validation code is a definite refusal of our request, logged once."""
    caplog.set_level(logging.WARNING, logger="payrouter.adapters")
    for _ in range(2):
        peer.answer(422, service_error(422, "14_999"))
        reply = await adapter.pay(charge(), idempotency_key=KEY)
        assert reply.failure_kind is FailureKind.INVALID_REQUEST
    logged = [r for r in caplog.records if getattr(r, "provider_code", "") == "14_999"]
    assert len(logged) == 1


async def test_unmapped_5xx_code_is_unknown(adapter: AdyenAdapter, peer: ScriptedProvider) -> None:
    """An unknown code on a 5xx may hide a processed payment: unknown."""
    peer.answer(500, service_error(500, "999_new", "internal"))
    reply = await adapter.pay(charge(), idempotency_key=KEY)
    assert reply.outcome is Outcome.UNKNOWN
    assert reply.provider_code == "999_new"


# --- follow-ups -----------------------------------------------------------------------------


def received(psp: str = "MOD0000000000001") -> dict[str, object]:
    return {
        "merchantAccount": "PayrouterECOM",
        "paymentPspReference": "PSP0000000000001",
        "pspReference": psp,
        "status": "received",
    }


async def test_capture_posts_amount_to_the_payment(
    adapter: AdyenAdapter, peer: ScriptedProvider
) -> None:
    """Capture goes to /payments/{psp}/captures with the amount; pending until the webhook."""
    peer.answer(201, received())
    reply = await adapter.capture(
        HANDLE, Money(minor_units=500, currency="EUR"), idempotency_key="cap-1"
    )
    assert peer.last.url == f"{BASE}/payments/PSP0000000000001/captures"
    assert peer.last.headers["Idempotency-Key"] == "cap-1"
    assert peer.last_json == {
        "merchantAccount": "PayrouterECOM",
        "reference": "cap-1",
        "amount": {"value": 500, "currency": "EUR"},
    }
    assert reply == ProviderReply.pending(
        "MOD0000000000001", provider_code="received", http_status=201
    )


@pytest.mark.parametrize(
    ("reason", "sent"),
    [*sorted(REFUND_REASONS.items()), ("changed my mind", "OTHER"), (None, None)],
)
async def test_refund_maps_the_reason(
    adapter: AdyenAdapter, peer: ScriptedProvider, reason: str | None, sent: str | None
) -> None:
    """Refund reasons map to Adyen's merchantRefundReason enum; none sends none."""
    peer.answer(201, received())
    reply = await adapter.refund(
        HANDLE, Money(minor_units=1050, currency="EUR"), idempotency_key="ref-1", reason=reason
    )
    assert peer.last.url == f"{BASE}/payments/PSP0000000000001/refunds"
    assert peer.last_json.get("merchantRefundReason") == sent
    assert reply.outcome is Outcome.PENDING


async def test_void_cancels_by_psp_reference(adapter: AdyenAdapter, peer: ScriptedProvider) -> None:
    """Void of a known payment is /payments/{psp}/cancels."""
    peer.answer(201, received())
    reply = await adapter.void(HANDLE, idempotency_key="void-1")
    assert peer.last.url == f"{BASE}/payments/PSP0000000000001/cancels"
    assert peer.last_json == {"merchantAccount": "PayrouterECOM", "reference": "void-1"}
    assert reply.outcome is Outcome.PENDING


async def test_void_without_psp_cancels_by_our_reference(
    adapter: AdyenAdapter, peer: ScriptedProvider
) -> None:
    """An authorisation whose reply was lost is released through /cancels by our reference."""
    peer.answer(201, {**received(), "paymentReference": "attempt-key-0001"})
    handle = PaymentHandle(
        reference="attempt-key-0001",
        order_id="order-1",
        method=PaymentMethod.CARD,
        amount=Money(minor_units=1050, currency="EUR"),
    )
    reply = await adapter.void(handle, idempotency_key="void-2")
    assert peer.last.url == f"{BASE}/cancels"
    assert peer.last.headers["Idempotency-Key"] == "void-2"
    assert peer.last_json == {
        "merchantAccount": "PayrouterECOM",
        "paymentReference": "attempt-key-0001",
        "reference": "void-2",
    }
    assert reply.outcome is Outcome.PENDING


@pytest.mark.parametrize("operation", ["capture", "refund"])
async def test_follow_up_without_psp_reference_is_not_found(
    adapter: AdyenAdapter, peer: ScriptedProvider, operation: str
) -> None:
    """Capture and refund need Adyen's pspReference; without it nothing is sent."""
    handle = PaymentHandle("r", "o", PaymentMethod.CARD, Money(minor_units=1, currency="EUR"))
    money = Money(minor_units=1, currency="EUR")
    if operation == "capture":
        reply = await adapter.capture(handle, money, idempotency_key="k")
    else:
        reply = await adapter.refund(handle, money, idempotency_key="k", reason=None)
    assert reply.failure_kind is FailureKind.NOT_FOUND
    assert peer.requests == []


async def test_modification_with_unexpected_body_is_unknown(
    adapter: AdyenAdapter, peer: ScriptedProvider
) -> None:
    """A 2xx modification reply without 'received' cannot be trusted either way: unknown."""
    peer.answer(201, {"status": "weird"})
    reply = await adapter.capture(HANDLE, Money(minor_units=1, currency="EUR"), idempotency_key="k")
    assert reply.outcome is Outcome.UNKNOWN


async def test_modification_error_is_classified_like_any_error(
    adapter: AdyenAdapter, peer: ScriptedProvider
) -> None:
    """A refused capture goes through the same error tables."""
    peer.answer(422, service_error(422, "167"))
    reply = await adapter.capture(HANDLE, Money(minor_units=1, currency="EUR"), idempotency_key="k")
    assert reply.failure_kind is FailureKind.INVALID_REQUEST


async def test_cancel_mandate_deletes_the_stored_method(
    adapter: AdyenAdapter, peer: ScriptedProvider
) -> None:
    """A mandate is '<shopperReference>:<storedPaymentMethodId>'; Adyen answers 204."""
    peer.answer(204)
    reply = await adapter.cancel_mandate("cust:42:8415995487234100", idempotency_key="mand-1")
    assert peer.last.method == "DELETE"
    assert peer.last.url.path == "/v72/storedPaymentMethods/8415995487234100"
    assert dict(peer.last.url.params) == {
        "shopperReference": "cust:42",
        "merchantAccount": "PayrouterECOM",
    }
    assert peer.last.headers["Idempotency-Key"] == "mand-1"
    assert reply == ProviderReply.succeeded("cust:42:8415995487234100", http_status=204)


async def test_cancel_mandate_of_unknown_method_is_not_found(
    adapter: AdyenAdapter, peer: ScriptedProvider
) -> None:
    """Adyen's 'Contract not found' means there is nothing to cancel."""
    peer.answer(422, service_error(422, "800"))
    reply = await adapter.cancel_mandate("cust-42:XYZ", idempotency_key="k")
    assert reply.failure_kind is FailureKind.NOT_FOUND


@pytest.mark.parametrize("mandate_id", ["no-separator", ":id-only", "shopper:"])
async def test_malformed_mandate_id_is_refused_before_sending(
    adapter: AdyenAdapter, peer: ScriptedProvider, mandate_id: str
) -> None:
    """Without both parts Adyen cannot find the stored method; nothing is sent."""
    reply = await adapter.cancel_mandate(mandate_id, idempotency_key="k")
    assert reply.provider_code == "mandate_id_format"
    assert peer.requests == []


async def test_complete_submits_redirect_details(
    adapter: AdyenAdapter, peer: ScriptedProvider
) -> None:
    """submit_details() posts the redirect result to /payments/details and maps the outcome."""
    peer.answer(200, authorised("V4HZ4RBFJGXXGN82"))
    reply = await adapter.submit_details(
        {"redirectResult": "X6XtfGC3!Y..."}, idempotency_key="det-1"
    )
    assert peer.last.url == f"{BASE}/payments/details"
    assert peer.last.headers["Idempotency-Key"] == "det-1"
    assert peer.last_json == {"details": {"redirectResult": "X6XtfGC3!Y..."}}
    assert reply.outcome is Outcome.SUCCEEDED


# --- lookup ---------------------------------------------------------------------------------


@pytest.mark.parametrize("psp", ["PSP0000000000001", None])
async def test_lookup_is_unknown_because_adyen_cannot_read_a_payment(
    adapter: AdyenAdapter, peer: ScriptedProvider, psp: str | None
) -> None:
    """Checkout v72 has no status read: lookup says so (never NOT_FOUND) and sends nothing."""
    handle = PaymentHandle("attempt-key-0001", "order-1", PaymentMethod.CARD, HANDLE.amount, psp)
    reply = await adapter.lookup(handle)
    assert reply.outcome is Outcome.UNKNOWN
    assert reply.provider_code == "lookup_unsupported"
    assert reply.provider_reference == psp
    assert peer.requests == []


# --- idempotency and transport errors -------------------------------------------------------


Call = Callable[[AdyenAdapter, str], Any]
MONEY_MOVING: dict[str, Call] = {
    "pay": lambda a, k: a.pay(charge(), idempotency_key=k),
    "submit_details": lambda a, k: a.submit_details({"redirectResult": "r"}, idempotency_key=k),
    "capture": lambda a, k: a.capture(HANDLE, HANDLE.amount, idempotency_key=k),
    "refund": lambda a, k: a.refund(HANDLE, HANDLE.amount, idempotency_key=k, reason=None),
    "void": lambda a, k: a.void(HANDLE, idempotency_key=k),
    "void_by_reference": lambda a, k: a.void(
        PaymentHandle("attempt-key-0001", "o", PaymentMethod.CARD, HANDLE.amount), idempotency_key=k
    ),
    "cancel_mandate": lambda a, k: a.cancel_mandate("cust-42:SPM1", idempotency_key=k),
}


@pytest.mark.parametrize("operation", sorted(MONEY_MOVING))
async def test_every_money_moving_call_sends_the_routers_key(
    adapter: AdyenAdapter, peer: ScriptedProvider, operation: str
) -> None:
    """The router's key goes out as Idempotency-Key unchanged; the adapter never mints one."""
    key = "k" * 64
    peer.answer(201, received())
    await MONEY_MOVING[operation](adapter, key)
    assert len(peer.requests) == 1
    assert peer.last.headers["Idempotency-Key"] == key


@pytest.mark.parametrize("operation", ["pay", "void_by_reference"])
async def test_our_reference_is_sent_where_adyen_keeps_it(
    adapter: AdyenAdapter, peer: ScriptedProvider, operation: str
) -> None:
    """The attempt reference is the payment's reference, and /cancels finds it by that value."""
    peer.answer(200, {**received(), **authorised()})
    await MONEY_MOVING[operation](adapter, KEY)
    body = peer.last_json
    assert body.get("reference", body.get("paymentReference")) == "attempt-key-0001"
    if operation == "void_by_reference":
        assert body["paymentReference"] == "attempt-key-0001"


@pytest.mark.parametrize(
    "error",
    [
        httpx.ConnectTimeout("connect timed out"),
        httpx.ConnectError("refused"),
        httpx.ReadTimeout("read timed out"),
        httpx.RemoteProtocolError("reset"),
    ],
    ids=["connect-timeout", "connect-error", "read-timeout", "reset"],
)
@pytest.mark.parametrize("operation", sorted(MONEY_MOVING))
async def test_transport_errors_propagate_for_the_router_to_map(
    adapter: AdyenAdapter, peer: ScriptedProvider, operation: str, error: httpx.TransportError
) -> None:
    """Connect and read failures are raised unchanged: the router alone decides their outcome."""
    peer.fail(error)
    with pytest.raises(type(error)):
        await MONEY_MOVING[operation](adapter, KEY)


def test_adyen_does_not_pretend_to_complete_approved_payments_from_a_handle() -> None:
    """The router calls `complete(handle)` on CompletesApproval adapters after a customer
    returns; Adyen needs the return URL's details instead, so it must not match."""
    assert not hasattr(AdyenAdapter, "complete")


def test_an_off_session_charge_is_merchant_initiated() -> None:
    """A charge against a saved card without the shopper: ContAuth, never CardOnFile."""
    charge = Charge(
        reference="r-1",
        order_id="sub-1",
        amount=Money(minor_units=999, currency="EUR"),
        source=CardSource(token=SecretStr("stored_card_1")),
        customer_country="DE",
        customer_id="shopper-1",
        off_session=True,
    )
    body = payment_body(
        charge,
        merchant_account="ShopECOM",
        default_return_url="https://shop.example/return",
        recurring_model="CardOnFile",
    )
    assert (body["shopperInteraction"], body["recurringProcessingModel"]) == (
        "ContAuth",
        "UnscheduledCardOnFile",
    )
