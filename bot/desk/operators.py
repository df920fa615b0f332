"""The listed operators (OPERATOR_IDS), and how the desk names them without their Telegram ids.

An operator's pseudonym (on a card as claimer, in the audit, in the logs) is an HMAC of their id
under a salt of the deployment, sealed in Redis (flows.salts), not under HOTLINE_ID_KEY: a
seized dump plus the id key must not tell which of a group's members did what. The salt is read
once (`ready`) before anything is named.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Awaitable, Callable, Sequence
from typing import Final

DIGEST_CHARS: Final = 12
LISTED: Final = "op:"
UNLISTED: Final = "x:"


class OperatorList:
    """The operators of OPERATOR_IDS, in order, and how they are named without their ids."""

    def __init__(self, ids: Sequence[int], salt: Callable[[], Awaitable[bytes]]) -> None:
        self.ids = tuple(ids)
        self._salt = salt
        self._key: bytes | None = None
        self._number: dict[str, int] = {}

    async def ready(self) -> None:
        """Read the salt (once); every other method needs it."""
        if self._key is None:
            self._key = await self._salt()
            self._number = {self.digest(user_id): n for n, user_id in enumerate(self.ids, 1)}

    def digest(self, user_id: int) -> str:
        if self._key is None:
            raise RuntimeError("operator pseudonyms used before OperatorList.ready()")
        mac = hmac.new(self._key, f"operator\x1f{int(user_id)}".encode(), hashlib.sha256)
        return mac.hexdigest()[:32]

    def listed(self, user_id: int) -> bool:
        return user_id in self.ids

    def number(self, digest: str) -> int | None:
        """The place in OPERATOR_IDS of the operator with this digest (1-based)."""
        return self._number.get(digest)

    def who(self, user_id: int) -> str:
        """The name of this id in the audit stream and the logs."""
        tag = LISTED if self.listed(user_id) else UNLISTED
        return tag + self.digest(user_id)[:DIGEST_CHARS]

    def name(self, who: str) -> str:
        """An audit `who` made readable: "operator 3" for a listed one, else as it is."""
        if who.startswith(LISTED):
            short = who.removeprefix(LISTED)
            for digest, n in self._number.items():
                if digest.startswith(short):
                    return f"operator {n}"
        return who
