"""The indexes of registered cases: from a code digest or a case id to the owner's conversation.

    {prefix}:code:<code digest>     "<conv key>"
    {prefix}:case:<case id>         "<conv key>"

They live in other slots than the conversation (one per code, one per case), so they are
written after the commit and every write is idempotent: a repeat finishes what an interrupted
run began, and a stale index finds nothing (the owner's conversation must still hold the case,
under that code). A value of at most 44 bytes is one allocation in Redis (an embedded string).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Final

from redis.asyncio import Redis

from flows import codec
from flows.model import CaseFound, Conversation, Effect, Erase, RegisterCase
from flows.unavailable import text as _text
from flows.unavailable import unavailable as _unavailable

__all__ = ["ERASED_SEQ", "ERASED_VERSION", "CaseIndexes"]

log = logging.getLogger("flows.store")

# The fields of an erased conversation's hash that keep the version and the outbox batch number
# it reached (see the store's commit)
ERASED_VERSION: Final = "ev"
ERASED_SEQ: Final = "es"

# Delete a string key only while it still holds ARGV[1] (an index of this conversation).
_DEL_IF: Final = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""

# Erase the owner's conversation of a case ended from a conversation linked to it, only while
# it still holds that case (a stale index must not erase somebody else's conversation).
# KEYS: conv, outbox (one slot); ARGV: 1 case id, 2 seen ttl (ms). Kept, as after any erase
# (see the store's commit): the dedupe marks with the version and the batch number the
# conversation reached, so no version or batch number comes back, and the ids of the messages
# that must not stay on his phone (bot.ephemeral).
_ERASE_OWNER: Final = f"""
local was = redis.call('HMGET', KEYS[1], 'case', 'v', 'seq', 'seen', 'sec', 'rate', 'rn')
if was[1] ~= ARGV[1] then
  return 0
end
redis.call('DEL', KEYS[1], KEYS[2])
local fields = {{'{ERASED_VERSION}', tonumber(was[2] or '0'),
  '{ERASED_SEQ}', tonumber(was[3] or '0')}}
if was[4] then
  table.insert(fields, 'seen')
  table.insert(fields, was[4])
end
for i, name in ipairs({{'sec', 'rate', 'rn'}}) do
  if was[4 + i] then
    table.insert(fields, name)
    table.insert(fields, was[4 + i])
  end
end
redis.call('HSET', KEYS[1], unpack(fields))
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1
"""


class CaseIndexes:
    """The code and case indexes of a store (`key_of`, `keys_of` name a conversation's keys)."""

    def __init__(
        self,
        redis: Redis,
        prefix: str,
        key_of: Callable[[str, str], str],
        keys_of: Callable[[str], list[str]],
        *,
        registered_ms: int,  # how long an index lives unrefreshed (as a registered case)
        dedupe_ms: int,
        outbox_ms: int,
    ) -> None:
        self._redis = redis
        self._prefix = prefix
        self._key_of = key_of
        self._keys_of = keys_of
        self._registered_ms = registered_ms
        self._dedupe_ms = dedupe_ms
        self._outbox_ms = outbox_ms
        self._del_if = redis.register_script(_DEL_IF)
        self._erase_owner = redis.register_script(_ERASE_OWNER)

    def _code_index(self, code_digest: str) -> str:
        return f"{self._prefix}:code:{code_digest}"

    def _case_index(self, case_id: str) -> str:
        return f"{self._prefix}:case:{case_id}"

    async def apply_index_effects(self, key: str, effects: Sequence[Effect]) -> None:
        """RegisterCase writes the code and case indexes; Erase removes those of this owner.

        The Erase of a conversation only linked to its case leaves them: `erase_linked_case`
        finds the owner through them, after the desk has let go of the owner's record."""
        with _unavailable():
            for effect in effects:
                if isinstance(effect, RegisterCase):
                    await self._set_indexes(key, effect.case_id, effect.code_digest)
                elif isinstance(effect, Erase) and not effect.linked:
                    await self.drop_indexes(key, effect.case_id, effect.code_digest)

    async def touch_indexes(self, conversation: Conversation, key: str) -> None:
        """Keep an owned case's indexes alive as long as the conversation (and repair them)."""
        if not conversation.owns_case or not conversation.case_id:
            return
        if not conversation.code_digest:
            return
        with _unavailable():
            await self._set_indexes(key, conversation.case_id, conversation.code_digest)

    async def _set_indexes(self, key: str, case_id: str, code_digest: str) -> None:
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.set(self._code_index(code_digest), key, px=self._registered_ms)
            pipe.set(self._case_index(case_id), key, px=self._registered_ms)
            await pipe.execute()

    async def drop_indexes(self, key: str, case_id: str | None, code_digest: str | None) -> None:
        if code_digest and case_id:
            await self._del_if(keys=[self._code_index(code_digest)], args=[key])
        if case_id:
            await self._del_if(keys=[self._case_index(case_id)], args=[key])

    async def find_case(self, code_digest: str) -> CaseFound:
        """The case registered under a code digest (its owner's conversation still holds it)."""
        with _unavailable():
            key = _text(await self._redis.get(self._code_index(code_digest)))
            if key is None:
                return CaseFound(None)
            conv = self._key_of(key, "conv")
            case, code, meta = await self._redis.hmget(conv, ["case", "code", "meta"])
        case_id = _text(case)
        if not case_id or _text(code) != code_digest or meta is None:
            return CaseFound(None)  # dangling: the owner is gone or moved on
        if not codec.decode_meta(_text(meta) or "").get("owns_case"):
            return CaseFound(None)
        return CaseFound(case_id)

    async def conversation_of_case(self, case_id: str) -> str | None:
        with _unavailable():
            key = _text(await self._redis.get(self._case_index(case_id)))
            if key is None:
                return None
            case = await self._redis.hget(self._key_of(key, "conv"), "case")
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
            case, code = await self._redis.hmget(self._key_of(owner, "conv"), ["case", "code"])
            erased = False
            if _text(case) == case_id:
                code_digest = _text(code)
                if code_digest:
                    await self._del_if(keys=[self._code_index(code_digest)], args=[owner])
                args: list[str | int] = [case_id, self._dedupe_ms]
                erased = bool(await self._erase_owner(keys=self._keys_of(owner), args=args))
            await self._del_if(keys=[index], args=[owner])
        # no key, no id: only what happened
        log.info("case erased from a linked conversation: owner erased=%s", erased)
        return erased
