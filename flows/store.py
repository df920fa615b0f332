"""The Redis conversation and case store: one atomic commit per update, sealed personal data.

Every key of one conversation carries the same hash tag, so each atomic step touches one slot:

    {prefix}:{<conv key>}:conv      hash  v (compare-and-set version), meta (JSON, no personal
                                          data), sealed (the personal fields), and, once the
                                          conversation has a case: case, code, state, updated
    {prefix}:{<conv key>}:seen      zset  update_id -> time (ms) it was applied (dedupe), and
                                          after an erase "v" -> the version it reached
    {prefix}:{<conv key>}:outbox    hash  the batches of effects to deliver (flows.outbox)
    {prefix}:{<conv key>}:timeline  list  "<ms> <kind>" of CaseEvents (no personal data)
    {prefix}:{<conv key>}:chat      zset  message id -> time (ms), for /forget to delete them;
                                          kept through an erase that does not wipe the chat
                                          (an operator's Erase), with its own TTL, so a later
                                          /forget still wipes what the bot can delete

and the two indexes of a registered case, written after the commit (they live in other slots):

    {prefix}:code:<code digest>     "<conv key>|<case id>"
    {prefix}:case:<case id>         "<conv key>"

`<conv key>` is a keyed hash of the Telegram id; no key name holds an id, a name, a phone or a
code. A commit is one Lua script: dedupe check, version check, state, dedupe mark, outbox batch,
timeline and TTLs, all or nothing. Sealing happens before the script, so a sealing failure
writes nothing. Fields are sealed for the owner context `<conv key>`, outbox batches for
`<conv key>|outbox`, so a record copied elsewhere does not open.
"""

from __future__ import annotations

import contextlib
import logging
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Final

from redis.asyncio import Redis

from flows import codec
from flows.model import CaseEvent, CaseFound, Conversation, Effect, Erase, RegisterCase
from flows.outbox import OUTBOX_COUNTER, Batch, Outbox
from flows.replicas import Replicas
from flows.sealing import RECORD_VERSION, Pseudonymizer, Sealer, SealError
from flows.unavailable import StoreUnavailable
from flows.unavailable import milliseconds as _ms
from flows.unavailable import text as _text
from flows.unavailable import unavailable as _unavailable

__all__ = [
    "Batch",
    "CommitResult",
    "ConversationStore",
    "Loaded",
    "Retention",
    "StoreUnavailable",
]

log = logging.getLogger(__name__)

DAY: Final = 86400.0
TIMELINE_MAX: Final = 200  # case events kept per conversation, newest last
# Marks the version an erased conversation reached, in its `seen` zset (see _COMMIT)
ERASED_VERSION: Final = "v"
# Parts other modules keep in a conversation's slot (the operator desk's record and its relayed
# messages): every commit makes them live as long as the conversation, plus a grace period in
# which the desk can still find and close the topic of a conversation that just expired
COMPANION_PARTS: Final = ("desk", "relayed")
COMPANION_GRACE: Final = DAY


@dataclass(frozen=True, slots=True)
class Retention:
    """How long each kind of key lives without contact, in seconds."""

    form: float = 7 * DAY  # an unfinished dialogue (no case)
    registered: float = 90 * DAY  # a conversation with a case
    dedupe: float = 2 * DAY  # processed update_ids are remembered at least this long
    outbox: float = 2 * DAY
    chat_messages: float = 2 * DAY  # Telegram lets bots delete messages for 48 h

    def __post_init__(self) -> None:
        for name in ("form", "registered", "dedupe", "outbox", "chat_messages"):
            value = getattr(self, name)
            if not math.isfinite(value) or value <= 0:
                raise ValueError(f"retention {name} must be a positive number of seconds")
        if self.dedupe < DAY:
            raise ValueError("retention dedupe must be at least 24 h (Telegram redelivers)")


@dataclass(slots=True)
class Loaded:
    conversation: Conversation  # a fresh Conversation() (version 0) when none is stored
    version: int
    duplicate: bool  # this update_id was already processed
    pending: int  # undelivered outbox batches


@dataclass(frozen=True, slots=True)
class CommitResult:
    batch: Batch | None = None  # set on success
    duplicate: bool = False
    conflict: bool = False


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
_COMMIT: Final = f"""
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

# Compare-and-set of one hash field: KEYS[1] hash, ARGV field, expected, new. 1 if written.
_HSET_IF: Final = """
if redis.call('HGET', KEYS[1], ARGV[1]) == ARGV[2] then
  redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
  return 1
