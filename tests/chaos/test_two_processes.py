"""Two `hotline run` processes in webhook mode on one Redis, fed one conversation: each update
alternately to one and the other, then each update to both at the same instant (as a balancer
retrying on the second instance would). Every update is applied once and every reply sent once:
the ticket lock and the dedupe mark apply it once, the delivery lease sends it once.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiohttp
import redis.asyncio

from bench.redis_server import free_port
from flows import packed
from tests.chaos.dialogue import USER, Step, compare, expected_texts, reference
from tests.chaos.emulator import BotApiEmulator, post
from tests.chaos.processes import (
    WEBHOOK_SECRET,
    BotProcess,
    RedisProcess,
    listening,
    persistent,
    webhook_env,
)
from tests.chaos.test_kill import DELIVERY_WAIT

SECOND_USER = USER + 1


async def applied(redis_url: str, user_updates: list[Step]) -> int:
    """How many of these updates the store marked applied (each once: a set)."""
    client = redis.asyncio.Redis.from_url(redis_url, decode_responses=True)
    try:
        found = 0
        async for key in client.scan_iter(match="hl:*:conv"):
            ids = {i for i, _ in packed.decode(str(await client.hget(key, "seen") or ""))}
            found += len(ids & {s.update["update_id"] for s in user_updates})
        return found
    finally:
        await client.aclose()


async def test_two_webhook_processes_apply_every_update_once_and_send_every_reply_once(
    tmp_path: Path,
    api: BotApiEmulator,
    steps: list[Step],
    started: list[RedisProcess | BotProcess],
) -> None:
    redis_server = persistent(tmp_path / "redis").start()
    started.append(redis_server)
    ports = [free_port(), free_port()]
    bots = [
        BotProcess(webhook_env(api.url, redis_server.url, port), tmp_path / f"bot{n}.log")
        for n, port in enumerate(ports)
    ]
    for bot in bots:
        started.append(bot.start())
    urls = [await listening(port, bot) for port, bot in zip(ports, bots, strict=True)]
    both = await reference(SECOND_USER, first_update_id=10_000)

    async with aiohttp.ClientSession() as client:
        want = 0
        for n, step in enumerate(steps):  # alternately
            assert await post(client, urls[n % 2], step.update, WEBHOOK_SECRET) == 200
            want += len(step.texts)
            await api.wait_for(USER, want, DELIVERY_WAIT)
        want = 0
        for step in both:  # to both at once
            statuses = await asyncio.gather(
                *(post(client, url, step.update, WEBHOOK_SECRET) for url in urls)
            )
            assert statuses == [200, 200]
            want += len(step.texts)
            await api.wait_for(SECOND_USER, want, DELIVERY_WAIT)
    await asyncio.sleep(2)  # a second process's repeat, were there one, would have come by now

    for user, played in ((USER, steps), (SECOND_USER, both)):
        outcome = compare(api.texts(user), expected_texts(played))
        print(f"\ntwo processes, caller {user - USER + 1}: {outcome}")
        assert outcome.lost == []
        assert outcome.duplicates == 0  # every reply once
        assert outcome.foreign == []  # every update applied once, in order
        assert await applied(redis_server.url, played) == len(played)
