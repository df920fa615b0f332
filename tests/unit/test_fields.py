"""Tests of flows.fields: what a caller may type into each field, and what is stored."""

from __future__ import annotations

import dataclasses
import datetime
import pathlib
import re
import unicodedata
from collections.abc import Callable, Iterator
from types import MappingProxyType

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from flows import dates, fields
from flows.fields import (
    CODE_ALPHABET,
    Accepted,
    Outcome,
    Rejected,
    area,
    birth_date,
    clean_text,
    full_name,
    injuries,
    is_declaration,
    location_text,
    military_unit,
    new_case_code,
    parse_case_code,
    people_count,
    phone,
    rank,
    service_number,
    shared_phone,
)
from tests.exploration import examples

TODAY = datetime.date(2024, 5, 17)
LONG = 10_000

# Every message id a validator may return, with exactly the params it must carry.  Comparing a
# rejection's params with this table (not merely "is the input absent") proves that no part of
# the caller's input ever reaches them.
PARAMS: dict[str, dict[str, str | int]] = {
    "invalid-name-length": {"min": 2, "max": 100},
    "invalid-name-chars": {},
    "invalid-birth-format": {"example": "17.05.1990"},
    "invalid-birth-date": {"example": "17.05.1990"},
    "invalid-birth-age": {"min": 16, "max": 70},
    "invalid-unit-length": {"max": 64},
    "invalid-rank-length": {"max": 40},
    "invalid-service-number": {"max": 20},
    "invalid-people-number": {"example": "3"},
    "invalid-people-range": {"min": 1, "max": 50},
    "invalid-area-length": {"max": 100},
    "invalid-phone": {"example": "+79123456789"},
    "invalid-injuries-length": {"max": 200},
    "invalid-location-length": {"min": 2, "max": 300},
}


def _birth_date_today(text: str) -> Outcome:
    return birth_date(text, TODAY)


VALIDATORS: dict[str, tuple[Callable[[str], Outcome], frozenset[str]]] = {
    "full_name": (full_name, frozenset({"invalid-name-length", "invalid-name-chars"})),
    "birth_date": (
        _birth_date_today,
        frozenset({"invalid-birth-format", "invalid-birth-date", "invalid-birth-age"}),
    ),
    "military_unit": (military_unit, frozenset({"invalid-unit-length"})),
    "rank": (rank, frozenset({"invalid-rank-length"})),
    "service_number": (service_number, frozenset({"invalid-service-number"})),
    "people_count": (people_count, frozenset({"invalid-people-number", "invalid-people-range"})),
    "area": (area, frozenset({"invalid-area-length"})),
    "phone": (phone, frozenset({"invalid-phone"})),
    "injuries": (injuries, frozenset({"invalid-injuries-length"})),
    "location_text": (location_text, frozenset({"invalid-location-length"})),
}

INVISIBLE = (
    [chr(c) for c in range(0x00, 0x20)]
    + [chr(c) for c in range(0x7F, 0xA0)]
    + ["\u061c", "\u200e", "\u200f", "\u202a", "\u202b", "\u202c", "\u202d", "\u202e"]
    + ["\u2066", "\u2067", "\u2068", "\u2069"]
    + ["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff"]
)
BIDI_AND_ZERO_WIDTH = "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
BIDI_AND_ZERO_WIDTH += "\u200b\u200c\u200d\u2060\ufeff"


def accepted(outcome: Outcome) -> str:
    assert isinstance(outcome, Accepted), outcome
    return outcome.value


def rejected(outcome: Outcome) -> str:
    assert isinstance(outcome, Rejected), outcome
    assert dict(outcome.params) == PARAMS[outcome.message_id]
    return outcome.message_id


def check_outcome(name: str, outcome: Outcome) -> None:
    """The invariants every outcome of every validator satisfies."""
    check, ids = VALIDATORS[name]
    if isinstance(outcome, Rejected):
        assert outcome.message_id in ids
        assert isinstance(outcome.params, MappingProxyType)
        assert dict(outcome.params) == PARAMS[outcome.message_id]
    else:
        assert isinstance(outcome, Accepted)
        value = outcome.value
        value.encode("utf-8")  # no lone surrogates
        assert value == clean_text(value)
        assert unicodedata.is_normalized("NFC", value)
        assert value
        assert not any(ch in value for ch in INVISIBLE)
        assert check(value) == outcome, "an accepted value must be accepted again unchanged"


# --------------------------------------------------------------------------------------------
# Strategies
# --------------------------------------------------------------------------------------------