end
return 0
"""

# Delete a string key only while it still holds ARGV[1] (an index of this conversation).
_DEL_IF: Final = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""

# Erase the owner's conversation of a case ended from a conversation linked to it, only while
# it still holds that case (a stale index must not erase somebody else's conversation).
# KEYS: conv, seen, outbox, timeline, chat (one slot); ARGV: 1 case id, 2 seen ttl (ms),
# 3 outbox ttl (ms). Kept, as after any erase (see _COMMIT): the dedupe marks with the version
# the conversation reached, and the outbox counter, so no version or batch number comes back.
_ERASE_OWNER: Final = f"""
if redis.call('HGET', KEYS[1], 'case') ~= ARGV[1] then
  return 0
end
local version = tonumber(redis.call('HGET', KEYS[1], 'v') or '0')
local seq = redis.call('HGET', KEYS[3], '{OUTBOX_COUNTER}')
redis.call('DEL', KEYS[1], KEYS[3], KEYS[4], KEYS[5])
if seq then
  redis.call('HSET', KEYS[3], '{OUTBOX_COUNTER}', seq)
  redis.call('PEXPIRE', KEYS[3], ARGV[3])
end
redis.call('ZADD', KEYS[2], version, '{ERASED_VERSION}')
redis.call('PEXPIRE', KEYS[2], ARGV[2])
return 1
"""

_CONVERSATION_PARTS: Final = ("conv", "seen", "outbox", "timeline", "chat")


class ConversationStore:
    """Conversations, their dedupe marks, outboxes and case indexes in Redis."""

    def __init__(
        self,
        redis: Redis,
        sealer: Sealer,
        ids: Pseudonymizer,
        retention: Retention = Retention(),
        prefix: str = "hl",
        *,
        clock: Callable[[], float] = time.time,
        replicas: Replicas | None = None,
    ) -> None:
        if not prefix or any(ch in prefix for ch in "{}:*?[] "):
            raise ValueError("store prefix must be a plain non-empty word")
        self._redis = redis
        self._sealer = sealer
        self._ids = ids
        self.retention = retention
        self.prefix = prefix
        self._clock = clock
        self._commit_script = redis.register_script(_COMMIT)
        self._hset_if = redis.register_script(_HSET_IF)
        self.outbox = Outbox(
            redis, sealer, self.key, chat_ttl=retention.chat_messages, clock=clock
        )
        self.replicas = replicas or Replicas()
        self._del_if = redis.register_script(_DEL_IF)
        self._erase_owner = redis.register_script(_ERASE_OWNER)

    # -- names ------------------------------------------------------------------------------

    def conversation_key(self, user_id: int) -> str:
        """The pseudonym of a caller: a keyed hash, never the Telegram id itself."""
        return self._ids.digest("conv", str(user_id))

    def digest(self, namespace: str, value: str) -> str:
        return self._ids.digest(namespace, value)

    @property
    def redis(self) -> Redis:
        return self._redis

    @property
    def sealer(self) -> Sealer:
        return self._sealer

    def key(self, conversation_key: str, part: str) -> str:
        """The Redis key of one part of a conversation: the store's own (conv, seen, outbox,
        timeline, chat) or another module's (the desk keeps "desk" in the same slot)."""
        if not part.isascii() or not part.isalpha() or not part.islower():
            raise ValueError("a conversation part is a lowercase word")
        return f"{self.prefix}:{{{conversation_key}}}:{part}"

    def keys_of(self, conversation_key: str) -> list[str]:
        """The store's own keys of a conversation, in the order the commit script takes them."""
        return [self.key(conversation_key, part) for part in _CONVERSATION_PARTS]

    def _code_index(self, code_digest: str) -> str:
        return f"{self.prefix}:code:{code_digest}"

    def _case_index(self, case_id: str) -> str:
        return f"{self.prefix}:case:{case_id}"

    @staticmethod
    def _fields_context(key: str) -> bytes:
        return key.encode("utf-8")

    _outbox_context = staticmethod(Outbox.context)

    # -- one update: load and commit ---------------------------------------------------------

    async def load(self, key: str, update_id: int) -> Loaded:
        """The stored conversation, whether `update_id` was applied, and the outbox size.

        One round trip (a pipeline without transaction): `commit` re-checks everything.
        """
        with _unavailable():
            async with self._redis.pipeline(transaction=False) as pipe:
                pipe.hmget(self.key(key, "conv"), ["v", "meta", "sealed"])
                pipe.zscore(self.key(key, "seen"), str(update_id))
                pipe.hkeys(self.key(key, "outbox"))
                (version, meta, sealed), seen, names = await pipe.execute()
        pending = sum(1 for name in names if (_text(name) or "").isdigit())  # batches only
        if version is None:
            return Loaded(Conversation(), 0, seen is not None, pending)
        conversation = self._open_conversation(key, _text(meta), _text(sealed))
        conversation.version = int(version)
        return Loaded(conversation, conversation.version, seen is not None, pending)

    async def settle(self, key: str) -> None:
        """A repeated update is acknowledged once its first commit is on enough replicas."""
        await self.replicas.settle(self._redis, self.key(key, "seen"))

    def _open_conversation(self, key: str, meta: str | None, sealed: str | None) -> Conversation:
        if meta is None or sealed is None:
            raise codec.CodecError("stored conversation is incomplete")
        fields = self._sealer.unseal_json(sealed, self._fields_context(key))
        if not all(isinstance(value, str) for value in fields.values()):
            raise codec.CodecError("sealed conversation fields are not all strings")
        return Conversation.from_parts(codec.decode_meta(meta), fields)

    async def commit(
        self,
        key: str,
        expected_version: int,
        conversation: Conversation,
        update_id: int,
        effects: Sequence[Effect],
        *,
        chat_message: int | None = None,
        chat_id: int | None = None,
    ) -> CommitResult:
        """Write the conversation, the dedupe mark and the batch of effects, or nothing.

        On success `conversation.version` is set to the stored version. After an `Erase` the
        conversation is not written back (every key of it is gone but `seen`, the outbox entry
        with the final reply and, for /forget, the chat ids).
        """
        erase = next((e for e in effects if isinstance(e, Erase)), None)
        now = self._clock()
        now_ms = int(now * 1000)
        retention = self.retention
        # Seal first: a failure here raises before anything reaches Redis.
        record: dict[str, Any] = {"u": update_id, "e": codec.encode_effects(effects)}
        record["l"] = conversation.lang
        if chat_id is not None:
            record["c"] = chat_id
        batch = self._sealer.seal_json(record, self._outbox_context(key))
        if erase is not None:
            mode = "wipe" if erase.wipe_chat else "erase"
            meta = sealed = case_id = code = ""
        else:
            mode = ""
            meta = codec.encode_meta(conversation)
            sealed = self._sealer.seal_json(conversation.fields, self._fields_context(key))
            case_id = conversation.case_id or ""
            code = conversation.code_digest or ""
        conv_ttl = retention.registered if conversation.case_id else retention.form
        args: list[str | int] = [
            expected_version,
            str(update_id),
            now_ms,
            now_ms - _ms(retention.dedupe),
            _ms(retention.dedupe),
            _ms(conv_ttl),
            _ms(retention.outbox),
            mode,
            batch,
            meta,
            sealed,
            case_id,
            code,
            conversation.state,
            repr(float(conversation.updated_at)),
            "" if chat_message is None else str(chat_message),
            _ms(retention.chat_messages),
            *(e.kind for e in effects if isinstance(e, CaseEvent)),
        ]
        with _unavailable():
            keys = [*self.keys_of(key), *(self.key(key, part) for part in COMPANION_PARTS)]
            reply = await self.replicas.commit(self._commit_script, keys, args)
        status, version, seq = (int(x) for x in reply)
        # Only the pseudonymous key, numbers and effect type names: nothing personal.
        log.debug(
            "commit %s update=%d expected=%d -> %s version=%d entry=%d effects=%s",
            key,
            update_id,
            expected_version,
            ("ok", "conflict", "duplicate")[status],
            version,
            seq,
            ",".join(type(e).__name__ for e in effects),
        )
        if status == 2:
            return CommitResult(duplicate=True)
        if status == 1:
            return CommitResult(conflict=True)
        conversation.version = version
        return CommitResult(
            batch=Batch(str(seq), tuple(effects), update_id, chat_id, conversation.lang)
        )

    # -- the outbox --------------------------------------------------------------------------

    async def pending(self, key: str) -> list[Batch]:
        return await self.outbox.pending(key)

    async def with_pending(self) -> list[str]:
        return await self.outbox.with_pending(self.prefix, lambda name: self._split(name)[0])

    async def ack(self, key: str, entry_id: str, *, erased: bool = False) -> None:
        await self.outbox.ack(key, entry_id, erased=erased)

    # -- the case indexes (other slots: written after the commit, idempotent) ---------------

    async def apply_index_effects(self, key: str, effects: Sequence[Effect]) -> None:
        """RegisterCase writes the code and case indexes; Erase removes those of this owner.

        The Erase of a conversation only linked to its case leaves them: `erase_linked_case`
        finds the owner through them, after the desk has let go of the owner's record."""
        ttl = _ms(self.retention.registered)
        with _unavailable():
            for effect in effects:
                if isinstance(effect, RegisterCase):
                    await self._set_indexes(key, effect.case_id, effect.code_digest, ttl)
                elif isinstance(effect, Erase) and not effect.linked:
                    await self._drop_indexes(key, effect.case_id, effect.code_digest)

    async def touch_indexes(self, conversation: Conversation, key: str) -> None:
        """Keep an owned case's indexes alive as long as the conversation (and repair them)."""
        if not conversation.owns_case or not conversation.case_id:
            return
        if not conversation.code_digest:
            return
        with _unavailable():
            await self._set_indexes(
                key,
                conversation.case_id,
                conversation.code_digest,
                _ms(self.retention.registered),
            )

    async def _set_indexes(self, key: str, case_id: str, code_digest: str, ttl_ms: int) -> None:
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.set(self._code_index(code_digest), f"{key}|{case_id}", px=ttl_ms)
            pipe.set(self._case_index(case_id), key, px=ttl_ms)
            await pipe.execute()

    async def _drop_indexes(self, key: str, case_id: str | None, code_digest: str | None) -> None:
        if code_digest and case_id:
            await self._del_if(keys=[self._code_index(code_digest)], args=[f"{key}|{case_id}"])
        if case_id:
            await self._del_if(keys=[self._case_index(case_id)], args=[key])

    async def find_case(self, code_digest: str) -> CaseFound:
        """The case registered under a code digest (its owner's conversation still holds it)."""
        with _unavailable():
            target = _text(await self._redis.get(self._code_index(code_digest)))
            if target is None or "|" not in target:
                return CaseFound(None)
            key, _, case_id = target.partition("|")
            case, meta = await self._redis.hmget(self.key(key, "conv"), ["case", "meta"])
        if _text(case) != case_id or meta is None:
            return CaseFound(None)  # dangling: the owner is gone or moved on
        if not codec.decode_meta(_text(meta) or "").get("owns_case"):
            return CaseFound(None)
        return CaseFound(case_id)

    async def conversation_of_case(self, case_id: str) -> str | None:
        with _unavailable():
            key = _text(await self._redis.get(self._case_index(case_id)))
            if key is None:
                return None
            case = await self._redis.hget(self.key(key, "conv"), "case")
        return key if _text(case) == case_id else None

    async def erase_linked_case(self, case_id: str) -> bool:
        """A case ended from a conversation linked to it, not from its owner's: the owner's
        conversation goes (but what any erase keeps: the dedupe marks, the version it reached,
        the outbox counter), then the code and case indexes. Whether it was erased now.

        Only a conversation that still holds this case is erased: a stale case index is
        removed and erases nothing. Idempotent (a batch may be delivered again), and the case
        index, through which the owner is found, goes last, so a repeat finishes what an
        interrupted run began."""
        index = self._case_index(case_id)
        with _unavailable():
            owner = _text(await self._redis.get(index))
            if owner is None:
                return False
            case, code = await self._redis.hmget(self.key(owner, "conv"), ["case", "code"])
            erased = False
            if _text(case) == case_id:
                code_digest = _text(code)
                if code_digest:
                    await self._del_if(
                        keys=[self._code_index(code_digest)], args=[f"{owner}|{case_id}"]
                    )
                args: list[str | int] = [
                    case_id,
                    _ms(self.retention.dedupe),
                    _ms(self.retention.outbox),
                ]
                erased = bool(await self._erase_owner(keys=self.keys_of(owner), args=args))
            await self._del_if(keys=[index], args=[owner])
        # no key, no id: only what happened
        log.info("case erased from a linked conversation: owner erased=%s", erased)
        return erased

    # -- messages in the caller's chat, for /forget -------------------------------------------

    async def remember_chat_message(self, key: str, message_id: int) -> None:
        now_ms = int(self._clock() * 1000)
        ttl = _ms(self.retention.chat_messages)
        chat = self.key(key, "chat")
        with _unavailable():
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.zadd(chat, {str(int(message_id)): now_ms})
                pipe.zremrangebyscore(chat, "-inf", f"({now_ms - ttl}")
                pipe.pexpire(chat, ttl)
                await pipe.execute()

    async def chat_messages(self, key: str) -> list[int]:
        """Ids of messages still young enough to be deleted, oldest first."""
        since = int(self._clock() * 1000) - _ms(self.retention.chat_messages)
        with _unavailable():
            ids = await self._redis.zrangebyscore(self.key(key, "chat"), since, "+inf")
        return [int(_text(i) or 0) for i in ids]

    async def forget_chat_messages(self, key: str) -> None:
        with _unavailable():
            await self._redis.delete(self.key(key, "chat"))

    # -- maintenance ---------------------------------------------------------------------------

    async def reseal_all(self) -> int:
        """Move every sealed record to the newest key; how many records were rewritten.

        Every hash field of every conversation that holds a sealed record is covered: the
        fields, the outbox and what other modules keep in the conversation's slot (the desk).
        Safe while the bot runs: a record is replaced only if it still holds what was read (a
        commit in between wrote a fresh record, sealed under the newest key anyway). A record
        that does not open is left as it is; the first such error is raised at the end.
        """
        changed = 0
        failure: SealError | None = None
        with _unavailable():
            async for name in self._redis.scan_iter(match=f"{self.prefix}:{{*}}:*", count=500):
                redis_key = _text(name) or ""
                key, part = self._split(redis_key)
                if (
                    part not in ("conv", "outbox")
                    and _text(await self._redis.type(name)) != "hash"
                ):
                    continue
                contexts = self._contexts(key, part)
                entries = await self._redis.hgetall(redis_key)
                for raw_field, raw_value in entries.items():
                    field, value = _text(raw_field) or "", _text(raw_value) or ""
                    if not value.startswith(f"{RECORD_VERSION}."):
                        continue
                    try:
                        changed += await self._reseal_field(redis_key, field, contexts)
                    except SealError as exc:
                        log.warning(
                            "reseal: %s %s does not open (%s)", redis_key, field, exc.reason
                        )
                        failure = failure or exc
        log.info("reseal: %d records moved to key %s", changed, self._sealer.current_key_id)
        if failure is not None:
            raise failure
        return changed

    def _contexts(self, key: str, part: str) -> list[bytes]:
        """The owner contexts a record in `part` may be sealed for, the likeliest first."""
        if part == "conv":
            return [self._fields_context(key)]
        if part == "outbox":
            return [self._outbox_context(key)]
        return [f"{key}|{part}".encode(), self._fields_context(key)]

    def _reseal(self, record: str, contexts: list[bytes]) -> str:
        for context in contexts[:-1]:
            with contextlib.suppress(SealError):
                return self._sealer.reseal(record, context)
        return self._sealer.reseal(record, contexts[-1])

    async def _reseal_field(self, redis_key: str, field: str, contexts: list[bytes]) -> int:
        for _ in range(5):
            record = _text(await self._redis.hget(redis_key, field))
            if record is None:
                return 0
            fresh = self._reseal(record, contexts)
            if fresh == record:
                return 0
            if await self._hset_if(keys=[redis_key], args=[field, record, fresh]):
                return 1
        return 0

    def _split(self, redis_key: str) -> tuple[str, str]:
        """(conversation key, part) of a `{prefix}:{<conv key>}:<part>` name."""
        inner = redis_key.removeprefix(f"{self.prefix}:")
        key, _, part = inner.rpartition(":")
        return key.removeprefix("{").removesuffix("}"), part

    async def erase(self, key: str) -> None:
        """Remove every key of the conversation and, if it owns one, its case indexes."""
        conv = self.key(key, "conv")
        with _unavailable():
            meta = _text(await self._redis.hget(conv, "meta"))
            if meta is not None:
                data = codec.decode_meta(meta)
                if data.get("owns_case"):
                    case_id = data.get("case_id")
                    code = data.get("code_digest")
                    await self._drop_indexes(
                        key,
                        case_id if isinstance(case_id, str) else None,
                        code if isinstance(code, str) else None,
                    )
            await self._redis.delete(*self.keys_of(key))
