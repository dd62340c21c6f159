"""What an attempt sent, kept so an idempotent replay can send exactly the same request.

A replay is the same body under the same key to the same provider: the provider answers with
the original outcome, or performs the one attempt now. A changed body is refused (Stripe) or
answered for the original, so the charge is stored as sent, secrets included, and only for
providers that declare a replay window.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import SecretStr, TypeAdapter

from .._adapter import Adapter, Charge
from .._models import PaymentSource
from .._money import Money

__all__ = ["decode_charge", "encode_charge", "replays"]

_SOURCE: TypeAdapter[Any] = TypeAdapter(PaymentSource)


def replays(adapter: Adapter) -> bool:
    """True when the provider keeps idempotency keys, so an attempt's request is worth keeping."""
    return adapter.resolution.replay_window_seconds > 0


def encode_charge(charge: Charge) -> str:
    """The charge as JSON, secrets revealed: a replay must send the token the original sent."""
    source = _revealed(charge.source.model_dump(mode="python"))
    return json.dumps(
        {
            "reference": charge.reference,
            "order_id": charge.order_id,
            "amount": {
                "minor_units": charge.amount.minor_units,
                "currency": charge.amount.currency,
            },
            "source": source,
            "customer_country": charge.customer_country,
            "capture": charge.capture,
            "customer_id": charge.customer_id,
            "off_session": charge.off_session,
            "return_url": charge.return_url,
            "description": charge.description,
            "metadata": dict(charge.metadata),
            "authenticate": charge.authenticate,
        },
        sort_keys=True,
    )


def _revealed(value: object) -> object:
    """`value` with every secret in it, however deeply nested (a network token's), revealed."""
    if isinstance(value, SecretStr):
        return value.get_secret_value()
    if isinstance(value, dict):
        return {name: _revealed(item) for name, item in value.items()}
    return value


def decode_charge(text: str) -> Charge:
    """The charge `encode_charge` wrote, field for field."""
    data = json.loads(text)
    amount = data["amount"]
    return Charge(
        reference=data["reference"],
        order_id=data["order_id"],
        amount=Money(minor_units=amount["minor_units"], currency=amount["currency"]),
        source=_SOURCE.validate_python(data["source"]),
        customer_country=data["customer_country"],
        capture=data["capture"],
        customer_id=data["customer_id"],
        off_session=data["off_session"],
        return_url=data["return_url"],
        description=data["description"],
        metadata=data["metadata"],
        authenticate=data.get("authenticate", False),  # kept before the field was: read as False
    )
