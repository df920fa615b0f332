"""Words as people type them: numbers written out in Russian and Ukrainian, the cry for help,
and button labels typed by hand.

A phrase is folded first (case, ё, the three apostrophes, punctuation and emoji dropped), so
«Нас — ТРОЕ!», «п’ятеро» and «пʼятеро» read alike.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

__all__ = ["count_of", "fold", "is_sos", "label_key"]

_APOSTROPHES = str.maketrans(dict.fromkeys("'\u2019\u2018\u02bc`"))
# a run of what str.isalnum() calls letters and digits: re's \w without the underscore
_WORD = re.compile(r"[^\W_]+")
_MAX_PHRASE = 80  # characters: a count is a short answer, never a paragraph


def fold(text: str) -> list[str]:
    """The words of `text`: letters and digits only, case-folded, ё as е, no apostrophes."""
    folded = unicodedata.normalize("NFC", text).casefold().replace("ё", "е")
    return _WORD.findall(folded.translate(_APOSTROPHES))


def label_key(text: str) -> str:
    """What a button label and the same label typed by hand have in common (no emoji, no
    punctuation, any case): «🏳️ Хочу сдаться в плен» and «хочу сдаться в плен» meet here."""
    return " ".join(fold(text))


# ---------------------------------------------------------------------------------------------
# Numbers in words, 1-99 (the flow accepts up to 50; beyond that the range message explains)


def _forms(value: int, *words: str) -> dict[str, int]:
    return dict.fromkeys(words, value)


# Cardinal and collective forms, with the oblique cases a short answer uses («нас трое»,
# «со мной двое», «нас было пятеро», «двадцять людей», «п’ятьох»). Written without apostrophes
# and with е for ё, as `fold` leaves them.
_UNITS: dict[str, int] = {
    **_forms(1, "один", "одна", "одно", "одне", "одного", "одной", "одніє", "один", "сам", "сама"),
    **_forms(2, "два", "две", "дві", "двое", "двоє", "двоих", "двох", "двоем", "двома"),
    **_forms(3, "три", "трое", "троє", "троих", "трьох", "троем", "трьома", "трех"),
    **_forms(4, "четыре", "чотири", "четверо", "четверых", "чотирьох", "четырех"),
    **_forms(5, "пять", "пятеро", "пятерых", "пятьох", "пяти", "пятьом"),
    **_forms(6, "шесть", "шість", "шестеро", "шестерых", "шістьох", "шести"),
    **_forms(7, "семь", "сім", "семеро", "семерых", "сімох", "семи"),
    **_forms(8, "восемь", "вісім", "восьмеро", "восьмерых", "вісьмох", "восьми"),
    **_forms(9, "девять", "девятеро", "девятерых", "девятьох", "девяти"),
}
_TEENS: dict[str, int] = {
    **_forms(10, "десять", "десятеро", "десятерых", "десятьох", "десяти"),
    **_forms(11, "одиннадцать", "одинадцять", "одиннадцати", "одинадцяти"),
    **_forms(12, "двенадцать", "дванадцять", "двенадцати", "дванадцяти"),
    **_forms(13, "тринадцать", "тринадцять", "тринадцати", "тринадцяти"),
    **_forms(14, "четырнадцать", "чотирнадцять", "четырнадцати", "чотирнадцяти"),
    **_forms(15, "пятнадцать", "пятнадцять", "пятнадцати", "пятнадцяти"),
    **_forms(16, "шестнадцать", "шістнадцять", "шестнадцати", "шістнадцяти"),
    **_forms(17, "семнадцать", "сімнадцять", "семнадцати", "сімнадцяти"),
    **_forms(18, "восемнадцать", "вісімнадцять", "восемнадцати", "вісімнадцяти"),
    **_forms(19, "девятнадцать", "девятнадцять", "девятнадцати", "девятнадцяти"),
}
_TENS: dict[str, int] = {
    **_forms(20, "двадцать", "двадцять", "двадцати", "двадцяти"),
    **_forms(30, "тридцать", "тридцять", "тридцати", "тридцяти"),
    **_forms(40, "сорок", "сорока"),
    **_forms(50, "пятьдесят", "пятьдесят", "пятидесяти", "пятдесят", "пятдесяти"),
    **_forms(60, "шестьдесят", "шістдесят"),
    **_forms(70, "семьдесят", "сімдесят"),
    **_forms(80, "восемьдесят", "вісімдесят"),
    **_forms(90, "девяносто", "девяносто"),
}
# Words around a count that say nothing more («нас трое», «всего 5 человек», «зі мною двоє»)
_FILLER = frozenset(
    {
        # ru
        "нас",
        "нам",
        "мы",
        "я",
        "всего",
        "было",
        "будет",
        "есть",
        "тут",
        "здесь",
        "со",
        "с",
        "мной",
        "мною",
        "человек",
        "человека",
        "людей",
        "люди",
        "чел",
        "бойцов",
        "бойца",
        "солдат",
        "военных",
        "примерно",
        "около",
        "где",
        "то",
        "уже",
        # uk
        "ми",
        "всього",
        "було",
        "буде",
        "є",
        "зі",
        "з",
        "мене",
        "чоловік",
        "чоловіка",
        "осіб",
        "особи",
        "людина",
        "людини",
        "бійців",
        "бійця",
        "військових",
        "приблизно",
        "близько",
        "вже",
    }
)


def _word_number(words: Iterable[str]) -> int | None:
    """«двадцать пять» = 25, «десятеро» = 10; None for anything that is not one number."""
    tens = units = None
    for word in words:
        if word in _TENS and tens is None and units is None:
            tens = _TENS[word]
        elif word in _TEENS and tens is None and units is None:
            units = _TEENS[word]
        elif word in _UNITS and units is None:
            units = _UNITS[word]
        else:
            return None
    if tens is None and units is None:
        return None
    if tens is not None and units is not None and units >= 10:
        return None  # «двадцать двенадцать» is two numbers, not one
    return (tens or 0) + (units or 0)


def count_of(text: str) -> int | None:
    """The number of people in a short answer: «3», «трое», «нас трое», «двадцять людей»,
    «20 человек»; None when it holds no single number (then the caller is asked for one)."""
    if len(text) > _MAX_PHRASE:
        return None
    if any("0" <= ch <= "9" for ch in text):
        # digits among words: one plain number, no sign, no fraction («-3», «3.5», «3-4» are
        # not a count)
        match = _DIGITS_AMONG_WORDS.fullmatch(text.strip())
        if match is None or any(w not in _FILLER for w in fold(text) if not w.isdigit()):
            return None
        return int(match["n"])
    words = [w for w in fold(text) if w not in _FILLER]
    return _word_number(words)


# words of letters around one number of at most three digits, and a full stop or "!" at the end
_DIGITS_AMONG_WORDS = re.compile(r"(?:[^\W\d_]+\.?\s+)*(?P<n>[0-9]{1,3})(?:\s+[^\W\d_]+\.?)*[.!]?")


# ---------------------------------------------------------------------------------------------
# A cry for help, typed in any state

_SOS_WORDS = frozenset(
    {
        "sos",
        "сос",
        "помогите",
        "помоги",
        "спасите",
        "срочно",
        "допоможіть",
        "допоможи",
        "рятуйте",
        "терміново",
    }
)
_SOS_SHORT = 4  # words: «срочно», «помогите нам», «SOS окружили», «нужна помощь срочно»


def is_sos(text: str) -> bool:
    """A short message with a cry for help in it, or one that starts with it («Помогите, нас
    окружили»). A long message that merely contains «срочно» is a message, not an alarm."""
    if len(text) > 400:
        return False
    words = fold(text)
    if not words:
        return False
    if words[0] in _SOS_WORDS or (len(words) <= _SOS_SHORT and _SOS_WORDS.intersection(words)):
        return True
    return "".join(words) in _SOS_WORDS  # «S.O.S», «s o s»
