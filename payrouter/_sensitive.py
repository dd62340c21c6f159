"""Card numbers and IBANs in text: the one detector every edge check uses.

Card data forwarded to a provider in a description or metadata lands in its dashboard, its
exports and its support tickets, which puts them in PCI DSS scope; so every field that
reaches a provider is refused when it holds a card number or an IBAN (an IBAN belongs in a
`BankTransferSource` only).

A card number is a run of 12-19 digits in a card network's issuer range that passes the Luhn
check, written with any separators (`4111 1111…`, `4111.1111…`, `4111/1111…`), after any
prefix (`card_4111…`), in any Unicode digits. Runs of groups are searched span by span, so a
trailing digit or a second number does not hide a card. The issuer ranges keep providers' own
numeric ids (Adyen's 16-digit stored-card ids) and most order numbers from being mistaken for
cards. An IBAN is a country code, check digits and that country's BBAN length, with mod 97.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Final

__all__ = [
    "card_data_problem",
    "card_number_spans",
    "contains_card_number",
    "contains_iban",
    "luhn_valid",
]

_MIN_DIGITS: Final = 12
_MAX_DIGITS: Final = 19
_MAX_SEPARATOR: Final = 3
"""Up to three non-alphanumeric characters between digit groups still join them."""

# Issuer ranges of the card networks (Visa, Mastercard, Amex, Discover, JCB, Diners,
# UnionPay, Maestro) with each network's lengths.
_CARD_NUMBER: Final = re.compile(
    r"(?:4\d{12}(?:\d{3}){0,2}|5[1-5]\d{14}|2(?:2[2-9]\d|[3-6]\d\d|7[01]\d|720)\d{12}"
    r"|3[47]\d{13}|6(?:011|5\d\d|4[4-9]\d)\d{12,15}|35(?:2[89]|[3-8]\d)\d{12,15}"
    r"|3(?:0[0-5]|[689]\d)\d{11,16}|62\d{14,17}|(?:50|5[6-9]|6\d)\d{10,17})"
)

# ISO 13616 registry: each country's IBAN length.
_IBAN_LENGTH: Final[dict[str, int]] = {
    **dict.fromkeys("NO".split(), 15),
    **dict.fromkeys("BE".split(), 16),
    **dict.fromkeys("DK FI FK FO GL NL SD".split(), 18),
    **dict.fromkeys("MK SI".split(), 19),
    **dict.fromkeys("AT BA EE KZ LT LU MN XK".split(), 20),
    **dict.fromkeys("CH HR LI LV".split(), 21),
    **dict.fromkeys("BG BH CR DE GB GE IE ME RS VA".split(), 22),
    **dict.fromkeys("AE GI IL IQ OM SO TL".split(), 23),
    **dict.fromkeys("AD CZ ES MD PK RO SA SE SK TN VG".split(), 24),
    **dict.fromkeys("LY PT ST".split(), 25),
    **dict.fromkeys("IS TR".split(), 26),
    **dict.fromkeys("BI DJ FR GR IT MC MR SM".split(), 27),
    **dict.fromkeys("AL AZ BY CY DO GT HN HU LB NI PL SV".split(), 28),
    **dict.fromkeys("BR EG PS QA UA".split(), 29),
    **dict.fromkeys("JO KW MU YE".split(), 30),
    **dict.fromkeys("MT SC".split(), 31),
    "LC": 32,
    "RU": 33,
}
_IBAN_START: Final = re.compile(r"(?=([A-Z]{2})(\d{2}))")
_IBAN_SEPARATORS: Final = re.compile(r"[ .\-/_]")


def luhn_valid(digits: str) -> bool:
    """The Luhn (mod 10) check every card number passes."""
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2 == 1:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def _is_card(digits: str) -> bool:
    return _CARD_NUMBER.fullmatch(digits) is not None and luhn_valid(digits)


def _runs(text: str) -> list[list[tuple[str, int, int]]]:
    """Digit groups as (ASCII digits, start, end) in `text`, grouped into runs joined by
    short non-alphanumeric separators; a letter or a longer gap starts a new run."""
    runs: list[list[tuple[str, int, int]]] = []
    groups: list[tuple[str, int, int]] = []
    digits: list[str] = []
    begin = gap = 0
    for index, char in enumerate(text):
        if char.isdecimal():
            if not digits:
                if groups and gap > _MAX_SEPARATOR:
                    runs.append(groups)
                    groups = []
                begin = index
            digits.append(str(unicodedata.decimal(char)))
            gap = 0
            continue
        if digits:
            groups.append(("".join(digits), begin, index))
            digits = []
        gap = gap + 1 if not char.isalnum() else _MAX_SEPARATOR + 1
    if digits:
        groups.append(("".join(digits), begin, len(text)))
    if groups:
        runs.append(groups)
    return runs


def card_number_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) in `text` of every card number, separators between its groups included."""
    spans: list[tuple[int, int]] = []
    for groups in _runs(text):
        start = 0
        while start < len(groups):
            joined, found = "", None
            for end in range(start, len(groups)):
                joined += groups[end][0]
                if len(joined) > _MAX_DIGITS:
                    break
                if len(joined) >= _MIN_DIGITS and _is_card(joined):
                    found = end
            if found is None:
                start += 1
                continue
            spans.append((groups[start][1], groups[found][2]))
            start = found + 1
    return spans


def contains_card_number(text: str) -> bool:
    """Whether `text` holds a card number, however it is separated or prefixed."""
    return bool(card_number_spans(text))


def _iban_valid(compact: str) -> bool:
    rearranged = compact[4:] + compact[:4]
    return int("".join(str(int(char, 36)) for char in rearranged)) % 97 == 1


def contains_iban(text: str) -> bool:
    """Whether `text` holds an IBAN (its country's length, valid check digits), with or
    without the usual separators, in any case."""
    compact = _IBAN_SEPARATORS.sub("", unicodedata.normalize("NFKC", text).upper())
    for match in _IBAN_START.finditer(compact):
        length = _IBAN_LENGTH.get(match.group(1))
        if length is None:
            continue
        candidate = compact[match.start() : match.start() + length]
        whole = len(candidate) == length and candidate.isalnum() and candidate.isascii()
        if whole and _iban_valid(candidate):
            return True
    return False


def card_data_problem(text: str, *, allow_iban: bool = False) -> str | None:
    """What card data `text` holds, as the end of a refusal message, or None if none.

    The message never repeats the text: it is the card number or IBAN being refused.
    """
    if contains_card_number(text):
        return (
            "looks like a card number: card data is never sent to a provider in this field; "
            "remove it (a card is paid with a provider token in a CardSource)"
        )
    if not allow_iban and contains_iban(text):
        return (
            "looks like an IBAN: bank details are never sent to a provider in this field; "
            "remove it (a bank account is paid with a BankTransferSource)"
        )
    return None