# Every Unicode category, surrogates and unassigned code points included, with extra weight on
# the characters the cleaner has to handle.
ANY_CHAR = st.one_of(
    st.characters(codec=None, exclude_categories=()),
    st.sampled_from([*INVISIBLE, "\ud800", "\udfff", "\u00a0", "\u2028", "\u3000"]),
    st.sampled_from("иІіЇїЄєҐґЁёЙйAzÉß0123456789 -'’ʼ`‐‑–.,/+()😀🏳️\u0306\u0301"),
)
SHORT_TEXT = st.text(ANY_CHAR, max_size=200)
LONG_TEXT = st.builds(
    lambda chunk, times: (chunk * times)[:LONG],
    st.text(ANY_CHAR, min_size=1, max_size=40),
    st.integers(min_value=1, max_value=LONG),
)
ANY_TEXT = st.one_of(SHORT_TEXT, LONG_TEXT)

NAME_LETTERS = "АБВГДЕЁЖЗИЙКЛМНОПРСТУФХЦЧШЩЪЫЬЭЮЯабвгдеёжзийклмнопрстуфхцчшщъыьэюяІіЇїЄєҐґ"
NAME_LETTERS += "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyzÉéÖöÇçŁłŠšß"
NAME_WORD = st.text(st.sampled_from(NAME_LETTERS), min_size=1, max_size=15)
NAME_JOINER = st.sampled_from([" ", "-", "'", "  ", "\u2011", "\u2019", "\u02bc", "\t"])

PROPERTY = settings(
    max_examples=examples(150),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def is_name_letter(ch: str) -> bool:
    return unicodedata.category(ch) in {"Lu", "Ll", "Lt"} and unicodedata.name(ch, "").startswith(
        ("LATIN ", "CYRILLIC ")
    )


# --------------------------------------------------------------------------------------------
# Outcomes
# --------------------------------------------------------------------------------------------


def test_outcomes_are_frozen_and_params_read_only() -> None:
    ok = Accepted("x")
    with pytest.raises(dataclasses.FrozenInstanceError):
        ok.value = "y"  # type: ignore[misc]
    bad = Rejected("invalid-phone", {"example": "+79123456789"})
    assert isinstance(bad.params, MappingProxyType)
    with pytest.raises(TypeError):
        bad.params["example"] = "oops"  # type: ignore[index]
    assert Rejected("invalid-name-chars").params == {}
    assert bad == Rejected("invalid-phone", MappingProxyType({"example": "+79123456789"}))
    assert hash(bad) == hash(Rejected("invalid-phone", {"example": "+79123456789"}))


def test_a_dict_passed_as_params_is_copied() -> None:
    params: dict[str, str | int] = {"max": 1}
    bad = Rejected("x", params)
    params["max"] = 2
    assert bad.params == {"max": 1}


# --------------------------------------------------------------------------------------------
# clean_text
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("", ""),
        ("   \t\n  ", ""),
        ("  Иван   Петров  ", "Иван Петров"),
        ("Иван\nПетров", "Иван Петров"),
        ("Иван\tПетров", "Иван Петров"),
        ("Иван\r\nПетров", "Иван Петров"),
        ("Ив\u202eан", "Иван"),
        ("\u2067Иван\u2069", "Иван"),
        ("И\u200bв\u200cа\u200dн\u2060\ufeff", "Иван"),
        ("\u061cابن", "ابن"),
        ("a\x00b\x07c\x1bd\x7fe\x85f\x9fg", "abcdefg"),
        ("и\u0306", "й"),  # NFC composes
        ("и\u200b\u0306", "й"),  # composes once the zero-width space between is gone
        ("e\u0301", "é"),
        ("a\u00a0\u00a0b\u3000c\u2028d", "a b c d"),
        ("x\ud800y\udfffz", "xyz"),
        ("😀 привет 🏳️", "😀 привет 🏳️"),
    ],
)
def test_clean_text(raw: str, clean: str) -> None:
    assert clean_text(raw) == clean


@given(ANY_TEXT)
@PROPERTY
def test_clean_text_output_is_clean(text: str) -> None:
    clean = clean_text(text)
    clean.encode("utf-8")
    assert not any(ch in clean for ch in INVISIBLE)
    assert clean == clean.strip()
    assert "  " not in clean
    assert unicodedata.is_normalized("NFC", clean)
    assert clean_text(clean) == clean


# --------------------------------------------------------------------------------------------
# full_name
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        ("Иван Петров", "Иван Петров"),
        ("  иван   петров  ", "иван петров"),
        ("Іван Їжак-Єрмоленко", "Іван Їжак-Єрмоленко"),
        ("Ґонта Ґедзь", "Ґонта Ґедзь"),
        ("Пётр Ёлкин", "Пётр Ёлкин"),
        ("Ivan Petrov", "Ivan Petrov"),
        ("Иван Smith", "Иван Smith"),  # mixed scripts: transliterated names occur
        ("Ив\u202eан", "Иван"),
        ("Иван\u200b Петров", "Иван Петров"),
        ("Ио", "Ио"),
        ("Петров-Водкин", "Петров-Водкин"),
        ("Петров\u2010Водкин", "Петров-Водкин"),
        ("Петров\u2011Водкин", "Петров-Водкин"),
        ("Петров\u2013Водкин", "Петров-Водкин"),
        ("Д’Артаньян", "Д'Артаньян"),
        ("Мар\u02bcяна", "Мар'яна"),
        ("O`Neil", "O'Neil"),
        ("O'Neil", "O'Neil"),
        ("и\u0306ван", "йван"),  # a combining breve that composes (й)
        ("Jose\u0301", "José"),
        ("Müller Straße", "Müller Straße"),
        ("Иван\nПетрович\tСидоров", "Иван Петрович Сидоров"),
        ("Я" * 100, "Я" * 100),
        ("Ян " + "о" * 97, "Ян " + "о" * 97),
    ],
)
def test_full_name_accepts(raw: str, value: str) -> None:
    assert accepted(full_name(raw)) == value


