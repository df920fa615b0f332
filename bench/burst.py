"""A burst: CALLERS callers each send /start at once; how long until every one has an answer.

The bot fetches the updates with its own long polling (the project: bot/polling.py; the
baseline: aiogram's `start_polling`) from a local fake Bot API (aiohttp, loopback) that holds
them all from the start and answers every RETRY_EVERY-th call that posts something with a 429
(`retry_after` RETRY_AFTER s), as Telegram does when a bot goes too fast. Everything runs in real
time: the figures are seconds on the wall clock, next to Telegram's floor of CALLERS / 30 s.

Figures: seconds until every caller had his first reply and all his replies, the most posting
calls (429s included) in any 1-second window, the 429s served, and the messages lost (never
delivered by the deadline) or doubled.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import itertools
import json
import time
from dataclasses import dataclass, field
from typing import Any

import redis.asyncio
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiohttp import web

from bench.baseline import build_baseline
from bench.dialogue import START, Updates, callers
from bench.redis_server import free_port
from bench.variants import BASELINE, PROJECT, TRANSLATOR, project_settings
from bot.app import build_app
from bot.offline.session import BOT_USER
from bot.polling import poll

RETRY_EVERY = 50
RETRY_AFTER = 1
DEADLINE = 240.0  # seconds; what is not delivered by then counts as lost
TOKEN = "4242:burst-bench-token"
QUIET = 10.0  # seconds without a posting call: the bot sends no more
FLOOR_PER_SECOND = 30  # Telegram: about 30 messages a second overall


@dataclass
class FakeTelegram:
    """Just enough of the Bot API for /start: getUpdates, getMe, sendMessage, and a 429 now and
    then; every posting call is timed."""

    expected_per_chat: int
    retry_every: int = RETRY_EVERY
    retry_after: int = RETRY_AFTER
    pending: list[dict[str, Any]] = field(default_factory=list)
    started: float = 0.0
    calls: list[float] = field(default_factory=list)  # times of posting calls, 429s included
    first_reply: dict[int, float] = field(default_factory=dict)
    delivered: dict[int, int] = field(default_factory=dict)
    refused: int = 0
    done: asyncio.Event = field(default_factory=asyncio.Event)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _callers: int = 0

    def queue(self, updates: list[dict[str, Any]]) -> None:
        self.pending.extend(updates)
        self._callers += len(updates)

    async def handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"].lower()
        params = dict(await request.post())
        if method == "getupdates":
            return _ok(await self._get_updates(params))
        if method == "getme":
            return _ok(BOT_USER.model_dump(exclude_none=True))
        if not method.startswith(("send", "copy", "forward", "edit", "delete")):
            return _ok(True)
        now = time.monotonic()
        self.calls.append(now)
        if len(self.calls) % self.retry_every == 0:
            self.refused += 1
            return web.json_response(
                {
                    "ok": False,
                    "error_code": 429,
                    "description": f"Too Many Requests: retry after {self.retry_after}",
                    "parameters": {"retry_after": self.retry_after},
                }
            )
        chat = int(str(params.get("chat_id", "0")))
        if method == "sendmessage":
            self.first_reply.setdefault(chat, now)
            self.delivered[chat] = self.delivered.get(chat, 0) + 1
            if len(self.first_reply) == self._callers and all(
                n >= self.expected_per_chat for n in self.delivered.values()
            ):
                self.done.set()
            return _ok(
                {
                    "message_id": next(self._ids),
                    "date": int(time.time()),
                    "chat": {"id": chat, "type": "private"},
                    "from": BOT_USER.model_dump(exclude_none=True),
                    "text": str(params.get("text", "")),
                }
            )
        return _ok(True)

    async def _get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        offset = int(str(params.get("offset", "0")))
        limit = int(str(params.get("limit", "100")))
        self.pending = [u for u in self.pending if u["update_id"] >= offset]
        if not self.pending:
            timeout = float(str(params.get("timeout", "0")))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.done.wait(), timeout)
            return []
        return self.pending[:limit]

    def most_in_one_second(self) -> int:
        times, most = sorted(self.calls), 0
        for i, t in enumerate(times):
            most = max(most, bisect.bisect_left(times, t + 1.0) - i)
        return most


async def _until_done_or_quiet(fake: FakeTelegram) -> None:
    """Every reply delivered; or nothing posted for QUIET seconds (a bot that lost messages
    sends no more), or the deadline."""
    deadline = fake.started + DEADLINE
    while not fake.done.is_set() and time.monotonic() < deadline:
        last = fake.calls[-1] if fake.calls else fake.started
        if time.monotonic() - last > QUIET:
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(fake.done.wait(), 0.5)


def _ok(result: Any) -> web.Response:
    return web.Response(
        text=json.dumps({"ok": True, "result": result}), content_type="application/json"
    )


@dataclass(frozen=True, slots=True)
class BurstFigures:
    variant: str
    callers: int
    first_replies: float  # seconds until the last caller's first reply (inf: someone never)
    all_replies: float
    most_per_second: int
    refused: int
    lost: int
    doubled: int
    remembered_chats: int | None  # chats the throttle still remembers afterwards


async def _serve(fake: FakeTelegram) -> tuple[web.AppRunner, str]:
    app = web.Application()
    app.router.add_post("/bot{token}/{method}", fake.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    return runner, f"http://127.0.0.1:{port}"


async def run(name: str, redis_url: str, count: int) -> BurstFigures:
    client = redis.asyncio.Redis.from_url(redis_url)
    await client.flushall()
    await client.aclose()
    per_chat = len(START[0].calls)
    fake = FakeTelegram(expected_per_chat=per_chat)
    updates = Updates()
    for user in callers(count):
        fake.queue(updates.of(user, START))
    runner, api = await _serve(fake)
    stop = asyncio.Event()
    remembered: int | None = None
    try:
        if name == PROJECT:
            settings = project_settings(redis_url, telegram_api_url=api, bot_token=TOKEN)
            app = build_app(settings, translator=TRANSLATOR)
            fake.started = time.monotonic()
            polling = asyncio.create_task(poll(app.bot, app.dispatcher, stop))
        else:
            session = AiohttpSession(api=TelegramAPIServer.from_base(api))
            bot, dispatcher = build_baseline(redis_url, session, TRANSLATOR)
            fake.started = time.monotonic()
            polling = asyncio.create_task(
                dispatcher.start_polling(bot, handle_signals=False, close_bot_session=False)
            )
        await _until_done_or_quiet(fake)
        if name == PROJECT:
            stop.set()
            await polling
            await app.deliverer.drain()
            remembered = len(app.throttle) if app.throttle is not None else None
            await app.close()
        else:
            await dispatcher.stop_polling()
            await polling
            await bot.session.close()
            await dispatcher.storage.close()
    finally:
        await runner.cleanup()
    inf = float("inf")
    first = max(fake.first_reply.values(), default=inf) if len(fake.first_reply) == count else inf
    complete = all(fake.delivered.get(u, 0) >= per_chat for u in callers(count))
    last = max(fake.calls, default=inf) if complete else inf
    delivered = sum(min(n, per_chat) for n in fake.delivered.values())
    return BurstFigures(
        name,
        count,
        first_replies=first - fake.started,
        all_replies=last - fake.started,
        most_per_second=fake.most_in_one_second(),
        refused=fake.refused,
        lost=count * per_chat - delivered,
        doubled=sum(max(0, n - per_chat) for n in fake.delivered.values()),
        remembered_chats=remembered,
    )


__all__ = ["BASELINE", "FLOOR_PER_SECOND", "PROJECT", "BurstFigures", "run"]
