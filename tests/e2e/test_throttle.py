"""Outgoing limits: about 1 message a second per private chat, 20 a minute per group, 30 a second
overall; a 429 is honoured (its `retry_after` waited out) and nothing is dropped.

The first part drives `bot.throttle.Throttle` with an injected clock and sleep (virtual time:
sleeping moves the clock). The last test runs the real network code: `build_app` with its own
AiohttpSession against a local aiohttp server that plays the Bot API and answers the first
sendMessage with 429.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import fakeredis
import pytest
from aiogram import Bot
from aiogram.exceptions import TelegramRetryAfter
from aiogram.methods import DeleteMessages, GetMe, SendMessage, TelegramMethod
from aiohttp import web
from pydantic import SecretStr

from bot.app import build_app
from bot.offline.client import Account, Telegram, private_chat
from bot.settings import Settings
from bot.throttle import MAX_RETRIES, OVERALL, Throttle
from tests.e2e.conftest import T, screen, t

CALLER = 100_500_001
GROUP = -1001000000999


class VirtualTime:
    """A clock that only moves when someone sleeps."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


@dataclass
class FakeApi:
    """`make_request` of a session: records the time of every call; may answer 429 first."""

    clock: VirtualTime
    retry_after: list[int] = field(default_factory=list)  # one 429 per entry, then ok
    calls: list[tuple[float, TelegramMethod[Any]]] = field(default_factory=list)

    async def __call__(self, bot: Bot, method: TelegramMethod[Any]) -> Any:
        self.calls.append((self.clock.now, method))
        if self.retry_after:
            raise TelegramRetryAfter(method, "Too Many Requests", self.retry_after.pop(0))
        return True


BOT = Bot("123456:throttle-test-token")


def send(chat_id: int, text: str = "x") -> SendMessage:
    return SendMessage(chat_id=chat_id, text=text)


async def test_one_message_a_second_per_private_chat() -> None:
    clock = VirtualTime()
    throttle = Throttle(clock=clock, sleep=clock.sleep)
    api = FakeApi(clock)
    for i in range(5):
        await throttle(api, BOT, send(CALLER, str(i)))
    times = [at - 1000.0 for at, _ in api.calls]
    assert times == pytest.approx([0, 1, 2, 3, 4])
    assert [getattr(m, "text", None) for _, m in api.calls] == ["0", "1", "2", "3", "4"]


async def test_a_group_may_take_twenty_at_once_then_waits_for_the_minute() -> None:
    clock = VirtualTime()
    throttle = Throttle(clock=clock, sleep=clock.sleep)
    api = FakeApi(clock)
    for i in range(25):
        await throttle(api, BOT, send(GROUP, str(i)))
    times = [at - 1000.0 for at, _ in api.calls]
    assert times[:20] == pytest.approx([i / 30 for i in range(20)])  # only 30/s holds them
    assert times[20] == pytest.approx(60.0)  # the 21st when the 1st leaves the minute
    assert all(sum(1 for u in times if s <= u < s + 60 - 1e-9) <= 20 for s in times)
    # a caller's message meanwhile is not queued behind the group
    await throttle(api, BOT, send(CALLER, "you"))
    assert api.calls[-1][0] - clock.now == 0


def test_bookings_at_one_instant_are_spread_out() -> None:
    clock = VirtualTime()
    throttle = Throttle(clock=clock, sleep=clock.sleep)
    # one private chat: a second apart
    assert [throttle.reserve(CALLER) for _ in range(4)] == pytest.approx([0, 1, 2, 3])
    # a group: 20 a minute
    clock.now += 100
    delays = [throttle.reserve(GROUP) for _ in range(45)]
    assert sum(d < 60 for d in delays) == 20
    assert max(sum(1 for d in delays if s <= d < s + 60) for s in delays) == 20
    # many chats: 30 a second overall
    clock.now += 1000
    delays = [throttle.reserve(2_000_000 + i) for i in range(100)]
    assert sum(d < 1 - 1e-9 for d in delays) == 30  # (the 31st at 1 s, up to float rounding)
    assert delays == sorted(delays)


def test_a_chat_that_must_wait_holds_no_other_chat_back() -> None:
    clock = VirtualTime()
    throttle = Throttle(clock=clock, sleep=clock.sleep)
    assert [throttle.reserve(CALLER) for _ in range(3)] == pytest.approx([0, 1, 2])
    # his third message is booked 2 s ahead; another caller's goes now, not after it
    assert throttle.reserve(CALLER + 1) == pytest.approx(OVERALL)


async def test_methods_that_post_nothing_are_not_held_back() -> None:
    clock = VirtualTime()
    throttle = Throttle(clock=clock, sleep=clock.sleep)
    api = FakeApi(clock)
    await throttle(api, BOT, send(CALLER))
    await throttle(api, BOT, DeleteMessages(chat_id=CALLER, message_ids=[1, 2]))
    await throttle(api, BOT, GetMe())
    assert [at for at, _ in api.calls] == [1000.0, 1000.0, 1000.0]
    assert clock.slept == []


