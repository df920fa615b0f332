"""The append-only audit stream of operator actions: who, what, which case, when.

Nothing personal goes in. The case is its pseudonymous id; a listed operator is `op:` and a keyed
digest of their Telegram id, anyone else (an adversary in the group, most likely) `x:` and the
same kind of digest: a seized server shows neither. `hotline audit tail` names the listed ones
("operator 3") from the deployment's own OPERATOR_IDS and id key, and gives each entry's time in
the desk's time zone (DESK_TIMEZONE, as the cards do), its abbreviation after it.
"""

from __future__ import annotations

import datetime
import time
import zoneinfo
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


def desk_zone(name: str) -> datetime.tzinfo:
    """The desk's time zone by name; UTC for a name this system does not know."""
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return datetime.UTC


def format_entry(
    entry: Mapping[str, str],
    operators: OperatorList | None = None,
    zone: datetime.tzinfo = datetime.UTC,
) -> str:
    when = datetime.datetime.fromtimestamp(float(entry.get("when", 0)), zone)
    who = entry.get("who", "-")
    if operators is not None:
        who = operators.name(who)
    rest = " ".join(
        f"{k}={v}" for k, v in entry.items() if k not in {"when", "who", "what", "case"}
    )
    line = f"{when:%Y-%m-%d %H:%M:%S %Z} {who} {entry.get('what')} {entry.get('case')}"
    return f"{line} {rest}".rstrip()
