"""The Lua of the store's load and commit: one atomic step each per update, in the
conversation's slot."""

from __future__ import annotations

from typing import Any, Final

from flows.cases import ERASED_SEQ, ERASED_VERSION
from flows.locks import GIVE_TAKEN, TAKE_FREE, Turn
from flows.outbox import Secrets
from flows.packed import LUA as PACKED
from flows.quota import ADMIT, FUNCTIONS, Quota
from flows.retention import DAY, Retention
from flows.unavailable import milliseconds, text

__all__ = [
    "COMMIT",
    "COMPANION_GRACE",
    "COMPANION_PARTS",
    "DAY",
    "LOAD",
    "SEEN_MAX",
    "TIMELINE_MAX",
    "commit_args",
    "load_args",
]

TIMELINE_MAX: Final = 200  # case events kept per conversation, newest last
SEEN_MAX: Final = 1000  # update ids kept for dedupe per conversation (the newest, within 48 h)
# Parts other modules keep in a conversation's slot (the operator desk's record and its relayed
# messages): every commit makes them live as long as the conversation, plus a grace period in
# which the desk can still find and close the topic of a conversation that just expired
COMPANION_PARTS: Final = ("desk", "relayed")
COMPANION_GRACE: Final = DAY

# KEYS: conv, outbox, queue, alive, turn, lease, then the companions (one slot)
# ARGV: 1 expected version, 2 update_id, 3 now (ms), 4 seen cutoff (s), 5 seen ttl (ms),
#       6 conv ttl (ms), 7 outbox ttl (ms), 8 erase mode ("" | "erase" | "wipe"),
#       9 sealed batch, 10 meta, 11 sealed fields, 12 case id, 13 code digest, 14 "1": the
#       batch scrubs (return the secret messages), 15 chat message id seen ("" for none),
#       16 chat ttl (ms), 17 the turn's ticket ("" for none), 18 it queued ("1"), 19 the
#       deliverer's lease token ("" for none), 20 lease ttl (ms), 21 index refresh interval
#       (ms), 22.. case event kinds
# Returns {0, new version, outbox seq, leased, alone, reindex[, secret messages (`sec`), a
# timed one's chat id kept (0/1)]} | {1, stored version} conflict |
# {2} duplicate. The turn (flows.locks.Turn) is given back unless it is a conflict (the update
# is applied again, still holding it). `leased`: the delivery lease (flows.locks.Lease) was
# free or the deliverer's and is its now; `alone`: no other batch waits in the outbox, so the
# deliverer may send this one without reading the outbox; `reindex`: the case indexes
# (flows.cases) are due a refresh (a new case, or the last refresh older than ARGV[21]).
#
# The outbox's batches are numbered by the conversation's `seq`. An erased conversation keeps,
# in its hash, its dedupe marks (`seen`), the ids of the messages /forget may still delete
# (`chat`, `sec`) and the version and batch number it reached (ERASED_VERSION, ERASED_SEQ), and
# the next conversation counts on from there (a batch number never comes back, so a deliverer
# never takes a new batch for one it delivered): a commit prepared before the erase can never
# match a version of the conversation that follows it (no ABA, so erased data cannot come back).
COMMIT: Final = (
    PACKED
    + """
local ck, ok = KEYS[1], KEYS[2]
local qk, ak, tk, ticket, queued = KEYS[3], KEYS[4], KEYS[5], ARGV[17], ARGV[18]
local function give()
  if ticket ~= '' then
"""
    + GIVE_TAKEN
    + f"""
  end
end
local was = redis.call('HMGET', ck, 'v', 'case', 'code', 'tl', 'ix', 'seq', 'seen',
  '{ERASED_VERSION}', '{ERASED_SEQ}', 'chat', 'sec', 'rate', 'rn', 'cid')
local update = tonumber(ARGV[2])
local seen = unpack_pairs(was[7])
if has_id(seen, update) then
  give()
  return {{2}}
end
local stored = was[1]
local current = 0
if stored then current = tonumber(stored) end
if current ~= tonumber(ARGV[1]) then
  return {{1, current}}
end
local base, seq = current, tonumber(was[6] or '0')
if not stored then
  base = tonumber(was[8] or '0')
  seq = tonumber(was[9] or '0')
end
local version = base + 1
seq = seq + 1
local now = tonumber(ARGV[3])
local seconds = math.floor(now / 1000)
local reindex = 0
seen = cap(keep_since(seen, tonumber(ARGV[4])), {SEEN_MAX - 1})
seen[#seen + 1] = {{update, seconds}}
local chat, chat_changed = was[10], ARGV[15] ~= ''
if chat_changed then
  -- the caller's own message, so /forget can delete it too
  local since = seconds - math.floor(tonumber(ARGV[16]) / 1000)
  local runs = keep_since(unpack_runs(chat), since, 3)
  chat = pack_runs(add_to_runs(runs, tonumber(ARGV[15]), seconds))
end
if ARGV[8] ~= '' then
  redis.call('DEL', ck, ok)
  local fields = {{'seen', pack_pairs(seen), '{ERASED_VERSION}', version, '{ERASED_SEQ}', seq}}
  if chat then
    table.insert(fields, 'chat')
    table.insert(fields, chat)
  end
  -- the secret messages Scrub still deletes, and the quota (/forget does not reset a flood's)
  for i, name in ipairs({{'sec', 'rate', 'rn'}}) do
    if was[10 + i] then
      table.insert(fields, name)
      table.insert(fields, was[10 + i])
    end
  end
  redis.call('HSET', ck, unpack(fields))
  redis.call('PEXPIRE', ck, math.max(tonumber(ARGV[5]), tonumber(ARGV[16])))
else
  local fields = {{'v', version, 'meta', ARGV[10], 'sealed', ARGV[11], 'seq', seq,
    'seen', pack_pairs(seen)}}
  if chat_changed then
    table.insert(fields, 'chat')
    table.insert(fields, chat)
  end
  if not stored and was[8] then  -- a conversation anew after an erase: counted on from there
    redis.call('HDEL', ck, '{ERASED_VERSION}', '{ERASED_SEQ}')
  end
  if #ARGV >= 22 then
    local events = {{}}
    for i = 22, #ARGV do
      events[#events + 1] = ARGV[3] .. ' ' .. ARGV[i]
    end
    local timeline = table.concat(events, '\\n')
    if was[4] and was[4] ~= '1' then  -- '1': a mark from before the timeline was a field
      timeline = was[4] .. '\\n' .. timeline
      local count = select(2, string.gsub(timeline, '\\n', '')) + 1
      while count > {TIMELINE_MAX} do
        timeline = string.sub(timeline, string.find(timeline, '\\n', 1, true) + 1)
        count = count - 1
      end
    end
    table.insert(fields, 'tl')
    table.insert(fields, timeline)
  end
  if ARGV[12] ~= '' then
    table.insert(fields, 'case')
    table.insert(fields, ARGV[12])
    if ARGV[13] ~= '' then
      table.insert(fields, 'code')
      table.insert(fields, ARGV[13])
    elseif was[3] then
      redis.call('HDEL', ck, 'code')
    end
    -- ix: when the indexes were last written (s: 4 bytes in the hash, where ms take 8)
    if was[2] ~= ARGV[12] or now - 1000 * tonumber(was[5] or '0') >= tonumber(ARGV[21]) then
      reindex = 1
      table.insert(fields, 'ix')
      table.insert(fields, seconds)
    end
  elseif was[2] then
    redis.call('HDEL', ck, 'case', 'code', 'ix')
  end
  redis.call('HSET', ck, unpack(fields))
  redis.call('PEXPIRE', ck, ARGV[6])
  if #KEYS >= 7 and redis.call('EXISTS', unpack(KEYS, 7)) > 0 then  -- most never reach the desk
    for i = 7, #KEYS do
      redis.call('PEXPIRE', KEYS[i], tonumber(ARGV[6]) + {round(COMPANION_GRACE * 1000)})
    end
  end
end
redis.call('HSET', ok, tostring(seq), ARGV[9])
redis.call('PEXPIRE', ok, ARGV[7])
local alone = 0
if redis.call('HLEN', ok) == 1 then
  alone = 1
end
local leased = 0
if ARGV[19] ~= '' then
  if redis.call('SET', KEYS[6], ARGV[19], 'PX', ARGV[20], 'NX') then
    leased = 1
  elseif redis.call('GET', KEYS[6]) == ARGV[19] then
    redis.call('PEXPIRE', KEYS[6], ARGV[20])
    leased = 1
  end
end
give()
if ARGV[14] ~= '' then  -- what the batch's Scrub will find (bot.ephemeral)
  return {{0, version, seq, leased, alone, reindex, was[11] or '', was[14] and 1 or 0}}
end
return {{0, version, seq, leased, alone, reindex}}
"""
)

