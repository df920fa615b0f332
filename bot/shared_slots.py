"""Telegram's outgoing limits booked in Redis, so that every bot process on one Redis shares
them (bot.throttle asks here first).

    {prefix}:{tg}:all            zset  slots booked overall, from now on (ms, Redis' clock)
    {prefix}:{tg}:chat:<digest>  str   the next free slot of a private chat, or until when a
                                       chat is paused by a 429
    {prefix}:{tg}:group:<digest> zset  slots booked for a group in the last minute

All in one slot (the `{tg}` tag), so one script books atomically; chats are named by a keyed
digest, never by their id. Every key expires soon after its last slot.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Final

from redis.asyncio import Redis

from flows.unavailable import milliseconds, unavailable

PER_PRIVATE_CHAT: Final = 1.0  # seconds between messages to one caller
PER_GROUP: Final = 20  # messages in any GROUP_WINDOW
GROUP_WINDOW: Final = 60.0
OVERALL: Final = 1 / 30

# KEYS: all, chat, group; ARGV: 1 kind ("private" | "group" | ""), 2 per private (ms),
# 3 overall spacing (ms), 4 per group, 5 group window (ms), 6 a unique member. Returns the wait
# (ms). Overall, the first free place a 30th of a second from every booked slot (a chat that
# must wait books ahead and holds the others back no more than its one place); per group, the
# slots of a sliding minute are counted; a private chat has one next slot.
_RESERVE: Final = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
local per_private, overall = tonumber(ARGV[2]), tonumber(ARGV[3])
local per_group, window = tonumber(ARGV[4]), tonumber(ARGV[5])
local function fit(key, slot, limit, span)
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - span)
  local booked = redis.call('ZRANGEBYSCORE', key, '(' .. (slot - span), '+inf', 'WITHSCORES')
  local count = #booked / 2
  if count >= limit then
    slot = math.max(slot, tonumber(booked[(count - limit) * 2 + 2]) + span)
  end
  return slot
end
local slot = now
if ARGV[1] ~= '' then
  slot = math.max(slot, tonumber(redis.call('GET', KEYS[2]) or '0'))
end
if ARGV[1] == 'group' then
  local last = redis.call('ZRANGE', KEYS[3], -1, -1, 'WITHSCORES')
  if last[2] then
    slot = math.max(slot, tonumber(last[2]))  -- a group's posts go in the order booked
  end
  slot = fit(KEYS[3], slot, per_group, window)
end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - overall)
local taken = redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. (slot - overall), '+inf', 'WITHSCORES')
for i = 2, #taken, 2 do
  local at = tonumber(taken[i])
  if at - slot >= overall then
    break
  end
  slot = at + overall
end
if ARGV[1] == 'private' then
  redis.call('SET', KEYS[2], slot + per_private, 'PX', slot + per_private - now + 1000)
elseif ARGV[1] == 'group' then
  redis.call('ZADD', KEYS[3], slot, ARGV[6])
  redis.call('PEXPIRE', KEYS[3], slot - now + window)
end
redis.call('ZADD', KEYS[1], slot, ARGV[6])
redis.call('PEXPIRE', KEYS[1], slot - now + 1000)
return slot - now
"""

# KEYS: chat; ARGV: 1 pause (ms). The chat's next slot no earlier than now + pause.
_PAUSE: Final = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
local resume = now + tonumber(ARGV[1])
if resume > tonumber(redis.call('GET', KEYS[1]) or '0') then
  redis.call('SET', KEYS[1], resume, 'PX', tonumber(ARGV[1]) + 1000)
end
return 0
"""


class SharedSlots:
    def __init__(self, redis: Redis, digest: Callable[[str, str], str], prefix: str) -> None:
        self._digest = digest
        self._prefix = prefix
        self._reserve = redis.register_script(_RESERVE)
        self._pause = redis.register_script(_PAUSE)

    def _key(self, part: str) -> str:
        return f"{self._prefix}:{{tg}}:{part}"

    def _chat(self, kind: str, chat_id: int | str) -> str:
        return self._key(f"{kind}:{self._digest('chat', str(chat_id))}")

    async def reserve(self, chat_id: int | str | None, group: bool) -> float:
        """Book the next free slot for this chat (None: a call to no chat); seconds to wait."""
        kind = "" if chat_id is None else "group" if group else "private"
        keys = [
            self._key("all"),
            self._chat("chat", chat_id) if chat_id is not None else self._key("none"),
            self._chat("group", chat_id) if chat_id is not None else self._key("none"),
        ]
        args: list[str | int] = [
            kind,
            milliseconds(PER_PRIVATE_CHAT),
            milliseconds(OVERALL),
            PER_GROUP,
            milliseconds(GROUP_WINDOW),
            secrets.token_hex(6),
        ]
        with unavailable():
            wait_ms = int(await self._reserve(keys=keys, args=args))
        return max(0.0, wait_ms / 1000)

    async def pause(self, chat_id: int | str, seconds: float) -> None:
        """Telegram answered 429 for this chat: nobody sends to it before `seconds` from now."""
        with unavailable():
            await self._pause(keys=[self._chat("chat", chat_id)], args=[milliseconds(seconds)])
