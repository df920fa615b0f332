"""Validation and normalisation of what a caller types, one function per field.

Every validator takes the raw text of a message and returns either :class:`Accepted` (with the
normalised value as it is stored) or :class:`Rejected` (with a Fluent message id and constant
parameters).  Validators never raise on any ``str`` and a rejection never carries the caller's
input, so it is always safe to log and to render. Which screen asks for which field, in what
order and which are required, is `flows.screens` (the details form) and `flows.relatives`.
"""

from __future__ import annotations

import re
import secrets
import unicodedata
from collections.abc import Callable

from flows import words
from flows.dates import birth_date
from flows.typed import Accepted, Outcome, Rejected, clean_text
from flows.typed import reject as _reject

__all__ = [
    "CODE_ALPHABET",
    "Accepted",
    "Outcome",
    "Rejected",
    "area",
    "birth_date",
    "clean_text",
    "full_name",
    "injuries",
    "is_declaration",
    "location_text",
    "military_unit",
    "new_case_code",
    "parse_case_code",
    "people_count",
    "phone",
    "rank",
    "service_number",
]


# --------------------------------------------------------------------------------------------
# Shared helpers
# --------------------------------------------------------------------------------------------

_HYPHENS = {ord(ch): "-" for ch in "\u2010\u2011\u2013"}  # ‐ ‑ –
_APOSTROPHES = {ord(ch): "'" for ch in "\u2019\u2018\u02bc`"}  # ’ ‘ ʼ `
_NAME_PUNCTUATION = {**_HYPHENS, **_APOSTROPHES}

_LETTER_CATEGORIES = frozenset({"Lu", "Ll", "Lt"})


def _is_script_letter(ch: str) -> bool:
    """A Cyrillic or Latin letter (by its Unicode name), e.g. і ї є ґ ё ß é but not ｉ or 𝐀."""
    return unicodedata.category(ch) in _LETTER_CATEGORIES and unicodedata.name(ch, "").startswith(
        ("LATIN ", "CYRILLIC ")
    )


def _free_text(text: str, message_id: str, *, min_len: int, max_len: int) -> Outcome:
    value = clean_text(text)
    if min_len <= len(value) <= max_len:
        return Accepted(value)
    if min_len > 1:
        return _reject(message_id, min=min_len, max=max_len)
    return _reject(message_id, max=max_len)


# --------------------------------------------------------------------------------------------
# Full name
# --------------------------------------------------------------------------------------------

NAME_MIN = 2
NAME_MAX = 100
NAME_MIN_LETTERS = 2


def full_name(text: str) -> Outcome:
    """2–100 characters: Cyrillic or Latin letters, space, hyphen, apostrophe; ≥ 2 letters.

    Mixed scripts are accepted (transliterated names occur).  A combining mark that does not
    compose with its letter under NFC is rejected, as are digits, emoji and other symbols.
    Fewer than two letters is reported as a length problem ("at least 2").
    """
    value = clean_text(text).translate(_NAME_PUNCTUATION)
    if not NAME_MIN <= len(value) <= NAME_MAX:
        return _reject("invalid-name-length", min=NAME_MIN, max=NAME_MAX)
    letters = 0
    for ch in value:
        if _is_script_letter(ch):
            letters += 1
        elif ch not in " -'":
            return _reject("invalid-name-chars")
    if letters < NAME_MIN_LETTERS:
        return _reject("invalid-name-length", min=NAME_MIN, max=NAME_MAX)
    return Accepted(value)


# --------------------------------------------------------------------------------------------
# Free-text fields
# --------------------------------------------------------------------------------------------

UNIT_MAX = 64
RANK_MAX = 40
AREA_MAX = 100
INJURIES_MAX = 200
LOCATION_MIN = 2
LOCATION_MAX = 300


def military_unit(text: str) -> Outcome:
    """Free text, 1–64 characters (e.g. ``в/ч 12345``)."""
    return _free_text(text, "invalid-unit-length", min_len=1, max_len=UNIT_MAX)


def rank(text: str) -> Outcome:
    """Free text, 1–40 characters; a capital first letter is lowered («Сержант» reads
    «сержант», as the button ranks do), an abbreviation («ВДВ») is kept as typed."""
    outcome = _free_text(text, "invalid-rank-length", min_len=1, max_len=RANK_MAX)
    if isinstance(outcome, Accepted) and outcome.value[1:2].islower():
        return Accepted(outcome.value[0].lower() + outcome.value[1:])
    return outcome


def area(text: str) -> Outcome:
    """Free text, 1–100 characters (area or direction; never precise coordinates)."""
    return _free_text(text, "invalid-area-length", min_len=1, max_len=AREA_MAX)


def injuries(text: str) -> Outcome:
    """Free text, 1–200 characters."""
    return _free_text(text, "invalid-injuries-length", min_len=1, max_len=INJURIES_MAX)


