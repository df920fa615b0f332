"""A burst on the webhook: N callers' /start posted at the same instant to `hotline run` (as a
backlog after an outage, or several instances behind a balancer, deliver them). Every request
is answered once (200), every caller gets his answer once, and none is told the store is down:
requests wait their turn for the bounded Redis pool instead of timing out on a saturated loop.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from pathlib import Path
from typing import Any

import aiohttp

from bench.redis_server import free_port
from bot.offline.client import Account, Telegram, as_json, private_chat
from tests.chaos.conftest import scale
from tests.chaos.dialogue import Step, masked
from tests.chaos.emulator import BotApiEmulator, post
from tests.chaos.processes import (
    WEBHOOK_SECRET,
    BotProcess,
    RedisProcess,
    listening,
    webhook_env,
)
from tests.e2e.conftest import T

CALLERS = scale(200, 1000)
FIRST_CALLER = 200_000_000


def starts(callers: list[int], first_update_id: int) -> list[dict[str, Any]]:
    """Each caller's /start as Telegram posts it, numbered on from `first_update_id`."""
    numbering = Telegram(update_ids=itertools.count(first_update_id))
    return [as_json(Account(numbering, *private_chat(user)).command("start")) for user in callers]


async def test_a_burst_of_webhook_requests_is_answered_once_each_and_never_told_store_down(
    tmp_path: Path,
    api: BotApiEmulator,
    steps: list[Step],
    started: list[RedisProcess | BotProcess],
) -> None:
    redis_server = RedisProcess(tmp_path / "redis", ["--save", "", "--appendonly", "no"]).start()
    started.append(redis_server)
    port = free_port()
    bot = BotProcess(webhook_env(api.url, redis_server.url, port), tmp_path / "bot.log").start()
    started.append(bot)
    url = await listening(port, bot)
    callers = [FIRST_CALLER + n for n in range(CALLERS)]
    updates = starts(callers, 50_000)

    began = time.monotonic()
    connector = aiohttp.TCPConnector(limit=0)
    timeout = aiohttp.ClientTimeout(total=120)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as client:
        statuses = await asyncio.gather(*(post(client, url, u, WEBHOOK_SECRET) for u in updates))
    answered = time.monotonic() - began
    greeting = list(steps[0].texts)
    per_caller = len(greeting)
    sends = 30 * 1.1  # Telegram's overall limit, with room to spare, bounds the wait
    await api.until(
        lambda: sum(1 for c in api.calls if c.method == "sendMessage") >= CALLERS * per_caller,
        60 + CALLERS * per_caller / sends * 2,
    )
    delivered = time.monotonic() - began
    down = T.text("ru", "try-again-later")
    texts: dict[int, list[str]] = {user: [] for user in callers}
    for call in api.calls:
        if call.method == "sendMessage" and call.params.get("chat_id") in texts:
            texts[call.params["chat_id"]].append(masked(str(call.params.get("text", ""))))
    print(
        f"\n{CALLERS} webhook requests at once: all answered in {answered:.1f} s, "
        f"{CALLERS * per_caller} replies delivered in {delivered:.1f} s (30/s limit)"
    )
    assert statuses == [200] * CALLERS  # each request answered once, none failed
    assert [user for user, got in texts.items() if down in got] == []
    assert [user for user, got in texts.items() if got != greeting] == []
