"""Telegram's outgoing limits kept in Redis, so that every bot process on one Redis shares
them (bot.throttle asks here first), and a line of the calls that wait, in order of rank.

    {prefix}:{tg}:all            zset  calls let through: in flight, or done in the last second
    {prefix}:{tg}:line           zset  calls waiting for a place, by rank
    {prefix}:{tg}:held           zset  until when each waiting call holds its place in the line
    {prefix}:{tg}:chat:<digest>  str   when a chat may have its next message: a second after
                                       its last one was done, or the end of a 429's pause
    {prefix}:{tg}:group:<digest> zset  calls into a group: in flight, or done in the last minute

A call is let through when fewer than OVERALL_PER_SECOND calls are in flight or were done in
the last second, and fewer calls that rank before it wait than there are places free; otherwise
it is told how long until its place frees, sleeps, and asks again. A call counts from the moment
it is let through until a second after its answer came back: whenever Telegram receives it in
between, and however late the event loop sends it, no second holds more than the limit there.

Its rank is its class, then when it first asked: a message to a chat that had nothing for a
second (a caller's first answer) ranks before one that follows another (a menu after its
greeting), so a burst of callers all hear first before anyone hears the rest; an emergency's
posts to the desk rank before both. A call that waits for its chat (a private chat's second, a
group's minute, a 429's pause) waits out of the line and comes back with the rank it had: a
message refused with a 429 keeps its place.

That a call is done is told with the process' next question (or after FLUSH_AFTER when none
comes): no round trip of its own on the way of a reply. A process that dies while its calls
wait frees their places when their hold runs out; its calls in flight count until FLIGHT.

All in one slot (the `{tg}` tag), so one script decides atomically; chats are named by a keyed
digest, never by their id. Every key expires soon after its last use.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Final

from redis.asyncio import Redis
from redis.commands.core import AsyncScript

from flows.unavailable import StoreUnavailable, milliseconds, unavailable

PER_PRIVATE_CHAT: Final = 1.0  # seconds between messages to one caller
PER_GROUP: Final = 20  # messages in any GROUP_WINDOW
GROUP_WINDOW: Final = 60.0
OVERALL: Final = 1 / 30  # (the local throttle's spacing; here: OVERALL_PER_SECOND in a second)
OVERALL_PER_SECOND: Final = 30
MAX_WAIT: Final = 15.0  # seconds a waiting call sleeps at most before it asks again
HOLD: Final = 2.0  # seconds past its next question a waiting call keeps its place unasked
FLIGHT: Final = 10.0  # seconds a call let through counts at most before it is told done
FLUSH_AFTER: Final = 0.005  # seconds a done call waits for a question to be told with


class Rank(IntEnum):
    """Who goes first when calls wait: the lower, the sooner."""

    URGENT = 0  # an emergency's posts to the desk
    FIRST = 1  # a chat's first message after a quiet second; a post to the desk
    FOLLOWING = 2  # a message right after another one to the same chat


@dataclass(slots=True)
class Ticket:
    """One call waiting for its turn; asked again with the same ticket it keeps its rank."""

    chat_id: int | str | None
    group: bool
    urgent: bool = False
    token: str = field(default_factory=lambda: secrets.token_hex(8))
    rank: int | None = None  # set by the first question
    let_through: int | None = None  # when (ms, Redis' clock) the last question let it through
    asked: float = 0.0  # when (this process' clock) that question was asked


@dataclass(frozen=True, slots=True)
class _Done:
    member: str
    finished: int  # ms, Redis' clock (at the latest)
    kind: str
    key: str


# Every script first takes the calls this process was told done. KEYS: 1 all, 2..n+1 the chat
# (private) or group key of each. ARGV: 1 now (ms; "" for Redis' clock), 2 per private (ms),
# 3 n, then per call: its member, when it was done, its kind. Leaves `now`, `k0`, `a0` (the
# script's own keys and arguments follow those).
_DONE: Final = """
local now
if ARGV[1] ~= '' then
  now = tonumber(ARGV[1])
else
  local clock = redis.call('TIME')
  now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
end
local per_private, n = tonumber(ARGV[2]), tonumber(ARGV[3])
for i = 1, n do
  local member, done, kind = ARGV[1 + i * 3], tonumber(ARGV[2 + i * 3]), ARGV[3 + i * 3]
  redis.call('ZADD', KEYS[1], 'XX', done, member)
  if kind == 'private' then
    local next_at = done + per_private
    if next_at > now and next_at > tonumber(redis.call('GET', KEYS[1 + i]) or '0') then
      redis.call('SET', KEYS[1 + i], next_at, 'PX', next_at - now + 1000)
    end
  elseif kind == 'group' then
    redis.call('ZADD', KEYS[1 + i], 'XX', done, member)
  end
