"""Random secrets of the deployment kept in Redis, sealed under the sealing keys.

Keyed digests under `HOTLINE_ID_KEY` alone are only as strong as the id key's secrecy, and a
value from a small space (a Telegram id among a group's members) is found again by trying them.
What must not be mapped back with the id key alone (which operator did what, in the audit and on
the cards) is digested with a salt of its own, made once at random and sealed:

    {prefix}:salt:<name>    string  sealed 32 random bytes (made with SET NX: one per
                                    deployment, whichever process comes first)

A seized dump plus the id key opens nothing here; the sealing keys too open everything anyway.
`reseal` moves a salt to the newest sealing key with the other records.
"""

from __future__ import annotations

import base64
import os
from typing import Final

from redis.asyncio import Redis

from flows.sealing import Sealer

SALT_BYTES: Final = 32


def _s(value: bytes | str | None) -> str | None:
    return value.decode() if isinstance(value, bytes) else value


class SealedSalt:
    def __init__(self, redis: Redis, sealer: Sealer, prefix: str, name: str) -> None:
        if not name.isascii() or not name.isalpha():
            raise ValueError("a salt's name is a plain word")
        self.redis = redis
        self.sealer = sealer
        self.key = f"{prefix}:salt:{name}"
        self._context = f"salt|{name}".encode()

    async def load(self) -> bytes:
        """The salt, made now if this deployment has none. A record that does not open (damaged,
        or sealed under a retired key) raises SealError: never silently replaced, or every
        pseudonym made with it would change."""
        record = _s(await self.redis.get(self.key))
        if record is None:
            fresh = base64.b64encode(os.urandom(SALT_BYTES))
            await self.redis.set(self.key, self.sealer.seal(fresh, self._context), nx=True)
            record = _s(await self.redis.get(self.key)) or ""
        return base64.b64decode(self.sealer.unseal(record, self._context), validate=True)

    async def reseal(self) -> bool:
        """Seal the salt under the newest key; whether it was rewritten."""
        record = _s(await self.redis.get(self.key))
        if record is None:
            return False
        fresh = self.sealer.reseal(record, self._context)
        if fresh == record:
            return False
        await self.redis.set(self.key, fresh)
        return True
