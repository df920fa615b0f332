"""The bot's messages a seized phone must not show: deleted once the caller has moved on, and
those with a time limit (the case code, the safety word's confirmation) after that time at most.

    {prefix}:{<conv key>}:conv     hash  sec: message ids and when sent (flows.packed), what
                                         `Scrub` deletes; it outlives an erasure (48 h: as long
                                         as Telegram lets a bot delete), like the chat's ids;
                                         cid: the chat's id, sealed (the sweep needs it), from
                                         a message with a time limit until no secret message
                                         is left
    {prefix}:expiring              zset  "<conv key>|<message id>" -> when to delete it

The due list names no one: a pseudonymous conversation and a message number; the chat id it
takes to delete one is sealed in the conversation (for its owner context, like his fields) and
goes with it. Which messages are which is flow data (`flows.steps.SECRET_MESSAGES`,
`TIMED_MESSAGES`).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from typing import Any, Final

import structlog
from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest, TelegramForbiddenError

from flows import packed
from flows.outbox import Secrets
from flows.sealing import SealError
from flows.store import ConversationStore

log = structlog.get_logger("hotline.ephemeral")

FIELD: Final = "sec"  # of the conversation's hash
CHAT_FIELD: Final = "cid"

# KEYS: the conversation's hash; ARGV: 1 a message id, deleted: it leaves the `sec` set, and
# with the last of them the chat id goes too (no message of his is left to delete).
_DROP: Final = (
    packed.LUA
    + f"""
local list = unpack_pairs(redis.call('HGET', KEYS[1], '{FIELD}'))
for i = 1, #list do
  if list[i][1] == tonumber(ARGV[1]) then
    table.remove(list, i)
    put_pairs(KEYS[1], '{FIELD}', list)
    if #list == 0 then
      redis.call('HDEL', KEYS[1], '{CHAT_FIELD}')
    end
    return 1
  end
end
return 0
"""
)
# KEYS: the conversation's hash; ARGV: 1 the sealed chat id, then as flows.packed.REMEMBER's
# (field, now, ttl, message ids). The chat id is kept only where the message's record is.
_REMEMBER_TIMED: Final = (
    packed.LUA
    + f"""
remember_ids(KEYS[1], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4]), 5)
redis.call('HSET', KEYS[1], '{CHAT_FIELD}', ARGV[1])
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
        self._remember_timed = store.redis.register_script(_REMEMBER_TIMED)
        self._drop = store.redis.register_script(_DROP)

    def _key(self, key: str) -> str:
        return self.store.key(key, "conv")

    @staticmethod
    def _member(key: str, message_id: int) -> str:
        return f"{key}|{int(message_id)}"

    def sealed_chat(self, key: str, chat_id: int) -> str:
        """The chat id as the conversation keeps it for the sweep (field cid)."""
        return self.store.sealer.seal(str(int(chat_id)).encode(), key.encode())

    async def remember(self, key: str, chat_id: int, message_id: int, *, timed: bool) -> None:
        """A secret message sent outside a delivery's records (which remember it themselves,
        and a timed one's chat id: then only `schedule` is left)."""
        now = self.clock()
        ttl = round(self.store.retention.chat_messages * 1000)
        args: list[str | int] = [FIELD, round(now * 1000), ttl, int(message_id)]
        if not timed:
            await self._remember(keys=[self._key(key)], args=args)
            return
        chat = self.sealed_chat(key, chat_id)
        await self._remember_timed(keys=[self._key(key)], args=[chat, *args])
        await self.schedule(key, message_id)

    async def schedule(self, key: str, message_id: int) -> None:
        """On the due list: deleted when its time is up (another slot: the sweep's list)."""
        due = {self._member(key, message_id): self.clock() + self.seconds}
        await self.store.redis.zadd(self.due_key, due)

    async def scrub(
        self, key: str, chat_id: int, *, by_record: bool = False, found: Secrets | None = None
    ) -> bool:
        """Delete every such message of this chat the bot still can (the list as `found` by
        the batch's commit, or read now). With `by_record` (the delivery records this step
        next), True when that record is to empty the list (none of them was timed: nothing on
        the due list to take off), saving a round trip."""
        if found is None:
            kept, chat = await self.store.redis.hmget(self._key(key), [FIELD, CHAT_FIELD])
            found = Secrets(_text(kept) or "", chat is not None)
        ids = [message for message, _ in packed.decode(found.packed)]
        if not ids and not found.timed_chat:
            return False  # nothing to delete: the usual case, one read
        for start in range(0, len(ids), DELETE_CHUNK):
            with contextlib.suppress(*GONE):
                await self.bot.delete_messages(chat_id, ids[start : start + DELETE_CHUNK])
        if by_record and not found.timed_chat:
            return True
        async with self.store.redis.pipeline(transaction=False) as pipe:
            pipe.hdel(self._key(key), FIELD, CHAT_FIELD)
            if ids:  # deleted now, not when due
                pipe.zrem(self.due_key, *(self._member(key, i) for i in ids))
            await pipe.execute()
        return False

    async def forget(self, key: str) -> int:
        """A conversation erased from elsewhere (its case ended from a linked account): its
        timed messages are deleted now, and nothing of it (its chat id) stays in Redis."""
        kept = _text(await self.store.redis.hget(self._key(key), FIELD))
        done = 0
        for message, _ in packed.decode(kept):
            done += await self._take(key, message)
        await self.store.redis.hdel(self._key(key), CHAT_FIELD)
        return done

    async def sweep(self, now: float | None = None) -> int:
        """Delete the messages whose time is up; how many this process took."""
        moment = self.clock() if now is None else now
        done = 0
        for raw in await self.store.redis.zrangebyscore(self.due_key, "-inf", moment):
            member = _text(raw) or ""
            key, _, message = member.rpartition("|")
            if not key or not message.isdigit():
                log.error("an expiring message record is damaged")
                await self.store.redis.zrem(self.due_key, member)
                continue
            done += await self._take(key, int(message))
        return done

    async def _take(self, key: str, message: int) -> int:
        """Delete one timed message, if this process is the one to take it off the due list."""
        redis = self.store.redis
        if not await redis.zrem(self.due_key, self._member(key, message)):
            return 0  # not timed, or another process took it
        sealed = _text(await redis.hget(self._key(key), CHAT_FIELD))
        try:
            chat = int(self.store.sealer.unseal(sealed or "", key.encode()))
        except (SealError, ValueError):
            log.error("the chat of an expiring message is unknown")  # erased meanwhile
            return 0
        with contextlib.suppress(*GONE):
            await self.bot.delete_message(chat, message)
        await self._drop(keys=[self._key(key)], args=[message])
        return 1


def _text(value: Any) -> str | None:
    if isinstance(value, bytes):
        return value.decode()
    return value if isinstance(value, str) else None