@pytest.mark.parametrize(
    ("raw", "message_id"),
    [
        ("", "invalid-name-length"),
        ("   \n\t ", "invalid-name-length"),
        ("\u202e\u200b", "invalid-name-length"),
        ("Я", "invalid-name-length"),
        ("Я-", "invalid-name-length"),  # fewer than two letters
        ("' -", "invalid-name-length"),
        ("Я" * 101, "invalid-name-length"),
        ("Я" * LONG, "invalid-name-length"),
        ("😀" * LONG, "invalid-name-length"),
        ("Иван2", "invalid-name-chars"),
        ("Иван Петров 1990", "invalid-name-chars"),
        ("Иван 😀", "invalid-name-chars"),
        ("Иван!", "invalid-name-chars"),
        ("Иван, Петров", "invalid-name-chars"),
        ("Ivan_Petrov", "invalid-name-chars"),
        ("Иван.П", "invalid-name-chars"),
        ("Ιωάννης", "invalid-name-chars"),  # Greek
        ("محمد علي", "invalid-name-chars"),  # Arabic
        ("王小明", "invalid-name-chars"),
        ("Ｉｖａｎ", "invalid-name-chars"),  # full-width Latin is not Latin script
        ("𝐈𝐯𝐚𝐧", "invalid-name-chars"),  # mathematical bold
        ("и\u0301ван", "invalid-name-chars"),  # a stress mark that does not compose
        ("Ivan\u0332", "invalid-name-chars"),
        ("Иван — Петров", "invalid-name-chars"),  # an em dash is not a hyphen
        ("<b>Иван</b>", "invalid-name-chars"),
    ],
)
def test_full_name_rejects(raw: str, message_id: str) -> None:
    assert rejected(full_name(raw)) == message_id


@given(st.lists(NAME_WORD, min_size=1, max_size=6), st.lists(NAME_JOINER, min_size=5, max_size=5))
@PROPERTY
def test_full_name_accepts_names_made_of_letters(words: list[str], joiners: list[str]) -> None:
    raw = words[0] + "".join(j + w for j, w in zip(joiners, words[1:], strict=False))
    letters = sum(ch.isalpha() for ch in raw)
    outcome = full_name(raw)
    if letters < 2 or len(clean_text(raw)) > 100:
        assert rejected(outcome) == "invalid-name-length"
    else:
        expected = clean_text(raw).translate({0x2011: "-", 0x2019: "'", 0x02BC: "'"})
        assert accepted(outcome) == expected


@given(ANY_TEXT)
@PROPERTY
@example("Иван Smith")
def test_full_name_accepted_values_satisfy_the_rules(text: str) -> None:
    outcome = full_name(text)
    check_outcome("full_name", outcome)
    if isinstance(outcome, Accepted):
        value = outcome.value
        assert 2 <= len(value) <= 100
        assert all(is_name_letter(ch) or ch in " -'" for ch in value)
        assert sum(is_name_letter(ch) for ch in value) >= 2
        assert not any(unicodedata.combining(ch) for ch in value)


# --------------------------------------------------------------------------------------------
# birth_date
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        ("17.05.1990", "1990-05-17"),
        ("7.5.1990", "1990-05-07"),
        ("07.05.1990", "1990-05-07"),
        ("1990-05-17", "1990-05-17"),
        ("1990-5-7", "1990-05-07"),
        ("17/05/1990", "1990-05-17"),
        ("17 05 1990", "1990-05-17"),
        ("17-05-1990", "1990-05-17"),
        ("17,05,1990", "1990-05-17"),
        ("17. 05. 1990", "1990-05-17"),
        ("  17.05.1990  ", "1990-05-17"),
        ("17.05.1990 г.", "1990-05-17"),
        ("17.05.1990г", "1990-05-17"),
        ("17.05.1990 року", "1990-05-17"),
        ("17051990", "1990-05-17"),
        ("17.\u202e05.1990", "1990-05-17"),
        ("29.02.2000", "2000-02-29"),
        ("17.05.2008", "2008-05-17"),  # 16 today
        ("18.05.1953", "1953-05-18"),  # 70 today, 71 tomorrow
    ],
)
def test_birth_date_accepts(raw: str, value: str) -> None:
    assert accepted(birth_date(raw, TODAY)) == value