def location_text(text: str) -> Outcome:
    """Free-text description of a location, 2–300 characters."""
    return _free_text(text, "invalid-location-length", min_len=LOCATION_MIN, max_len=LOCATION_MAX)


# --------------------------------------------------------------------------------------------
# Service number
# --------------------------------------------------------------------------------------------

SERVICE_NUMBER_MAX = 20


def service_number(text: str) -> Outcome:
    """Cyrillic/Latin letters, ASCII digits and hyphens, 1–20 characters; spaces removed, upper."""
    value = clean_text(text).replace(" ", "").translate(_HYPHENS).upper()
    if not 1 <= len(value) <= SERVICE_NUMBER_MAX or not all(
        ("0" <= ch <= "9") or ch == "-" or _is_script_letter(ch) for ch in value
    ):
        return _reject("invalid-service-number", max=SERVICE_NUMBER_MAX)
    return Accepted(value)


# --------------------------------------------------------------------------------------------
# Number of people
# --------------------------------------------------------------------------------------------

PEOPLE_MIN = 1
PEOPLE_MAX = 50
PEOPLE_EXAMPLE = "3"


def people_count(text: str) -> Outcome:
    """An integer 1–50, in ASCII digits or in words, alone or in a short phrase («7», «трое»,
    «нас трое», «двадцять людей», «20 человек»); value is its canonical form (``"7"``)."""
    value = clean_text(text)
    if value.isascii() and value.isdigit():
        digits = value.lstrip("0")
        # Never call int() on an unbounded string (CPython refuses > 4300 digits).
        number = int(digits or "0") if len(digits) <= 3 else PEOPLE_MAX + 1
    else:
        found = words.count_of(value)
        if found is None:
            return _reject("invalid-people-number", example=PEOPLE_EXAMPLE)
        number = found
    if not PEOPLE_MIN <= number <= PEOPLE_MAX:
        return _reject("invalid-people-range", min=PEOPLE_MIN, max=PEOPLE_MAX)
    return Accepted(str(number))


# --------------------------------------------------------------------------------------------
# Phone
# --------------------------------------------------------------------------------------------

PHONE_EXAMPLE = "+79123456789"
_PHONE_CHARS = re.compile(r"\+?[0-9 ().\-]+")


def _phone_digits(digits: str, *, plus: bool) -> str | None:
    """Return the E.164 form of a number given by its digits, or None."""
    if plus or digits.startswith("00"):
        if not plus:
            digits = digits[2:]
        if digits.startswith("7"):
            ok = len(digits) == 11 and digits[1] != "0"  # no Russian area code starts with 0
        elif digits.startswith("380"):
            ok = len(digits) == 12
        else:
            ok = 8 <= len(digits) <= 15 and not digits.startswith("0")
        return "+" + digits if ok else None
    if (
        digits.startswith("80") and len(digits) == 11
    ):  # 8 067 123 45 67: old Ukrainian long distance
        return "+38" + digits[1:]
    if len(digits) == 11 and digits[0] in "78" and digits[1] != "0":  # 8 912 345-67-89
        return "+7" + digits[1:]
    if len(digits) == 10 and digits[0] == "9":  # 912 345-67-89 (Russian mobile, no prefix)
        return "+7" + digits
    if len(digits) == 12 and digits.startswith("380"):  # 380 67 123 45 67
        return "+" + digits
    if len(digits) == 10 and digits[0] == "0":  # 067 123 45 67
        return "+38" + digits
    return None


def phone(text: str) -> Outcome:
    """A phone number in E.164, Russian or Ukrainian national format; value is E.164.

    Spaces, hyphens, dots and parentheses may separate the digits.  ``+7`` numbers must have 10
    digits after the country code and ``+380`` numbers 9; other ``+`` numbers 8–15 digits.
    A leading ``00`` is read as ``+``.
    """
    value = clean_text(text).translate(_HYPHENS)
    if len(value) > 40 or not _PHONE_CHARS.fullmatch(value):
        return _reject("invalid-phone", example=PHONE_EXAMPLE)
    digits = "".join(ch for ch in value if "0" <= ch <= "9")
    e164 = _phone_digits(digits, plus=value.startswith("+"))
    if e164 is None:
        return _reject("invalid-phone", example=PHONE_EXAMPLE)
    return Accepted(e164)


def shared_phone(text: str) -> Outcome:
    """The number of a contact shared with Telegram's button: always international, sent
    without the "+", from any country."""
    value = clean_text(text)
    return phone(value if value.startswith("+") else "+" + value)


# --------------------------------------------------------------------------------------------
# Case code
# --------------------------------------------------------------------------------------------

CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base32: no I L O U
CODE_LENGTH = 8

