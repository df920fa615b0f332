"""Commits that wait for replicas: with REDIS_MIN_REPLICAS set, an update is acknowledged only
once that many replicas hold its commit, so a failover (Sentinel promoting a replica) loses no
acknowledged update.

WAIT counts the writes of its own connection, so the commit and the WAIT go down one connection
in one pipeline. A repeated update (already applied, maybe just before a crash) is acknowledged
only after a small write of its own was replicated: replication is ordered, so the first commit
is on the replicas too.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from redis.asyncio import Redis
from redis.commands.core import AsyncScript

from flows.unavailable import StoreUnavailable, unavailable

__all__ = ["Replicas"]

# A write that changes nothing: the key's own time to live, set again
_REWRITE = """
local ttl = redis.call('PTTL', KEYS[1])
if ttl > 0 then
  redis.call('PEXPIRE', KEYS[1], ttl)
end
return ttl
"""


@dataclass(frozen=True, slots=True)
class Replicas:
    required: int = 0  # replicas that must hold a commit before it counts as done
    timeout: float = 2.0  # seconds WAIT may take; fewer replicas by then: not acknowledged

    async def commit(
        self, script: AsyncScript, keys: Sequence[str], args: Sequence[str | int]
    ) -> Any:
        if self.required <= 0:
            return await script(keys=keys, args=args)
        client: Redis = script.registered_client  # type: ignore[assignment]
        async with client.pipeline(transaction=False) as pipe:
            await script(keys=keys, args=args, client=pipe)
            pipe.execute_command("WAIT", self.required, round(self.timeout * 1000))
            reply, copies = await pipe.execute()
        self._check(int(copies))
        return reply

    async def settle(self, client: Redis, key: str) -> None:
        """Wait until what a conversation committed before is on the replicas: `key`, its dedupe
        marks (they exist: the update was seen), is written again, a write this connection can
        wait for."""
        if self.required <= 0:
            return
        with unavailable():
            rewrite = client.register_script(_REWRITE)
            async with client.pipeline(transaction=False) as pipe:
                await rewrite(keys=[key], client=pipe)
                pipe.execute_command("WAIT", self.required, round(self.timeout * 1000))
                _, copies = await pipe.execute()
        self._check(int(copies))

    def _check(self, copies: int) -> None:
        if copies < self.required:
            # applied on the master but not yet safe: not acknowledged, so Telegram sends the
            # update again and the repeat waits for the replicas once more
            raise StoreUnavailable(f"commit reached {copies} of {self.required} replicas")
