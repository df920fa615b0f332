"""Coordination of several bot processes on one Redis, per conversation and for the desk.

    {prefix}:{<conv key>}:queue   zset  tickets waiting to apply an update, ordered by update_id
    {prefix}:{<conv key>}:alive   zset  ticket -> until when (ms) its waiter is known alive
    {prefix}:{<conv key>}:turn    str   the ticket applying its update now (expires)
    {prefix}:{<conv key>}:lease   str   the process delivering the conversation's outbox
    {prefix}:<name>:leader        str   the process doing a periodic job (the desk's ticks)

`TicketLock`: the updates of one conversation apply one at a time, in the order Telegram
numbered them, whichever process got each. A waiter takes a ticket (its update_id) and polls
until its ticket heads the queue and the turn is free. A process that dies holding the turn or
waiting is passed over once its time runs out, so nobody waits for the dead for long. Redis'
own clock is used, so the processes' clocks need not agree. A `Turn` taken lazily is taken by
the store's load (`TAKE_FREE`, in the same script and round trip) and given back by its commit
(`GIVE_TAKEN`); only when the turn is busy does the waiter queue up and poll (`_TAKE`).

`Lease`: one holder at a time of a named job, renewed while held, taken over by another process
once the holder stopped renewing (died).
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Final

from redis.asyncio import Redis

from flows.unavailable import milliseconds, unavailable

__all__ = [
    "GIVE_TAKEN",
    "TAKE_FREE",
    "Lease",
    "LockTimeout",
    "TicketLock",
    "Turn",
    "process_token",
]

_NOW: Final = (
    "local clock = redis.call('TIME')\n"
    "local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)\n"
)

# KEYS: queue, alive, turn; ARGV: 1 ticket, 2 order (update_id), 3 ttl (ms).
# 1: the turn is this ticket's (taken or kept); 0: wait.
_TAKE: Final = (
    _NOW
    + """
local ttl = tonumber(ARGV[3])
redis.call('ZADD', KEYS[1], 'NX', ARGV[2], ARGV[1])
redis.call('ZADD', KEYS[2], now + ttl, ARGV[1])
local dead = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now)
for i = 1, #dead do
  redis.call('ZREM', KEYS[1], dead[i])
  redis.call('ZREM', KEYS[2], dead[i])
end
redis.call('PEXPIRE', KEYS[1], ttl * 2)
redis.call('PEXPIRE', KEYS[2], ttl * 2)
local turn = redis.call('GET', KEYS[3])
if turn == ARGV[1] then
  redis.call('PEXPIRE', KEYS[3], ttl)
  return 1
end
if turn then
  return 0
end
local head = redis.call('ZRANGE', KEYS[1], 0, 0)
if head[1] == ARGV[1] then
  redis.call('SET', KEYS[3], ARGV[1], 'PX', ttl)
  return 1
end
return 0
"""
)

# Lua for other scripts of the conversation's slot. TAKE_FREE takes the turn when nobody holds
# or waits for it: then this ticket would head the queue anyway (`taken` = 1); else `taken` = 0
# and the waiter goes through _TAKE. GIVE_TAKEN gives a turn taken so back. `qk`, `ak`, `tk`:
# the queue, alive and turn keys; `ticket`, `ttl` (ms) and `queued` (the ticket went through
# _TAKE: '1') the ticket's.
TAKE_FREE: Final = """
local taken = 0
if redis.call('EXISTS', qk) == 0 and redis.call('SET', tk, ticket, 'PX', ttl, 'NX') then
  taken = 1
elseif redis.call('GET', tk) == ticket then
  redis.call('PEXPIRE', tk, ttl)
  taken = 1
end
"""
GIVE_TAKEN: Final = """
if queued == '1' then
  redis.call('ZREM', qk, ticket)
  redis.call('ZREM', ak, ticket)
end
if redis.call('GET', tk) == ticket then
  redis.call('DEL', tk)
end
"""

# KEYS: queue, alive, turn; ARGV: 1 ticket. Leaves the queue, and gives the turn back if held.
_GIVE: Final = """
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('ZREM', KEYS[2], ARGV[1])
if redis.call('GET', KEYS[3]) == ARGV[1] then
  redis.call('DEL', KEYS[3])
