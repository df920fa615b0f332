"""Redis killed (SIGKILL) and started again right after an input, under `hotline run` (long
polling): the reply arrives once, nothing is lost, and the next input is applied (not counted
against the caller's limit, not refused).

Redis runs with AOF and fsync on every write: a Redis that may lose acknowledged writes on a
crash (fsync every second) can lose an acknowledged update whatever the bot does; production
takes `appendfsync always` or REDIS_MIN_REPLICAS (README).
"""

from __future__ import annotations

import asyncio
import functools
import random
from pathlib import Path

from tests.chaos.conftest import scale
from tests.chaos.dialogue import USER, Step, compare, expected_texts
from tests.chaos.emulator import BotApiEmulator
from tests.chaos.processes import BotProcess, RedisProcess, bot_env, persistent
from tests.chaos.test_kill import DELIVERY_WAIT, started_polling
from tests.e2e.conftest import T

OUTAGES = scale(2, 6)


def answered(api: BotApiEmulator, notice: str, count: int) -> bool:
    """At least `count` answers reached him (the "try again" notice aside)."""
    return len([text for text in api.texts(USER) if text != notice]) >= count


async def test_redis_killed_right_after_an_input_gives_the_reply_once_and_loses_nothing(
    tmp_path: Path,
    api: BotApiEmulator,
    steps: list[Step],
    started: list[RedisProcess | BotProcess],
) -> None:
    seed = random.randrange(1 << 30)
    rng = random.Random(seed)
    outages = set(rng.sample(range(1, len(steps) - 1), OUTAGES))
    redis = persistent(tmp_path / "redis").start()
    started.append(redis)
    bot = BotProcess(bot_env(api.url, redis.url), tmp_path / "bot.log").start()
    started.append(bot)
    await started_polling(api, bot)

    notice = T.text("ru", "try-again-later")
    expected = expected_texts(steps)
    want = 0
    for n, step in enumerate(steps):
        api.push(step.update)
        if n in outages:
            await asyncio.sleep(rng.uniform(0.1, 0.4))
            redis.kill()
            await asyncio.sleep(rng.uniform(0.5, 2.0))
            redis.start()  # the same port and files: it reloads what it had
        want += len(step.texts)
        await api.until(functools.partial(answered, api, notice, want), DELIVERY_WAIT)
    received = api.texts(USER)
    told = received.count(notice)  # an input that came while Redis was down: "try again"
    outcome = compare([t for t in received if t != notice], expected)
    print(
        f"\nRedis killed x{len(outages)} (seed {seed}): {len(outcome.lost)} lost, "
        f"{outcome.duplicates} sent twice, told to try again {told}x"
    )
    assert outcome.lost == []
    assert outcome.foreign == []
    assert outcome.duplicates == 0  # the reply once
    assert bot.alive  # it rode the outage out by itself
    assert bot.starts == 1
