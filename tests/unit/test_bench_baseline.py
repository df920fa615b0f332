"""The benchmark's baseline bot (bench/baseline.py) really does the dialogue the project does:
the same Bot API calls with the same texts per update, every answer stored, the case registered.
Without this, a faster baseline could be one that silently does less work."""

from __future__ import annotations

import json
import re

import pytest
import redis.asyncio

from bench.dialogue import REGISTRATION, callers
from bench.throughput import check
from bench.variants import ALONE, BASELINE, PROJECT

pytestmark = pytest.mark.redis

CODE = re.compile(r"[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}")


def _masked(calls: list[list[tuple[str, str | None]]]) -> list[list[tuple[str, str | None]]]:
    """Case codes are drawn at random: the same shape, not the same code."""
    return [[(m, CODE.sub("CODE", t) if t else t) for m, t in update] for update in calls]


async def test_the_baseline_completes_the_registration_as_the_project_does(
    redis_url: str,
) -> None:
    project = await check(redis_url, PROJECT)
    baseline = await check(redis_url, BASELINE)  # leaves its caller's keys in Redis

    assert [[m for m, _ in update] for update in baseline] == [
        list(step.calls) for step in REGISTRATION
    ]
    assert _masked(baseline) == _masked(project)
    confirmed = baseline[15]  # the confirmation: the spinner stopped, the case code shown
    assert confirmed[0] == ("AnswerCallbackQuery", None)
    assert CODE.search(confirmed[-1][1] or "")  # once, in a message of its own

    client = redis.asyncio.Redis.from_url(redis_url)
    try:
        user = next(callers(1))
        state = await client.get(f"fsm:{user}:{user}:state")
        data = json.loads(await client.get(f"fsm:{user}:{user}:data") or "{}")
    finally:
        await client.aclose()
    assert state == b"registered"
    assert data["full_name"] == "Петренко Иван Сергеевич"
    assert data["birth_date"] == "1994-02-03"
    assert data["phone"] == "+79991234568"  # the correction made from the review
    assert data["wish"] == "wish-exchange"
    assert CODE.fullmatch(data["case_code"])


async def test_aiogram_alone_is_the_baseline_without_redis(redis_url: str) -> None:
    """The ceiling the bench shows: the same calls and texts as the baseline, and not one key
    in Redis (its state is in process memory)."""
    client = redis.asyncio.Redis.from_url(redis_url)
    try:
        baseline = await check(redis_url, BASELINE)
        await client.flushall()
        alone = await check(redis_url, ALONE)
        assert _masked(alone) == _masked(baseline)
        assert await client.dbsize() == 0
    finally:
        await client.aclose()