end
local k0, a0 = 1 + n, 3 + n * 3
"""

# KEYS (after those of _DONE): line, held, chat, group. ARGV: kind ("private" | "group" | ""),
# token, class if the chat is free (URGENT/FIRST), the rank already had (or ""), overall per
# second, overall window (ms), per group, group window (ms), the longest wait told (ms), the
# hold (ms), flight (ms). Returns {wait (ms; 0: go now), rank, now}.
_TAKE: Final = (
    _DONE
    + """
local line, held, chat, group = KEYS[k0 + 1], KEYS[k0 + 2], KEYS[k0 + 3], KEYS[k0 + 4]
local kind, token = ARGV[a0 + 1], ARGV[a0 + 2]
local per_second, window = tonumber(ARGV[a0 + 5]), tonumber(ARGV[a0 + 6])
local per_group, group_window = tonumber(ARGV[a0 + 7]), tonumber(ARGV[a0 + 8])
local longest, hold = tonumber(ARGV[a0 + 9]), tonumber(ARGV[a0 + 10])
local flight = tonumber(ARGV[a0 + 11])
local span = 17592186044416  -- 2^44 ms per class: ranks stay exact integers in a double
local free_at = 0
if kind ~= '' then
  free_at = tonumber(redis.call('GET', chat) or '0')
end
local rank = tonumber(ARGV[a0 + 4])
if not rank then
  local class = tonumber(ARGV[a0 + 3])
  if kind == 'private' and free_at > now then
    class = 2  -- it follows a message the chat just had
  end
  rank = class * span + now
end
if kind == 'group' then
  redis.call('ZREMRANGEBYSCORE', group, '-inf', now - group_window)
  local sent = redis.call('ZCARD', group)
  if sent >= per_group then
    local oldest = redis.call('ZRANGE', group, sent - per_group, sent - per_group, 'WITHSCORES')
    free_at = math.max(free_at, math.min(tonumber(oldest[2]), now) + group_window)
  end
end
if free_at > now then  -- its chat may not have it yet: it waits out of the line
  redis.call('ZREM', line, token)
  redis.call('ZREM', held, token)
  return {free_at - now, rank, now}
end
local gone = redis.call('ZRANGEBYSCORE', held, '-inf', now, 'LIMIT', 0, 100)
if #gone > 0 then  -- their process asks no more: their places are free
  redis.call('ZREM', line, unpack(gone))
  redis.call('ZREM', held, unpack(gone))
end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local count = redis.call('ZCARD', KEYS[1])
redis.call('ZADD', line, rank, token)
local ahead = redis.call('ZRANK', line, token)
local free = per_second - count
if ahead < free then
  local member = token .. ':' .. now
  redis.call('ZREM', line, token)
  redis.call('ZREM', held, token)
  redis.call('ZADD', KEYS[1], now + flight, member)
  redis.call('PEXPIRE', KEYS[1], flight + window + 1000)
  if kind == 'private' then
    redis.call('SET', chat, now + per_private, 'PX', per_private + 1000)
  elseif kind == 'group' then
    redis.call('ZADD', group, now + flight, member)
    redis.call('PEXPIRE', group, flight + group_window + 1000)
  end
  return {0, rank, now}
end
-- the calls ahead take the places in the order they free: those free now, then each second
-- those that the calls of the second before free again (one in flight: done at best now)
local at = now + math.floor(ahead / per_second) * window
local r = ahead % per_second
if r >= free then
  local frees = redis.call('ZRANGE', KEYS[1], r - free, r - free, 'WITHSCORES')
  at = at + math.min(tonumber(frees[2]), now) + window - now
end
local wait = math.max(1, math.min(longest, at - now))
redis.call('ZADD', held, now + wait + hold, token)
redis.call('PEXPIRE', line, longest + hold + 1000)
redis.call('PEXPIRE', held, longest + hold + 1000)
return {wait, rank, now}
"""
)

# KEYS (after those of _DONE): chat. ARGV: the pause (ms). The chat's next message no earlier
# than now + pause.
_PAUSE: Final = (
    _DONE
    + """
local resume = now + tonumber(ARGV[a0 + 1])
if resume > tonumber(redis.call('GET', KEYS[k0 + 1]) or '0') then
  redis.call('SET', KEYS[k0 + 1], resume, 'PX', tonumber(ARGV[a0 + 1]) + 1000)
