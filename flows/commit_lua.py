"""The Lua of the store's load and commit: one atomic step each per update, in the
conversation's slot."""

from __future__ import annotations

from typing import Final

from flows.cases import ERASED_SEQ, ERASED_VERSION
from flows.locks import GIVE_TAKEN, TAKE_FREE
from flows.quota import ADMIT, FUNCTIONS
from flows.retention import DAY

__all__ = ["COMMIT", "COMPANION_GRACE", "COMPANION_PARTS", "DAY", "LOAD", "TIMELINE_MAX"]

TIMELINE_MAX: Final = 200  # case events kept per conversation, newest last
# Parts other modules keep in a conversation's slot (the operator desk's record and its relayed
# messages): every commit makes them live as long as the conversation, plus a grace period in
# which the desk can still find and close the topic of a conversation that just expired
COMPANION_PARTS: Final = ("desk", "relayed")
COMPANION_GRACE: Final = DAY

# KEYS: conv, seen, outbox, timeline, chat, queue, alive, turn, lease, then the companions
#       (one slot)
# ARGV: 1 expected version, 2 update_id, 3 now (ms), 4 seen cutoff (ms), 5 seen ttl (ms),
#       6 conv ttl (ms), 7 outbox ttl (ms), 8 erase mode ("" | "erase" | "wipe"),
#       9 sealed batch, 10 meta, 11 sealed fields, 12 case id, 13 code digest, 14 state and
#       15 updated (no longer stored: the meta has them), 16 chat message id seen ("" for
#       none), 17 chat ttl (ms), 18 the turn's ticket ("" for none), 19 it queued ("1"),
#       20 the deliverer's lease token ("" for none), 21 lease ttl (ms), 22 index refresh
#       interval (ms), 23.. case event kinds
# Returns {0, new version, outbox seq, leased, alone, reindex} | {1, stored version} conflict |
# {2} duplicate. The turn (flows.locks.Turn) is given back unless it is a conflict (the update
# is applied again, still holding it). `leased`: the delivery lease (flows.locks.Lease) was
# free or the deliverer's and is its now; `alone`: no other batch waits in the outbox, so the
# deliverer may send this one without reading the outbox; `reindex`: the case indexes
# (flows.cases) are due a refresh (a new case, or the last refresh older than ARGV[22]).
#
# The outbox's batches are numbered by the conversation's `seq`. An erased conversation's
# version and batch number are kept in its `seen` zset (members "v", "s"), and the next
# conversation counts on from there (a batch number never comes back, so a deliverer never
# takes a new batch for one it delivered): a commit prepared before the erase can never match a
# version of the conversation that follows it (no ABA, so erased data cannot come back).
COMMIT: Final = (
    """
local qk, ak, tk, ticket, queued = KEYS[6], KEYS[7], KEYS[8], ARGV[18], ARGV[19]
local function give()
  if ticket ~= '' then
"""
    + GIVE_TAKEN
    + f"""
  end
end
if redis.call('ZSCORE', KEYS[2], ARGV[2]) then
  give()
  return {{2}}
end
local was = redis.call('HMGET', KEYS[1], 'v', 'case', 'code', 'tl', 'ix', 'seq')
local stored = was[1]
local current = 0
if stored then current = tonumber(stored) end
if current ~= tonumber(ARGV[1]) then
  return {{1, current}}
end
local base, seq = current, tonumber(was[6] or '0')
if not stored then
  base = tonumber(redis.call('ZSCORE', KEYS[2], '{ERASED_VERSION}') or '0')
  seq = tonumber(redis.call('ZSCORE', KEYS[2], '{ERASED_SEQ}') or '0')
elseif not was[6] then
  -- written before the counter moved here from the outbox: count on from there
  seq = tonumber(redis.call('HGET', KEYS[3], 'seq') or '0')
  redis.call('HDEL', KEYS[3], 'seq')
end
local version = base + 1
seq = seq + 1
local now = tonumber(ARGV[3])
local reindex = 0
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', '(' .. ARGV[4])
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[2])
if ARGV[8] ~= '' then
  redis.call('DEL', KEYS[1], KEYS[4], KEYS[3])
  redis.call('ZADD', KEYS[2], version, '{ERASED_VERSION}', seq, '{ERASED_SEQ}')
else
  local fields = {{'v', version, 'meta', ARGV[10], 'sealed', ARGV[11], 'seq', seq}}
  local timeline = was[4] or (#ARGV >= 23 and '1')
  if timeline then
    table.insert(fields, 'tl')
    table.insert(fields, '1')
  end
  if ARGV[12] ~= '' then
    table.insert(fields, 'case')
    table.insert(fields, ARGV[12])
    if ARGV[13] ~= '' then
      table.insert(fields, 'code')
      table.insert(fields, ARGV[13])
    elseif was[3] then
      redis.call('HDEL', KEYS[1], 'code')
    end
    if was[2] ~= ARGV[12] or now - tonumber(was[5] or '0') >= tonumber(ARGV[22]) then
      reindex = 1
      table.insert(fields, 'ix')
      table.insert(fields, ARGV[3])
    end
  elseif was[2] then
    redis.call('HDEL', KEYS[1], 'case', 'code', 'ix')
  end
  redis.call('HSET', KEYS[1], unpack(fields))
  redis.call('PEXPIRE', KEYS[1], ARGV[6])
  for i = 10, #KEYS do
    redis.call('PEXPIRE', KEYS[i], tonumber(ARGV[6]) + {round(COMPANION_GRACE * 1000)})
  end
  for i = 23, #ARGV do
    redis.call('RPUSH', KEYS[4], ARGV[3] .. ' ' .. ARGV[i])
  end
  if #ARGV >= 23 then
    redis.call('LTRIM', KEYS[4], -{TIMELINE_MAX}, -1)
  end
  if timeline then
    redis.call('PEXPIRE', KEYS[4], ARGV[6])
  end
end
if ARGV[16] ~= '' then
  -- the caller's own message, so /forget can delete it too
  redis.call('ZADD', KEYS[5], ARGV[3], ARGV[16])
  redis.call('PEXPIRE', KEYS[5], ARGV[17])
end
redis.call('PEXPIRE', KEYS[2], ARGV[5])
redis.call('HSET', KEYS[3], tostring(seq), ARGV[9])
redis.call('PEXPIRE', KEYS[3], ARGV[7])
local alone = 0
if redis.call('HLEN', KEYS[3]) == 1 then
  alone = 1
end
local leased = 0
if ARGV[20] ~= '' then
  if redis.call('SET', KEYS[9], ARGV[20], 'PX', ARGV[21], 'NX') then
    leased = 1
  elseif redis.call('GET', KEYS[9]) == ARGV[20] then
    redis.call('PEXPIRE', KEYS[9], ARGV[21])
    leased = 1
  end
end
give()
return {{0, version, seq, leased, alone, reindex}}
"""
)

