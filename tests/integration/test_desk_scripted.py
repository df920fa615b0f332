"""Scripts sent together in one round trip (bot.desk.scripted.at_once): each answers in its
place, one the server does not know yet is loaded and run by itself, and a script's own error
is raised; on fakeredis and on a real server (or cluster)."""

from __future__ import annotations

import pytest
import redis.asyncio
import redis.exceptions

from bot.desk.scripted import at_once

INCR = "return redis.call('INCRBY', KEYS[1], ARGV[1])"
FAIL = "return redis.error_reply('refused')"


async def test_scripts_answer_in_order_and_unknown_ones_are_loaded(
    redis_backend: redis.asyncio.Redis,
) -> None:
    await redis_backend.delete("t:{a}:n", "t:{b}:n")
    incr = redis_backend.register_script(INCR)
    other = redis_backend.register_script(INCR + " * 10")
    if not isinstance(redis_backend, redis.asyncio.RedisCluster):
        await redis_backend.script_flush()  # neither known: both loaded on the way
    answers = await at_once(redis_backend, (incr, ["t:{a}:n"], [2]), (other, ["t:{b}:n"], [3]))
    assert answers == [2, 30]
    assert await at_once(redis_backend, (incr, ["t:{a}:n"], [5])) == [7]  # known now
    assert await redis_backend.get("t:{b}:n") in (b"3", "3")


async def test_a_scripts_own_error_is_raised(redis_backend: redis.asyncio.Redis) -> None:
    incr = redis_backend.register_script(INCR)
    fail = redis_backend.register_script(FAIL)
    await redis_backend.delete("t:{c}:n")
    with pytest.raises(redis.exceptions.ResponseError, match="refused"):
        await at_once(redis_backend, (incr, ["t:{c}:n"], [1]), (fail, ["t:{c}:m"], []))
    assert await redis_backend.get("t:{c}:n") in (b"1", "1")  # the other one ran
