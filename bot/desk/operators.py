"""The listed operators (OPERATOR_IDS), and how the desk names them without their Telegram ids."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Final

DIGEST_CHARS: Final = 12
LISTED: Final = "op:"
UNLISTED: Final = "x:"


class OperatorList:
    """The operators of OPERATOR_IDS, in order, and how they are named without their ids."""

    def __init__(self, ids: Sequence[int], digest: Callable[[str, str], str]) -> None:
        self.ids = tuple(ids)
        self._digest = digest
        self._number = {self.digest(user_id): n for n, user_id in enumerate(self.ids, 1)}

    def digest(self, user_id: int) -> str:
        return self._digest("operator", str(int(user_id)))

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
