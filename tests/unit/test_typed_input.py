"""Input as people type it: counts in words, dates with the month in words or a two-digit
year, the cry for help, button labels typed by hand. Tables for the forms the issue names,
hypothesis for the open space around them (the word lists here are written out anew, not taken
from flows.words, so a gap in the module's tables fails here)."""

from __future__ import annotations

import datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from flows import dates, words
from flows.fields import Accepted, Rejected, birth_date, people_count
from tests.unit.test_fields import PROPERTY

TODAY = datetime.date(2026, 12, 1)


def accepted(outcome: object) -> str:
    assert isinstance(outcome, Accepted), outcome
    return outcome.value


def rejected(outcome: object) -> tuple[str, dict[str, str | int]]:
    assert isinstance(outcome, Rejected), outcome
    return outcome.message_id, dict(outcome.params)


# ---------------------------------------------------------------------------------------------
# Counts


@pytest.mark.parametrize(
    ("text", "count"),
    [
        ("трое", "3"),
        ("нас трое", "3"),
        ("Нас ТРОЕ!", "3"),
        ("десятеро", "10"),
        ("двадцять людей", "20"),
        ("двадцать пять", "25"),
        ("двадцять п’ять", "25"),
        ("двадцять пʼять", "25"),  # the modifier-letter apostrophe
        ("п'ятеро", "5"),
        ("я один", "1"),
        ("я сам", "1"),
        ("со мной двое", "2"),
        ("зі мною двоє", "2"),
        ("нас было пятеро", "5"),
        ("сорок два человека", "42"),
        ("пятьдесят", "50"),
        ("5 человек", "5"),
        ("нас 12", "12"),
        ("всього 7 осіб", "7"),
        ("одиннадцать", "11"),
        ("дев’ятнадцять", "19"),
        ("семеро", "7"),
        ("четверо нас", "4"),
    ],
)
def test_counts_in_words_and_short_phrases_are_read(text: str, count: str) -> None:
    assert accepted(people_count(text)) == count


@pytest.mark.parametrize(
    ("text", "message_id"),
    [
        ("пятьдесят один", "invalid-people-range"),
        ("шестьдесят", "invalid-people-range"),
        ("нас 75", "invalid-people-range"),
        ("много", "invalid-people-number"),
        ("три или четыре", "invalid-people-number"),
        ("3-4", "invalid-people-number"),
        ("-3", "invalid-people-number"),
        ("двадцать двенадцать", "invalid-people-number"),
        ("пять пять", "invalid-people-number"),
        ("нас", "invalid-people-number"),
        ("человек", "invalid-people-number"),
        ("трое" * 40, "invalid-people-number"),
    ],
)
def test_what_is_not_one_count_says_what_is_expected(text: str, message_id: str) -> None:
    found, params = rejected(people_count(text))
    assert found == message_id
    assert params == (
        {"example": "3"} if message_id == "invalid-people-number" else {"min": 1, "max": 50}
    )


UNITS = {
    "ru": ["один", "два", "три", "четыре", "пять", "шесть", "семь", "восемь", "девять"],
    "uk": ["один", "два", "три", "чотири", "п’ять", "шість", "сім", "вісім", "дев’ять"],
}
TEENS = {
    "ru": [
        "десять",
        "одиннадцать",
        "двенадцать",
        "тринадцать",
        "четырнадцать",
        "пятнадцать",
        "шестнадцать",
        "семнадцать",
        "восемнадцать",
        "девятнадцать",
    ],
    "uk": [
        "десять",
        "одинадцять",
        "дванадцять",
        "тринадцять",
        "чотирнадцять",
        "п’ятнадцять",
        "шістнадцять",
        "сімнадцять",
        "вісімнадцять",
        "дев’ятнадцять",
    ],
}
TENS = {
    "ru": ["двадцать", "тридцать", "сорок", "пятьдесят", "шестьдесят", "семьдесят"],
    "uk": ["двадцять", "тридцять", "сорок", "п’ятдесят", "шістдесят", "сімдесят"],
}
COLLECTIVE = {
    "ru": ["двое", "трое", "четверо", "пятеро", "шестеро", "семеро"],
    "uk": ["двоє", "троє", "четверо", "п’ятеро", "шестеро", "семеро"],
}
BEFORE = {"ru": ["", "нас ", "всего ", "нас было "], "uk": ["", "нас ", "всього ", "нас було "]}
AFTER = {"ru": ["", " человек", " людей"], "uk": ["", " людей", " осіб"]}


