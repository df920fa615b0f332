"""Maintenance commands that need the whole app built from settings (`hotline audit tail`)."""

from __future__ import annotations

from bot.app import open_redis, open_store
from bot.desk.audit import Audit, format_entry
from bot.desk.operators import OperatorList
from bot.settings import Settings
from flows.salts import SealedSalt


async def tail(settings: Settings, count: int) -> int:
    if settings.embedded:
        print("audit tail needs REDIS_URL: the embedded store holds nothing between runs")
        return 1
    redis = open_redis(settings)
    try:
        store = open_store(settings, redis)
        salt = SealedSalt(redis, store.sealer, store.prefix, "operators")
        operators = OperatorList(settings.operator_ids, salt.load)
        await operators.ready()
        for entry in await Audit(redis, store.prefix).last(count):
            print(format_entry(entry, operators))
    finally:
        await redis.aclose()
    return 0
