"""Provider idempotency keys, derived once per attempt so every retry replays the same key.

A key must never be shared by two different requests: a provider answers the second one with
the first one's result (or refuses it as a mismatch). So derivation is injective: the order id
is escaped (`%` and the `:` separator), the parts may not contain the separator, and a hashed
key starts with `=`, which no namespace can, so it never equals a readable one.
"""

from __future__ import annotations

import hashlib

__all__ = ["derive_key"]

_SEPARATOR = ":"
_HASHED = "="  # outside the namespace alphabet, so a hashed key never reads as a readable one
_MIN_DIGEST = 16  # hex characters: 64 bits, room enough for a merchant's lifetime of orders


def derive_key(namespace: str, order_id: str, *parts: str | int, max_length: int) -> str:
    """A deterministic key for (namespace, order id, parts) that fits `max_length`.

    Readable (`shop:order-17:2`) when it fits, so a support engineer can match it at the
    provider; otherwise a SHA-256 of the namespace and order id keeps it unique and short,
    with the parts kept readable at the end. Different inputs never give the same key.

    Raises:
        ValueError: a part contains `:`, or `max_length` leaves no room for a unique hash.
    """
    texts = [str(part) for part in parts]
    joined = _SEPARATOR.join(texts)
    if joined.count(_SEPARATOR) > max(len(texts) - 1, 0):  # a part holds one itself
        raise ValueError(f"key parts may not contain {_SEPARATOR!r}: {texts!r}")
    suffix = f"{_SEPARATOR}{joined}" if texts else ""
    readable = f"{namespace}{_SEPARATOR}{_escape(order_id)}{suffix}"
    if len(readable) <= max_length:
        return readable
    digest = hashlib.sha256(f"{namespace}\x00{order_id}".encode()).hexdigest()
    room = max_length - len(suffix) - len(_HASHED)
    if room < _MIN_DIGEST:
        raise ValueError(f"max_length {max_length} leaves no room for a unique key")
    return _HASHED + digest[:room] + suffix


def _escape(order_id: str) -> str:
    """Percent-escape `%` and `:`: reversible, so two order ids never read the same."""
    return order_id.replace("%", "%25").replace(_SEPARATOR, "%3A")
