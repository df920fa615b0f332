"""The outbox of a conversation: committed batches of effects, and how far each was delivered.

    {prefix}:{<conv key>}:outbox   hash  <n> -> sealed {"u": update_id, "e": [effects],
                                         "c": chat, "l": language}, and d<n> -> how many
                                         effects of batch n were applied; gone once empty
                                         (the numbers count on in the conversation's `seq`)

A batch enters with the commit of its update (flows.store) and leaves once delivered (`ack`).
In between, every effect applied is recorded at once (`record`; the deliverer may leave one
that sent nothing to the next one's record), in the same round trip as the id of the message it
sent, so a process killed in a batch sends again at most the one message that was in flight
when it died; the record of the last effect acknowledges the batch too. The
deliverer of a conversation holds its lease (flows.locks.Lease; the commit takes it, the last
acknowledgement gives it back); `record` reports when the lease was lost to another process.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Final

from redis.asyncio import Redis

from flows import codec, packed
from flows.model import Effect
from flows.packed import LUA as PACKED
from flows.replicas import Replicas
from flows.sealing import Sealer
from flows.unavailable import milliseconds, text, unavailable

__all__ = ["PENDING", "Batch", "Outbox", "Push", "Recorded", "Secrets"]

DONE_PREFIX: Final = "d"  # d<n>: effects of batch n applied so far


@dataclass(frozen=True, slots=True)
class Recorded:
    held: bool  # the delivery lease is still this process's (always, without a lease)
    pending: int  # batches left in the outbox after an acknowledgement (-1: none made)
    pushed: int = 0  # the list's length after a `Push` (0: nothing was pushed)
    peeked: str | None = None  # the field a `Push` asked for (None: missing)


@dataclass(frozen=True, slots=True)
class Secrets:
    """The bot's secret messages in his chat as the commit of a batch found them: the
    conversation's `sec` field (flows.packed) and whether a timed one's chat id is kept (`cid`),
    so a `Scrub` delivered straight after needs no read of its own (bot.ephemeral)."""

    packed: str
    timed_chat: bool


@dataclass(frozen=True, slots=True)
class Batch:
    """The effects of one committed update, durable in the outbox until acknowledged."""

    entry_id: str  # ordered: later commits have larger ids (compare as integers)
    effects: tuple[Effect, ...]
    update_id: int | None = None
    # where and in which language it goes, so another process can deliver it after a restart
    # (sealed with the batch: a chat id is personal)
    chat_id: int | None = None
    lang: str | None = None
    done: int = 0  # effects already applied (recorded by whoever delivered it before)
    # what a `Scrub` of it finds, as its commit read it; None: read when it is applied (a
    # batch read from the outbox, or delivered after another one)
    secrets: Secrets | None = field(default=None, compare=False)


# `pending_batches(outbox)`: how many batches it holds (its fields "<n>"; "d<n>" are progress)
PENDING: Final = """
local function pending_batches(ok)
  local pending = 0
  for _, name in ipairs(redis.call('HKEYS', ok)) do
    if string.match(name, '^%d+$') then
      pending = pending + 1
    end
  end
  return pending
end
"""

# Acknowledge outbox entry ARGV[1] (and its progress). An emptied outbox is gone by itself (its
# batch numbers live on in the conversation, flows.commit_lua).
_ACK: Final = f"""
redis.call('HDEL', KEYS[1], '{DONE_PREFIX}' .. ARGV[1], ARGV[1])
return 0
"""

# KEYS: the conversation's hash; ARGV: 1 now (ms), 2 chat ttl (ms), 3 a message id.
_REMEMBER_CHAT: Final = (
    PACKED
    + """
remember_chat(KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]), 3)
return 0
"""
)

# Progress of one batch, with the ids of the messages it sent (for /forget), in one step; the
# last step acknowledges the batch in the same call.
# KEYS: outbox, conversation (its `chat` and `sec` fields: flows.packed), lease, and with records
# to push (`Push`) the list they go onto and the hash a field is read from (one slot);
# ARGV: 1 entry, 2 done, 3 lease token, 4 lease ttl (ms), 5 now (ms), 6 chat ttl (ms), 7 "ack"
# (the batch is done: it leaves the outbox) | "" (more effects follow), 8 how many message ids,
# 9 how many records to push, 10 how long their list is kept (ms), 11 the field to read ('':
# none), 12 "1": a `Scrub` deleted the secret messages, their list goes, 13 the sealed chat
# id of a timed one sent ('': none; both with new progress only); then the records, the
# message ids, and those of them `Scrub` deletes (bot.ephemeral).
# Recorded whether or not the lease is still ours (the message went out either way, and a
# process that took the lease over must not send it again); progress never goes back, and a
# batch already acknowledged gets no progress field again. The records are pushed only with
# progress that is new: the same record written again (after Redis failed to answer) pushes
# nothing twice.
# Returns {held, pending, pushed, read}: held 1 while the lease is ours (given back once an
# acknowledgement left nothing pending, renewed by one that left some; within a batch the
# deliverer's own timer renews it: bot.deliver), 0 once it is not; pending: the batches still
# in the outbox after an acknowledgement (-1 without one); pushed: the list's length after the
# push (0: nothing pushed); read: the field read ('' when missing).
_RECORD: Final = (
    PACKED
    + PENDING
    + f"""
