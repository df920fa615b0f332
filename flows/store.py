"""The Redis conversation and case store: one atomic commit per update, sealed personal data.

A conversation is one hash, and an outbox while something waits to be delivered, under one hash
tag, so each atomic step touches one slot:

    {prefix}:{<conv key>}:conv    hash  v (compare-and-set version), meta (JSON, nothing
                                        personal), sealed (the personal fields; both under
                                        flows.short_names), seq (the last outbox batch), seen
                                        (update ids applied), chat (message ids /forget
                                        deletes), tl (the timeline: "<ms> <kind>" lines of
                                        CaseEvents), case, code, ix (indexes written, s); others'
                                        fields (rate, rn: flows.quota; sec, cid: bot.ephemeral)
    {prefix}:{<conv key>}:outbox  hash  the batches of effects to deliver (flows.outbox)

seen, chat and sec hold (id, time) sets (flows.packed): seen for Retention.dedupe, chat and sec
while Telegram lets a bot delete (.chat_messages). The conversation lives for Retention.form or
.registered; an erase leaves only seen, chat, sec, the quota and the version and batch number
it reached, for the longer of .dedupe and .chat_messages. A case's two indexes live in other
slots, written after the commit (flows.cases). `<conv key>` is a keyed hash of the Telegram id;
no key name holds an id, a name, a phone or a code.

A load is one Lua script (flows.commit_lua) that also takes the conversation's turn
(flows.locks.Turn) and counts the update against the caller's quota (flows.quota); a commit is
one too: dedupe and version checks, state, dedupe mark, outbox batch, timeline and TTLs, all or
nothing; it gives the turn back and takes the delivery lease for the deliverer it hands the
batch to (bot.deliver). Sealing comes before the script, so a sealing failure writes nothing.
Fields are sealed for the owner context `<conv key>`, outbox batches for `<conv key>|outbox`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache, partial
from typing import Any, Final

from redis.asyncio import Redis

from flows import codec, packed
from flows.cases import ERASED_SEQ, ERASED_VERSION, CaseIndexes
from flows.commit_lua import (
    COMMIT,
    COMPANION_GRACE,
    COMPANION_PARTS,
    LOAD,
    commit_args,
    commit_reply,
    load_args,
)
from flows.locks import Turn
from flows.model import CaseEvent, CaseFound, Conversation, Effect, Erase, RegisterCase, Scrub
from flows.outbox import Batch, Outbox
from flows.quota import OverLimit, Quota
from flows.replicas import Replicas
from flows.reseal import HSET_IF, contexts_of, reseal_all, split_key
from flows.retention import DAY, DEFAULT_RETENTION, Retention
from flows.sealing import Pseudonymizer, Sealer
from flows.short_names import open_fields, seal_fields
from flows.unavailable import StoreUnavailable
from flows.unavailable import milliseconds as _ms
from flows.unavailable import text as _text
from flows.unavailable import unavailable as _unavailable

__all__ = [
    "COMPANION_GRACE",
    "COMPANION_PARTS",
    "ERASED_SEQ",
    "ERASED_VERSION",
    "Batch",
    "CommitResult",
    "ConversationStore",
    "Loaded",
    "Retention",
    "StoreUnavailable",
]

log = logging.getLogger(__name__)


@dataclass(slots=True)
class Loaded:
    conversation: Conversation  # a fresh Conversation() (version 0) when none is stored
    version: int
    duplicate: bool  # this update_id was already processed
    pending: int  # undelivered outbox batches (-1: not counted, by a load taking a turn)


@dataclass(frozen=True, slots=True)
class CommitResult:
    batch: Batch | None = None  # set on success
    duplicate: bool = False
    conflict: bool = False


# How often at most a delivery writes a case's indexes again (they live as long as a registered
# conversation; the conversation's commits refresh them no more often than this)
INDEX_REFRESH: Final = DAY / 2
_CONVERSATION_PARTS: Final = ("conv", "outbox")


@lru_cache(maxsize=64)  # a few dozen names, fixed in the code: checked once each
def _checked_part(part: str) -> str:
    if not part.isascii() or not part.isalpha() or not part.islower():
        raise ValueError("a conversation part is a lowercase word")
    return part


# what the scripts keep as fields of their own (case, code), so the meta need not hold it again
_BESIDE_META: Final = frozenset({"case_id", "code_digest"})


class ConversationStore:
    """Conversations, their dedupe marks, outboxes and case indexes in Redis."""

    def __init__(
        self,
        redis: Redis,
        sealer: Sealer,
        ids: Pseudonymizer,
        retention: Retention = DEFAULT_RETENTION,
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
        self._commit_script = redis.register_script(COMMIT)
        self._load_script = redis.register_script(LOAD)
        self._hset_if = redis.register_script(HSET_IF)
        self.replicas = replicas or Replicas()
        self.outbox = Outbox(
            redis,
            sealer,
            self.key,
            chat_ttl=retention.chat_messages,
            clock=clock,
            replicas=self.replicas,
        )
        self.cases = CaseIndexes(
            redis,
            prefix,
            self.key,
            self.keys_of,
            registered_ms=_ms(retention.registered),
            dedupe_ms=_ms(retention.dedupe),
            outbox_ms=_ms(retention.outbox),
        )

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
        """The Redis key of one part of a conversation: the store's own (conv, outbox) or
        another module's (the desk keeps "desk" in the same slot)."""
        return f"{self.prefix}:{{{conversation_key}}}:{_checked_part(part)}"

    def keys_of(self, conversation_key: str) -> list[str]:
        """The store's own keys of a conversation, in the order the commit script takes them."""
        return [self.key(conversation_key, part) for part in _CONVERSATION_PARTS]

    _fields_context = staticmethod(str.encode)  # the conversation key, UTF-8

    _outbox_context = staticmethod(Outbox.context)

    # -- one update: load and commit ---------------------------------------------------------

    async def load(
        self,
        key: str,
        update_id: int,
        *,
        turn: Turn | None = None,
        quota: Quota | None = None,
        heard: bool = False,
    ) -> Loaded:
        """The stored conversation, whether `update_id` was applied, and the outbox size
        (not with `turn`), in one round trip (`commit` re-checks everything) that also takes
        `turn` (flows.locks; a busy one costs more: the waiter queues up, then loads) and counts
        the update against `quota` (flows.quota; over it, not `heard` anyway: the turn goes
        back, `OverLimit`)."""
        with _unavailable():
            if turn is not None and not turn.given:
                keys = [*self.keys_of(key), *turn.keys]
                now_ms = int((self._clock if quota is None else quota.clock)() * 1000)
                args = load_args(update_id, turn, now_ms, quota, heard=heard)
                reply = await self._load_script(keys=keys, args=args)
                if int(reply[0]) == 0:
                    await turn.wait(turn)
                    reply = await self._load_script(keys=keys, args=args)
                if int(reply[0]) == 2:
                    turn.given = True
                    raise OverLimit(bool(int(reply[1])))
                turn.taken = True
                return self._loaded(key, *reply[1:])
            async with self._redis.pipeline(transaction=False) as pipe:
                pipe.hmget(self.key(key, "conv"), ["v", "meta", "sealed", "seen", "case", "code"])
                pipe.hkeys(self.key(key, "outbox"))
                (version, meta, sealed, seen, case, code), names = await pipe.execute()
        pending = sum(1 for name in names if (_text(name) or "").isdigit())  # batches only
        applied = any(i == update_id for i, _ in packed.decode(_text(seen)))
        return self._loaded(key, version, meta, sealed, applied, pending, case, code)

    def _loaded(self, key: str, version: Any, *parts: Any) -> Loaded:
        meta, sealed, seen, pending, case, code = parts
        duplicate, pending = bool(seen), int(pending)
        if version is None:
            return Loaded(Conversation(), 0, duplicate, pending)
        beside = {"case_id": _text(case), "code_digest": _text(code)}
        conversation = self._open_conversation(key, _text(meta), _text(sealed), beside)
        conversation.version = int(version)
        return Loaded(conversation, conversation.version, duplicate, pending)

    async def escalated(self, key: str) -> bool | None:
        """Whether he waits for or talks with an operator, from the meta (None: no one)."""
        with _unavailable():
            meta = await self._redis.hget(self.key(key, "conv"), "meta")
        if meta is None:
            return None
        return bool(codec.decode_meta(_text(meta) or "").get("escalated"))

    async def settle(self, key: str) -> None:
        """A repeated update is acknowledged once its first commit is on enough replicas."""
        await self.replicas.settle(self._redis, self.key(key, "conv"))

    def _open_conversation(
        self, key: str, meta: str | None, sealed: str | None, beside: dict[str, str | None]
    ) -> Conversation:
        if meta is None or sealed is None:
            raise codec.CodecError("stored conversation is incomplete")
        fields = open_fields(self._sealer, sealed, self._fields_context(key))
        if not all(isinstance(value, str) for value in fields.values()):
            raise codec.CodecError("sealed conversation fields are not all strings")
        attributes = codec.decode_meta(meta)
        for name, value in beside.items():
            if value is not None:
                attributes.setdefault(name, value)  # a meta written before holds them itself
        return Conversation.from_parts(attributes, fields)

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
        turn: Turn | None = None,
    ) -> CommitResult:
        """Write the conversation, the dedupe mark and the batch of effects, or nothing.

        On success `conversation.version` is set to the stored version. After an `Erase` the
        conversation is not written back (its hash keeps only its dedupe marks, the ids /forget
        and Scrub may still delete and its quota window; the outbox only the final reply).

        With `turn`, the conversation's turn is given back in the same script (unless this is a
        conflict: the update is applied again), and, if `turn.lease_token` is set, the delivery
        lease taken for it when free (`turn.leased`; `turn.alone`: no other batch is pending,
        `turn.reindex`: the case indexes are due a refresh).
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
            meta = codec.encode_meta(conversation, beside=_BESIDE_META)
            sealed = seal_fields(self._sealer, conversation.fields, self._fields_context(key))
            case_id = conversation.case_id or ""
            code = conversation.code_digest or ""
        args = commit_args(
            expected_version=expected_version,
            update_id=update_id,
            now_ms=now_ms,
            retention=retention,
            registered=bool(conversation.case_id),
            mode=mode,
            batch=batch,
            meta=meta,
            sealed=sealed,
            case_id=case_id,
            code=code,
            chat_message=chat_message,
            turn=turn,
            index_refresh=INDEX_REFRESH,
            events=[e.kind for e in effects if isinstance(e, CaseEvent)],
            scrubs=any(isinstance(e, Scrub) for e in effects),
        )
        with _unavailable():
            keys = [
                *self.keys_of(key),
                *(self.key(key, part) for part in ("queue", "alive", "turn", "lease")),
                *(self.key(key, part) for part in COMPANION_PARTS),
            ]
            reply = await self.replicas.commit(self._commit_script, keys, args)
        status, version, seq, leased, alone, reindex, secrets = commit_reply(reply)
        if turn is not None and status != 1:
            turn.given = True
            # a batch that registers the case writes its indexes itself (flows.cases)
            reindex = reindex and not any(isinstance(e, RegisterCase) for e in effects)
            turn.leased, turn.alone, turn.reindex = bool(leased), bool(alone), bool(reindex)
        if log.isEnabledFor(logging.DEBUG):  # nothing personal: the pseudonym, numbers, types
            outcome = ("ok", "conflict", "duplicate")[status]
            names = ",".join(type(e).__name__ for e in effects)
            log.debug(
                "commit %s update=%d expected=%d -> %s version=%d entry=%d effects=%s",
                *(key, update_id, expected_version, outcome, version, seq, names),
            )
        if status == 2:
            return CommitResult(duplicate=True)
        if status == 1:
            return CommitResult(conflict=True)
        conversation.version = version
        made = Batch(str(seq), tuple(effects), update_id, chat_id, conversation.lang, 0, secrets)
        return CommitResult(batch=made)

    # -- the outbox --------------------------------------------------------------------------

    async def pending(self, key: str) -> list[Batch]:
        return await self.outbox.pending(key)

    async def with_pending(self) -> list[str]:
        return await self.outbox.with_pending(self.prefix, lambda n: split_key(self.prefix, n)[0])

    async def ack(self, key: str, entry_id: str, *, erased: bool = False) -> None:
        await self.outbox.ack(key, entry_id, erased=erased)

    # -- the case indexes (other slots: flows.cases) ---------------------------------------

    async def apply_index_effects(self, key: str, effects: Sequence[Effect]) -> None:
        await self.cases.apply_index_effects(key, effects)

    async def touch_indexes(self, conversation: Conversation, key: str) -> None:
        await self.cases.touch_indexes(conversation, key)

    async def find_case(self, code_digest: str) -> CaseFound:
        return await self.cases.find_case(code_digest)

    async def conversation_of_case(self, case_id: str) -> str | None:
        return await self.cases.conversation_of_case(case_id)

    async def erase_linked_case(self, case_id: str) -> bool:
        return await self.cases.erase_linked_case(case_id)

    # -- messages in the caller's chat, for /forget -------------------------------------------

    async def remember_chat_message(self, key: str, message_id: int) -> None:
        await self.outbox.remember_chat_message(key, message_id)

    async def chat_messages(self, key: str) -> list[int]:
        return await self.outbox.chat_messages(key)

    async def forget_chat_messages(self, key: str) -> None:
        await self.outbox.forget_chat_messages(key)

    # -- maintenance ---------------------------------------------------------------------------

    async def reseal_all(self) -> int:
        """Move every sealed record to the newest key (flows.reseal); how many were rewritten."""
        return await reseal_all(
            self._redis,
            self._sealer,
            self.prefix,
            partial(contexts_of, self.prefix),
            self._hset_if,
        )
