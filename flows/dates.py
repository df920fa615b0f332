"""Dates of birth as people type them: «17.05.1990», «1990-05-17», «17 мая 1990», «17 травня
1990 р.», and «17.05.90» where the age range leaves only one century possible.
"""

from __future__ import annotations

import datetime
import re

from flows.typed import Accepted, Outcome, clean_text, reject

__all__ = ["AGE_MAX", "AGE_MIN", "BIRTH_EXAMPLE", "birth_date", "full_years"]

AGE_MIN = 16
AGE_MAX = 70
BIRTH_EXAMPLE = "17.05.1990"

# Month words in Russian and Ukrainian: the genitive of a date («мая», «травня»), the
# nominative («май», «травень») and the usual abbreviations; Latin ones from transliterating
# keyboards. One row per month, January first.
_MONTH_ROWS = (
    "января январь янв січня січень січ january jan",
    "февраля февраль фев февр лютого лютий лют february feb",
    "марта март мар березня березень бер march mar",
    "апреля апрель апр квітня квітень квіт кві april apr",
    "мая май травня травень трав тра may",
    "июня июнь июн червня червень черв чер june jun",
    "июля июль июл липня липень лип july jul",
    "августа август авг серпня серпень серп сер august aug",
    "сентября сентябрь сен сент вересня вересень вер september sep sept",
    "октября октябрь окт жовтня жовтень жовт жов october oct",
    "ноября ноябрь ноя нояб листопада листопад лист лис november nov",
    "декабря декабрь дек грудня грудень груд гру december dec",
)
_MONTHS = {word: n for n, row in enumerate(_MONTH_ROWS, start=1) for word in row.split()}

_SEP = r"(?:\s?[./,\-]\s?|\s)"
# An optional trailing "г." / "года" / "год" (ru) or "р." / "року" / "рік" (uk) after the year.
_YEAR_SUFFIX = r"(?:\s?(?:г|года|год|р|року|рік)\.?)?"
_DMY = re.compile(
    rf"(?P<d>[0-9]{{1,2}}){_SEP}(?P<m>[0-9]{{1,2}}){_SEP}(?P<y>[0-9]{{4}}|[0-9]{{2}})"
    rf"{_YEAR_SUFFIX}",
    re.IGNORECASE,
)
_YMD = re.compile(
    rf"(?P<y>[0-9]{{4}}){_SEP}(?P<m>[0-9]{{1,2}}){_SEP}(?P<d>[0-9]{{1,2}})", re.IGNORECASE
)
_DMY_COMPACT = re.compile(r"(?P<d>[0-9]{2})(?P<m>[0-9]{2})(?P<y>[0-9]{4}|[0-9]{2})")
# «17 мая 1990», «17-го мая 1990 г.», «17 травня 90», «май 17 1990» is not a way anyone writes
_DAY_MONTH_YEAR = re.compile(
    rf"(?P<d>[0-9]{{1,2}})(?:-?(?:го|е|ое|ого|те|ого))?\s?[.,\-]?\s?(?P<month>[^\W\d_]+\.?)"
    rf"\s?[.,\-]?\s?(?P<y>[0-9]{{4}}|[0-9]{{2}}){_YEAR_SUFFIX}",
    re.IGNORECASE,
)


def full_years(born: datetime.date, today: datetime.date) -> int:
    before_birthday = (today.month, today.day) < (born.month, born.day)
    return today.year - born.year - int(before_birthday)


def _month(word: str) -> int | None:
    return _MONTHS.get(word.rstrip(".").casefold().replace("ё", "е"))


def _in_range(born: datetime.date, today: datetime.date) -> bool:
    return AGE_MIN <= full_years(born, today) <= AGE_MAX


def _date(year: str, month: int, day: int, today: datetime.date) -> datetime.date | None:
    """The date, with a two-digit year read in the one century that gives an age in range
    (the range spans 54 years, so two centuries never both fit). Raises ValueError for a day
    the month does not have."""
    if len(year) == 4:
        return datetime.date(int(year), month, day)
    existing = []
    for century in (1900, 2000):
        try:
            existing.append(datetime.date(century + int(year), month, day))
        except ValueError:
            continue  # 29 February of a year that has none: the other century may have it
    if not existing:
        raise ValueError("no such day in either century")
    return next((born for born in existing if _in_range(born, today)), None)


def birth_date(text: str, today: datetime.date) -> Outcome:
    """A date of birth giving an age of 16–70 full years on ``today``; value is ISO 8601.

    Day-first dates with ``.``, ``/``, ``-``, ``,`` or a space as separator (``17.05.1990``,
    ``7/5/1990``), ISO ``1990-05-17``, the compact ``17051990``, and the month in words
    (``17 мая 1990``, ``17 травня 1990 р.``). A two-digit year (``17.05.90``) is read in the
    century that gives an age of 16-70; when none does, the age is what is wrong.
    """
    value = clean_text(text)
    if len(value) > 40:
        return reject("invalid-birth-format", example=BIRTH_EXAMPLE)
    numeric = _DMY.fullmatch(value) or _YMD.fullmatch(value) or _DMY_COMPACT.fullmatch(value)
    if numeric is not None:
        year, month, day = numeric["y"], int(numeric["m"]), int(numeric["d"])
    else:
        worded = _DAY_MONTH_YEAR.fullmatch(value)
        month_number = _month(worded["month"]) if worded is not None else None
        if worded is None or month_number is None:
            return reject("invalid-birth-format", example=BIRTH_EXAMPLE)
        year, month, day = worded["y"], month_number, int(worded["d"])
    try:
        born = _date(year, month, day, today)
    except ValueError:
        return reject("invalid-birth-date", example=BIRTH_EXAMPLE)
    if born is None or not _in_range(born, today):
        return reject("invalid-birth-age", min=AGE_MIN, max=AGE_MAX)
    return Accepted(born.isoformat())
