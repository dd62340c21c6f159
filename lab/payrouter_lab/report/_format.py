"""Reading a loosely typed drill report and formatting its values for the page.

Every reader accepts anything (a hand-edited or older report.json) and shows a dash for what it
cannot read, so one bad value never hides the rest of the page.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import math
from collections.abc import Mapping, Sequence
from typing import Final

from payrouter import currency_exponent

_DASH: Final = "\u2014"  # shown for a missing or unreadable figure


# --- reading a loosely typed report -------------------------------------------------------


def _plain(value: object) -> object:
    """`value` as strict JSON can hold it: NaN and infinities become None, keys become text."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Mapping):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    return str(value)


def _mapping(value: object) -> Mapping[str, object]:
    return value if isinstance(value, Mapping) else {}


def _items(value: object) -> list[Mapping[str, object]]:
    if not isinstance(value, Sequence) or isinstance(value, str):
        return []
    return [item for item in value if isinstance(item, Mapping)]


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def _text(value: object) -> str:
    return "" if value is None else str(value)


def _e(value: object) -> str:
    return html.escape(_text(value), quote=True)


def _sha256(source: str) -> str:
    digest = hashlib.sha256(source.encode("utf-8")).digest()
    return "sha256-" + base64.b64encode(digest).decode("ascii")


def _script_json(data: object) -> str:
    """JSON safe inside a <script> element: no `<`, `>` or `&` can end or open a tag."""
    text = json.dumps(data, ensure_ascii=True, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


# --- formatting ----------------------------------------------------------------------------


def _unreadable(value: object) -> str:
    """A dash for a missing figure; anything else that is not a number is shown as it is."""
    return _DASH if value is None or value == "" else _text(value)


def _count(value: object) -> str:
    number = _number(value)
    if number is None:
        return _unreadable(value)
    return f"{number:,.0f}" if number.is_integer() else f"{number:,.2f}"


def _count_or_na(value: object) -> str:
    return "n/a" if value is None else _count(value)


def _percent(value: object) -> str:
    number = _number(value)
    return _unreadable(value) if number is None else f"{number * 100:.1f} %"


def _ratio(value: object) -> str:
    number = _number(value)
    return _unreadable(value) if number is None else f"{number:.2f}"


def _ms(value: object) -> str:
    number = _number(value)
    if number is None:
        return _unreadable(value)
    return f"{number:,.1f} ms" if abs(number) >= 10 else f"{number:.2f} ms"


def _seconds(value: object) -> str:
    number = _number(value)
    return _unreadable(value) if number is None else f"{number:g} s"


def _fees(value: object) -> str:
    """The `routing` object's fees: the total, then each provider's share."""
    routing = _mapping(value)
    currency = _text(routing.get("fees_currency"))
    if not currency or "fees_total_minor" not in routing:
        return _DASH
    each = _mapping(routing.get("fees_minor"))
    shares = ", ".join(f"{name} {_money(currency, each[name])}" for name in sorted(each))
    total = _money(currency, routing["fees_total_minor"])
    return f"{total} ({shares})" if shares else total


def _tally(value: object) -> str:
    counts = _mapping(value)
    return ", ".join(f"{name} {_count(counts[name])}" for name in sorted(counts)) or _DASH


def _money(currency: str, minor: object) -> str:
    """`12345, "EUR"` reads `123.45 EUR`, with the exponent from the currency table."""
    if isinstance(minor, bool) or not isinstance(minor, int):
        return f"{_count(minor)} {currency} (minor units)"
    try:
        exponent = currency_exponent(currency)
    except ValueError:
        return f"{minor:,} {currency} (minor units)"
    whole, part = divmod(abs(minor), 10**exponent)
    sign = "-" if minor < 0 else ""
    return (
        f"{sign}{whole:,}.{part:0{exponent}d} {currency}"
        if exponent
        else f"{sign}{whole:,} {currency}"
    )
