"""Reading helpers the bundled adapters share: Retry-After, and unmapped codes logged once.

Options, the httpx client and the repr are `payrouter.provider.HttpAdapter`'s. Only
translation helpers live here; deciding what to do with a reply is the router's job.
"""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Final

__all__ = ["parse_retry_after", "warn_unmapped_once"]

_LOG: Final = logging.getLogger("payrouter.adapters")
_SEEN_UNMAPPED: set[tuple[str, str]] = set()
_SEEN_LOCK: Final = threading.Lock()


def parse_retry_after(value: str | None) -> float | None:
    """Seconds to wait from a `Retry-After` header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def warn_unmapped_once(provider: str, code: str) -> None:
    """Log a provider code that no table row maps, once per (provider, code) per process.

    An unmapped code is a gap in our table, not in the payment: the adapter still classifies it
    conservatively, and this line tells the operator which row to add.
    """
    key = (provider, code)
    with _SEEN_LOCK:
        if key in _SEEN_UNMAPPED:
            return
        _SEEN_UNMAPPED.add(key)
    _LOG.warning("unmapped provider code", extra={"provider": provider, "provider_code": code})
