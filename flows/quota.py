"""A caller's quota of updates per window, counted in Redis beside his conversation.

    {prefix}:{<conv key>}:rate        zset    update_id -> when counted (ms), the last window's
    {prefix}:{<conv key>}:ratenotice  string  when he was last told he writes too much (ms)

What is counted is his distinct updates (by `update_id`): our own retries of an update and
Telegram's redeliveries of it never count again. The count is taken by the store's load of the
update (flows.store), in the same script that takes the conversation's turn, so a caller's
update costs no round trip of its own for it; `COUNT` is the same rule as a script of its own
(bot.middlewares.ratelimit's `check`).

Never refused over the quota: what a caller an operator follows sends (escalated: it reaches
the case topic, under the group's own budget), and a voice or video note of anyone (a caller
who cannot type must be heard: it escalates).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from flows.model import Event, Media

__all__ = ["ADMIT", "COUNT", "HEARD_KINDS", "OverLimit", "Quota", "heard_anyway"]

HEARD_KINDS: Final = frozenset({"voice", "video_note"})


@dataclass(frozen=True, slots=True)
class Quota:
    per_window: int
    window_ms: int = 60_000
    clock: Callable[[], float] = time.time  # the windows' time (the rate limit's own clock)


class OverLimit(Exception):
    """The caller's update is over his quota: not applied; `notice`: tell him now (the first
    refusal of the window)."""

    def __init__(self, notice: bool) -> None:
        super().__init__("over the caller's quota")
        self.notice = notice


def heard_anyway(event: Event) -> bool:
    """What is applied over the quota whatever the conversation: a voice or a video note."""
    return isinstance(event, Media) and event.kind in HEARD_KINDS


# Lua functions on `rk` (the window) and `nk` (the last notice): `counted` counts update `id`
# at `now` (ms) unless the window already holds `limit` others (1: within the quota); `noticed`
# says whether a refusal now is the first of the window (and marks it).
FUNCTIONS: Final = """
local function counted(rk, id, now, window, limit)
  redis.call('ZREMRANGEBYSCORE', rk, '-inf', now - window)
  local ok = 0
  if redis.call('ZSCORE', rk, id) then
    ok = 1
  elseif redis.call('ZCARD', rk) < limit then
    redis.call('ZADD', rk, now, id)
    ok = 1
  end
  redis.call('PEXPIRE', rk, window)
  return ok
end
local function noticed(nk, now, window)
  if now - tonumber(redis.call('GET', nk) or '-1e15') >= window then
    redis.call('SET', nk, now, 'PX', window)
    return 1
  end
  return 0
end
"""

# KEYS: window, last notice; ARGV: 1 update_id, 2 now (ms), 3 window (ms), 4 limit.
# Returns {allowed, notice now}.
COUNT: Final = (
    FUNCTIONS
    + """
local now, window = tonumber(ARGV[2]), tonumber(ARGV[3])
if counted(KEYS[1], ARGV[1], now, window, tonumber(ARGV[4])) == 1 then
  return {1, 0}
end
return {0, noticed(KEYS[2], now, window)}
"""
)

# For the store's load (after FUNCTIONS): `admitted` is 1 when the update may be applied: within
# the quota, heard anyway (`heard` = '1'), or his conversation's meta (`meta`, JSON) says he is
# escalated. A damaged meta does not make him heard (its own handling tells him).
ADMIT: Final = """
local function admitted(rk, id, now, window, limit, heard, meta)
  if limit <= 0 or counted(rk, id, now, window, limit) == 1 or heard == '1' then
    return 1
  end
  if meta then
    local ok, decoded = pcall(cjson.decode, meta)
    if ok and type(decoded) == 'table' and decoded['escalated'] == true then
      return 1
    end
  end
  return 0
end
"""