def spelled(lang: str, n: int) -> str:
    if n < 10:
        return UNITS[lang][n - 1]
    if n < 20:
        return TEENS[lang][n - 10]
    tens, units = divmod(n, 10)
    word = TENS[lang][tens - 2]
    return word if units == 0 else f"{word} {UNITS[lang][units - 1]}"


@given(
    lang=st.sampled_from(["ru", "uk"]),
    n=st.integers(min_value=1, max_value=79),
    before=st.integers(min_value=0, max_value=3),
    after=st.integers(min_value=0, max_value=2),
    shout=st.booleans(),
)
@PROPERTY
def test_any_count_in_words_is_read_and_ranged(
    lang: str, n: int, before: int, after: int, shout: bool
) -> None:
    text = BEFORE[lang][before] + spelled(lang, n) + AFTER[lang][after]
    if shout:
        text = text.upper() + "!"
    assert words.count_of(text) == n
    if n <= 50:
        assert accepted(people_count(text)) == str(n)
    else:
        assert rejected(people_count(text))[0] == "invalid-people-range"


@given(lang=st.sampled_from(["ru", "uk"]), k=st.integers(min_value=0, max_value=5))
@PROPERTY
def test_collective_numbers_are_read(lang: str, k: int) -> None:
    assert accepted(people_count("нас " + COLLECTIVE[lang][k])) == str(k + 2)


@given(st.text(max_size=100))
@PROPERTY
def test_a_count_is_never_guessed_from_junk(text: str) -> None:
    """Whatever is typed, a count is either refused with a known message or a number 1-50
    that the text itself holds, as digits or as a word."""
    outcome = people_count(text)
    if isinstance(outcome, Rejected):
        assert outcome.message_id in {"invalid-people-number", "invalid-people-range"}
        return
    value = int(outcome.value)
    assert 1 <= value <= 50
    if any("0" <= ch <= "9" for ch in text):  # digits typed: they are the count, not a guess
        assert str(value) in text.lstrip("0") or text.strip().lstrip("0") == str(value)


# ---------------------------------------------------------------------------------------------
# Dates


@pytest.mark.parametrize(
    ("text", "iso"),
    [
        ("17 мая 1990", "1990-05-17"),
        ("17 травня 1990", "1990-05-17"),
        ("17 мая 1990 г.", "1990-05-17"),
        ("17 травня 1990 р.", "1990-05-17"),
        ("17 травня 1990 року", "1990-05-17"),
        ("17-го мая 1990 года", "1990-05-17"),
        ("17 Мая 1990", "1990-05-17"),
        ("1 января 1970", "1970-01-01"),
        ("1 січня 1970", "1970-01-01"),
        ("3 сент. 1985", "1985-09-03"),
        ("3 вересня 85", "1985-09-03"),
        ("29 лютого 2000", "2000-02-29"),
        ("17.05.90", "1990-05-17"),
        ("17/5/90", "1990-05-17"),
        ("17-05-90", "1990-05-17"),
        ("170590", "1990-05-17"),
        ("05.08.08", "2008-08-05"),  # 18 today: 1908 would be 118
        ("17 мая 08", "2008-05-17"),
        ("17.05.1990", "1990-05-17"),  # the current formats still are
        ("1990-05-17", "1990-05-17"),
    ],
)
def test_dates_in_words_and_two_digit_years_are_read(text: str, iso: str) -> None:
    assert accepted(birth_date(text, TODAY)) == iso


@pytest.mark.parametrize(
    ("text", "message_id"),
    [
        ("17 мая", "invalid-birth-format"),  # no year
        ("мая 1990", "invalid-birth-format"),
        ("17 мартобря 1990", "invalid-birth-format"),
        ("17 май-июнь 1990", "invalid-birth-format"),
        ("31 апреля 1990", "invalid-birth-date"),
        ("29 февраля 1990", "invalid-birth-date"),
        ("29.02.01", "invalid-birth-date"),  # neither 1901 nor 2001 had it
        ("17.05.30", "invalid-birth-age"),  # 1930 is 96, 2030 is the future
        ("17.05.15", "invalid-birth-age"),  # 2015 is 11, 1915 is 111
        ("17 мая 2020", "invalid-birth-age"),
    ],
)
def test_dates_that_cannot_be_read_say_what_is_expected(text: str, message_id: str) -> None:
    found, params = rejected(birth_date(text, TODAY))
    assert found == message_id
    if message_id == "invalid-birth-age":
        assert params == {"min": 16, "max": 70}
    else:
        assert params == {"example": "17.05.1990"}


