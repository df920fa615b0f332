"""The bot's messages a seized phone must not show: deleted once the caller has moved on, and
those with a time limit (the case code, the safety word's confirmation) after that time at most.

    {prefix}:{<conv key>}:conv     hash  sec: message ids and when sent (flows.packed), what
                                         `Scrub` deletes; it outlives an erasure (48 h: as long
                                         as Telegram lets a bot delete), like the chat's ids
    {prefix}:expiring              zset  sealed {"k", "c", "m"} -> when to delete it: the chat
                                         id is personal, so each member is sealed

Which messages are which is flow data (`flows.steps.SECRET_MESSAGES`, `TIMED_MESSAGES`).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from typing import Any, Final

import structlog
from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest, TelegramForbiddenError

from flows import codec, packed
from flows.sealing import SealError
from flows.store import ConversationStore

log = structlog.get_logger("hotline.ephemeral")

CONTEXT: Final = b"expiring"
FIELD: Final = "sec"  # of the conversation's hash

# KEYS: the conversation's hash; ARGV: 1 a message id, deleted: it leaves the `sec` set.
_DROP: Final = (
    packed.LUA
    + f"""
local list = unpack_pairs(redis.call('HGET', KEYS[1], '{FIELD}'))
for i = 1, #list do
  if list[i][1] == tonumber(ARGV[1]) then
    table.remove(list, i)
    put_pairs(KEYS[1], '{FIELD}', list)
    return 1
  end
end
return 0
"""
)
DELETE_CHUNK: Final = 100
GONE: Final = (TelegramBadRequest, TelegramForbiddenError)  # deleted already, or too old


class SecretMessages:
    def __init__(
        self,
        bot: Bot,
        store: ConversationStore,
        *,
        seconds: float,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.bot = bot
        self.store = store
        self.seconds = seconds
        self.clock = clock
        self.due_key = f"{store.prefix}:expiring"

        self._remember = store.redis.register_script(packed.REMEMBER)
        self._drop = store.redis.register_script(_DROP)

    def _key(self, key: str) -> str:
        return self.store.key(key, "conv")

    async def remember(self, key: str, chat_id: int, message_id: int, *, timed: bool) -> None:
        now = self.clock()
        ttl = round(self.store.retention.chat_messages * 1000)
        args: list[str | int] = [FIELD, round(now * 1000), ttl, int(message_id)]
        async with self.store.redis.pipeline(transaction=False) as pipe:
            await self._remember(keys=[self._key(key)], args=args, client=pipe)
            if timed:
                member = self.store.sealer.seal(
                    codec.dumps({"k": key, "c": int(chat_id), "m": int(message_id)}).encode(),
                    CONTEXT,
                )
                pipe.zadd(self.due_key, {member: now + self.seconds})
            await pipe.execute()

    async def scrub(self, key: str, chat_id: int) -> None:
        """Delete every such message of this chat the bot still can."""
        ids = [
            i for i, _ in packed.decode(_text(await self.store.redis.hget(self._key(key), FIELD)))
        ]
        for start in range(0, len(ids), DELETE_CHUNK):
            with contextlib.suppress(*GONE):
                await self.bot.delete_messages(chat_id, ids[start : start + DELETE_CHUNK])
        await self.store.redis.hdel(self._key(key), FIELD)
        await self._take(lambda entry: entry[0] == key)  # deleted now, not when due

    async def forget(self, key: str) -> int:
        """A conversation erased from elsewhere (its case ended from a linked account): its
        timed messages are deleted now, and nothing of it (its chat id) stays in Redis."""
        return await self._take(lambda entry: entry[0] == key, delete=True)

    async def sweep(self, now: float | None = None) -> int:
        """Delete the messages whose time is up; how many this process took."""
        moment = self.clock() if now is None else now
        due = await self.store.redis.zrangebyscore(self.due_key, "-inf", moment)
        return await self._take(lambda _: True, members=due, delete=True)

    async def _take(
        self,
        wanted: Callable[[tuple[str, int, int]], bool],
        *,
        members: list[Any] | None = None,
        delete: bool = False,
    ) -> int:
        """Take the timed entries `wanted` picks (each by one process only), deleting their
        messages if `delete`; how many were taken."""
        redis = self.store.redis
        if members is None:
            members = await redis.zrange(self.due_key, 0, -1)
        done = 0
        for raw in members:
            if not isinstance(raw, bytes | str):
                continue
            member = _s(raw)
            try:
                data = codec.loads(self.store.sealer.unseal(member, CONTEXT))
                entry = (str(data["k"]), int(data["c"]), int(data["m"]))
            except (SealError, codec.CodecError, KeyError, TypeError, ValueError):
                log.error("an expiring message record does not open")
                await redis.zrem(self.due_key, member)
                continue
            if not wanted(entry) or not await redis.zrem(self.due_key, member):
                continue  # not this one, or another process took it
            key, chat, message = entry
            if delete:
                with contextlib.suppress(*GONE):
                    await self.bot.delete_message(chat, message)
            await self._drop(keys=[self._key(key)], args=[message])
            done += 1
        return done


def _s(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _text(value: Any) -> str | None:
    return _s(value) if isinstance(value, bytes | str) else None
