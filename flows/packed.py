"""Small sets of (id, time) kept as one hash field of a conversation, instead of a key each.

A set is text: its entries in the order they came, each as the difference from the one before
("<d id>:<d time>", comma-separated), so ids a few apart and times seconds apart take a few
bytes each; an id one after the one before is written as "<d time>" alone, and an entry the
same as the one before as "*<times>" after it (a registration's 17 update ids seen within a
second: "1:<time>,0*16"). A chat's message ids, which follow one another, are kept as runs instead
("<d first>+<extent>:<d time of the first>"): a whole registration's messages are one entry.
The Lua below is prepended to the scripts that keep such sets (flows.commit_lua, flows.outbox,
flows.quota, bot.ephemeral); `decode` and `run_ids_since` read them here. No entry is personal:
update ids and message ids of a pseudonymous conversation, with when.
"""

from __future__ import annotations

import re
from typing import Final

__all__ = ["LUA", "REMEMBER", "RUN_SPAN", "decode", "ids_since", "run_ids_since"]

# A run of a chat's message ids (one after another) is kept as one entry while it grows within
# this many seconds of its first message: a run is deletable while its first message is
# (Telegram's 48 h), so at most this much before the limit is left out of a /forget.
RUN_SPAN: Final = 600

# `unpack_pairs(text or false)`: the list of {id, time}; `pack_pairs(list)`: its text ("" when
# empty); `keep_since(list, t, at)`: the entries whose time (element `at`: 2, or 3 for runs) is
# >= t; `lasts_at_least(hash, ttl ms)`; `has_id(list, id)`; `add_id(list, id, time)`: appended
# unless there already (then its time is renewed); `cap(list, n)`: the n newest;
# `put_pairs(hash, field, list)`; `remember_ids(hash, field, now ms, ttl ms, from, to)`: the
# message ids ARGV[from..to] (to: the last by default) sent now join the set in `field`, those
# older than `ttl` leave it, and a conversation erased or not yet made keeps the hash at least
# `ttl`; `remember_chat(hash, now ms, ttl ms, from, to)`: the same for the runs of the `chat`
# field (`unpack_runs`, `pack_runs`, `add_to_runs`: lists of {first, last, time}).
LUA: Final = (
    f"local RUN_SPAN = {RUN_SPAN}\n"
    + """
local function unpack_pairs(text)
  local list, a, b = {}, 0, 0
  if text then
    for token in string.gmatch(text, '[^,]+') do
      local body, times = string.match(token, '^(.-)%*(%d+)$')
      body, times = body or token, tonumber(times or 1)
      local da, db = string.match(body, '^(-?%d+):(-?%d+)$')
      da, db = tonumber(da or 1), tonumber(db or body)
      for _ = 1, times do
        a, b = a + da, b + db
        list[#list + 1] = {a, b}
      end
    end
  end
  return list
end
local function pack_pairs(list)
  local parts, a, b, last, times = {}, 0, 0, nil, 0
  for i = 1, #list + 1 do
    local entry, token = list[i], nil
    if entry then
      local da, db = entry[1] - a, entry[2] - b
      token = da == 1 and string.format('%d', db) or string.format('%d:%d', da, db)
      a, b = entry[1], entry[2]
    end
    if token == last then
      times = times + 1
    else
      if last then
        parts[#parts + 1] = times > 1 and (last .. '*' .. times) or last
      end
      last, times = token, 1
    end
  end
  return table.concat(parts, ',')
end
local function keep_since(list, since, at)
  local kept, at = {}, at or 2
  for i = 1, #list do
    if list[i][at] >= since then
      kept[#kept + 1] = list[i]
    end
  end
  return kept
end
local function lasts_at_least(ck, ttl)
  local left = redis.call('PTTL', ck)
  if left == -1 or left < ttl then
    redis.call('PEXPIRE', ck, ttl)
  end
end
local function has_id(list, id)
  for i = 1, #list do
    if list[i][1] == id then
      return true
    end
  end
  return false
end
local function add_id(list, id, time)
  for i = 1, #list do
    if list[i][1] == id then
      table.remove(list, i)
      break
    end
  end
  list[#list + 1] = {id, time}
  return list
end
local function cap(list, n)
  if #list <= n then
    return list
  end
  local kept = {}
  for i = #list - n + 1, #list do
    kept[#kept + 1] = list[i]
  end
  return kept
end
local function put_pairs(hash, field, list)
  if #list == 0 then
    redis.call('HDEL', hash, field)
  else
    redis.call('HSET', hash, field, pack_pairs(list))
  end
end
local function unpack_runs(text)
  local list, a, b = {}, 0, 0
  if text then
    for da, n, db in string.gmatch(text, '(-?%d+)%+(%d+):(-?%d+)') do
      a = a + tonumber(da)
      b = b + tonumber(db)
      list[#list + 1] = {a, a + tonumber(n), b}
    end
  end
  return list
end
local function pack_runs(list)
  local parts, a, b = {}, 0, 0
  for i = 1, #list do
    local run = list[i]
    parts[i] = string.format('%d+%d:%d', run[1] - a, run[2] - run[1], run[3] - b)
    a, b = run[1], run[3]
  end
  return table.concat(parts, ',')
end
local function add_to_runs(list, id, time)
  for i = 1, #list do
    if id >= list[i][1] and id <= list[i][2] then
      return list
    end
  end
  for i = #list, 1, -1 do
    local run = list[i]
    if time - run[3] < RUN_SPAN and (id == run[2] + 1 or id == run[1] - 1) then
      run[1], run[2] = math.min(run[1], id), math.max(run[2], id)
      return list
    end
  end
  list[#list + 1] = {id, id, time}
  return list
end
local function remember_chat(ck, now, ttl, from, to)
  local seconds = math.floor(now / 1000)
  local was = redis.call('HMGET', ck, 'chat', 'v')
  local runs = keep_since(unpack_runs(was[1]), seconds - math.floor(ttl / 1000), 3)
  for i = from, to or #ARGV do
    runs = add_to_runs(runs, tonumber(ARGV[i]), seconds)
  end
  if #runs == 0 then
    redis.call('HDEL', ck, 'chat')
  else
    redis.call('HSET', ck, 'chat', pack_runs(runs))
  end
  if not was[2] then
    lasts_at_least(ck, ttl)
  end
end
local function remember_ids(ck, field, now, ttl, from, to)
  local seconds = math.floor(now / 1000)
  local since = seconds - math.floor(ttl / 1000)
  local was = redis.call('HMGET', ck, field, 'v')
  local list = keep_since(unpack_pairs(was[1]), since)
  for i = from, to or #ARGV do
    list = add_id(list, tonumber(ARGV[i]), seconds)
  end
  put_pairs(ck, field, list)
  if not was[2] then
    lasts_at_least(ck, ttl)
  end
end
"""
)

