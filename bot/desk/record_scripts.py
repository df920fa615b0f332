"""The Lua scripts behind bot.desk.records: each change to a desk record is one script, so it is
atomic and writes only while the record exists."""

from __future__ import annotations

from typing import Final

# From ARGV[at]: n, then n field/value pairs to write into KEYS[1], then fields to delete
WRITE_FIELDS: Final = """
local function write_fields(at)
  local n = tonumber(ARGV[at])
  if n > 0 then
    redis.call('HSET', KEYS[1], unpack(ARGV, at + 1, at + 2 * n))
  end
  if #ARGV > at + 2 * n then
    redis.call('HDEL', KEYS[1], unpack(ARGV, at + 1 + 2 * n, #ARGV))
  end
end
"""

# KEYS[1] record; ARGV from 1 as write_fields takes them. Only while the record exists (its
# lifetime is set when it is made and by every commit of its conversation).
UPDATE: Final = (
    WRITE_FIELDS
    + """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
write_fields(1)
return 1
"""
)

# A desk part lives as long as its conversation (KEYS[2]) and the grace period (ARGV[1] ms);
# every commit of the conversation extends it again (flows.store.COMPANION_PARTS)
LIVE_AS_LONG: Final = """
local function live_as_long(name)
  local left = redis.call('PTTL', KEYS[2])
  if left < 0 then left = 0 end
  redis.call('PEXPIRE', name, left + tonumber(ARGV[1]))
end
"""

# KEYS[1] record, KEYS[2] conversation; ARGV[1] grace (ms), ARGV[2] a new ref, ARGV[3] n,
# then n field/value pairs and the fields to delete. {made (0/1), the record as flat pairs}
ENSURE: Final = (
    LIVE_AS_LONG
    + WRITE_FIELDS
    + """
local made = redis.call('HSETNX', KEYS[1], 'ref', ARGV[2])
write_fields(3)
live_as_long(KEYS[1])
return {made, redis.call('HGETALL', KEYS[1])}
"""
)

# KEYS[1] record, KEYS[2] conversation, KEYS[3] relayed ids; ARGV[1] grace (ms), ARGV[2]
# message id, ARGV[3] now, ARGV[4] the oldest time kept. Only while the record exists.
REMEMBER_RELAYED: Final = (
    LIVE_AS_LONG
    + """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('ZADD', KEYS[3], ARGV[3], ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', '(' .. ARGV[4])
live_as_long(KEYS[3])
return 1
"""
)

# KEYS[1] record; ARGV[1] operator digest, ARGV[2] now, ARGV[3] the update_id claiming.
# {status, claimer, first, update}, the status a `bot.desk.kinds.ClaimStatus`: {1, me, first}
# claimed now (first: the first claim of this escalation) | {2, me, 0, update} already mine,
# by that update | {0, other} someone else's | {-2, ''} no open escalation | {-1, ''} no record
CLAIM: Final = """
if redis.call('EXISTS', KEYS[1]) == 0 then return {-1, ''} end
local current = redis.call('HGET', KEYS[1], 'claimer')
if current then
  if current == ARGV[1] then
    return {2, current, 0, redis.call('HGET', KEYS[1], 'claim_update') or ''}
  end
  return {0, current}
end
if redis.call('HGET', KEYS[1], 'open') ~= '1' then return {-2, ''} end
redis.call('HSET', KEYS[1], 'claimer', ARGV[1], 'claimed_at', ARGV[2], 'claim_update', ARGV[3])
local first = redis.call('HSETNX', KEYS[1], 'counted', '1')
return {1, ARGV[1], first}
"""

# KEYS[1] record; ARGV[1] operator digest, ARGV[2] now. A `bot.desk.kinds.ReleaseStatus`:
# 1 released | 0 not theirs | -1 none.
# A released open escalation waits anew: its service-level clock starts again.
RELEASE: Final = """
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
if redis.call('HGET', KEYS[1], 'claimer') ~= ARGV[1] then return 0 end
redis.call('HDEL', KEYS[1], 'claimer', 'claimed_at', 'claim_update', 'announced')
if redis.call('HGET', KEYS[1], 'open') == '1' then
  redis.call('HSET', KEYS[1], 'since', ARGV[2])
end
return 1
"""

# KEYS[1] record; ARGV[1] now, ARGV[2] interval (s). {1, previous} when an unclaimed open
# escalation has waited an interval and was not announced in the last one: it is taken for an
# announcement now (by one ticking process only), `previous` what to put back should it fail.
ANNOUNCE: Final = """
if redis.call('HGET', KEYS[1], 'open') ~= '1' then return {0, ''} end
if redis.call('HEXISTS', KEYS[1], 'claimer') == 1 then return {0, ''} end
local now = tonumber(ARGV[1])
local interval = tonumber(ARGV[2])
local since = tonumber(redis.call('HGET', KEYS[1], 'since') or ARGV[1])
if now - since < interval then return {0, ''} end
local last = redis.call('HGET', KEYS[1], 'announced')
if last and now - tonumber(last) < interval then return {0, ''} end
redis.call('HSET', KEYS[1], 'announced', ARGV[1])
return {1, last or ''}
"""

# KEYS[1] record; ARGV[1] the moment taken, ARGV[2] what was there before ('' none). The
# announcement was not sent: the mark goes back, unless someone has marked it since.
UNANNOUNCE: Final = """
if redis.call('HGET', KEYS[1], 'announced') ~= ARGV[1] then return 0 end
if ARGV[2] == '' then
  redis.call('HDEL', KEYS[1], 'announced')
else
  redis.call('HSET', KEYS[1], 'announced', ARGV[2])
end
return 1
"""

# KEYS[1] an index (a topic's); ARGV[1] the conversation key. It goes only while it still points
# at that conversation: another account may have taken the topic meanwhile.
DEL_IF: Final = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""

# KEYS[1] a desk lane (bot.desk.lane), KEYS[2] the group's messages showing his (shared_topics);
# ARGV[1] how long those are kept (ms), then their ids. The job at the lane's head leaves it,
# with the messages it posted remembered, at once.
LEAVE_LANE: Final = """
if #ARGV > 1 then
  for i = 2, #ARGV do
    redis.call('ZADD', KEYS[2], ARGV[i], ARGV[i])
  end
  redis.call('PEXPIRE', KEYS[2], ARGV[1])
end
redis.call('LTRIM', KEYS[1], 1, -1)
return 1
"""

# KEYS[1] a shared topic's hash (bot.desk.shared_topics); ARGV[1] its topic, ARGV[2] its card,
# ARGV[3] the member field of the record using it, ARGV[4] how long the hash is kept (ms). The
# topic and card stay those of the first (one topic per case), at once with the member.
JOIN_SHARED: Final = """
redis.call('HSETNX', KEYS[1], 'topic', ARGV[1])
redis.call('HSETNX', KEYS[1], 'card', ARGV[2])
redis.call('HSET', KEYS[1], ARGV[3], 1)
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return 1
"""

# KEYS[1] a shared topic's hash (bot.desk.shared_topics); ARGV[1] the member field of the record
# leaving it, ARGV[2] the members' prefix. The hash goes with its last member: a topic no
# conversation uses any more is no one's to share.
LEAVE_SHARED: Final = """
redis.call('HDEL', KEYS[1], ARGV[1])
for _, name in ipairs(redis.call('HKEYS', KEYS[1])) do
  if string.sub(name, 1, #ARGV[2]) == ARGV[2] then return 0 end
end
redis.call('DEL', KEYS[1])
return 1
"""