# KEYS: conv, seen, outbox, queue, alive, turn, rate, ratenotice (one slot); ARGV: 1 update_id,
# 2 the turn's ticket, 3 turn ttl (ms), 4 it queued ("1"), 5 now (ms), 6 quota window (ms),
# 7 quota (updates per window; 0: none), 8 heard anyway ("1": a voice, flows.quota).
# Takes the turn if it is free (flows.locks.TAKE_FREE) or already this ticket's; then reads the
# conversation: {1, version, meta, sealed, seen (0/1), pending batches}; {0} while the turn is
# busy (the waiter queues up: flows.locks.TicketLock.wait, and loads again); {2, notice} when
# the update is over the caller's quota (flows.quota): the turn is given back, nothing applied.
LOAD: Final = (
    """
local qk, ak, tk, ticket, ttl, queued = KEYS[4], KEYS[5], KEYS[6], ARGV[2], ARGV[3], ARGV[4]
"""
    + TAKE_FREE
    + FUNCTIONS
    + ADMIT
    + """
if taken == 0 then
  return {0}
end
local conv = redis.call('HMGET', KEYS[1], 'v', 'meta', 'sealed')
local seen = 0
if redis.call('ZSCORE', KEYS[2], ARGV[1]) then
  seen = 1
else
  local now, window = tonumber(ARGV[5]), tonumber(ARGV[6])
  if admitted(KEYS[7], ARGV[1], now, window, tonumber(ARGV[7]), ARGV[8], conv[2]) == 0 then
"""
    + GIVE_TAKEN
    + """
    return {2, noticed(KEYS[8], now, window)}
  end
end
local pending = 0
local names = redis.call('HKEYS', KEYS[3])
for i = 1, #names do
  if string.match(names[i], '^%d+$') then
    pending = pending + 1
  end
end
return {1, conv[1], conv[2], conv[3], seen, pending}
"""
)
