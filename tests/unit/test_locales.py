"""Tests of the ru/uk message packs, of bot.i18n and of bot.locales_check."""

from __future__ import annotations

import functools
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.i18n import LOCALES_DIR, MissingMessage, Translator
from bot.locales_check import PLURAL_CATEGORIES, Pack, check_packs, load_pack, main
from flows import surrender as flow
from flows.catalogue import ALL, CALLER
from flows.engine import STATUS_PHASES
from flows.words import label_key

LANGS = ("ru", "uk")
NUMERIC = frozenset({"k", "n", "left", "min", "max"})  # the variables the code passes as int
NUMBERS = (1, 2, 5, 21)
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def translator() -> Translator:
    return Translator()


# ---------------------------------------------------------------------------------------------
# The real packs


def test_packs_match_the_catalogue() -> None:
    assert check_packs(LOCALES_DIR, ALL) == []


def test_main_reports_ok(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 0
    assert capsys.readouterr().out.strip() == f"locales ok: {len(ALL)} messages in ru, uk"


@functools.cache
def _pack(lang: str) -> Pack:
    return load_pack(LOCALES_DIR, lang)


def _param_sets(lang: str, message_id: str) -> Iterator[dict[str, str | int]]:
    """The base parameters, then each variable in turn set to every value worth trying."""
    names = ALL[message_id]
    base: dict[str, str | int] = {name: 5 if name in NUMERIC else "x" for name in names}
    yield base
    keys = _pack(lang).select_keys(message_id)
    for name in sorted(names):
        values: list[str | int]
        if name in NUMERIC:
            values = list(NUMBERS)
        else:
            values = ["x", *sorted(keys.get(name, frozenset()) - PLURAL_CATEGORIES)]
        for value in values:
            yield {**base, name: value}


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("message_id", sorted(ALL))
def test_every_message_renders(translator: Translator, lang: str, message_id: str) -> None:
    for params in _param_sets(lang, message_id):
        text = translator.text(lang, message_id, params)
        assert text.strip(), (message_id, params)
        assert not re.search(r"[{}]", text), (message_id, params)
        assert not re.search("[\u2068\u2069]", text)  # no isolation marks


@pytest.mark.parametrize("lang", LANGS)
def test_select_variants_are_really_shown(translator: Translator, lang: str) -> None:
    """A button id or "not-given" never reaches the caller as it is."""
    review_ids = {
        "rank": "rank-officer",
        "area": "area-border",
        "health": "health-serious",
        "wish": "wish-undecided",
        "unit": "not-given",
    }
    params: dict[str, str | int] = dict.fromkeys(ALL["review"], "x")
    params.update(review_ids)
    text = translator.text(lang, "review", params)
    for raw in review_ids.values():
        assert raw not in text
    # a field not given reads in agreement with its name
    assert ("Воинская часть: не указана" if lang == "ru" else "частина: не вказано") in text
    for phase in STATUS_PHASES:
        status = translator.text(lang, "status", {"phase": phase})
        assert "not-given" not in status
    shown = translator.text(lang, "code-once", {"code": "K7QM-3P9X"})
    assert "K7QM-3P9X" in shown
    given = dict.fromkeys(ALL["review-given"], "given")
    given["unit"] = "not-given"
    updating = translator.text(lang, "review-given", given)
    assert "given" not in updating.replace("не ", "")
    assert ("не указано" if lang == "ru" else "не вказано") in updating


PLURALS = {
    "ru": {
        1: "Осталась 1 попытка",
        2: "Осталось 2 попытки",
        5: "Осталось 5 попыток",
        21: "Осталась 21 попытка",
    },
    "uk": {
        1: "Залишилася 1 спроба",
        2: "Залишилося 2 спроби",
        5: "Залишилося 5 спроб",
        21: "Залишилася 21 спроба",
    },
}


@pytest.mark.parametrize("message_id", ["code-or-date-mismatch"])
@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("left", NUMBERS)
def test_tries_left_plural(translator: Translator, message_id: str, lang: str, left: int) -> None:
    assert PLURALS[lang][left] in translator.text(lang, message_id, {"left": left})


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        ("ru", {1: "1 символа", 2: "2 символов", 5: "5 символов", 21: "21 символа"}),
        ("uk", {1: "1 символу", 2: "2 символів", 5: "5 символів", 21: "21 символу"}),
    ],
)
def test_length_limit_plural(translator: Translator, lang: str, expected: dict[int, str]) -> None:
    for number, words in expected.items():
        assert words in translator.text(lang, "invalid-unit-length", {"max": number})


@pytest.mark.parametrize("lang", LANGS)
def test_labels_fit(translator: Translator, lang: str) -> None:
    for message_id in ALL:
        text = translator.text(
            lang, message_id, {n: 5 if n in NUMERIC else "x" for n in ALL[message_id]}
        )
        if message_id.startswith("btn-"):
            assert len(text) <= 30, (message_id, text)
            assert not re.search("[\n<]", text), message_id
        if message_id.startswith("cmd-"):
            assert len(text) <= 40, (message_id, text)
            assert not re.search("[\n<]", text), message_id