@pytest.mark.parametrize(
    ("raw", "message_id"),
    [
        ("", "invalid-birth-format"),
        ("   ", "invalid-birth-format"),
        ("90-05-17", "invalid-birth-date"),  # a two-digit year comes last: day 90
        ("17 мая", "invalid-birth-format"),  # no year
        ("17 мартобря 1990", "invalid-birth-format"),  # not a month
        ("май 1990", "invalid-birth-format"),
        ("1990", "invalid-birth-format"),
        ("17.05.19900", "invalid-birth-format"),
        ("117.05.1990", "invalid-birth-format"),
        ("17..05.1990", "invalid-birth-format"),
        ("١٧.٠٥.١٩٩٠", "invalid-birth-format"),  # ASCII digits only
        ("17.05.1990 😀", "invalid-birth-format"),
        ("1" * LONG, "invalid-birth-format"),
        ("31.02.1990", "invalid-birth-date"),
        ("29.02.1990", "invalid-birth-date"),
        ("32.01.1990", "invalid-birth-date"),
        ("00.01.1990", "invalid-birth-date"),
        ("17.13.1990", "invalid-birth-date"),
        ("17.00.1990", "invalid-birth-date"),
        ("01.01.0000", "invalid-birth-date"),
        ("1990-02-30", "invalid-birth-date"),
        ("18.05.2008", "invalid-birth-age"),  # 15 today, 16 tomorrow
        ("17.05.1953", "invalid-birth-age"),  # 71 today
        ("17.05.2030", "invalid-birth-age"),  # the future
        ("01.01.0001", "invalid-birth-age"),
        ("17.05.2024", "invalid-birth-age"),
    ],
)
def test_birth_date_rejects(raw: str, message_id: str) -> None:
    assert rejected(birth_date(raw, TODAY)) == message_id


def test_birth_date_leap_day_birthday() -> None:
    assert rejected(birth_date("29.02.2008", datetime.date(2024, 2, 28))) == "invalid-birth-age"
    assert accepted(birth_date("29.02.2008", datetime.date(2024, 2, 29))) == "2008-02-29"
    assert accepted(birth_date("29.02.2008", datetime.date(2025, 3, 1))) == "2008-02-29"


DATE_FORMATS: list[Callable[[datetime.date], str]] = [
    lambda d: f"{d.day:02}.{d.month:02}.{d.year:04}",
    lambda d: f"{d.day}.{d.month}.{d.year:04}",
    lambda d: d.isoformat(),
    lambda d: f"{d.day:02}/{d.month:02}/{d.year:04}",
    lambda d: f"{d.day} {d.month} {d.year:04}",
    lambda d: f"{d.day:02}-{d.month:02}-{d.year:04}",
    lambda d: f"{d.day},{d.month},{d.year:04}",
    lambda d: f"{d.day:02}{d.month:02}{d.year:04}",
]


@given(
    born=st.dates(min_value=datetime.date(1900, 1, 1), max_value=datetime.date(2030, 12, 31)),
    today=st.dates(min_value=datetime.date(2000, 1, 1), max_value=datetime.date(2040, 12, 31)),
    fmt=st.sampled_from(DATE_FORMATS),
)
@PROPERTY
def test_birth_date_any_format_any_age(
    born: datetime.date, today: datetime.date, fmt: Callable[[datetime.date], str]
) -> None:
    age = today.year - born.year - ((today.month, today.day) < (born.month, born.day))
    outcome = birth_date(fmt(born), today)
    if 16 <= age <= 70:
        assert accepted(outcome) == born.isoformat()
    else:
        assert rejected(outcome) == "invalid-birth-age"


# --------------------------------------------------------------------------------------------
# Free-text fields
# --------------------------------------------------------------------------------------------

FREE_TEXT: list[tuple[Callable[[str], Outcome], str, int, int]] = [
    (military_unit, "invalid-unit-length", 1, 64),
    (rank, "invalid-rank-length", 1, 40),
    (area, "invalid-area-length", 1, 100),
    (injuries, "invalid-injuries-length", 1, 200),
    (location_text, "invalid-location-length", 2, 300),
]


@pytest.mark.parametrize(("check", "message_id", "low", "high"), FREE_TEXT)
def test_free_text_limits(
    check: Callable[[str], Outcome], message_id: str, low: int, high: int
) -> None:
    assert accepted(check("ж" * high)) == "ж" * high
    assert accepted(check("ж" * low)) == "ж" * low
    assert accepted(check("  " + "ж" * high + " \n ")) == "ж" * high
    assert accepted(check("\u202e" * 50 + "ж" * high + "\u200b" * 50)) == "ж" * high
    assert rejected(check("ж" * (high + 1))) == message_id
    assert rejected(check("ж" * LONG)) == message_id
    assert rejected(check("😀" * LONG)) == message_id
    assert rejected(check("")) == message_id
    assert rejected(check(" \t\n ")) == message_id
    assert rejected(check("\u202e\u200b\x00")) == message_id
    if low > 1:
        assert rejected(check("ж" * (low - 1))) == message_id


