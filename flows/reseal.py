"""Key rotation: every sealed record of the store moved to the newest sealing key."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from typing import Final

from redis.asyncio import Redis
from redis.commands.core import AsyncScript

from flows.sealing import RECORD_VERSION, Sealer, SealError
from flows.unavailable import text as _text
from flows.unavailable import unavailable as _unavailable

__all__ = ["HSET_IF", "contexts_of", "reseal_all", "split_key"]

log = logging.getLogger("flows.store")

# Compare-and-set of one hash field: KEYS[1] hash, ARGV field, expected, new. 1 if written.
HSET_IF: Final = """
if redis.call('HGET', KEYS[1], ARGV[1]) == ARGV[2] then
  redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
  return 1
end
return 0
"""


def split_key(prefix: str, redis_key: str) -> tuple[str, str]:
    """(conversation key, part) of a `{prefix}:{<conv key>}:<part>` name."""
    inner = redis_key.removeprefix(f"{prefix}:")
    key, _, part = inner.rpartition(":")
    return key.removeprefix("{").removesuffix("}"), part


def contexts_of(prefix: str, redis_key: str) -> tuple[str, list[bytes]]:
    """The part a key is of its conversation, and the owner contexts a record in it may be
    sealed for, the likeliest first: the store's fields (`<conv key>`, also the chat id of
    bot.ephemeral), its outbox (`<conv key>|outbox`), another module's part (`<conv key>|desk`)."""
    key, part = split_key(prefix, redis_key)
    if part == "conv":
        return part, [key.encode()]
    if part == "outbox":
        return part, [key.encode() + b"|outbox"]
    return part, [f"{key}|{part}".encode(), key.encode()]


async def reseal_all(
    redis: Redis,
    sealer: Sealer,
    prefix: str,
    contexts_of: Callable[[str], tuple[str, list[bytes]]],
    hset_if: AsyncScript,  # HSET_IF, registered
) -> int:
    """Move every sealed record to the newest key; how many records were rewritten.

    Every hash field of every conversation that holds a sealed record is covered: the fields,
    the outbox and what other modules keep in the conversation's slot (the desk).
    `contexts_of(redis key)` says what part of a conversation a key is, and the owner contexts
    a record in it may be sealed for, the likeliest first. Safe while the bot runs: a record is
    replaced only if it still holds what was read (a commit in between wrote a fresh record,
    sealed under the newest key anyway). A record that does not open is left as it is; the
    first such error is raised at the end.
    """

    def reseal(record: str, contexts: list[bytes]) -> str:
        for context in contexts[:-1]:
            with contextlib.suppress(SealError):
                return sealer.reseal(record, context)
        return sealer.reseal(record, contexts[-1])

    async def reseal_field(redis_key: str, field: str, contexts: list[bytes]) -> int:
        for _ in range(5):
            record = _text(await redis.hget(redis_key, field))
            if record is None:
                return 0
            fresh = reseal(record, contexts)
            if fresh == record:
                return 0
            if await hset_if(keys=[redis_key], args=[field, record, fresh]):
                return 1
        return 0

    changed = 0
    failure: SealError | None = None
    with _unavailable():
        async for name in redis.scan_iter(match=f"{prefix}:{{*}}:*", count=500):
            redis_key = _text(name) or ""
            part, contexts = contexts_of(redis_key)
            if part not in ("conv", "outbox") and _text(await redis.type(name)) != "hash":
                continue
            entries = await redis.hgetall(redis_key)
            for raw_field, raw_value in entries.items():
                field, value = _text(raw_field) or "", _text(raw_value) or ""
                if not value.startswith(f"{RECORD_VERSION}."):
                    continue
                try:
                    changed += await reseal_field(redis_key, field, contexts)
                except SealError as exc:
                    log.warning("reseal: %s %s does not open (%s)", redis_key, field, exc.reason)
                    failure = failure or exc
    log.info("reseal: %d records moved to key %s", changed, sealer.current_key_id)
    if failure is not None:
        raise failure
    return changed
