"""Closed topics do not stay forever: the topic of a case that ended with its topic kept (met, or
the conversation expired) is deleted TOPIC_RETENTION_DAYS later, with what operators wrote in it.
A withdrawn or erased case's topic goes at once (bot.desk.desk), as his data does.

The deletions wait in Redis, so any process's tick does them (one taker each):

    {prefix}:desk:topics-ending   zset   topic id -> when to delete it
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from typing import Final

import structlog
from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest, TelegramForbiddenError, TelegramNotFound
from redis.asyncio import Redis

log = structlog.get_logger("hotline.desk")

DAY: Final = 86400.0
GONE: Final = (TelegramBadRequest, TelegramForbiddenError, TelegramNotFound)


class TopicRetention:
    def __init__(
        self,
        bot: Bot,
        redis: Redis,
        prefix: str,
        chat_id: int,
        *,
        days: float = 7,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.bot = bot
        self.redis = redis
        self.key = f"{prefix}:desk:topics-ending"
        self.chat_id = chat_id
        self.seconds = days * DAY
        self.clock = clock

    async def schedule(self, topic: int) -> None:
        """The case of `topic` ended, its topic closed: deleted after the retention period."""
        await self.redis.zadd(self.key, {str(int(topic)): self.clock() + self.seconds})

    async def sweep(self, now: float | None = None) -> int:
        """Delete every topic whose time is up; how many were. A network error leaves the
        topic for the next tick (raised); a topic gone already, or never deletable, is done."""
        moment = self.clock() if now is None else now
        done = 0
        for raw in await self.redis.zrangebyscore(self.key, "-inf", moment):
            member = raw.decode() if isinstance(raw, bytes) else str(raw)
            try:
                with contextlib.suppress(*GONE):
                    await self.bot.delete_forum_topic(self.chat_id, int(member))
            except Exception:
                log.warning("closed topic not deleted yet")
                raise
            if await self.redis.zrem(self.key, member):
                done += 1
        return done
