"""The append-only audit stream of operator actions: who, what, which case, when.

Nothing personal goes in. The case is its pseudonymous id; a listed operator is `op:` and a keyed
digest of their Telegram id, anyone else (an adversary in the group, most likely) `x:` and the
same kind of digest: a seized server shows neither. `hotline audit tail` names the listed ones
("operator 3") from the deployment's own OPERATOR_IDS and id key.
"""

from __future__ import annotations

import datetime
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Final

from redis.asyncio import Redis

from bot.settings import Settings

MAX_ENTRIES: Final = 1_000_000  # trimmed approximately; the stream never holds personal data
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


class Audit:
    def __init__(
        self, redis: Redis, prefix: str = "hl", clock: Callable[[], float] = time.time
    ) -> None:
        self.redis = redis
        self.key = f"{prefix}:audit"
        self.clock = clock

    async def record(self, who: str, action: str, case: str, **extra: str) -> None:
        entry = {"who": who, "what": action, "case": case or "-", **extra}
        entry["when"] = f"{self.clock():.3f}"
        await self.redis.xadd(self.key, entry, maxlen=MAX_ENTRIES, approximate=True)  # type: ignore[arg-type]

    async def last(self, count: int) -> list[dict[str, str]]:
        rows = await self.redis.xrevrange(self.key, count=count) or []
        return [{_s(k): _s(v) for k, v in (fields or {}).items()} for _, fields in rows[::-1]]


def _s(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def format_entry(entry: Mapping[str, str], operators: OperatorList | None = None) -> str:
    when = datetime.datetime.fromtimestamp(float(entry.get("when", 0)), datetime.UTC)
    who = entry.get("who", "-")
    if operators is not None:
        who = operators.name(who)
    rest = " ".join(
        f"{k}={v}" for k, v in entry.items() if k not in {"when", "who", "what", "case"}
    )
    line = f"{when:%Y-%m-%d %H:%M:%S} {who} {entry.get('what')} {entry.get('case')}"
    return f"{line} {rest}".rstrip()


async def tail(settings: Settings, count: int) -> int:
    from bot.app import open_redis, open_store

    if settings.embedded:
        print("audit tail needs REDIS_URL: the embedded store holds nothing between runs")
        return 1
    redis = open_redis(settings)
    try:
        store = open_store(settings, redis)
        operators = OperatorList(settings.operator_ids, store.digest)
        for entry in await Audit(redis, store.prefix).last(count):
            print(format_entry(entry, operators))
    finally:
        await redis.aclose()
    return 0
