"""PaymentRequest and its sources: validated at the edge, frozen, strict, secrets kept secret."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import SecretStr, ValidationError

from payrouter import (
    BankTransferSource,
    CardSource,
    Mandate,
    Money,
    PaymentMethod,
    PaymentRequest,
    WalletSource,
)
from payrouter._sensitive import card_data_problem
from payrouter._sources import source_identity

_VISA = "4242424242424242"
_VALID_IBAN = "DE89370400440532013000"


def _request(**changes: Any) -> PaymentRequest:
    fields: dict[str, Any] = {
        "order_id": "order-1",
        "amount": Money.of("10.00", "EUR"),
        "sources": [CardSource(token=SecretStr("pm_card_visa"))],
        "customer_country": "DE",
        "customer_id": "cus_1",
    }
    fields.update(changes)
    return PaymentRequest(**fields)


def _error_fields(error: ValidationError) -> set[str]:
    return {".".join(str(part) for part in issue["loc"]) for issue in error.errors()}


# -- order id, sources, country, metadata --------------------------------------------------


@pytest.mark.parametrize("order_id", ["a", "order-17", "shop:2024/07#17", "A.b_c@d+e=f", "x" * 200])
def test_order_id_accepts_the_documented_characters_up_to_200(order_id: str) -> None:
    """Order ids are 1-200 characters of letters, digits and . _ : / @ # + = -."""
    assert _request(order_id=order_id).order_id == order_id


@pytest.mark.parametrize("order_id", ["", "x" * 201, "order 1", "order\n1", "ordér", "o;1"])
def test_order_id_outside_the_pattern_or_length_is_refused(order_id: str) -> None:
    """A bad order id is refused before any provider or ledger sees it."""
    with pytest.raises(ValidationError) as caught:
        _request(order_id=order_id)
    assert _error_fields(caught.value) == {"order_id"}


def test_at_least_one_source_is_required() -> None:
    """A request without a payment source cannot be routed."""
    with pytest.raises(ValidationError) as caught:
        _request(sources=[])
    assert _error_fields(caught.value) == {"sources"}


def test_more_than_ten_sources_are_refused() -> None:
    """The customer offers at most ten sources."""
    with pytest.raises(ValidationError) as caught:
        _request(sources=[WalletSource(wallet=f"w{i}") for i in range(11)])
    assert _error_fields(caught.value) == {"sources"}


@pytest.mark.parametrize("country", ["de", "DEU", "D", "", "1A"])
def test_customer_country_must_be_iso_alpha_2(country: str) -> None:
    """The country is ISO 3166-1 alpha-2 in upper case."""
    with pytest.raises(ValidationError) as caught:
        _request(customer_country=country)
    assert _error_fields(caught.value) == {"customer_country"}


@pytest.mark.parametrize(
    "metadata",
    [
        {f"k{i}": "v" for i in range(21)},
        {"": "v"},
        {"k" * 41: "v"},
        {"k": "v" * 501},
    ],
    ids=["21-entries", "empty-key", "41-char-key", "501-char-value"],
)
def test_metadata_beyond_its_bounds_is_refused(metadata: dict[str, str]) -> None:
    """Metadata holds at most 20 entries, keys of 1-40 characters, values of at most 500."""
    with pytest.raises(ValidationError) as caught:
        _request(metadata=metadata)
    assert _error_fields(caught.value) == {"metadata"}


def test_metadata_at_its_bounds_is_accepted() -> None:
    """Exactly 20 entries with 40-character keys and 500-character values fit."""
    metadata = {f"{i:02d}".ljust(40, "k"): "v" * 500 for i in range(20)}
    assert _request(metadata=metadata).metadata == metadata


def test_request_is_frozen() -> None:
    """A request cannot change after validation (its fingerprint would lie)."""
    request = _request()
    with pytest.raises(ValidationError, match="frozen"):
        request.order_id = "other"


def test_unknown_fields_are_refused() -> None:
    """A misspelt field is an error, not silently ignored."""
    with pytest.raises(ValidationError) as caught:
        _request(ammount="10.00")
    assert _error_fields(caught.value) == {"ammount"}


@pytest.mark.parametrize(
    ("field", "value"),
    [("capture", "yes"), ("capture", 1), ("order_id", 17), ("customer_country", b"DE")],
)
def test_fields_are_strict_about_types(field: str, value: object) -> None:
    """No coercion: 'yes' is not True and 17 is not '17'."""
    with pytest.raises(ValidationError) as caught:
        _request(**{field: value})
    assert _error_fields(caught.value) == {field}