# KEYS: a conversation's hash; ARGV: 1 field, 2 now (ms), 3 ttl (ms), 4.. message ids. They join
# the set in `field`, where those older than `ttl` (too old for Telegram to delete) are
# dropped; a conversation erased or not yet made keeps them at least `ttl`.
REMEMBER: Final = (
    LUA
    + """
remember_ids(KEYS[1], ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), 4)
return 0
"""
)

_RUN: Final = re.compile(r"(-?\d+)\+(\d+):(-?\d+)")


def decode(text: str | None) -> list[tuple[int, int]]:
    """The (id, time) entries of a packed set, in the order they came."""
    entries: list[tuple[int, int]] = []
    a = b = 0
    for token in text.split(",") if text else ():
        body, _, times = token.partition("*")
        da, _, db = body.rpartition(":")
        step_a, step_b = int(da or 1), int(db)
        for _ in range(int(times or 1)):
            a, b = a + step_a, b + step_b
            entries.append((a, b))
    return entries


def ids_since(text: str | None, since: int) -> list[int]:
    """The ids of entries of time >= `since`, in the order they came."""
    return [i for i, t in decode(text) if t >= since]


def run_ids_since(text: str | None, since: int) -> list[int]:
    """The ids of a set of runs (the chat's: `remember_chat`) begun at `since` or later."""
    ids: list[int] = []
    first = began = 0
    for d_first, extent, d_began in _RUN.findall(text or ""):
        first, began = first + int(d_first), began + int(d_began)
        if began >= since:
            ids.extend(range(first, first + int(extent) + 1))
    return ids
