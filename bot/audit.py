"""The append-only audit stream of operator actions: who, what, which case, when. No personal
data: the case is its pseudonymous key and operators are named by their Telegram id, which the
deployment already lists in OPERATOR_IDS."""

from __future__ import annotations

import datetime
import time
from collections.abc import Callable

from redis.asyncio import Redis

from bot.settings import Settings

MAX_ENTRIES = 1_000_000  # trimmed approximately; the stream never holds personal data


class Audit:
    def __init__(
        self, redis: Redis, prefix: str = "hl", clock: Callable[[], float] = time.time
    ) -> None:
        self.redis = redis
        self.key = f"{prefix}:audit"
        self.clock = clock

    async def record(self, operator: int | str, action: str, case: str, **extra: str) -> None:
        entry = {"who": str(operator), "what": action, "case": case, **extra}
        entry["when"] = f"{self.clock():.3f}"
        await self.redis.xadd(self.key, entry, maxlen=MAX_ENTRIES, approximate=True)  # type: ignore[arg-type]

    async def last(self, count: int) -> list[dict[str, str]]:
        rows = await self.redis.xrevrange(self.key, count=count) or []
        return [{_s(k): _s(v) for k, v in (fields or {}).items()} for _, fields in rows[::-1]]


def _s(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def format_entry(entry: dict[str, str]) -> str:
    when = datetime.datetime.fromtimestamp(float(entry.get("when", 0)), datetime.UTC)
    rest = " ".join(
        f"{k}={v}" for k, v in entry.items() if k not in {"when", "who", "what", "case"}
    )
    line = f"{when:%Y-%m-%d %H:%M:%S} {entry.get('who')} {entry.get('what')} {entry.get('case')}"
    return f"{line} {rest}".rstrip()


async def tail(settings: Settings, count: int) -> int:
    from bot.app import open_redis

    if settings.embedded:
        print("audit tail needs REDIS_URL: the embedded store holds nothing between runs")
        return 1
    redis = open_redis(settings)
    try:
        for entry in await Audit(redis).last(count):
            print(format_entry(entry))
    finally:
        await redis.aclose()
    return 0
