"""No oracle: an existing and a missing code get the same replies, in the same number of
messages, up to and including "the code or the date does not match"."""

from __future__ import annotations

import pytest
import redis.asyncio

from tests.e2e.conftest import Caller, HotlineFactory, screen, t
from tests.e2e.desk_harness import OPERATORS
from tests.security.helpers import owner_of_a_case

pytestmark = pytest.mark.redis


async def _probe(caller: Caller, code: str) -> list[list[str]]:
    """Every reply, per update, of a probe trying a code with a wrong date twice."""
    seen: list[list[str]] = []
    await caller.command("start")
    await caller.tap("menu-ready")
    for _ in range(2):
        for text in (code, "01.01.1980"):
            await caller.text(text)
            seen.append(caller.texts)
    await caller.text(code)
    await caller.text("31.02.1980")  # no such date: refused the same way too
    seen.append(caller.texts)
    return seen


@pytest.mark.parametrize("lang", ["ru", "uk"])
async def test_the_same_replies_for_an_existing_and_a_missing_code(
    lang: str, real_redis: redis.asyncio.Redis, make_hotline: HotlineFactory
) -> None:
    hotline = await make_hotline(real_redis, operator_ids=OPERATORS)
    _, code = await owner_of_a_case(hotline)
    missing = "ZZZZ-ZZZZ" if code != "ZZZZ-ZZZZ" else "YYYY-YYYY"

    existing = await _probe(hotline.caller(900_000_001, lang), code)
    absent = await _probe(hotline.caller(900_000_002, lang), missing)

    assert existing == absent
    assert existing[0] == [screen(lang, "recall_birth")]  # the date is asked for either way
    assert existing[1] == [t(lang, "code-or-date-mismatch", left=4)]  # one message
    assert [len(replies) for replies in existing] == [len(r) for r in absent]
