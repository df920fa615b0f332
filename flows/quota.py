"""A caller's quota of updates per window, counted in Redis beside his conversation.

    {prefix}:{<conv key>}:conv  hash  rate: the last window's update ids and when counted (ms,
                                      flows.packed), rn: when he was last told he writes too
                                      much (ms); beside his conversation (flows.store)

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
from flows.packed import LUA as PACKED

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


# Lua functions (after flows.packed.LUA) on a conversation's hash `ck`: its field `rate` holds
# the window (update_id -> when counted, ms), `rn` when he was last told (ms). `counted` counts
# update `id` at `now` (ms) unless the window already holds `limit` others (1: within the
# quota; `rate` and `alive`: the fields rate and v, when the caller read them already);
# `noticed` says whether a refusal now is the first of the window (and marks it). A hash made
# here (a new caller's first update, refused) lives for the window only.
FUNCTIONS: Final = """
local function counted(ck, id, now, window, limit, rate, alive)
  if rate == nil then
    local was = redis.call('HMGET', ck, 'rate', 'v')
    rate, alive = was[1], was[2]
  end
  local entries = keep_since(unpack_pairs(rate), now - window + 1)
  id = tonumber(id)
  local ok = 0
  if has_id(entries, id) then
    ok = 1
  elseif #entries < limit then
    entries[#entries + 1] = {id, now}
    ok = 1
  end
  put_pairs(ck, 'rate', entries)
  if #entries > 0 and not alive then  -- a conversation lives longer than the window
    lasts_at_least(ck, window)
  end
  return ok
end
local function noticed(ck, now, window)
  if now - tonumber(redis.call('HGET', ck, 'rn') or '-1e15') >= window then
    redis.call('HSET', ck, 'rn', now)
    lasts_at_least(ck, window)
    return 1
  end
  return 0
end
"""

# KEYS: the conversation's hash; ARGV: 1 update_id, 2 now (ms), 3 window (ms), 4 limit.
# Returns {allowed, notice now}.
COUNT: Final = (
    PACKED
    + FUNCTIONS
    + """
local now, window = tonumber(ARGV[2]), tonumber(ARGV[3])
if counted(KEYS[1], ARGV[1], now, window, tonumber(ARGV[4])) == 1 then
  return {1, 0}
end
return {0, noticed(KEYS[1], now, window)}
"""
)

# For the store's load (after FUNCTIONS): `admitted` is 1 when the update may be applied: within
# the quota, heard anyway (`heard` = '1'), or his conversation's meta (`meta`, JSON) says he is
# escalated (`rate`, `alive`: the conversation's fields rate and v, read with the meta). A
# damaged meta does not make him heard (its own handling tells him).
ADMIT: Final = """
local function admitted(ck, id, now, window, limit, heard, meta, rate, alive)
  if limit <= 0 or counted(ck, id, now, window, limit, rate, alive) == 1 or heard == '1' then
    return 1
  end
  if meta then
    local ok, decoded = pcall(cjson.decode, meta)
    -- 'x': escalated, under its short name (flows.short_names); the long one as written before
    local escalated = ok and type(decoded) == 'table' and (decoded.x or decoded.escalated)
    if escalated == true then
      return 1
    end
  end
  return 0
end
"""
