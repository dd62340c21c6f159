"""One redaction pass used by every log path: card numbers, IBANs, tokens, secrets, personal data.

Why by hand: no well-kept library masks *checked* card numbers (Luhn) and IBANs (mod-97) in
free text and walks nested event data; masking every long digit run instead would also hide
amounts and references an operator needs. The checks keep false positives rare, and when in
doubt (a digit run longer than a card number that contains a Luhn-valid window) we mask.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping, Sequence
from typing import Final

from .._sensitive import card_number_spans, luhn_valid

__all__ = ["MASK", "is_sensitive_key", "luhn_valid", "redact", "redact_text"]

MASK: Final = "[REDACTED]"
_PAN_MASK: Final = "[PAN]"
_IBAN_MASK: Final = "[IBAN]"
_EMAIL_MASK: Final = "[EMAIL]"

# Digit runs of 12+ digits, single spaces or dashes allowed between digits (as people type PANs).
_DIGIT_RUN: Final = re.compile(r"(?<![\w])\d(?:[ -]?\d){11,}(?![\w])")
# Two letters and two check digits start an IBAN; up to 30 letters/digits follow, maybe grouped.
_IBAN_START: Final = re.compile(r"(?<![\w])[A-Za-z]{2}\d{2}")
_IBAN_BODY: Final = re.compile(r"[A-Za-z]{2}\d{2}(?: ?[A-Za-z0-9]){0,30}")
_EMAIL: Final = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
_PROVIDER_SECRET: Final = re.compile(
    r"\b(?:sk|rk|pk|whsec|pm_live)_(?:live_|test_)?[A-Za-z0-9]{8,}\b"  # Stripe-style keys
    r"|\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*"  # JWTs
)
_AUTH_SCHEME: Final = re.compile(r"(?i)\b(Bearer|Basic|Token)\s+[A-Za-z0-9._~+/=-]{6,}")
_KEYED_SECRET: Final = re.compile(
    r"(?i)\b(x-api-key|api[_-]?key|authorization|password|passwd|client[_-]?secret|secret"
    r"|access[_-]?token|refresh[_-]?token|token|cvc|cvv)"
    r"(\"?'?\s*[:=]\s*\"?'?)"
    r"(?!\[REDACTED\])(?:(?:Bearer|Basic)\s+)?[^\s\"',;}&)]+"
)

# Keys whose values are secrets or personal data, compared without case, `-` or `_`.
_SECRET_KEY_PARTS: Final = (
    "password",
    "passwd",
    "secret",
    "authorization",
    "apikey",
    "token",
    "cvc",
    "cvv",
    "iban",
    "email",
    "phone",
    "cookie",
    "credential",
)
_PERSONAL_KEYS: Final = frozenset(
    {
        "name",
        "firstname",
        "lastname",
        "fullname",
        "givenname",
        "surname",
        "holdername",
        "cardholder",
        "cardholdername",
        "accountholder",
        "accountholdername",
        "address",
        "street",
        "line1",
        "line2",
        "postalcode",
        "zip",
        "birthdate",
        "dateofbirth",
        "dob",
        "pan",
        "cardnumber",
        "number",
        "accountnumber",
        "bic",
        "taxid",
    }
)


def _iban_valid(compact: str) -> bool:
    """ISO 13616 mod-97: move the first four characters to the end, letters become 10..35."""
    rearranged = compact[4:] + compact[:4]
    try:
        number = int("".join(str(int(char, 36)) for char in rearranged))
    except ValueError:
        return False
    return number % 97 == 1


def _mask_pan(match: re.Match[str]) -> str:
    run = match.group(0)
    digits = re.sub(r"\D", "", run)
    if 12 <= len(digits) <= 19:
        return _PAN_MASK if luhn_valid(digits) else run
    # Longer runs (a PAN glued to other digits): mask if any card-sized window checks out.
    for size in range(12, 20):
        for start in range(len(digits) - size + 1):
            if luhn_valid(digits[start : start + size]):
                return _PAN_MASK
    return run


def _mask_ibans(text: str) -> str:
    """Mask every mod-97-valid IBAN, compact or grouped, at any word start.

    A scan rather than one `re.sub`, because a candidate run may swallow a following word or
    the start of another IBAN: from each possible start, the longest valid prefix is masked.
    """
    out: list[str] = []
    position = 0
    for start in _IBAN_START.finditer(text):
        if start.start() < position:
            continue
        body = _IBAN_BODY.match(text, start.start())
        assert body is not None  # the body pattern matches the start's four characters
        run = body.group(0)
        positions = [index for index, char in enumerate(run) if char.isalnum()]
        compact = "".join(run[index] for index in positions).upper()
        for length in range(min(len(compact), 34), 14, -1):
            if _iban_valid(compact[:length]):
                out.append(text[position : start.start()] + _IBAN_MASK)
                position = start.start() + positions[length - 1] + 1
                break
    out.append(text[position:])
    return "".join(out)


# Something every masked pattern contains: card numbers and IBANs two adjacent digits, e-mails
# an @, keys and tokens one of these words. Text without any (most log fields) skips the scans.
_MAYBE_SECRET: Final = re.compile(
    r"\d\d|@|(?i:bearer|basic|token|key|secret|passw|authoriz|cvc|cvv|eyJ|sk_|rk_|pk_|whsec"
    r"|pm_live)"
)


def redact_text(text: str) -> str:
    """Mask card numbers, IBANs, e-mail addresses, API keys and bearer tokens in free text."""
    if not _MAYBE_SECRET.search(text):
        return text
    text = _KEYED_SECRET.sub(lambda match: match.group(1) + match.group(2) + MASK, text)
    text = _AUTH_SCHEME.sub(lambda match: f"{match.group(1)} {MASK}", text)
    text = _PROVIDER_SECRET.sub(MASK, text)
    text = _EMAIL.sub(_EMAIL_MASK, text)
    text = _mask_ibans(text)
    text = _DIGIT_RUN.sub(_mask_pan, text)
    # The guards' detector: card numbers behind dots, slashes, prefixes or in other scripts.
    for start, end in reversed(card_number_spans(text)):
        text = text[:start] + _PAN_MASK + text[end:]
    return text


@functools.lru_cache(maxsize=4096)
def is_sensitive_key(key: str) -> bool:
    """Whether a mapping key names a secret or personal data (`api_key`, `X-Api-Key`, `name`)."""
    normalized = key.lower().replace("_", "").replace("-", "")
    if normalized in _PERSONAL_KEYS:
        return True
    if normalized.endswith(("tokens", "count", "seconds", "ms")):
        return False  # numbers about tokens (rate-limit buckets), not tokens themselves
    return any(part in normalized for part in _SECRET_KEY_PARTS)


def redact(value: object, *, _depth: int = 0) -> object:
    """A copy of `value` safe to log: nested mappings and sequences walked, secrets masked.

    Strings go through `redact_text`; values under sensitive keys are replaced whole; numbers
    that look like card numbers are masked too; other objects are rendered with `str` first,
    because an unknown object's repr may carry anything (a SecretStr's repr is safe, an
    exception's message is not).
    """
    if _depth > 20:
        return MASK
    if value is None or isinstance(value, bool | float):
        return value
    if isinstance(value, int):
        return value if redact_text(str(value)) == str(value) else _PAN_MASK
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, bytes | bytearray):
        return redact_text(bytes(value).decode("utf-8", "replace"))
    if isinstance(value, Mapping):
        return {
            str(key): MASK
            if isinstance(key, str) and is_sensitive_key(key) and value[key] is not None
            else redact(value[key], _depth=_depth + 1)
            for key in value
        }
    if isinstance(value, Sequence | set | frozenset):
        return [redact(item, _depth=_depth + 1) for item in value]
    if hasattr(value, "value") and type(value).__module__ == "enum":
        return redact(value.value, _depth=_depth + 1)
    return redact_text(str(value))