local ok = KEYS[1]
local field = '{DONE_PREFIX}' .. ARGV[1]
local pending = -1
local jobs = tonumber(ARGV[9])
local fresh
if ARGV[7] ~= '' then
  fresh = redis.call('HDEL', ok, field, ARGV[1]) > 0  -- (a batch acknowledged has neither)
  pending = pending_batches(ok)
else
  local batch = redis.call('HMGET', ok, ARGV[1], field)
  fresh = batch[1] and tonumber(ARGV[2]) > tonumber(batch[2] or '0')
  if fresh then
    redis.call('HSET', ok, field, ARGV[2])
  end
end
local pushed = 0
if jobs > 0 and fresh then
  pushed = redis.call('RPUSH', KEYS[4], unpack(ARGV, 14, 13 + jobs))
  redis.call('PEXPIRE', KEYS[4], ARGV[10])
end
local read = ''
if ARGV[11] ~= '' then
  read = redis.call('HGET', KEYS[5], ARGV[11]) or ''
end
if ARGV[12] ~= '' and fresh then
  redis.call('HDEL', KEYS[2], 'sec')
end
if ARGV[13] ~= '' and fresh then
  redis.call('HSET', KEYS[2], 'cid', ARGV[13])
end
local ids = 14 + jobs
local sent = ids + tonumber(ARGV[8])
if sent > ids then
  remember_chat(KEYS[2], tonumber(ARGV[5]), tonumber(ARGV[6]), ids, sent - 1)