end
return 0
"""

# KEYS: lease; ARGV: 1 token, 2 ttl (ms). 1 when held by this token (taken or renewed), else
# -(time left of the holder, ms).
_HOLD: Final = """
local holder = redis.call('GET', KEYS[1])
if holder == false or holder == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
return -math.max(1, redis.call('PTTL', KEYS[1]))
"""

# KEYS: lease; ARGV: 1 token.
_DROP: Final = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""


def process_token() -> str:
    """A random name for this process in leases and tickets (nothing about the host)."""
    return secrets.token_hex(8)


class LockTimeout(RuntimeError):
    """Waited too long for a conversation's turn; the update fails and comes again."""


@dataclass(slots=True)
class Turn:
    """A ticket of a conversation's turn, for the store to take with its load and give back
    with its commit (`keys`: queue, alive, turn)."""

    keys: list[str]
    ticket: str
    order: int  # the update_id: the queue's order
    ttl_ms: int
    deadline: float  # loop time after which the waiter gives up (LockTimeout)
    wait: Callable[[Turn], Awaitable[None]]  # queue up and poll (the turn was busy)
    taken: bool = False
    queued: bool = False  # it waited in the queue (_TAKE), not only took a free turn
    given: bool = False  # given back (by the commit): nothing left to release
    # the delivery lease the commit takes for the deliverer (flows.store), and what it said
    lease_token: str = ""
    lease_ttl_ms: int = 0
    leased: bool = False  # the commit took (or renewed) the lease for `lease_token`
    alone: bool = False  # no other batch was pending: the deliverer needs no outbox read
    reindex: bool = False  # the case indexes are due a refresh


class TicketLock:
    POLL_FIRST: Final = 0.002
    POLL_MAX: Final = 0.05

    def __init__(
        self,
        redis: Redis,
        key_of: Callable[[str, str], str],
        *,
        ttl: float = 10.0,  # seconds a turn or a waiter lives without a sign of life
        wait_max: float = 30.0,  # seconds a waiter waits at most for its turn
    ) -> None:
        self.ttl = ttl
        self.wait_max = wait_max
        self._key_of = key_of
        self._take = redis.register_script(_TAKE)
        self._give = redis.register_script(_GIVE)
        self._token = process_token()
        self._serial = 0

    @contextlib.asynccontextmanager
    async def hold(self, key: str, update_id: int, *, lazy: bool = False) -> AsyncIterator[Turn]:
        """The conversation's turn, for the update numbered `update_id`. `lazy`: not taken
        here but by the store's load of the update (`ConversationStore.load(turn=...)`)."""
        self._serial += 1
        turn = Turn(
            keys=[self._key_of(key, part) for part in ("queue", "alive", "turn")],
            ticket=f"{update_id}:{self._token}:{self._serial}",
            order=update_id,
            ttl_ms=milliseconds(self.ttl),
            deadline=asyncio.get_running_loop().time() + self.wait_max,
            wait=self.wait,
        )
        try:
            if not lazy:
                await self.wait(turn)
            yield turn
        finally:
            if not turn.given:
                # Redis down now: the turn expires by itself
                with contextlib.suppress(Exception), unavailable():
                    await self._give(keys=turn.keys, args=[turn.ticket])

    async def wait(self, turn: Turn) -> None:
        """Queue up and poll until the turn is this ticket's."""
        args: list[str | int] = [turn.ticket, turn.order, turn.ttl_ms]
        loop = asyncio.get_running_loop()
        pause = self.POLL_FIRST
        turn.queued = True
        with unavailable():
            while not await self._take(keys=turn.keys, args=args):
                if loop.time() > turn.deadline:
                    raise LockTimeout("a conversation's turn did not come")
                await asyncio.sleep(pause)
                pause = min(self.POLL_MAX, pause * 2)
        turn.taken = True


class Lease:
    """A named job held by one process at a time (`hold` again to renew)."""

    def __init__(self, redis: Redis, token: str | None = None) -> None:
        self.token = token or process_token()
        self._hold = redis.register_script(_HOLD)
        self._drop = redis.register_script(_DROP)

    async def hold(self, name: str, ttl: float) -> float:
        """0 when this process holds `name` for `ttl` seconds from now; else how long (s) the
        other holder's lease still runs."""
        with unavailable():
            reply = int(await self._hold(keys=[name], args=[self.token, milliseconds(ttl)]))
        return 0.0 if reply == 1 else -reply / 1000

    async def release(self, name: str) -> None:
        with unavailable():
            await self._drop(keys=[name], args=[self.token])