@pytest.mark.parametrize(
    ("check", "raw", "value"),
    [
        (military_unit, "в/ч 12345", "в/ч 12345"),
        (military_unit, "  в/ч\n12345 ", "в/ч 12345"),
        (military_unit, "1", "1"),
        (military_unit, "Unit 😀 №7", "Unit 😀 №7"),
        (rank, "рядовой", "рядовой"),
        (rank, "мл.\tсержант", "мл. сержант"),
        (rank, "Private", "private"),  # typed ranks read as the button ranks do
        (rank, "Старший лейтенант", "старший лейтенант"),
        (rank, "ВДВ", "ВДВ"),
        (area, "Покровское направление", "Покровское направление"),
        (area, "Бахмут", "Бахмут"),
        (injuries, "ранение ноги, могу идти", "ранение ноги, могу идти"),
        (injuries, "нет", "нет"),
        (
            location_text,
            "у разрушенной школы, 2 км к северу",
            "у разрушенной школы, 2 км к северу",
        ),
        (location_text, "лес\u202e", "лес"),
    ],
)
def test_free_text_values(check: Callable[[str], Outcome], raw: str, value: str) -> None:
    assert accepted(check(raw)) == value


# --------------------------------------------------------------------------------------------
# service_number
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        ("АБ-123456", "АБ-123456"),
        ("аб-123456", "АБ-123456"),
        ("аб 123 456", "АБ123456"),
        ("ab-123456", "AB-123456"),
        ("Жё 1", "ЖЁ1"),
        ("ії-7", "ІЇ-7"),
        ("1", "1"),
        ("АБ\u2013123", "АБ-123"),
        ("  Ж\u200b-12\u202e3  ", "Ж-123"),
        ("1" * 20, "1" * 20),
        ("1 " * 20, "1" * 20),  # spaces do not count
    ],
)
def test_service_number_accepts(raw: str, value: str) -> None:
    assert accepted(service_number(raw)) == value


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "   ",
        "\u200b",
        "1" * 21,
        "1" * LONG,
        "АБ_123",
        "АБ/123",
        "АБ.123",
        "#123",
        "123😀",
        "١٢٣",  # ASCII digits only
        "ΑΒ-123",  # Greek
        "ＡＢ123",
    ],
)
def test_service_number_rejects(raw: str) -> None:
    assert rejected(service_number(raw)) == "invalid-service-number"


# --------------------------------------------------------------------------------------------
# people_count
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "value"),
    [("1", "1"), ("7", "7"), (" 7 ", "7"), ("\n12\t", "12"), ("007", "7"), ("50", "50")],
)
def test_people_count_accepts(raw: str, value: str) -> None:
    assert accepted(people_count(raw)) == value


@pytest.mark.parametrize(
    ("raw", "message_id"),
    [
        ("", "invalid-people-number"),
        ("  ", "invalid-people-number"),
        ("seven", "invalid-people-number"),
        ("7 человек и собака", "invalid-people-number"),
        ("3-4", "invalid-people-number"),
        ("пять или шесть", "invalid-people-number"),
        ("-3", "invalid-people-number"),
        ("+3", "invalid-people-number"),
        ("3.5", "invalid-people-number"),
        ("1 2", "invalid-people-number"),
        ("٣", "invalid-people-number"),  # Arabic-Indic three
        ("７", "invalid-people-number"),  # full-width seven
        ("²", "invalid-people-number"),
        ("7😀", "invalid-people-number"),
        ("a" * LONG, "invalid-people-number"),
        ("0", "invalid-people-range"),
        ("000", "invalid-people-range"),
        ("51", "invalid-people-range"),
        ("100", "invalid-people-range"),
        ("9" * LONG, "invalid-people-range"),  # longer than int() would parse
        ("0" * (LONG - 1) + "5", "accepted"),
    ],
)
def test_people_count_rejects(raw: str, message_id: str) -> None:
    if message_id == "accepted":
        assert accepted(people_count(raw)) == "5"
    else:
        assert rejected(people_count(raw)) == message_id


@given(st.integers(min_value=-1000, max_value=10**30), st.sampled_from(["", " ", "  \n", "0"]))
@PROPERTY
def test_people_count_integers(number: int, padding: str) -> None:
    outcome = people_count(padding + str(number) + padding.replace("0", ""))
    if number < 0:
        assert rejected(outcome) == "invalid-people-number"
    elif 1 <= number <= 50:
        assert accepted(outcome) == str(number)
    else:
        assert rejected(outcome) == "invalid-people-range"


