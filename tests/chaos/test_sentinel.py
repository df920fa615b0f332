"""Redis Sentinel: a master, two replicas and three sentinels on loopback; `hotline run` on
`redis+sentinel://` with REDIS_MIN_REPLICAS=2. The master is killed (SIGKILL) in the middle of
a registration: the sentinels promote a replica, the bot follows it by itself, and no update it
acknowledged is lost: each commit was on every replica before its update was acknowledged, so
whichever replica the sentinels promote holds it (with fewer, they may promote one that does
not). Until the killed master is back, as a replica of the new one, commits wait (the caller is
told to try again); messages whose delivery was recorded only on the dead master may be sent
again (counted and printed).
"""

from __future__ import annotations

import asyncio
import functools
import random
from pathlib import Path

import pytest
import redis.asyncio

from tests.chaos.conftest import FULL
from tests.chaos.dialogue import USER, Step, compare, expected_texts
from tests.chaos.emulator import BotApiEmulator
from tests.chaos.processes import BotProcess, RedisProcess, bot_env
from tests.chaos.test_kill import started_polling
from tests.chaos.test_redis_restart import answered
from tests.e2e.conftest import T

# Only in `make chaos`, for its time (50-65 s a run on a loaded 2-core machine). The delivery
# progress is WAITed for like a commit, so a failover no longer loses the record of a delivery
# made just before it (a reply missing or repeated once in six runs before; 0 in 6 since).
pytestmark = pytest.mark.skipif(
    not FULL, reason="Sentinel failover runs in `make chaos` (HOTLINE_CHAOS=full) only"
)

MASTER = "hotline"
FAILOVER_WAIT = 120.0


async def sentinels_ready(sentinels: list[RedisProcess], replicas: int) -> None:
    """Until every sentinel knows the master, its replicas and the other sentinels."""
    async with asyncio.timeout(60):
        for sentinel in sentinels:
            client = redis.asyncio.Redis(port=sentinel.port, decode_responses=True)
            try:
                while True:
                    known = await client.sentinel_slaves(MASTER)
                    peers = await client.sentinel_sentinels(MASTER)
                    assert isinstance(known, list)
                    assert isinstance(peers, list)
                    if len(known) >= replicas and len(peers) >= len(sentinels) - 1:
                        break
                    await asyncio.sleep(0.2)
            finally:
                await client.aclose()


async def promoted(sentinel: RedisProcess, old_port: int) -> None:
    """Until the sentinels name another master."""
    client = redis.asyncio.Redis(port=sentinel.port, decode_responses=True)
    try:
        async with asyncio.timeout(FAILOVER_WAIT):
            while True:
                address = await client.sentinel_get_master_addr_by_name(MASTER)
                if isinstance(address, tuple) and int(address[1]) != old_port:
                    return
                await asyncio.sleep(0.2)
    finally:
        await client.aclose()


async def test_the_bot_follows_a_sentinel_failover_and_loses_no_acknowledged_update(
    tmp_path: Path,
    api: BotApiEmulator,
    steps: list[Step],
    started: list[RedisProcess | BotProcess],
) -> None:
    rng = random.Random()
    master = RedisProcess(tmp_path / "master", ["--save", "", "--appendonly", "no"]).start()
    started.append(master)
    for n in range(2):
        replica = RedisProcess(
            tmp_path / f"replica{n}",
            ["--save", "", "--appendonly", "no", "--replicaof", "127.0.0.1", str(master.port)],
        ).start()
        started.append(replica)
    sentinels = []
    for n in range(3):
        conf = [
            f"sentinel monitor {MASTER} 127.0.0.1 {master.port} 2",
            f"sentinel down-after-milliseconds {MASTER} 1000",
            f"sentinel failover-timeout {MASTER} 10000",
        ]
        sentinel = RedisProcess(tmp_path / f"sentinel{n}", conf, sentinel=True).start()
        started.append(sentinel)
        sentinels.append(sentinel)
    await sentinels_ready(sentinels, replicas=2)

    hosts = ",".join(f"127.0.0.1:{s.port}" for s in sentinels)
    env = bot_env(api.url, f"redis+sentinel://{hosts}/{MASTER}", REDIS_MIN_REPLICAS="2")
    bot = BotProcess(env, tmp_path / "bot.log").start()
    started.append(bot)
    await started_polling(api, bot)

    kill_at = rng.randrange(3, len(steps) - 3)
    notice = T.text("ru", "try-again-later")
    want = 0
    for n, step in enumerate(steps):
        api.push(step.update)
        if n == kill_at:
            await asyncio.sleep(rng.uniform(0.0, 0.5))
            master.kill()
            await promoted(sentinels[0], master.port)
            master.start()  # empty (no persistence): the sentinels make it a replica
        want += len(step.texts)
        await api.until(functools.partial(answered, api, notice, want), FAILOVER_WAIT)
    received = api.texts(USER)
    outcome = compare([t for t in received if t != notice], expected_texts(steps))
    print(
        f"\nsentinel failover after step {kill_at}: {len(outcome.lost)} lost, "
        f"{outcome.duplicates} sent twice, told to try again {received.count(notice)}x"
    )
    assert outcome.lost == []
    assert outcome.foreign == []  # every update applied once: none lost and applied again
    assert bot.alive
