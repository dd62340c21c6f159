"""Provider idempotency keys, derived once per attempt so every retry replays the same key."""

from __future__ import annotations

import hashlib

__all__ = ["derive_key"]


def derive_key(namespace: str, order_id: str, *parts: str | int, max_length: int) -> str:
    """A deterministic key for (namespace, order id, parts) that fits `max_length`.

    Readable (`shop:order-17:2`) when it fits, so a support engineer can match it at the
    provider; otherwise a SHA-256 of the namespace and order id keeps it unique and short,
    with the parts kept readable at the end.
    """
    suffix = "".join(f":{part}" for part in parts)
    readable = f"{namespace}:{order_id}{suffix}"
    if len(readable) <= max_length:
        return readable
    digest = hashlib.sha256(f"{namespace}\x00{order_id}".encode()).hexdigest()
    room = max_length - len(suffix)
    if room < 16:
        raise ValueError(f"max_length {max_length} leaves no room for a unique key")
    return digest[:room] + suffix
