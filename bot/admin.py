"""Maintenance commands that need the stored data opened from settings (`hotline audit tail`,
`hotline keys reseal`). They work on a real Redis only: the embedded store keeps nothing."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from bot.app import open_redis, open_store
from bot.desk.audit import Audit, desk_zone, format_entry
from bot.desk.operators import OperatorList
from bot.settings import Settings
from flows.salts import SealedSalt
from flows.store import ConversationStore


class NeedsRedis(Exception):
    """The settings name the embedded store: there is nothing stored to work on."""


@contextlib.asynccontextmanager
async def stored(settings: Settings) -> AsyncIterator[tuple[ConversationStore, SealedSalt]]:
    """The conversation store and the operators' sealed salt, on a connection closed after."""
    if settings.embedded:
        raise NeedsRedis
    redis = open_redis(settings)
    try:
        store = open_store(settings, redis)
        yield store, SealedSalt(redis, store.sealer, store.prefix, "operators")
    finally:
        await redis.aclose()


def _needs_redis(command: str) -> int:
    print(f"{command} needs REDIS_URL: the embedded store holds nothing between runs")
    return 1


async def tail(settings: Settings, count: int) -> int:
    try:
        async with stored(settings) as (store, salt):
            operators = OperatorList(settings.operator_ids, salt.load)
            await operators.ready()
            zone = desk_zone(settings.desk_timezone)
            for entry in await Audit(store.redis, store.prefix).last(count):
                print(format_entry(entry, operators, zone))
    except NeedsRedis:
        return _needs_redis("audit tail")
    return 0


async def reseal(settings: Settings) -> int:
    """Every sealed record and the operators' salt sealed again under the newest key."""
    try:
        async with stored(settings) as (store, salt):
            moved = await store.reseal_all() + await salt.reseal()
    except NeedsRedis:
        return _needs_redis("keys reseal")
    print(f"resealed {moved} records under the newest key")
    return 0
