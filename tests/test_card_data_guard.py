"""No card number or IBAN is ever forwarded in a field that reaches a provider."""

from __future__ import annotations

from typing import Any

import pytest
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
from payrouter._sensitive import contains_card_number, contains_iban

_VISA = "4111111111111111"
_IBAN = "DE89370400440532013000"

_DISGUISED_CARDS = [
    _VISA,
    "4111 1111 1111 1111",
    "4111.1111.1111.1111",
    "4111/1111/1111/1111",
    "4111-1111-1111-1111",
    "4111_1111_1111_1111",
    "4111 - 1111 - 1111 - 1111",
    "card_4111111111111111",
    "card4111111111111111",
    "pan:4111111111111111;",
    "".join(chr(0xFF10 + int(d)) for d in "5555555555554444"),  # full-width digits
    "378282246310005",  # Amex, 15 digits
    "3782 822463 10005",
    "6011111111111117",  # Discover
    "5555555555554444",
    "2223003122003222",  # Mastercard 2-series
    "3530111333300000",  # JCB
    "6759649826438453",  # Maestro
    "4111111111111111 0",  # a card followed by another number
    "cards 4111 1111 1111 1111, 5555 5555 5555 4444",
]
_NOT_CARDS = [
    "",
    "order 4711",
    "4111111111111112",  # fails Luhn
    "8123456789012345",  # Luhn-valid, outside every network's range
    "pi_3MtwBwLkdIwHu7ix28a3tqPa",
    "2026-11-05 14:30:00",
    "+49 30 1234 5678",
    "+1 (415) 555-2671",
    "invoice 2026-000123, 3 items",
    "12345678901234567890123",  # a long id, not 12-19 digits
]


@pytest.mark.parametrize("text", _DISGUISED_CARDS)
def test_card_numbers_are_found_whatever_the_separators(text: str) -> None:
    """Luhn-valid network numbers of 12-19 digits are found through any separator or prefix."""
    assert contains_card_number(text)


@pytest.mark.parametrize("text", _NOT_CARDS)
def test_ids_dates_phone_numbers_and_luhn_failures_are_not_cards(text: str) -> None:
    """Numbers that are not card numbers pass, so ordinary text is not refused."""
    assert not contains_card_number(text)


@pytest.mark.parametrize(
    "text",
    [
        _IBAN,
        "DE89 3704 0044 0532 0130 00",
        "iban: de89 3704 0044 0532 0130 00, thanks",
        "pay to GB82WEST12345698765432 today",
        "FR1420041010050500013M02606",
        "NL91-ABNA-0417-1643-00",
        "refIBANDE89370400440532013000",
    ],
)
def test_ibans_are_found_in_text(text: str) -> None:
    """An IBAN with valid mod-97 check digits and its country's length is found in text."""
    assert contains_iban(text)


@pytest.mark.parametrize(
    "text", ["DE88370400440532013000", "DE89 is the code", "ORDER12345678901234567", "hello"]
)
def test_text_without_a_valid_iban_passes(text: str) -> None:
    """Wrong check digits or no IBAN at all: not an IBAN."""
    assert not contains_iban(text)


def _request(**changes: Any) -> PaymentRequest:
    fields: dict[str, Any] = {
        "order_id": "order-1",
        "amount": Money.of("10.00", "EUR"),
        "sources": [CardSource(token=SecretStr("pm_card_visa"))],
        "customer_country": "DE",
    }
    fields.update(changes)
    return PaymentRequest(**fields)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"description": "Order for card 4111.1111.1111.1111"}, "description"),
        ({"description": f"refund to {_IBAN}"}, "description"),
        ({"metadata": {"note": "4111/1111/1111/1111"}}, "metadata"),
        ({"metadata": {"iban": "DE89 3704 0044 0532 0130 00"}}, "metadata"),
        ({"metadata": {_VISA: "x"}}, "metadata"),
        ({"customer_id": "cust-4111-1111-1111-1111"}, "customer_id"),
        ({"order_id": "card_4111111111111111"}, "order_id"),
        ({"return_url": f"https://shop.example/r?pan={_VISA}"}, "return_url"),
        ({"tags": frozenset({_VISA})}, "tags.0"),
        (
            {"sources": [{"method": "card", "token": "card_4111111111111111"}]},
            "sources.0.card.token",
        ),
        ({"sources": [{"method": "card", "token": "4111.1111.1111.1111"}]}, "sources.0.card.token"),
        (
            {"sources": [{"method": "wallet", "wallet": "paypal", "account": _VISA}]},
            "sources.0.wallet.account",
        ),
        (
            {"sources": [{"method": "wallet", "wallet": "paypal", "account": _IBAN}]},
            "sources.0.wallet.account",
        ),
        (
            {"sources": [{"method": "wallet", "wallet": f"w{_VISA}", "account": None}]},
            "sources.0.wallet.wallet",
        ),
        (
            {"sources": [{"method": "bank_transfer", "iban": _IBAN, "holder_name": _VISA}]},
            "sources.0.bank_transfer.holder_name",
        ),
        (
            {"sources": [{"method": "card", "token": "pm_1", "network": _VISA}]},
            "sources.0.card.network",
        ),
    ],
)
def test_card_data_in_any_field_that_reaches_a_provider_is_refused(
    changes: dict[str, Any], field: str
) -> None:
    """Every free-text field is checked; the error names the field and keeps the value out."""
    with pytest.raises(ValidationError) as caught:
        _request(**changes)
    fields = {".".join(str(part) for part in issue["loc"]) for issue in caught.value.errors()}
    assert fields == {field}
    text = str(caught.value) + caught.value.json()
    assert "card number" in text or "IBAN" in text
    assert _VISA not in text
    assert "4111.1111" not in text
    assert "3704" not in text


