"""The Lua of the store's commit: one atomic step per update in the conversation's slot."""

from __future__ import annotations

from typing import Final

from flows.cases import ERASED_VERSION
from flows.outbox import OUTBOX_COUNTER

__all__ = ["COMMIT", "COMPANION_GRACE", "COMPANION_PARTS", "DAY", "TIMELINE_MAX"]

DAY: Final = 86400.0
TIMELINE_MAX: Final = 200  # case events kept per conversation, newest last
# Parts other modules keep in a conversation's slot (the operator desk's record and its relayed
# messages): every commit makes them live as long as the conversation, plus a grace period in
# which the desk can still find and close the topic of a conversation that just expired
COMPANION_PARTS: Final = ("desk", "relayed")
COMPANION_GRACE: Final = DAY

# KEYS: conv, seen, outbox, timeline, chat, then the companions (one slot)
# ARGV: 1 expected version, 2 update_id, 3 now (ms), 4 seen cutoff (ms), 5 seen ttl (ms),
#       6 conv ttl (ms), 7 outbox ttl (ms), 8 erase mode ("" | "erase" | "wipe"),
#       9 sealed batch, 10 meta, 11 sealed fields, 12 case id, 13 code digest, 14 state,
#       15 updated, 16 chat message id seen ("" for none), 17 chat ttl (ms), 18.. case event kinds
# Returns {0, new version, outbox seq} | {1, stored version, 0} conflict | {2, 0, 0} duplicate.
#
# An erased conversation's version is kept in its `seen` zset (member "v"), and the next
# conversation counts on from there: a commit prepared before the erase can never match a
# version of the conversation that follows it (no ABA, so erased data cannot come back).
COMMIT: Final = f"""
if redis.call('ZSCORE', KEYS[2], ARGV[2]) then
  return {{2, 0, 0}}
end
local stored = redis.call('HGET', KEYS[1], 'v')
local current = 0
if stored then current = tonumber(stored) end
if current ~= tonumber(ARGV[1]) then
  return {{1, current, 0}}
end
local base = current
if not stored then
  base = tonumber(redis.call('ZSCORE', KEYS[2], '{ERASED_VERSION}') or '0')
end
local version = base + 1
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', '(' .. ARGV[4])
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[2])
if ARGV[8] ~= '' then
  redis.call('DEL', KEYS[1], KEYS[4])
  local names = redis.call('HKEYS', KEYS[3])
  for i = 1, #names do
    if names[i] ~= '{OUTBOX_COUNTER}' then
      redis.call('HDEL', KEYS[3], names[i])
    end
  end
  redis.call('ZADD', KEYS[2], version, '{ERASED_VERSION}')
else
  redis.call('HSET', KEYS[1], 'v', version, 'meta', ARGV[10], 'sealed', ARGV[11])
  if ARGV[12] ~= '' then
    redis.call('HSET', KEYS[1], 'case', ARGV[12], 'state', ARGV[14], 'updated', ARGV[15])
    if ARGV[13] ~= '' then
      redis.call('HSET', KEYS[1], 'code', ARGV[13])
    else
      redis.call('HDEL', KEYS[1], 'code')
    end
  else
    redis.call('HDEL', KEYS[1], 'case', 'code', 'state', 'updated')
  end
  redis.call('PEXPIRE', KEYS[1], ARGV[6])
  for i = 6, #KEYS do
    redis.call('PEXPIRE', KEYS[i], tonumber(ARGV[6]) + {round(COMPANION_GRACE * 1000)})
  end
  for i = 18, #ARGV do
    redis.call('RPUSH', KEYS[4], ARGV[3] .. ' ' .. ARGV[i])
  end
  if #ARGV >= 18 then
    redis.call('LTRIM', KEYS[4], -{TIMELINE_MAX}, -1)
  end
  redis.call('PEXPIRE', KEYS[4], ARGV[6])
end
if ARGV[16] ~= '' then
  -- the caller's own message, so /forget can delete it too
  redis.call('ZADD', KEYS[5], ARGV[3], ARGV[16])
  redis.call('PEXPIRE', KEYS[5], ARGV[17])
end
redis.call('PEXPIRE', KEYS[2], ARGV[5])
local seq = redis.call('HINCRBY', KEYS[3], '{OUTBOX_COUNTER}', 1)
redis.call('HSET', KEYS[3], tostring(seq), ARGV[9])
redis.call('PEXPIRE', KEYS[3], ARGV[7])
return {{0, version, seq}}
"""
