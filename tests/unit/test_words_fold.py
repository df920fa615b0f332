"""`flows.words.fold`: the words of what he typed, cut at every character that is not a letter
or a digit by str.isalnum()'s own definition, in any script."""

from __future__ import annotations

import unicodedata

from hypothesis import given
from hypothesis import strategies as st

from flows import words


def _by_isalnum(text: str) -> list[str]:
    folded = unicodedata.normalize("NFC", text).casefold().replace("ё", "е")
    folded = folded.translate(str.maketrans(dict.fromkeys("'\u2019\u2018\u02bc`")))
    return "".join(ch if ch.isalnum() else " " for ch in folded).split()


@given(st.text(max_size=40))
def test_fold_cuts_where_isalnum_says(text: str) -> None:
    assert words.fold(text) == _by_isalnum(text)


def test_fold_reads_his_way_of_writing() -> None:
    assert words.fold("Нас — ТРОЕ!") == ["нас", "трое"]
    assert words.fold("п’ятеро, пʼятеро_ёж") == ["пятеро", "пятеро", "еж"]
    assert words.fold("🏳️ Хочу сдаться в плен") == ["хочу", "сдаться", "в", "плен"]