end
return 0
"""
)

_FLUSH: Final = _DONE + "\nreturn 0\n"


class SharedSlots:
    """`clock` (seconds): Redis' own unless given (tests in virtual time: processes that share
    the limits must share one clock, and Redis' is the one they all see)."""

    def __init__(
        self,
        redis: Redis,
        digest: Callable[[str, str], str],
        prefix: str,
        *,
        clock: Callable[[], float] | None = None,
        flush_after: float = FLUSH_AFTER,
    ) -> None:
        self._digest = digest
        self._prefix = prefix
        self._fixed_clock = clock
        self._clock = clock or time.monotonic
        self._flush_after = flush_after
        self._take = redis.register_script(_TAKE)
        self._pause = redis.register_script(_PAUSE)
        self._flush = redis.register_script(_FLUSH)
        self._done: list[_Done] = []
        self._flusher: asyncio.TimerHandle | None = None
        self._flushing: set[asyncio.Task[None]] = set()

    def _key(self, part: str) -> str:
        return f"{self._prefix}:{{tg}}:{part}"

    def _chat(self, kind: str, chat_id: int | str | None) -> str:
        if chat_id is None:
            return self._key("none")
        return self._key(f"{kind}:{self._digest('chat', str(chat_id))}")

    async def _call(
        self, script: AsyncScript, keys: list[str], args: list[str | int]
    ) -> list[int] | int:
        """Run one of the scripts, telling it first which calls are done since the last."""
        done, self._done = self._done, []
        now = "" if self._fixed_clock is None else str(round(self._fixed_clock() * 1000))
        all_keys = [self._key("all"), *(d.key for d in done), *keys]
        all_args: list[str | int] = [now, milliseconds(PER_PRIVATE_CHAT), len(done)]
        for d in done:
            all_args += [d.member, d.finished, d.kind]
        try:
            with unavailable():
                result: list[int] | int = await script(keys=all_keys, args=all_args + args)
        except BaseException:
            self._done = done + self._done  # told with the next question
            raise
        return result

    async def take(self, ticket: Ticket) -> float:
        """Let this call through now (0) or say how many seconds until it should ask again.
        A call let through is told `done` once Telegram answered it (or it failed)."""
        chat_id = ticket.chat_id
        kind = "" if chat_id is None else "group" if ticket.group else "private"
        asked = self._clock()
        reply = await self._call(
            self._take,
            [
                self._key("line"),
                self._key("held"),
                self._chat("chat", chat_id),
                self._chat("group", chat_id),
            ],
            [
                kind,
                ticket.token,
                int(Rank.URGENT if ticket.urgent else Rank.FIRST),
                "" if ticket.rank is None else ticket.rank,
                OVERALL_PER_SECOND,
                milliseconds(1.0),
                PER_GROUP,
                milliseconds(GROUP_WINDOW),
                milliseconds(MAX_WAIT),
                milliseconds(HOLD),
                milliseconds(FLIGHT),
            ],
        )
        assert isinstance(reply, list)
        wait_ms, rank, now = (int(v) for v in reply)
        ticket.rank = rank
        if wait_ms > 0:
            return wait_ms / 1000
        ticket.let_through, ticket.asked = now, asked
        return 0.0

    def done(self, ticket: Ticket) -> None:
        """The call let through last is answered: it counts until a second from now (measured
        from before it was let through, so rather later than earlier in Redis' clock)."""
        if ticket.let_through is None:
            return
        elapsed = math.ceil((self._clock() - ticket.asked) * 1000)
        kind = "" if ticket.chat_id is None else "group" if ticket.group else "private"
        key = self._chat("group" if ticket.group else "chat", ticket.chat_id)
        member = f"{ticket.token}:{ticket.let_through}"
        self._done.append(_Done(member, ticket.let_through + elapsed, kind, key))
        ticket.let_through = None
        if self._flusher is None:
            loop = asyncio.get_running_loop()
            self._flusher = loop.call_later(self._flush_after, self._start_flush)

    def _start_flush(self) -> None:
        self._flusher = None
        task = asyncio.create_task(self.flush())
        self._flushing.add(task)
        task.add_done_callback(self._flushing.discard)

    async def flush(self) -> None:
        """Tell Redis now which calls are done (no question came to tell it with)."""
        if self._flusher is not None:
            self._flusher.cancel()
            self._flusher = None
        if self._done:
            with contextlib.suppress(StoreUnavailable):
                await self._call(self._flush, [], [])

    async def pause(self, chat_id: int | str, seconds: float) -> None:
        """Telegram answered 429 for this chat: nobody sends to it before `seconds` from now."""
        await self._call(self._pause, [self._chat("chat", chat_id)], [milliseconds(seconds)])
