"""Stripe's wire format: ids, error envelopes and object shapes the stand-in answers with."""

from __future__ import annotations

import json
import secrets
import time

from ._exchange import Call, Reply, json_reply

__all__ = [
    "IDEMPOTENCY_CONFLICT",
    "IN_PROGRESS",
    "UNAUTHORIZED",
    "error",
    "failed_validation",
    "form_payer",
    "meta",
    "missing",
    "new_id",
    "payment_method",
    "public",
    "unexpected_state",
]


def new_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(12)}"


def error(status: int, kind: str, message: str, **extra: object) -> Reply:
    return json_reply(status, {"error": {"type": kind, "message": message, **extra}})


def failed_validation(reply: Reply) -> bool:
    """A 400 `invalid_request_error` naming the `param` it refuses: the request failed
    parameter validation before the endpoint ran, so Stripe saves no result for its key
    ("If incoming parameters fail validation ... no idempotent result is saved")."""
    if reply.status != 400:
        return False
    problem = json.loads(reply.body).get("error", {})
    return problem.get("type") == "invalid_request_error" and "param" in problem


UNAUTHORIZED = error(
    401,
    "invalid_request_error",
    "You did not provide an API key. You need to provide your API key in the "
    "Authorization header, using Bearer auth.",
)
"""Stripe's 401: an invalid_request_error without a code."""

IDEMPOTENCY_CONFLICT = error(
    400,
    "idempotency_error",
    "Keys for idempotent requests can only be used with the same parameters they "
    "were first used with.",
)
"""Stripe's 400 `idempotency_error`: the same key with other parameters."""

IN_PROGRESS = error(
    409,
    "invalid_request_error",
    "There is currently another in-progress request using this Idempotent Key.",
    code="idempotency_key_in_use",
)
"""Stripe's 409 `idempotency_key_in_use`."""


def form_payer(call: Call) -> str | None:
    return call.form().get("payment_method")


def meta(intent: dict[str, object], key: str) -> str | None:
    metadata = intent.get("metadata")
    value = metadata.get(key) if isinstance(metadata, dict) else None
    return value if isinstance(value, str) else None


def public(intent: dict[str, object]) -> dict[str, object]:
    """The intent without private bookkeeping fields, and without null fields.

    Stripe sends nulls; the sandbox omits them, because its responses are checked against
    the official spec with openapi-core, whose OpenAPI 3.0 `nullable` handling rejects null in
    Stripe's nullable enum and anyOf fields. The adapters read absent and null alike.
    """
    return {k: v for k, v in intent.items() if not k.startswith("_") and v is not None}


def missing(kind: str, object_id: str) -> Reply:
    return error(
        404,
        "invalid_request_error",
        f"No such {kind}: '{object_id}'",
        code="resource_missing",
        param="intent" if kind == "payment_intent" else "id",
    )


def unexpected_state(intent: dict[str, object], action: str, message: str | None = None) -> Reply:
    """Stripe's 400 `payment_intent_unexpected_state`, carrying the intent as it stands."""
    return error(
        400,
        "invalid_request_error",
        message
        or f"You cannot {action} this PaymentIntent because it has a status of {intent['status']}.",
        code="payment_intent_unexpected_state",
        payment_intent=public(intent),
    )


def payment_method(method: str) -> dict[str, object]:
    """A card PaymentMethod object, as detach returns it and a decline embeds it."""
    return {
        "id": method,
        "object": "payment_method",
        "billing_details": {"email": None, "name": None, "phone": None},
        "created": int(time.time()),
        "livemode": False,
        "metadata": {},
        "type": "card",
    }
