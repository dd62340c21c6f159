"""The Mandate model: a frozen, strict reference to a provider's standing permission."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from payrouter import Mandate, PaymentMethod


def test_a_mandate_carries_its_provider_id_and_method() -> None:
    mandate = Mandate(provider="stripe", mandate_id="pm_123", method=PaymentMethod.CARD)

    assert (mandate.provider, mandate.mandate_id, mandate.method) == (
        "stripe",
        "pm_123",
        PaymentMethod.CARD,
    )


def test_a_mandate_cannot_be_edited_after_creation() -> None:
    mandate = Mandate(provider="stripe", mandate_id="pm_123", method=PaymentMethod.CARD)

    with pytest.raises(ValidationError):
        mandate.provider = "adyen"


@pytest.mark.parametrize("field", ["provider", "mandate_id"])
def test_an_empty_provider_or_id_is_refused_naming_the_field(field: str) -> None:
    values = {"provider": "stripe", "mandate_id": "pm_123", "method": PaymentMethod.CARD}
    values[field] = ""

    with pytest.raises(ValidationError) as caught:
        Mandate(**values)

    assert caught.value.errors()[0]["loc"] == (field,)


def test_a_mandate_round_trips_through_json_for_storage() -> None:
    mandate = Mandate(provider="adyen", mandate_id="8415", method=PaymentMethod.WALLET)

    assert Mandate.model_validate_json(mandate.model_dump_json()) == mandate
