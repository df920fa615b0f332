"""The append-only audit stream of operator actions: who, what, which case, when.

Nothing personal goes in. The case is its pseudonymous id; a listed operator is `op:` and a keyed
digest of their Telegram id, anyone else (an adversary in the group, most likely) `x:` and the
same kind of digest: a seized server shows neither. `hotline audit tail` names the listed ones
("operator 3") from the deployment's own OPERATOR_IDS and id key.
"""

from __future__ import annotations

import datetime
import time
from collections.abc import Callable, Mapping
from typing import Final

from redis.asyncio import Redis

from bot.desk.operators import OperatorList

MAX_ENTRIES: Final = 1_000_000  # trimmed approximately; the stream never holds personal data


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