def test_fixed_labels(translator: Translator) -> None:
    assert translator.text("ru", "btn-declare") == "Я иду сдаваться"
    assert translator.text("uk", "btn-declare") == "Я йду здаватися"
    for lang in LANGS:
        assert translator.text(lang, "btn-lang-ru") == "Русский"
        assert translator.text(lang, "btn-lang-uk") == "Українська"


_TAG = re.compile(r"<[^>]*>")


@pytest.mark.parametrize("lang", LANGS)
def test_only_bold_html(translator: Translator, lang: str) -> None:
    for message_id in CALLER:
        params = {n: 5 if n in NUMERIC else "x" for n in CALLER[message_id]}
        text = translator.text(lang, message_id, params)
        tags = _TAG.findall(text)
        assert set(tags) <= {"<b>", "</b>"}, (message_id, tags)
        assert tags == ["<b>", "</b>"] * (len(tags) // 2), message_id
        assert not re.search(r"&|\*\*|__", text), message_id  # no entities, no Markdown


def test_reply_button_labels_are_unique(translator: Translator) -> None:
    """The Telegram layer maps a label (in any language, typed without its emoji or its
    punctuation) back to its button: never ambiguous."""
    owner: dict[str, str] = {}
    for screen in flow.SCREENS.values():
        for button in screen.buttons:
            for lang in LANGS:
                label = label_key(translator.text(lang, button.label))  # as typed by hand
                # twins that do the same (the menu's "operator" and a screen's) may read alike
                same = flow.trigger_of(owner.setdefault(label, button.id))
                assert same == flow.trigger_of(button.id), (label, button.id)


def test_same_order_in_both_files() -> None:
    def ids(lang: str) -> list[str]:
        text = (LOCALES_DIR / lang / "caller.ftl").read_text(encoding="utf-8")
        return re.findall(r"^([a-zA-Z][\w-]*) =", text, flags=re.MULTILINE)

    assert ids("ru") == ids("uk")


# ---------------------------------------------------------------------------------------------
# Translator


def test_language_of(translator: Translator) -> None:
    assert translator.language_of("uk-UA") == "uk"
    assert translator.language_of("uk") == "uk"
    assert translator.language_of("en") == "ru"
    assert translator.language_of("ru-RU") == "ru"
    assert translator.language_of("") == "ru"
    assert translator.language_of(None) == "ru"


def test_translator_basics(translator: Translator) -> None:
    assert translator.languages == ("ru", "uk")
    assert translator.ids("ru") == frozenset(ALL)
    assert translator.has("uk", "greeting")
    assert not translator.has("uk", "no-such-message")
    # an unknown language falls back to the default one
    assert translator.text("de", "greeting") == translator.text("ru", "greeting")
    assert translator.ids("de") == translator.ids("ru")
    with pytest.raises(MissingMessage):
        translator.text("ru", "no-such-message")


def test_missing_variable_names_the_message_not_the_values(translator: Translator) -> None:
    with pytest.raises(ValueError, match="review") as info:
        translator.text("ru", "review", {"full-name": "Секретов Секрет"})
    assert "review" in str(info.value)
    assert "Секретов" not in str(info.value)


def _write(root: Path, lang: str, text: str, name: str = "caller.ftl") -> None:
    (root / lang).mkdir(parents=True, exist_ok=True)
    (root / lang / name).write_text(text, encoding="utf-8")


def test_parse_error_names_file_and_line(tmp_path: Path) -> None:
    _write(tmp_path, "ru", "a = один\nb = { $x ->\n    [one] y\n}\n")
    _write(tmp_path, "uk", "a = один\n")
    with pytest.raises(ValueError, match=r"caller\.ftl:4"):
        Translator(tmp_path)


def test_duplicate_id_is_refused(tmp_path: Path) -> None:
    _write(tmp_path, "ru", "a = один\n")
    _write(tmp_path, "ru", "a = другой\n", name="more.ftl")
    _write(tmp_path, "uk", "a = один\n")
    with pytest.raises(ValueError, match="'a'"):
        Translator(tmp_path)


def test_locales_dir_from_environment(tmp_path: Path) -> None:
    env = {**os.environ, "HOTLINE_LOCALES_DIR": str(tmp_path)}
    out = subprocess.run(
        [sys.executable, "-c", "from bot.i18n import LOCALES_DIR; print(LOCALES_DIR)"],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip() == str(tmp_path.resolve())


# ---------------------------------------------------------------------------------------------
# check_packs on broken packs

CATALOGUE: dict[str, frozenset[str]] = {
    "hello": frozenset(),
    "tries": frozenset({"left"}),
    "code": frozenset({"code"}),
}
GOOD = {
    "ru": (
        "hello = Привет\n"
        "tries =\n"
        "    { $left ->\n"
        "        [one] { $left } попытка\n"
        "        [few] { $left } попытки\n"
        "        [many] { $left } попыток\n"
        "       *[other] { $left } попытки\n"
        "    }\n"
        "code = Код: { $code }\n"
    ),
    "uk": (
        "hello = Привіт\n"
        "tries =\n"
        "    { $left ->\n"
        "        [one] { $left } спроба\n"
        "        [few] { $left } спроби\n"
        "        [many] { $left } спроб\n"
        "       *[other] { $left } спроби\n"
        "    }\n"
        "code = Код: { $code }\n"
    ),
}


def _packs(tmp_path: Path, **texts: str) -> Path:
    for lang in LANGS:
        _write(tmp_path, lang, texts.get(lang, GOOD[lang]))
    return tmp_path


def test_good_temp_pack_passes(tmp_path: Path) -> None:
    assert check_packs(_packs(tmp_path), CATALOGUE) == []
    assert Translator(tmp_path).text("uk", "tries", {"left": 3}) == "3 спроби"


def test_missing_id_is_reported(tmp_path: Path) -> None:
    root = _packs(tmp_path, ru=GOOD["ru"].replace("hello = Привет\n", ""))
    problems = check_packs(root, CATALOGUE)
    assert problems == ["ru: missing message 'hello' (the code shows it)"]


def test_extra_variable_is_reported(tmp_path: Path) -> None:
    root = _packs(tmp_path, uk=GOOD["uk"].replace("Код: { $code }", "Код: { $code } { $name }"))
    problems = check_packs(root, CATALOGUE)
    assert any(
        "uk: 'code'" in p and "uses $name, which the code does not pass" in p for p in problems
    )
    assert any(
        "'code' uses different variables in ru ($code) and uk ($code, $name)" in p
        for p in problems
    )


def test_unused_variable_is_reported(tmp_path: Path) -> None:
    root = _packs(
        tmp_path,
        ru=GOOD["ru"].replace("Код: { $code }", "Код выдан"),
        uk=GOOD["uk"].replace("Код: { $code }", "Код видано"),
    )
    problems = check_packs(root, CATALOGUE)
    assert len(problems) == 2
    for lang in LANGS:
        assert any(p.startswith(f"{lang}: 'code'") and "does not use $code" in p for p in problems)


def test_variable_used_only_inside_a_select_counts(tmp_path: Path) -> None:
    select = "{ $code ->\n        [not-given] нет\n       *[other] есть\n    }"
    root = _packs(
        tmp_path,
        ru=GOOD["ru"].replace("Код: { $code }", "Код: " + select),
        uk=GOOD["uk"].replace("Код: { $code }", "Код: " + select),
    )
    assert check_packs(root, CATALOGUE) == []


def test_id_in_one_language_only_is_reported(tmp_path: Path) -> None:
    root = _packs(tmp_path, uk=GOOD["uk"] + "extra = Зайве\n")
    problems = check_packs(root, CATALOGUE)
    assert "'extra' is in uk but not in ru" in problems
    assert any(p.startswith("uk: 'extra'") and "dead text" in p for p in problems)


def test_dead_text_is_reported(tmp_path: Path) -> None:
    root = _packs(tmp_path, ru=GOOD["ru"] + "old = Старое\n", uk=GOOD["uk"] + "old = Старе\n")
    problems = check_packs(root, CATALOGUE)
    assert len(problems) == 2
    assert all("'old'" in p and "not in the catalogue" in p for p in problems)


def test_parse_error_is_reported(tmp_path: Path) -> None:
    root = _packs(tmp_path, ru=GOOD["ru"] + "broken = { $left ->\n    [one] x\n}\n")
    problems = check_packs(root, CATALOGUE)
    assert any(p.startswith("ru: parse error at") and "caller.ftl:12" in p for p in problems)


def test_incomplete_plural_is_reported(tmp_path: Path) -> None:
    root = _packs(tmp_path, uk=GOOD["uk"].replace("        [few] { $left } спроби\n", ""))
    problems = check_packs(root, CATALOGUE)
    assert len(problems) == 1
    assert "uk: 'tries'" in problems[0]
    assert "lacks few" in problems[0]


def test_different_select_variants_are_reported(tmp_path: Path) -> None:
    ru = "{ $code ->\n        [not-given] нет\n       *[other] есть\n    }"
    uk = "{ $code ->\n        [none] немає\n       *[other] є\n    }"
    root = _packs(
        tmp_path,
        ru=GOOD["ru"].replace("Код: { $code }", "Код: " + ru),
        uk=GOOD["uk"].replace("Код: { $code }", "Код: " + uk),
    )
    problems = check_packs(root, CATALOGUE)
    assert problems == [
        "'code': the select on $code has different variants in ru (not-given) and uk (none)"
    ]


def test_main_reports_problems(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = _packs(tmp_path, ru=GOOD["ru"].replace("hello = Привет\n", ""))
    assert main(["--root", str(root)], catalogue=CATALOGUE) == 1
    assert "missing message 'hello'" in capsys.readouterr().out
    _packs(tmp_path)
    assert main(["--root", str(root)], catalogue=CATALOGUE) == 0
    assert capsys.readouterr().out.strip() == "locales ok: 3 messages in ru, uk"