async def test_a_429_is_waited_out_and_the_message_sent_once() -> None:
    clock = VirtualTime()
    throttle = Throttle(clock=clock, sleep=clock.sleep)
    api = FakeApi(clock, retry_after=[7])
    await throttle(api, BOT, send(CALLER, "hello"))
    texts = [(at - 1000.0, getattr(m, "text", None)) for at, m in api.calls]
    assert texts == [(0, "hello"), (7, "hello")]
    assert throttle.retries == 1
    # the chat stays closed for what follows too: the next message waits its turn after it
    await throttle(api, BOT, send(CALLER, "next"))
    assert api.calls[-1][0] - 1000.0 == pytest.approx(8)


async def test_429s_in_a_row_give_up_after_the_last_retry() -> None:
    clock = VirtualTime()
    throttle = Throttle(clock=clock, sleep=clock.sleep)
    api = FakeApi(clock, retry_after=[1] * (MAX_RETRIES + 1))
    with pytest.raises(TelegramRetryAfter):
        await throttle(api, BOT, send(CALLER))
    assert len(api.calls) == MAX_RETRIES + 1  # then the outbox keeps it for a later attempt


async def test_memory_stays_bounded_under_a_flood_of_chats() -> None:
    clock = VirtualTime()
    throttle = Throttle(clock=clock, sleep=clock.sleep, max_chats=1000)
    api = FakeApi(clock)
    biggest = 0
    for i in range(20_000):
        await throttle(api, BOT, send(3_000_000 + i))
        biggest = max(biggest, len(throttle))
    assert biggest <= 1001
    assert len(api.calls) == 20_000  # every one sent


def test_a_flood_booked_at_one_instant_sweeps_rarely() -> None:
    """All slots still ahead (nothing can be forgotten): the table is swept once per doubling,
    not once per message."""
    clock = VirtualTime()
    throttle = Throttle(clock=clock, sleep=clock.sleep, max_chats=1000)
    sweeps = 0
    forget = throttle._forget_idle

    def counting(now: float) -> None:
        nonlocal sweeps
        sweeps += 1
        forget(now)

    throttle._forget_idle = counting  # type: ignore[method-assign]
    for i in range(32_000):
        throttle.reserve(4_000_000 + i)
    assert len(throttle) == 32_000  # each still waits for its slot: none may be forgotten
    assert sweeps <= 6
    clock.now += 32_000 / 30 + 2  # they have all been sent
    throttle.reserve(5_000_000)
    for i in range(2000):
        throttle.reserve(6_000_000 + i)
    assert len(throttle) <= 32_001


# ---------------------------------------------------------------------------------------------
# The real network path


@dataclass
class BotApiServer:
    """Plays the Bot API on loopback: the first sendMessage gets 429, then everything is ok."""

    calls: list[tuple[float, str, dict[str, str], int]] = field(default_factory=list)
    limited: int = 1
    next_id: int = 500

    async def handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        form = {k: str(v) for k, v in (await request.post()).items()}
        if method == "sendMessage" and self.limited:
            self.limited -= 1
            self.calls.append((time.monotonic(), method, form, 429))
            return web.json_response(
                {
                    "ok": False,
                    "error_code": 429,
                    "description": "Too Many Requests: retry after 1",
                    "parameters": {"retry_after": 1},
                },
                status=429,
            )
        self.calls.append((time.monotonic(), method, form, 200))
        if method == "sendMessage":
            self.next_id += 1
            result: Any = {
                "message_id": self.next_id,
                "date": int(time.time()),
                "chat": {"id": int(form["chat_id"]), "type": "private"},
                "text": form["text"],
            }
        else:
            result = True
        return web.json_response({"ok": True, "result": result})


@pytest.fixture
async def bot_api() -> AsyncIterator[tuple[BotApiServer, str]]:
    server = BotApiServer()
    application = web.Application()
    application.router.add_post("/bot{token}/{method}", server.handle)
    runner = web.AppRunner(application)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    try:
        yield server, f"http://{host}:{port}"
    finally:
        await runner.cleanup()


async def test_a_429_from_the_bot_api_is_honoured_over_the_network(
    bot_api: tuple[BotApiServer, str],
) -> None:
    server, url = bot_api
    settings = Settings(
        bot_token=SecretStr("123456:AAHlocal-bot-api-test"),
        telegram_api_url=url,
        operator_chat_id=GROUP,
    )
    app = build_app(settings, redis=fakeredis.FakeAsyncRedis(), throttle=True, translator=T)
    try:
        assert app.throttle is not None
        caller = Account(Telegram(), *private_chat(CALLER, "uk"))
        await app.dispatcher.feed_update(app.bot, caller.command("start"))
        await asyncio.wait_for(app.drain(), timeout=20)
    finally:
        await app.close()

    sends = [
        (at, form, status) for at, method, form, status in server.calls if method == "sendMessage"
    ]
    assert [(form["text"], status) for _, form, status in sends] == [
        (t("uk", "greeting"), 429),
        (t("uk", "greeting"), 200),  # the same message again, after waiting
        (screen("uk", "menu"), 200),  # and the next one: nothing dropped, order kept
    ]
    delivered = [form["text"] for _, form, status in sends if status == 200]
    assert len(delivered) == len(set(delivered))  # each exactly once
    assert sends[1][0] - sends[0][0] >= 0.95  # retry_after (1 s) was waited out
    assert all(form["chat_id"] == str(CALLER) for _, form, _ in sends)
    assert all(form.get("protect_content") == "true" for _, form, _ in sends)
    assert app.throttle.retries == 1
