"""The canary tests look for personal values in every log line and Redis value. A canary that is
digits alone, and short, is found there by chance (inside a timestamp, an id, a score): such a
test fails once in a while for nothing, and is then distrusted. Every canary here is either not
a number at all or one too long to turn up by chance (a phone number, an account id, a date)."""

from __future__ import annotations

import re

import pytest

from tests.e2e import test_canary_e2e
from tests.integration import test_canary

# a given digit string this long in one log line by chance: about one in five million lines
LONG_ENOUGH = 8
NUMERIC = re.compile(r"[\d\s.,:+\-/]+")


def _canaries() -> list[str]:
    return [*test_canary_e2e.CANARIES, *sorted(test_canary.CANARIES)]


@pytest.mark.parametrize("canary", _canaries())
def test_a_canary_cannot_be_a_number_found_by_chance(canary: str) -> None:
    if NUMERIC.fullmatch(canary):
        assert sum(ch.isdigit() for ch in canary) >= LONG_ENOUGH, canary


@pytest.mark.parametrize("short", ["97531", "864209", "778899", "05.17"])
def test_a_short_number_is_refused(short: str) -> None:
    assert NUMERIC.fullmatch(short)
    assert sum(ch.isdigit() for ch in short) < LONG_ENOUGH