# KEYS: conv, outbox, queue, alive, turn (one slot); ARGV: 1 update_id, 2 the turn's ticket,
# 3 turn ttl (ms), 4 it queued ("1"), 5 now (ms), 6 quota window (ms), 7 quota (updates per
# window; 0: none), 8 heard anyway ("1": a voice, flows.quota).
# Takes the turn if it is free (flows.locks.TAKE_FREE) or already this ticket's; then reads the
# conversation: {1, version, meta, sealed, seen (0/1), -1 (the outbox is not counted: the
# commit says whether it is empty), case, code}; {0} while
# the turn is busy (the waiter queues up: flows.locks.TicketLock.wait, and loads again);
# {2, notice} when the update is over the caller's quota (flows.quota): the turn is given back,
# nothing applied.
LOAD: Final = (
    PACKED
    + """
local ck = KEYS[1]
local qk, ak, tk, ticket, ttl, queued = KEYS[3], KEYS[4], KEYS[5], ARGV[2], ARGV[3], ARGV[4]
"""
    + TAKE_FREE
    + FUNCTIONS
    + ADMIT
    + """
if taken == 0 then
  return {0}
end
local conv = redis.call('HMGET', ck, 'v', 'meta', 'sealed', 'seen', 'rate', 'case', 'code')
local seen = 0
if has_id(unpack_pairs(conv[4]), tonumber(ARGV[1])) then
  seen = 1
else
  local now, window, limit = tonumber(ARGV[5]), tonumber(ARGV[6]), tonumber(ARGV[7])
  if admitted(ck, ARGV[1], now, window, limit, ARGV[8], conv[2], conv[5], conv[1]) == 0 then
"""
    + GIVE_TAKEN
    + """
    return {2, noticed(ck, now, window)}
  end
end
return {1, conv[1], conv[2], conv[3], seen, -1, conv[6], conv[7]}
"""
)