end
if #ARGV >= sent then
  remember_ids(KEYS[2], 'sec', tonumber(ARGV[5]), tonumber(ARGV[6]), sent, #ARGV)
end
if ARGV[3] == '' then
  return {{1, pending, pushed, read}}
end
if redis.call('GET', KEYS[3]) == ARGV[3] then
  if pending == 0 then
    redis.call('DEL', KEYS[3])
  elseif pending > 0 then
    redis.call('PEXPIRE', KEYS[3], ARGV[4])
  end
  return {{1, pending, pushed, read}}
end
return {{0, pending, pushed, read}}
"""
)


@dataclass(frozen=True, slots=True)
class Push:
    """Records pushed onto a list of the conversation's slot (the desk lane's jobs) by the record
    of the effect that made them, in the same step: they go exactly when that progress is new,
    so neither a process killed between the two nor a record written again after Redis failed
    to answer loses or doubles one. `peek`: a field of another hash of the slot, read in the
    same step for whoever takes the records up."""

    part: str
    records: tuple[str, ...]
    keep: float  # seconds the list is kept
    peek: tuple[str, str] | None = None  # (part, field)


class Outbox:
    def __init__(
        self,
        redis: Redis,
        sealer: Sealer,
        key_of: Callable[[str, str], str],
        *,
        chat_ttl: float,
        clock: Callable[[], float],
        replicas: Replicas | None = None,
    ) -> None:
        self._redis = redis
        self._replicas = replicas or Replicas()
        self._sealer = sealer
        self._key_of = key_of
        self._chat_ttl = chat_ttl
        self._clock = clock
        self._ack = redis.register_script(_ACK)
        self._record = redis.register_script(_RECORD)
        self._remember = redis.register_script(_REMEMBER_CHAT)

    @staticmethod
    def context(key: str) -> bytes:
        """Batches open only for their own conversation's outbox."""
        return key.encode("utf-8") + b"|outbox"

    async def pending(self, key: str) -> list[Batch]:
        """Undelivered batches, oldest first. A damaged record raises SealError/CodecError."""
        with unavailable():
            entries = await self._redis.hgetall(self._key_of(key, "outbox"))
        fields = {text(name) or "": text(value) or "" for name, value in entries.items()}
        batches: list[tuple[int, Batch]] = []
        for name, record in fields.items():
            if not name.isdigit():
                continue  # a batch's progress (or the counter, as kept before)
            done = int(fields.get(DONE_PREFIX + name, "0") or 0)
            batches.append((int(name), self._open(key, name, record, done)))
        batches.sort(key=lambda item: item[0])
        return [batch for _, batch in batches]

    def _open(self, key: str, entry_id: str, record: str, done: int) -> Batch:
        data = self._sealer.unseal_json(record, self.context(key))
        update_id = data.get("u")
        if update_id is not None and (not isinstance(update_id, int) or update_id is True):
            raise codec.CodecError("outbox entry has a bad update id")
        chat_id, lang = data.get("c"), data.get("l")
        if chat_id is not None and (not isinstance(chat_id, int) or chat_id is True):
            raise codec.CodecError("outbox entry has a bad chat id")
        if lang is not None and not isinstance(lang, str):
            raise codec.CodecError("outbox entry has a bad language")
        effects = codec.decode_effects(data.get("e"))
        return Batch(entry_id, effects, update_id, chat_id, lang, done)

    async def record(
        self,
        key: str,
        entry_id: str,
        done: int,
        message_ids: Sequence[int] = (),
        *,
        secret_ids: Sequence[int] = (),
        scrubbed: bool = False,
        chat: str = "",
        lease: str = "",
        lease_ttl: float = 0.0,
        ack: bool = False,
        erased: bool = False,
        push: Push | None = None,
    ) -> Recorded:
        """`done` effects of the batch are applied, and these messages were sent for them;
        with `ack` the batch is done and leaves the outbox in the same step (`erased`: kept
        for callers, see `ack`); what they left to `push` goes with it. Whether `lease` (if
        given) is still held. With replicas required, it returns once they hold it
        (flows.replicas): a failover forgets no message that went out."""
        if not entry_id.isdigit():
            raise ValueError("outbox entry ids are decimal numbers")
        records = push.records if push is not None else ()
        peek = push.peek if push is not None else None
        args: list[str | int] = [
            entry_id,
            done,
            lease,
            milliseconds(lease_ttl) if lease else 0,
            int(self._clock() * 1000),
            milliseconds(self._chat_ttl),
            "ack" if ack else "",
            len(message_ids),
            len(records),
            milliseconds(push.keep) if push is not None else 0,
            peek[1] if peek is not None else "",
            "1" if scrubbed else "",
            chat,
            *records,
            *(str(int(m)) for m in message_ids),
            *(str(int(m)) for m in secret_ids),
        ]
        parts = ["outbox", "conv", "lease"]
        if push is not None:
            parts += [push.part, peek[0] if peek is not None else push.part]
        keys = [self._key_of(key, part) for part in parts]
        with unavailable():
            held, pending, pushed, read = await self._replicas.commit(self._record, keys, args)
        return Recorded(bool(held), int(pending), int(pushed), text(read) or None)

    # -- messages in the caller's chat, for /forget (`record` adds those the bot sent) ------

    async def remember_chat_message(self, key: str, message_id: int) -> None:
        now_ms = int(self._clock() * 1000)
        args: list[str | int] = [now_ms, milliseconds(self._chat_ttl), int(message_id)]
        with unavailable():
            await self._remember(keys=[self._key_of(key, "conv")], args=args)

    async def chat_messages(self, key: str) -> list[int]:
        """Ids of messages still young enough to be deleted, oldest first."""
        since = int(self._clock() - self._chat_ttl)
        with unavailable():
            chat = await self._redis.hget(self._key_of(key, "conv"), "chat")
        return sorted(packed.run_ids_since(text(chat), since))

    async def forget_chat_messages(self, key: str) -> None:
        with unavailable():
            await self._redis.hdel(self._key_of(key, "conv"), "chat")

    async def with_pending(self, prefix: str, split: Callable[[str], str]) -> list[str]:
        """Conversations whose outbox holds undelivered batches (one SCAN of the keyspace: for
        start-up, when a stopped process may have left some behind)."""
        found: list[str] = []
        with unavailable():
            pattern = f"{prefix}:*:outbox"
            async for raw in self._redis.scan_iter(match=pattern, count=1000, _type="HASH"):
                name = text(raw) or ""
                names = await self._redis.hkeys(name)
                if any((text(n) or "").isdigit() for n in names):  # a batch, not a counter
                    found.append(split(name))
        return found

    async def ack(self, key: str, entry_id: str, *, erased: bool = False) -> None:
        """The batch was delivered: it leaves the outbox (acknowledging twice is harmless).

        `erased` (the batch erased the conversation) changes nothing any more: an outbox left
        empty is gone by itself, so no key of the conversation but its dedupe marks remains."""
        if not entry_id.isdigit():
            raise ValueError("outbox entry ids are decimal numbers")
        with unavailable():
            await self._ack(keys=[self._key_of(key, "outbox")], args=[entry_id])
