"""Scripts sent with each other in one round trip (a pipeline, each node of a cluster its own).

redis-py checks a pipeline's scripts with SCRIPT EXISTS before it sends them (a round trip
more); here they go as EVALSHA, and one the server does not know yet (its first use there, a
restart, a failover) is run again by itself, which loads it. Each script stays atomic; the
calls are independent of one another (their order is not kept when one is run again)."""

from __future__ import annotations

from typing import Any

from redis.asyncio import Redis
from redis.commands.core import AsyncScript
from redis.exceptions import NoScriptError

Call = tuple[AsyncScript, list[str], list[str | int]]


async def at_once(redis: Redis, *calls: Call) -> list[Any]:
    """The answers of the calls, in their order."""
    async with redis.pipeline(transaction=False) as pipe:
        for script, keys, args in calls:
            # (as a plain command: a cluster's pipeline refuses `evalsha`, whose loading it
            # cannot do; what is not loaded is run again below)
            pipe.execute_command("EVALSHA", script.sha, len(keys), *keys, *args)
        answers: list[Any] = await pipe.execute(raise_on_error=False)
    for n, (script, keys, args) in enumerate(calls):
        if isinstance(answers[n], NoScriptError):
            answers[n] = await script(keys=keys, args=args)
        elif isinstance(answers[n], Exception):
            raise answers[n]
    return answers
