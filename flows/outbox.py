"""The outbox of a conversation: committed batches of effects, and how far each was delivered.

    {prefix}:{<conv key>}:outbox   hash  seq (counter), <n> -> sealed {"u": update_id,
                                         "e": [effects], "c": chat, "l": language}, and
                                         d<n> -> how many effects of batch n were applied

A batch enters with the commit of its update (flows.store) and leaves once delivered (`ack`).
In between, every effect applied is recorded at once (`record`), in the same round trip as the
id of the message it sent, so a process killed in a batch sends again at most the one message
that was in flight when it died. The deliverer of a conversation holds its lease
(flows.locks.Lease); `record` reports when the lease was lost to another process.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Final

from redis.asyncio import Redis

from flows import codec
from flows.model import Effect
from flows.sealing import Sealer
from flows.unavailable import milliseconds, text, unavailable

__all__ = ["OUTBOX_COUNTER", "Batch", "Outbox"]

OUTBOX_COUNTER: Final = "seq"
DONE_PREFIX: Final = "d"  # d<n>: effects of batch n applied so far


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


# Acknowledge outbox entry ARGV[1] (and its progress). Once only the counter is left, the hash
# is written anew: big sealed batches turned it into a hashtable, which never shrinks back to a
# listpack. With ARGV[2] = "drop" (the batch erased the conversation) the emptied outbox goes
# entirely: nothing is pending, so a later commit may count from 1 again.
_ACK: Final = f"""
redis.call('HDEL', KEYS[1], '{DONE_PREFIX}' .. ARGV[1])
if redis.call('HDEL', KEYS[1], ARGV[1]) == 1 and redis.call('HLEN', KEYS[1]) == 1 then
  if ARGV[2] == 'drop' then
    redis.call('DEL', KEYS[1])
    return 0
  end
  local seq = redis.call('HGET', KEYS[1], '{OUTBOX_COUNTER}')
  local ttl = redis.call('PTTL', KEYS[1])
  if seq and ttl > 0 then
    redis.call('DEL', KEYS[1])
    redis.call('HSET', KEYS[1], '{OUTBOX_COUNTER}', seq)
    redis.call('PEXPIRE', KEYS[1], ttl)
  end
end
return 0
"""

# Progress of one batch, with the ids of the messages it sent (for /forget), in one step.
# KEYS: outbox, chat, lease (one slot); ARGV: 1 entry, 2 done, 3 lease token, 4 lease ttl (ms),
# 5 now (ms), 6 chat ttl (ms), 7.. message ids.
# Recorded whether or not the lease is still ours (the message went out either way, and a
# process that took the lease over must not send it again); progress never goes back, and a
# batch already acknowledged gets no progress field again.
# Returns 1 while the lease is ours (renewed), 0 once it is not.
_RECORD: Final = f"""
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 then
  local field = '{DONE_PREFIX}' .. ARGV[1]
  if tonumber(ARGV[2]) > tonumber(redis.call('HGET', KEYS[1], field) or '0') then
    redis.call('HSET', KEYS[1], field, ARGV[2])
  end
end
if #ARGV >= 7 then
  for i = 7, #ARGV do
    redis.call('ZADD', KEYS[2], ARGV[5], ARGV[i])
  end
  redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', '(' .. (tonumber(ARGV[5]) - tonumber(ARGV[6])))
  redis.call('PEXPIRE', KEYS[2], ARGV[6])
end
if ARGV[3] == '' then
  return 1
end
if redis.call('GET', KEYS[3]) == ARGV[3] then
  redis.call('PEXPIRE', KEYS[3], ARGV[4])
  return 1
end
return 0
"""


class Outbox:
    def __init__(
        self,
        redis: Redis,
        sealer: Sealer,
        key_of: Callable[[str, str], str],
        *,
        chat_ttl: float,
        clock: Callable[[], float],
    ) -> None:
        self._redis = redis
        self._sealer = sealer
        self._key_of = key_of
        self._chat_ttl = chat_ttl
        self._clock = clock
        self._ack = redis.register_script(_ACK)
        self._record = redis.register_script(_RECORD)

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
                continue  # the counter, or a batch's progress
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
        lease: str = "",
        lease_ttl: float = 0.0,
    ) -> bool:
        """`done` effects of the batch are applied, and these messages were sent for them.
        Whether `lease` (if given) is still held."""
        if not entry_id.isdigit():
            raise ValueError("outbox entry ids are decimal numbers")
        args: list[str | int] = [
            entry_id,
            done,
            lease,
            milliseconds(lease_ttl) if lease else 0,
            int(self._clock() * 1000),
            milliseconds(self._chat_ttl),
            *(str(int(m)) for m in message_ids),
        ]
        keys = [self._key_of(key, part) for part in ("outbox", "chat", "lease")]
        with unavailable():
            return bool(await self._record(keys=keys, args=args))

    async def with_pending(self, prefix: str, split: Callable[[str], str]) -> list[str]:
        """Conversations whose outbox holds undelivered batches (one SCAN of the keyspace: for
        start-up, when a stopped process may have left some behind)."""
        found: list[str] = []
        with unavailable():
            pattern = f"{prefix}:*:outbox"
            async for raw in self._redis.scan_iter(match=pattern, count=1000, _type="HASH"):
                name = text(raw) or ""
                if await self._redis.hlen(name) > 1:  # more than the counter
                    found.append(split(name))
        return found

    async def ack(self, key: str, entry_id: str, *, erased: bool = False) -> None:
        """The batch was delivered: it leaves the outbox (acknowledging twice is harmless).

        `erased`: the batch erased the conversation; an outbox left empty is removed too, so no
        key of the conversation but its dedupe marks remains."""
        if not entry_id.isdigit():
            raise ValueError("outbox entry ids are decimal numbers")
        with unavailable():
            await self._ack(
                keys=[self._key_of(key, "outbox")], args=[entry_id, "drop" if erased else ""]
            )