def load_args(
    update_id: int, turn: Turn, now_ms: int, quota: Quota | None, *, heard: bool
) -> list[str | int]:
    """LOAD's ARGV, in its order."""
    return [
        str(update_id),
        turn.ticket,
        turn.ttl_ms,
        "1" if turn.queued else "",
        now_ms,
        0 if quota is None else quota.window_ms,
        0 if quota is None else quota.per_window,
        "1" if heard else "",
    ]


def commit_args(
    *,
    expected_version: int,
    update_id: int,
    now_ms: int,
    retention: Retention,
    registered: bool,
    mode: str,
    batch: str,
    meta: str,
    sealed: str,
    case_id: str,
    code: str,
    chat_message: int | None,
    turn: Turn | None,
    index_refresh: float,
    events: list[str],
    scrubs: bool = False,
) -> list[str | int]:
    """COMMIT's ARGV, in its order (the sealed parts made already)."""
    conv_ttl = retention.registered if registered else retention.form
    return [
        expected_version,
        str(update_id),
        now_ms,
        (now_ms - milliseconds(retention.dedupe)) // 1000,
        milliseconds(retention.dedupe),
        milliseconds(conv_ttl),
        milliseconds(retention.outbox),
        mode,
        batch,
        meta,
        sealed,
        case_id,
        code,
        "1" if scrubs else "",
        "" if chat_message is None else str(chat_message),
        milliseconds(retention.chat_messages),
        "" if turn is None else turn.ticket,
        "1" if turn is not None and turn.queued else "",
        "" if turn is None else turn.lease_token,
        0 if turn is None else turn.lease_ttl_ms,
        milliseconds(index_refresh),
        *events,
    ]


def commit_reply(reply: list[Any]) -> tuple[int, int, int, int, int, int, Secrets | None]:
    """COMMIT's answer: status, version, outbox seq, leased, alone, reindex (0 where a conflict
    or a duplicate says nothing), and what a Scrub of the batch finds (when asked)."""
    status, version, seq, leased, alone, reindex = (int(x) for x in [*reply, 0, 0, 0, 0, 0][:6])
    secrets = Secrets(text(reply[6]) or "", bool(int(reply[7]))) if len(reply) > 7 else None
    return status, version, seq, leased, alone, reindex, secrets