@pytest.mark.parametrize("url", ["ftp://shop.example/return", "shop.example", "https://a b"])
def test_return_url_must_be_http(url: str) -> None:
    """The return URL is an http(s) URL without spaces."""
    with pytest.raises(ValidationError) as caught:
        _request(return_url=url)
    assert _error_fields(caught.value) == {"return_url"}


# -- card tokens and card numbers ----------------------------------------------------------


@pytest.mark.parametrize(
    "number",
    [_VISA, "4242 4242 4242 4242", "4242-4242-4242-4242", "5555555555554444", "378282246310005"],
)
def test_raw_card_number_is_refused_as_a_token(number: str) -> None:
    """The router never sees a card number: a Luhn-valid network number is refused."""
    with pytest.raises(ValidationError, match="raw card number: pass the provider's card token"):
        CardSource(token=SecretStr(number))


@pytest.mark.parametrize(
    "token", ["pm_card_visa", "tok_123", "4242424242424241", "8123456789012345"]
)
def test_tokens_and_non_card_numbers_are_accepted(token: str) -> None:
    """Provider tokens, Luhn-invalid numbers and numbers outside card ranges pass."""
    assert CardSource(token=SecretStr(token)).token.get_secret_value() == token


def test_refused_card_number_is_not_echoed_in_the_error_text() -> None:
    """The error explains the refusal without repeating the card number in str or repr."""
    with pytest.raises(ValidationError) as caught:
        _request(sources=[{"method": "card", "token": _VISA}])
    assert _VISA not in str(caught.value)
    assert _VISA not in repr(caught.value)
    assert "raw card number" in str(caught.value)


def test_refused_card_number_is_not_in_the_serialized_errors() -> None:
    """errors() and json() (what web frameworks return and log) never carry the card number."""
    with pytest.raises(ValidationError) as caught:
        _request(sources=[{"method": "card", "token": _VISA}])
    assert _VISA not in caught.value.json()
    assert _VISA not in str(caught.value.errors())


# -- IBAN and secrets ----------------------------------------------------------------------


def test_iban_with_right_check_digits_is_accepted_and_compacted() -> None:
    """A valid IBAN passes mod 97 and is stored without spaces, in upper case."""
    source = BankTransferSource(iban=SecretStr("de89 3704 0044 0532 0130 00"))
    assert source.iban.get_secret_value() == _VALID_IBAN


def test_iban_with_wrong_check_digits_is_refused() -> None:
    """A one-digit typo fails mod 97 and the message says to check with the customer."""
    with pytest.raises(ValidationError, match="wrong IBAN check digits"):
        BankTransferSource(iban=SecretStr("DE88370400440532013000"))


@pytest.mark.parametrize("iban", ["not an iban", "DE89", "1234370400440532013000"])
def test_text_that_is_not_an_iban_is_refused(iban: str) -> None:
    """Anything without country code, check digits and BBAN is refused."""
    with pytest.raises(ValidationError, match="is not an IBAN"):
        BankTransferSource(iban=SecretStr(iban))


def test_secrets_never_appear_in_repr_or_str() -> None:
    """Tokens, wallet accounts and IBANs are SecretStr: repr and str of the request hide them."""
    request = _request(
        sources=[
            CardSource(token=SecretStr("pm_secret_token")),
            WalletSource(wallet="paypal", account=SecretStr("payer-secret")),
            BankTransferSource(iban=SecretStr(_VALID_IBAN)),
        ]
    )
    for text in (repr(request), str(request)):
        assert "pm_secret_token" not in text
        assert "payer-secret" not in text
        assert _VALID_IBAN not in text


# -- fingerprint and methods ---------------------------------------------------------------


def test_fingerprint_is_equal_for_equal_money_fields() -> None:
    """Two requests for the same money, customer and sources hash the same."""
    assert _request().fingerprint() == _request().fingerprint()


def test_fingerprint_ignores_fields_that_do_not_move_money() -> None:
    """Description, metadata and return URL are not money-relevant."""
    changed = _request(
        description="other", metadata={"a": "b"}, return_url="https://shop.example/r"
    )
    assert changed.fingerprint() == _request().fingerprint()


@pytest.mark.parametrize(
    "changes",
    [
        {"amount": Money.of("10.01", "EUR")},
        {"amount": Money.of("10.00", "USD")},
        {"customer_id": "cus_2"},
        {"customer_id": None},
        {"customer_country": "FR"},
        {"capture": False},
        {"sources": [CardSource(token=SecretStr("pm_card_mastercard"))]},
        {"sources": [WalletSource(wallet="paypal")]},
        {"sources": [CardSource(token=SecretStr("pm_card_visa")), WalletSource(wallet="paypal")]},
    ],
    ids=[
        "amount",
        "currency",
        "customer",
        "no-customer",
        "country",
        "capture",
        "card-token",
        "method",
        "extra-source",
    ],
)
def test_fingerprint_differs_when_a_money_field_differs(changes: dict[str, Any]) -> None:
    """Amount, currency, customer, capture and sources all enter the fingerprint."""
    assert _request(**changes).fingerprint() != _request().fingerprint()


