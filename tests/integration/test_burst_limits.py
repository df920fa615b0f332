"""A burst through the real throttle and its line in a real Redis (bot.throttle, bot.shared_slots),
in virtual time: callers arrive faster than Telegram lets the bot answer, each is sent a greeting
and then a menu (as the deliverer sends a batch: one after the other), the desk gets posts of its
own, and the fake Bot API answers every 20th call 429 and takes a different time for each call
(as an event loop under load sends them late, and not all equally late).

What Telegram received is checked from the moments it received each call: never more than 30 in
any second, one a second per private chat, 20 a minute per group; every message once; no menu
went while a greeting that had asked before waited in line; a greeting refused with a 429 kept
its place (none that asked after it went before it once its pause was over).
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import random
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import Any

import pytest
import redis.asyncio
from aiogram import Bot
from aiogram.exceptions import TelegramRetryAfter
from aiogram.methods import SendMessage, TelegramMethod

from bot.shared_slots import OVERALL_PER_SECOND, PER_GROUP, SharedSlots
from bot.throttle import Throttle

pytestmark = pytest.mark.redis

CALLERS = 300
ARRIVING_EVERY = 0.01  # seconds: 100 callers a second, more than 30 can be answered
DESK = -1001000000321
DESK_POSTS = 25
REFUSE_EVERY = 20
RETRY_AFTER = 1
FIRST_CALLER = 700_000_000
BOT = Bot("123456:burst-limits-test-token")


class VirtualTime:
    """A clock that moves only when every task of the burst sleeps on it: then it jumps to the
    earliest wake-up. Redis answers in real time meanwhile (the clock waits for it)."""

    def __init__(self) -> None:
        self.now = 1000.0
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._order = itertools.count()
        self._asleep: set[asyncio.Task[Any]] = set()

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        wake: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (self.now + max(0.0, seconds), next(self._order), wake))
        task = asyncio.current_task()
        assert task is not None
        self._asleep.add(task)
        try:
            await wake
        finally:
            self._asleep.discard(task)

    async def run(self, work: list[Coroutine[Any, Any, None]]) -> None:
        tasks = [asyncio.create_task(w) for w in work]
        while live := [t for t in tasks if not t.done()]:
            if all(t in self._asleep for t in live) and self._sleepers:
                at, _, wake = heapq.heappop(self._sleepers)
                self.now = max(self.now, at)
                wake.set_result(None)
            await asyncio.sleep(0)  # a woken task runs; Redis answers
        await asyncio.gather(*tasks)


@dataclass(frozen=True, slots=True)
class Call:
    chat: int
    text: str
    started: float  # let through by the throttle
    received: float  # by Telegram
    answered: float
    refused: bool


@dataclass
class FakeTelegram:
    """`make_request` of a session: takes its time (seeded), records when each call was
    received, refuses every REFUSE_EVERY-th with a 429."""

    clock: VirtualTime
    calls: list[Call] = field(default_factory=list)
    received: int = 0
    random: random.Random = field(default_factory=lambda: random.Random(1312))

    async def __call__(self, bot: Bot, method: TelegramMethod[Any]) -> Any:
        assert isinstance(method, SendMessage)
        started = self.clock.now
        await self.clock.sleep(self.random.choice((0.005, 0.02, 0.08, 0.25)))
        received = self.clock.now
        self.received += 1
        refused = self.received % REFUSE_EVERY == 0
        await self.clock.sleep(self.random.choice((0.003, 0.01, 0.04)))
        chat = int(method.chat_id)
        self.calls.append(Call(chat, method.text, started, received, self.clock.now, refused))
        if refused:
            raise TelegramRetryAfter(method, "Too Many Requests", RETRY_AFTER)
        return True


@dataclass
class Burst:
    clock: VirtualTime
    api: FakeTelegram
    arrived: dict[int, float] = field(default_factory=dict)

    def sent(self, chat: int, text: str) -> list[Call]:
        return [c for c in self.api.calls if c.chat == chat and c.text == text and not c.refused]

    def waiting_in_line(self, chat: int, text: str) -> list[tuple[float, float]]:
        """When this message waited for its turn overall: from its first question (or the end
        of a 429's pause) until it was let through."""
        tries = [c for c in self.api.calls if c.chat == chat and c.text == text]
        since = self.arrived[chat]
        spans = []
        for call in tries:
            spans.append((since, call.started))
            since = call.answered + RETRY_AFTER + 0.002  # (its answer to the ms, rounded up)
        return spans


async def run_burst(redis: redis.asyncio.Redis, processes: int) -> Burst:
    clock = VirtualTime()
    api = FakeTelegram(clock)
    burst = Burst(clock, api)
    throttles = [
        Throttle(
            clock=clock,
            sleep=clock.sleep,
            shared=SharedSlots(
                redis, lambda kind, value: f"{kind}-{value}", "hl", clock=clock, flush_after=3600
            ),
        )
        for _ in range(processes)
    ]

    async def caller(n: int) -> None:
        await clock.sleep(n * ARRIVING_EVERY)
        chat = FIRST_CALLER + n
        burst.arrived[chat] = clock.now
        throttle = throttles[n % processes]
        await throttle(api, BOT, SendMessage(chat_id=chat, text="greeting"))
        await throttle(api, BOT, SendMessage(chat_id=chat, text="menu"))

    async def desk() -> None:
        for n in range(DESK_POSTS):
            await clock.sleep(0.2)
            await throttles[0](api, BOT, SendMessage(chat_id=DESK, text=f"post {n}"))

    await clock.run([caller(n) for n in range(CALLERS)] + [desk()])
    for throttle in throttles:
        await throttle.aclose()
    return burst


def most_in_any(times: list[float], seconds: float) -> int:
    times = sorted(times)
    return max(sum(1 for u in times[i:] if u < t + seconds - 1e-9) for i, t in enumerate(times))


def assert_within_telegrams_limits(burst: Burst) -> None:
    calls = burst.api.calls
    assert most_in_any([c.received for c in calls], 1.0) <= OVERALL_PER_SECOND
    assert most_in_any([c.received for c in calls if c.chat == DESK], 60.0) <= PER_GROUP
    for chat in burst.arrived:
        received = sorted(c.received for c in calls if c.chat == chat)
        assert all(b - a >= 1.0 - 1e-9 for a, b in itertools.pairwise(received)), chat
    for chat in burst.arrived:  # every message once, the greeting first
        greeting, menu = burst.sent(chat, "greeting"), burst.sent(chat, "menu")
        assert len(greeting) == len(menu) == 1
        assert greeting[0].received < menu[0].received
    assert sorted(c.text for c in calls if c.chat == DESK and not c.refused) == sorted(
        f"post {n}" for n in range(DESK_POSTS)
    )


async def test_a_burst_keeps_every_limit_and_answers_every_caller_first(
    real_redis: redis.asyncio.Redis,
) -> None:
    burst = await run_burst(real_redis, processes=1)
    assert_within_telegrams_limits(burst)
    calls = burst.api.calls
    assert sum(c.refused for c in calls) >= CALLERS * 2 // REFUSE_EVERY
    assert most_in_any([c.received for c in calls], 1.0) == OVERALL_PER_SECOND  # (it was busy)

    # no menu was let through while a greeting waited in line for its turn
    menus = sorted(c.started for c in calls if c.text == "menu")
    for chat in burst.arrived:
        for since, until in burst.waiting_in_line(chat, "greeting"):
            assert not [m for m in menus if since < m < until], (chat, since, until)

    # a greeting refused with a 429 kept its place: once its pause was over, none of the
    # greetings that asked after it went before it
    refused = [c for c in calls if c.refused and c.text == "greeting"]
    assert refused
    for call in refused:
        back = call.answered + RETRY_AFTER + 0.002
        retried = burst.sent(call.chat, "greeting")[0]
        overtaken = [
            c.chat
            for c in calls
            if c.text == "greeting"
            and burst.arrived[c.chat] > burst.arrived[call.chat]
            and back < c.started < retried.started
        ]
        assert not overtaken, (call.chat, overtaken)


async def test_two_processes_on_one_redis_keep_the_limits_together(
    real_redis: redis.asyncio.Redis,
) -> None:
    burst = await run_burst(real_redis, processes=2)
    assert_within_telegrams_limits(burst)