# Crockford decoding of look-alikes, plus Cyrillic letters that look like code characters (a
# caller on a Cyrillic keyboard types К7QМ-3Р9Х).  None of these is otherwise valid, so the
# mapping never makes two different codes equal.
_CODE_LOOKALIKES = str.maketrans(
    {
        "O": "0",
        "I": "1",
        "L": "1",
        "А": "A",
        "В": "B",
        "С": "C",
        "Е": "E",
        "Н": "H",
        "К": "K",
        "М": "M",
        "О": "0",
        "Р": "P",
        "Т": "T",
        "Х": "X",
        "У": "Y",
        "З": "3",
        "І": "1",
    }
)
_CODE_IGNORED = str.maketrans(dict.fromkeys(" -\u2010\u2011\u2012\u2013\u2014\u2212"))
_CODE_SET = frozenset(CODE_ALPHABET)


def new_case_code(choice: Callable[[str], str] = secrets.choice) -> str:
    """A new random case code ``XXXX-XXXX`` (40 bits) from :data:`CODE_ALPHABET`."""
    chars = [choice(CODE_ALPHABET) for _ in range(CODE_LENGTH)]
    if not all(ch in _CODE_SET for ch in chars):
        raise ValueError("choice() returned a character outside CODE_ALPHABET")
    code = "".join(chars)
    return f"{code[:4]}-{code[4:]}"


def parse_case_code(text: str) -> str | None:
    """The canonical ``XXXX-XXXX`` form of a typed case code, or None if it is not one.

    Case-insensitive; spaces and hyphens anywhere are ignored; O reads as 0 and I/L as 1; U is
    invalid.  Full-width characters and Cyrillic look-alikes are accepted.
    """
    if len(text) > 200:
        return None
    value = unicodedata.normalize("NFKC", clean_text(text)).translate(_CODE_IGNORED)
    value = value.upper().translate(_CODE_LOOKALIKES)
    if len(value) != CODE_LENGTH or not all(ch in _CODE_SET for ch in value):
        return None
    return f"{value[:4]}-{value[4:]}"


# --------------------------------------------------------------------------------------------
# Declaration «Я иду сдаваться»
# --------------------------------------------------------------------------------------------

# Punctuation that ends a clause: a negation in one clause does not negate the next one
# («Не стреляйте, я сдаюсь» is a declaration, «Я не сдаюсь» is not).  A line break is only a
# space: «иду⏎сдаваться» is one phrase.
_CLAUSE_BREAK = re.compile(r"[.,!?;:…()\[\]]+")
_WORD_APOSTROPHES = str.maketrans(dict.fromkeys("'\u2019\u2018\u02bc`"))

_SURRENDER_NOW = frozenset(
    {
        # ru
        "сдаюсь",
        "сдаюся",
        # uk
        "здаюсь",
        "здаюся",
        # transliteration
        "sdayus",
        "sdajus",
        "sdaius",
        "sdayusya",
        "zdayus",
        "zdayusya",
        "zdaiusia",
    }
)
_GOING = frozenset({"иду", "йду", "іду", "idu", "jdu", "ydu"})
_TO_SURRENDER = frozenset(
    {
        # ru (with the common misspelling without ь)
        "сдаваться",
        "сдаватся",
        # uk
        "здаватися",
        "здаваться",
        # transliteration
        "sdavatsya",
        "sdavatsia",
        "sdavatsja",
        "sdavatsa",
        "sdavatca",
        "zdavatysia",
        "zdavatysya",
        "zdavatisya",
    }
)
_NEGATIONS = frozenset({"не", "ни", "нет", "ні", "ne", "ni", "net"})
_MAX_GAP = 3  # «иду к вам сдаваться»: up to three words between «иду» and «сдаваться»


def _words(clause: str) -> list[str]:
    folded = clean_text(clause).casefold().replace("ё", "е").translate(_WORD_APOSTROPHES)
    return "".join(ch if ch.isalpha() else " " for ch in folded).split()


def _clause_declares(words: list[str]) -> bool:
    negated = False
    for i, word in enumerate(words):
        if word in _NEGATIONS:
            negated = True
        elif word in _SURRENDER_NOW or (
            word in _TO_SURRENDER and any(w in _GOING for w in words[max(0, i - _MAX_GAP - 1) : i])
        ):
            return not negated
    return False


def is_declaration(text: str) -> bool:
    """True when the caller's own words declare surrender («Я иду сдаваться», «Я здаюся»).

    Case, punctuation, emoji, extra spaces and ё/е are ignored.  A negation before the verb in
    the same clause («Я не сдаюсь», «не здаюся», «я не иду сдаваться») makes it not a
    declaration.
    """
    return any(_clause_declares(_words(clause)) for clause in _CLAUSE_BREAK.split(text))
