"""`kill -9` of `hotline run` (long polling) at random moments of a registration, against the
Bot API emulator and a Redis that loses nothing it acknowledged (AOF, fsync always).

Promise: nothing is lost, every update is applied once, and a message reaches the caller twice
only when the kill fell inside its own send (between Telegram accepting it and the bot
recording it): at most one repeat per kill, of the message in flight, with a kill between the
two copies. The counts are printed.
"""

from __future__ import annotations

import asyncio
import itertools
import random
import time
from pathlib import Path

from tests.chaos.conftest import scale
from tests.chaos.dialogue import USER, Step, compare, expected_texts
from tests.chaos.emulator import BotApiEmulator, Call
from tests.chaos.processes import BotProcess, RedisProcess, bot_env, persistent

KILLS = scale(3, 20)
DELIVERY_WAIT = 90.0  # seconds a step's answer may take through restarts (bounds the test)


async def started_polling(api: BotApiEmulator, bot: BotProcess) -> None:
    """Until the (re)started process asks for updates (a minute at most)."""
    before = api.polls
    try:
        await api.until(lambda: api.polls > before, 60)
    except TimeoutError:
        raise AssertionError(f"hotline run did not poll (alive: {bot.alive}): {bot.log}") from None


def repeats_with_a_kill_between(calls: list[Call], kills: list[float]) -> bool:
    """Every message sent twice in a row had a kill between its first answer and the repeat."""
    for before, after in itertools.pairwise(calls):
        repeat = before.params.get("text") == after.params.get("text")
        if repeat and not any(before.received <= k <= after.received for k in kills):
            return False
    return True


async def test_kill_9_at_random_moments_loses_nothing_and_repeats_only_a_message_in_flight(
    tmp_path: Path,
    api: BotApiEmulator,
    steps: list[Step],
    started: list[RedisProcess | BotProcess],
) -> None:
    seed = random.randrange(1 << 30)
    rng = random.Random(seed)
    plan: dict[int, list[float]] = {}
    for _ in range(KILLS):  # after which step, how long after it was posted
        plan.setdefault(rng.randrange(len(steps)), []).append(rng.uniform(0.0, 1.6))
    redis = persistent(tmp_path / "redis").start()
    started.append(redis)
    bot = BotProcess(bot_env(api.url, redis.url), tmp_path / "bot.log").start()
    started.append(bot)
    await started_polling(api, bot)

    kills: list[float] = []
    expected = expected_texts(steps)
    want = 0
    for n, step in enumerate(steps):
        api.push(step.update)
        for delay in sorted(plan.get(n, [])):
            await asyncio.sleep(delay)
            bot.kill()
            kills.append(time.monotonic())
            bot.start()
            await started_polling(api, bot)
        want += len(step.texts)
        await api.wait_for(USER, want, DELIVERY_WAIT)

    await api.until(lambda: not compare(api.texts(USER), expected).lost, DELIVERY_WAIT)
    outcome = compare(api.texts(USER), expected)
    print(
        f"\nkill -9 x{len(kills)} (seed {seed}): {len(expected)} messages expected, "
        f"{len(outcome.lost)} lost, {outcome.duplicates} sent twice (a kill inside its send)"
    )
    assert outcome.lost == []
    assert outcome.foreign == []  # nothing applied twice, nothing out of order
    assert outcome.duplicates <= len(kills)
    assert repeats_with_a_kill_between(api.sent(USER), kills)