# --------------------------------------------------------------------------------------------
# phone
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        ("+79123456789", "+79123456789"),
        ("+7 912 345-67-89", "+79123456789"),
        ("+7 (912) 345-67-89", "+79123456789"),
        ("8 (912) 345-67-89", "+79123456789"),
        ("89123456789", "+79123456789"),
        ("79123456789", "+79123456789"),
        ("8.912.345.67.89", "+79123456789"),
        ("912 345 67 89", "+79123456789"),
        ("+380671234567", "+380671234567"),
        ("+380 (67) 123-45-67", "+380671234567"),
        ("380671234567", "+380671234567"),
        ("067 123 45 67", "+380671234567"),
        ("(067) 123-45-67", "+380671234567"),
        ("0671234567", "+380671234567"),
        ("8 067 123 45 67", "+380671234567"),  # the old Ukrainian long-distance prefix
        ("80671234567", "+380671234567"),
        ("+44 20 7946 0958", "+442079460958"),
        ("+49 30 12345678", "+493012345678"),
        ("0049 30 12345678", "+493012345678"),
        ("+1 202 555 0143", "+12025550143"),
        ("+12345678", "+12345678"),  # 8 digits, the shortest E.164 accepted
        ("+123456789012345", "+123456789012345"),  # 15 digits
        ("  +7\u202e 912\u200b345\u20136789 ", "+79123456789"),
    ],
)
def test_phone_accepts(raw: str, value: str) -> None:
    assert accepted(phone(raw)) == value


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "   ",
        "+",
        "()",
        "12345",
        "+1234567",  # 7 digits
        "+1234567890123456",  # 16 digits
        "+0123456789",  # no country code starts with 0
        "+7912345678",  # +7 needs 10 more digits
        "+7 067 123 45 67",  # no Russian area code starts with 0
        "7 067 123 45 67",
        "+791234567890",
        "+38067123456",  # +380 needs 9 more digits
        "+3806712345678",
        "8912345678",  # 10 digits after 8
        "891234567890",
        "067123456",
        "1234567890",
        "0123456789012",
        "++79123456789",
        "7+9123456789",
        "+7 912 345 67 89 доб. 12",
        "+7 912 345 67 89 😀",
        "+7/912/345/67/89",
        "+7_912_345_67_89",
        "телефон",
        "+７９１２３４５６７８９",  # full-width digits
        "+٧٩١٢٣٤٥٦٧٨٩",
        "+7" + "9" * LONG,
        "8" * LONG,
    ],
)
def test_phone_rejects(raw: str) -> None:
    assert rejected(phone(raw)) == "invalid-phone"


RU_FORMATS: list[Callable[[str], str]] = [
    lambda s: f"+7{s}",
    lambda s: f"8{s}",
    lambda s: f"8 ({s[:3]}) {s[3:6]}-{s[6:8]}-{s[8:]}",
    lambda s: f"+7 {s[:3]} {s[3:6]} {s[6:8]} {s[8:]}",
    lambda s: f"7.{s[:3]}.{s[3:6]}.{s[6:]}",
]
UA_FORMATS: list[Callable[[str], str]] = [
    lambda s: f"+380{s}",
    lambda s: f"380{s}",
    lambda s: f"0{s}",
    lambda s: f"0{s[:2]} {s[2:5]} {s[5:7]} {s[7:]}",
    lambda s: f"+380 ({s[:2]}) {s[2:5]}-{s[5:7]}-{s[7:]}",
]


# Russian and Ukrainian operator and area codes never start with 0 ("00…" is the
# international prefix, "8 0…" the old Ukrainian long-distance one).
RU_SUBSCRIBER = st.builds(
    str.__add__, st.sampled_from("123456789"), st.text("0123456789", min_size=9, max_size=9)
)
UA_SUBSCRIBER = st.builds(
    str.__add__, st.sampled_from("123456789"), st.text("0123456789", min_size=8, max_size=8)
)


@given(RU_SUBSCRIBER, st.sampled_from(RU_FORMATS))
@PROPERTY
def test_phone_russian_formats(subscriber: str, fmt: Callable[[str], str]) -> None:
    assert accepted(phone(fmt(subscriber))) == "+7" + subscriber


@given(UA_SUBSCRIBER, st.sampled_from(UA_FORMATS))
@PROPERTY
def test_phone_ukrainian_formats(subscriber: str, fmt: Callable[[str], str]) -> None:
    assert accepted(phone(fmt(subscriber))) == "+380" + subscriber


@pytest.mark.parametrize(
    ("shared", "value"),
    [
        ("79123456789", "+79123456789"),  # Telegram sends a shared contact without the "+"
        ("380671234567", "+380671234567"),
        ("375291234567", "+375291234567"),  # any country: the button is always his own number
        ("491701234567", "+491701234567"),
        ("+79123456789", "+79123456789"),
    ],
)
def test_a_shared_contact_is_read_as_international(shared: str, value: str) -> None:
    assert accepted(shared_phone(shared)) == value


def test_a_shared_contact_still_needs_a_plausible_number() -> None:
    assert rejected(shared_phone("123")) == "invalid-phone"


@given(ANY_TEXT)
@PROPERTY
def test_phone_accepted_values_are_e164(text: str) -> None:
    outcome = phone(text)
    check_outcome("phone", outcome)
    if isinstance(outcome, Accepted):
        assert re.fullmatch(r"\+[1-9][0-9]{7,14}", outcome.value)