GENITIVE = {
    "ru": "января февраля марта апреля мая июня июля августа сентября октября ноября декабря",
    "uk": "січня лютого березня квітня травня червня липня серпня вересня жовтня листопада грудня",
}
SUFFIX = {"ru": ["", " г.", " года", "г"], "uk": ["", " р.", " року", "р"]}


def _in_range(born: datetime.date, today: datetime.date) -> bool:
    age = today.year - born.year - ((today.month, today.day) < (born.month, born.day))
    return 16 <= age <= 70


@given(
    born=st.dates(min_value=datetime.date(1900, 1, 1), max_value=datetime.date(2035, 12, 31)),
    today=st.dates(min_value=datetime.date(2000, 1, 1), max_value=datetime.date(2040, 12, 31)),
    lang=st.sampled_from(["ru", "uk"]),
    suffix=st.integers(min_value=0, max_value=3),
    two_digits=st.booleans(),
    upper=st.booleans(),
)
@PROPERTY
def test_any_date_phrase_is_read_in_the_one_century_that_fits(
    born: datetime.date,
    today: datetime.date,
    lang: str,
    suffix: int,
    two_digits: bool,
    upper: bool,
) -> None:
    month = GENITIVE[lang].split()[born.month - 1]
    year = f"{born.year % 100:02}" if two_digits else str(born.year)
    text = f"{born.day} {month.upper() if upper else month} {year}{SUFFIX[lang][suffix]}"
    outcome = birth_date(text, today)
    if not two_digits:
        if _in_range(born, today):
            assert accepted(outcome) == born.isoformat()
        else:
            assert rejected(outcome)[0] == "invalid-birth-age"
        return
    fitting = []
    for century in (1900, 2000):
        try:
            candidate = datetime.date(century + born.year % 100, born.month, born.day)
        except ValueError:
            continue
        if _in_range(candidate, today):
            fitting.append(candidate)
    assert len(fitting) <= 1  # the 16-70 range never lets two centuries fit
    if fitting:
        assert accepted(outcome) == fitting[0].isoformat()
    else:
        assert rejected(outcome)[0] == "invalid-birth-age"


def test_the_age_range_is_what_makes_two_digit_years_certain() -> None:
    assert dates.AGE_MAX - dates.AGE_MIN < 100


# ---------------------------------------------------------------------------------------------
# SOS and typed labels


@pytest.mark.parametrize(
    "text",
    [
        "SOS",
        "sos",
        "S.O.S.",
        "СОС",
        "помогите",
        "Помогите!!!",
        "помогите, нас окружили",
        "допоможіть",
        "Допоможіть нам",
        "срочно",
        "СРОЧНО нужна помощь",
        "терміново",
        "спасите",
        "рятуйте",
    ],
)
def test_a_cry_for_help_is_heard(text: str) -> None:
    assert words.is_sos(text)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "Иван Петров",
        "в/ч 12345",
        "он пропал в марте, нам срочно нужно узнать хоть что-нибудь",
        "помощник командира",  # a word that starts like one is not one
        "sosna",
    ],
)
def test_ordinary_words_are_not_an_alarm(text: str) -> None:
    assert not words.is_sos(text)


@pytest.mark.parametrize(
    ("label", "typed"),
    [
        ("🏳️ Хочу сдаться в плен", "хочу сдаться в плен"),
        ("💬 Зв’язатися з оператором", "звязатися з оператором"),
        ("Лёгкие ранения", "легкие ранения"),
        ("Исправить: ФИО", "исправить фио"),
        ("Кода нет / не помню", "кода нет не помню"),
    ],
)
def test_a_label_typed_by_hand_meets_the_label(label: str, typed: str) -> None:
    assert words.label_key(label) == words.label_key(typed)