def test_fingerprint_distinguishes_wallet_accounts_and_ibans() -> None:
    """Two wallet payers, or two bank accounts, are different sources."""

    def wallet(account: str) -> PaymentRequest:
        return _request(sources=[WalletSource(wallet="paypal", account=SecretStr(account))])

    assert wallet("payer-1").fingerprint() != wallet("payer-2").fingerprint()
    first = _request(sources=[BankTransferSource(iban=SecretStr(_VALID_IBAN))])
    second = _request(sources=[BankTransferSource(iban=SecretStr("GB82WEST12345698765432"))])
    assert first.fingerprint() != second.fingerprint()


def test_fingerprint_does_not_contain_the_secrets() -> None:
    """The fingerprint is a hash; the token itself never leaves the process."""
    fingerprint = _request(sources=[CardSource(token=SecretStr("pm_secret"))]).fingerprint()
    assert "pm_secret" not in fingerprint
    assert len(fingerprint) == 64


def test_methods_keep_the_customers_order_without_repeats() -> None:
    """methods lists each method once, in the order the customer offered the sources."""
    request = _request(
        sources=[
            WalletSource(wallet="paypal"),
            CardSource(token=SecretStr("pm_card_visa")),
            WalletSource(wallet="alipay"),
            BankTransferSource(iban=SecretStr(_VALID_IBAN)),
        ]
    )
    assert request.methods == (
        PaymentMethod.WALLET,
        PaymentMethod.CARD,
        PaymentMethod.BANK_TRANSFER,
    )


def _reference_fingerprint(request: PaymentRequest) -> str:
    """The fingerprint as first defined: sha256 of `json.dumps` of the money fields."""
    canonical: dict[str, object] = {
        "amount": request.amount.minor_units,
        "currency": request.amount.currency,
        "customer_id": request.customer_id,
        "customer_country": request.customer_country,
        "capture": request.capture,
        "sources": [source_identity(source) for source in request.sources],
    }
    if request.mandate is not None:
        canonical["mandate_provider"] = request.mandate.provider
    encoded = json.dumps(canonical, sort_keys=True, separators=(",", ":")).encode()
    return hashlib.sha256(encoded).hexdigest()


_TEXT = st.text(
    st.characters(codec="utf-8", exclude_categories=["Cs"]), min_size=1, max_size=30
).filter(lambda text: card_data_problem(text) is None)


@settings(max_examples=200, deadline=None, derandomize=True)
@given(
    minor=st.integers(min_value=1, max_value=10**12),
    capture=st.booleans(),
    customer_id=st.none() | _TEXT,
    tokens=st.lists(_TEXT, min_size=1, max_size=3),
    wallet=_TEXT,
)
def test_fingerprints_are_those_of_existing_ledgers(
    minor: int, capture: bool, customer_id: str | None, tokens: list[str], wallet: str
) -> None:
    """Quotes, backslashes, control and non-ASCII characters hash as they always did."""
    sources = [CardSource(token=SecretStr(token)) for token in tokens]
    request = _request(
        amount=Money(minor_units=minor, currency="JPY"),
        capture=capture,
        customer_id=customer_id,
        sources=[*sources, WalletSource(wallet=wallet, account=SecretStr(tokens[0]))],
    )
    assert request.fingerprint() == _reference_fingerprint(request)


@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"customer_id": None, "customer_country": "FR", "capture": False},
        {"sources": [BankTransferSource(iban=SecretStr(_VALID_IBAN))]},
        {
            "sources": [],
            "mandate": Mandate(provider="stripe", mandate_id="pm_1", method=PaymentMethod.CARD),
        },
        {
            "sources": [
                CardSource(
                    token=SecretStr("pm_card_visa"),
                    provider="stripe",
                    tokens={"adyen": SecretStr("8415"), "other": SecretStr('q"\\')},
                ),
                WalletSource(wallet="applepay", accounts={"adyen": SecretStr("tok-\u00e9")}),
            ]
        },
    ],
)
def test_every_kind_of_source_fingerprints_as_it_always_did(changes: dict[str, Any]) -> None:
    """Named tokens, wallets' accounts, bank accounts and mandates: the same hash as before."""
    request = _request(**changes)
    assert request.fingerprint() == _reference_fingerprint(request)