# --------------------------------------------------------------------------------------------
# Case code
# --------------------------------------------------------------------------------------------

CODE_RE = re.compile(r"[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}")


def test_code_alphabet_is_crockford() -> None:
    assert len(CODE_ALPHABET) == 32
    assert len(set(CODE_ALPHABET)) == 32
    assert not set("ILOU") & set(CODE_ALPHABET)
    assert "".join(sorted(CODE_ALPHABET)) == CODE_ALPHABET


def test_new_case_code_format_and_randomness() -> None:
    codes = {new_case_code() for _ in range(200)}
    assert len(codes) == 200
    assert all(CODE_RE.fullmatch(code) for code in codes)
    assert {ch for code in codes for ch in code} - {"-"} <= set(CODE_ALPHABET)


def _choices(chars: list[str]) -> Callable[[str], str]:
    stream: Iterator[str] = iter(chars)

    def choice(alphabet: str) -> str:
        assert alphabet == CODE_ALPHABET
        return next(stream)

    return choice


def test_new_case_code_uses_the_given_choice() -> None:
    assert new_case_code(_choices(list("K7QM3P9X"))) == "K7QM-3P9X"


def test_new_case_code_refuses_a_choice_outside_the_alphabet() -> None:
    with pytest.raises(ValueError, match="CODE_ALPHABET"):
        new_case_code(_choices(list("K7QM3P9U")))


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("K7QM-3P9X", "K7QM-3P9X"),
        ("k7qm-3p9x", "K7QM-3P9X"),
        ("K7QM3P9X", "K7QM-3P9X"),
        ("k7qm3p9x", "K7QM-3P9X"),
        ("  K7QM-3P9X  ", "K7QM-3P9X"),
        ("K7QM 3P9X", "K7QM-3P9X"),
        ("k 7 q m - 3 p 9 x", "K7QM-3P9X"),
        ("K7QM\u20133P9X", "K7QM-3P9X"),
        ("K7QM\u202e-3P9X\u200b", "K7QM-3P9X"),
        ("\nK7QM-3P9X\n", "K7QM-3P9X"),
        ("OOOO-0000", "0000-0000"),
        ("oIlL-1111", "0111-1111"),
        ("К7QМ-3Р9Х", "K7QM-3P9X"),  # Cyrillic К М Р Х
        ("к7qм-3р9х", "K7QM-3P9X"),
        ("ＫＡ７Ｑ-ＭＭＭＭ", "KA7Q-MMMM"),  # full-width
    ],
)
def test_parse_case_code_accepts(raw: str, code: str) -> None:
    assert parse_case_code(raw) == code


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "   ",
        "K7QM-3P9",
        "K7QM-3P9XX",
        "K7QM3P9",
        "UUUU-0000",  # U is never valid
        "K7QM-3P9U",
        "K7QM_3P9X",
        "K7QM.3P9X",
        "K7QM-3P9X!",
        "K7QM-3P9😀",
        "Я иду сдаваться",
        "K7QM-3P9X" * 1000,
        "K" * LONG,
    ],
)
def test_parse_case_code_rejects(raw: str) -> None:
    assert parse_case_code(raw) is None


@given(st.lists(st.sampled_from(CODE_ALPHABET), min_size=8, max_size=8), st.data())
@PROPERTY
def test_case_code_round_trips(chars: list[str], data: st.DataObject) -> None:
    code = new_case_code(_choices(chars))
    assert CODE_RE.fullmatch(code)
    assert parse_case_code(code) == code
    assert parse_case_code(code.lower()) == code
    assert parse_case_code(code.replace("-", "")) == code
    assert parse_case_code(code.replace("-", "").lower()) == code
    assert parse_case_code(f"  {code[:2]} {code[2:6]}  {code[6:]} ") == code
    typed = "".join(data.draw(st.sampled_from("oO")) if ch == "0" else ch for ch in code).replace(
        "1", data.draw(st.sampled_from("iIlL"))
    )
    assert parse_case_code(typed) == code


@given(ANY_TEXT)
@PROPERTY
def test_parse_case_code_never_raises(text: str) -> None:
    code = parse_case_code(text)
    assert code is None or CODE_RE.fullmatch(code)


def test_default_choice_round_trips() -> None:
    for _ in range(100):
        code = new_case_code()
        assert parse_case_code(code.lower().replace("-", " ")) == code