def test_the_message_names_the_metadata_key_and_the_fix() -> None:
    """A metadata value is named by its key; the message says where card data belongs."""
    with pytest.raises(ValidationError, match=r"metadata\['note'\].*card number.*CardSource"):
        _request(metadata={"note": "4111 1111 1111 1111"})


def test_an_iban_belongs_only_in_a_bank_transfer_source() -> None:
    """The IBAN field itself takes an IBAN; a mandate id that is a card number is refused."""
    assert BankTransferSource(iban=SecretStr(_IBAN)).iban.get_secret_value() == _IBAN
    with pytest.raises(ValidationError, match="card number"):
        Mandate(provider="stripe", mandate_id=_VISA, method=PaymentMethod.WALLET)


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"mandate_id": "card_4111.1111.1111.1111"}, "mandate_id"),
        ({"mandate_id": _IBAN}, "mandate_id"),
        ({"wallet": f"paypal-{_VISA}"}, "wallet"),
    ],
)
def test_a_mandate_holding_card_data_is_refused_wherever_it_is_sent(
    fields: dict[str, str], field: str
) -> None:
    """A mandate reaches its provider when charged and when cancelled (`cancel_mandate`), so
    the mandate itself refuses card data, naming the field and keeping the value out."""
    with pytest.raises(ValidationError) as caught:
        Mandate(
            **{"provider": "stripe", "mandate_id": "pm_1", **fields},  # type: ignore[arg-type]
            method=PaymentMethod.WALLET,
        )
    assert [issue["loc"] for issue in caught.value.errors()] == [(field,)]
    text = str(caught.value) + caught.value.json()
    assert "card number" in text or "IBAN" in text
    assert _VISA not in text
    assert "3704" not in text


def test_ordinary_text_and_ids_are_accepted() -> None:
    """Descriptions with dates, amounts and order numbers, and provider ids, pass."""
    request = _request(
        description="Order 2026-000123 of 2026-11-05 14:30, 3 items, 24.90 EUR",
        metadata={"invoice": "INV-2026-000123", "phone": "+49 30 1234 5678"},
        customer_id="cus_NffrFeUfNV2Hib",
        sources=[WalletSource(wallet="paypal", account=SecretStr("payer-8J2K3L"))],
    )
    assert request.metadata["invoice"] == "INV-2026-000123"


async def test_a_refund_reason_or_key_holding_card_data_is_refused(tmp_path: Any) -> None:
    """A refund's reason (PayPal's note to the payer) and key are checked like the request."""
    from payrouter import FollowUpNotAllowedError, Router
    from payrouter.testing import SimulatedAdapter, SimulatedProvider

    provider = SimulatedProvider("card")
    ledger = f"sqlite:///{tmp_path / 'ledger.db'}"
    async with Router([SimulatedAdapter(provider)], ledger=ledger, hooks=()) as router:
        paid = await router.pay(_request())
        with pytest.raises(FollowUpNotAllowedError, match=r"reason looks like a card number"):
            await router.refund(paid, reason="customer card 4111 1111 1111 1111")
        with pytest.raises(FollowUpNotAllowedError, match=r"key looks like an IBAN"):
            await router.refund(paid, key=f"refund-{_IBAN}")
        assert await router.followups(paid) == []


@pytest.mark.parametrize("key", ["a[b]", "[/x]", "note]"])
def test_metadata_keys_with_square_brackets_are_refused(key: str) -> None:
    """Stripe refuses `[` and `]` in metadata keys (they nest form fields), so the edge does."""
    with pytest.raises(ValidationError, match=r"square brackets"):
        _request(metadata={key: "x"})


def test_a_long_metadata_key_holding_a_card_number_is_not_echoed() -> None:
    """The key-length message quotes the key, so card data is checked (and refused) first."""
    key = f"{_VISA} is the customer's card, please keep it"
    with pytest.raises(ValidationError) as caught:
        _request(metadata={key: "x"})
    assert _VISA not in str(caught.value)
    assert "card number" in str(caught.value)


@pytest.mark.parametrize("text", _DISGUISED_CARDS)
def test_log_redaction_masks_every_card_number_the_guard_refuses(text: str) -> None:
    """What slips into logs (a provider's reply, an exception) is masked by the same detector:
    no card number survives redaction, whatever its separators or prefix."""
    from payrouter.instrumentation._redact import redact_text

    masked = redact_text(f"declined: {text} (retry later)")
    assert not contains_card_number(masked), masked
    assert masked.startswith("declined: ")
    assert masked.endswith(" (retry later)")