# --------------------------------------------------------------------------------------------
# is_declaration
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "Я иду сдаваться",
        "я иду сдаваться",
        "Я ИДУ СДАВАТЬСЯ",
        "Я иду сдаваться!!!",
        "«Я иду сдаваться»",
        "  я   иду\n сдаваться.  ",
        "Я иду сдаваться 🏳️",
        "🏳️🏳️ я, иду сдаваться",
        "иду сдаваться",
        "Иду сдаваться",
        "Я сдаюсь",
        "сдаюсь",
        "СДАЮСЬ!",
        "я сдаюсь, не стреляйте",
        "Не стреляйте, я сдаюсь",
        "Да, я иду сдаваться",
        "я иду к вам сдаваться",
        "иду сдаватся",
        "Я йду здаватися",
        "я йду здаватися",
        "Я іду здаватися",
        "Я здаюся",
        "здаюся",
        "здаюсь",
        "Я ЗДАЮСЯ!!!",
        "ya idu sdavatsya",
        "Ya idu sdavat'sya",
        "ya sdayus",
        "ya sdayus'",
        "YA SDAYUS!",
        "я сда\u200bюсь",
        "я\u202e сдаюсь",
        "Я иду сдаваться\nне стреляйте",
    ],
)
def test_is_declaration_true(text: str) -> None:
    assert is_declaration(text) is True


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "🏳️",
        "привет",
        "да",
        "нет",
        "не сейчас",
        "Я не сдаюсь",
        "я не сдаюсь",
        "Я НЕ СДАЮСЬ!",
        "не сдаюсь",
        "я никогда не сдаюсь",
        "Я не иду сдаваться",
        "не иду сдаваться",
        "я иду не сдаваться",
        "не здаюся",
        "Я не здаюся",
        "я не здаюсь",
        "я не йду здаватися",
        "ya ne sdayus",
        "ya ne idu sdavatsya",
        "нет я не сдаюсь",
        "сдаваться",
        "иду",
        "я иду домой",
        "сдаюсьсдаюсь",
        "несдаюсь",
        "сдаю",
        "сдаюсь" * 2000,
    ],
)
def test_is_declaration_false(text: str) -> None:
    assert is_declaration(text) is False


def test_is_declaration_treats_yo_and_ye_alike() -> None:
    # ё is folded to е: «нё» reads as the negation «не», «ещё» as «еще».
    assert is_declaration("ЕЩЁ РАЗ: Я ИДУ СДАВАТЬСЯ") is True
    assert is_declaration("я нё сдаюсь") is False
    assert is_declaration("Я НЁ СДАЮСЬ") is False
    assert is_declaration("Ёлки, я сдаюсь") is True


DECLARATIONS = ["Я иду сдаваться", "иду сдаваться", "Я сдаюсь", "Я йду здаватися", "Я здаюся"]
DECORATION = st.text(st.sampled_from(" !?.…🏳️😀🙏\u200b\u202e"), max_size=6)


@given(st.sampled_from(DECLARATIONS), DECORATION, DECORATION, st.booleans())
@PROPERTY
def test_is_declaration_ignores_case_and_decoration(
    phrase: str, before: str, after: str, upper: bool
) -> None:
    text = before + (phrase.upper() if upper else phrase) + after
    assert is_declaration(text) is True
    negated = re.sub(r"(сдаюсь|иду|йду|здаюся)", r"не \1", text, count=1, flags=re.IGNORECASE)
    assert is_declaration(negated) is False


@given(ANY_TEXT)
@PROPERTY
def test_is_declaration_never_raises(text: str) -> None:
    assert isinstance(is_declaration(text), bool)


# --------------------------------------------------------------------------------------------
# Every validator
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(VALIDATORS))
@pytest.mark.parametrize(
    "text",
    [
        "",
        " ",
        "\x00",
        "\ud800",
        "\udc00\ud800",
        "Ив\u202eан",
        "😀" * 5,
        "\u202e" * LONG,
        "Ж" * LONG,
        "9" * LONG,
        "\x00\x1f\x7f\x9f\u2028\u2029\ufeff\ufffe\uffff",
        "SECRET-CANARY-12345 <script>",
    ],
)
def test_validators_on_awkward_input(name: str, text: str) -> None:
    outcome = VALIDATORS[name][0](text)
    check_outcome(name, outcome)
    if isinstance(outcome, Rejected):
        assert "CANARY" not in repr(outcome)


@pytest.mark.parametrize("name", sorted(VALIDATORS))
@given(text=ANY_TEXT)
@PROPERTY
def test_validators_never_raise_and_never_echo(name: str, text: str) -> None:
    outcome = VALIDATORS[name][0](text)
    check_outcome(name, outcome)


@given(text=ANY_TEXT, today=st.dates())
@PROPERTY
def test_birth_date_never_raises_whatever_today(text: str, today: datetime.date) -> None:
    outcome = birth_date(text, today)
    if isinstance(outcome, Rejected):
        assert dict(outcome.params) == PARAMS[outcome.message_id]


def test_every_message_id_is_listed() -> None:
    ids = set().union(*(ids for _, ids in VALIDATORS.values()))
    assert ids == set(PARAMS)
    source = "".join(
        pathlib.Path(str(module.__file__)).read_text(encoding="utf-8")
        for module in (fields, dates)
    )
    assert set(re.findall(r'"(invalid-[a-z-]+)"', source)) == set(PARAMS)
