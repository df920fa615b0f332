"""A desk record's change is one script that writes all its fields in one HSET and drops the
others in one HDEL (not a command per field), only while the record exists; on a real server,
whose command statistics count what ran inside the script."""

from __future__ import annotations

import os

import pytest
import redis.asyncio

from bench.throughput import server_commands
from bot.desk.records import DeskState
from flows.sealing import Pseudonymizer, Sealer
from flows.store import ConversationStore

pytestmark = [
    pytest.mark.redis,
    pytest.mark.skipif(
        os.environ.get("HOTLINE_TEST_REDIS") == "cluster", reason="one server's statistics"
    ),
]

FIELDS: dict[str, str | int | float] = {
    "open": 1,
    "priority": 2,
    "reason": "operator",
    "since": 1.5,
    "lang": "uk",
}


async def test_a_record_is_written_by_one_hset_and_one_hdel(
    real_redis: redis.asyncio.Redis, sealer: Sealer, ids: Pseudonymizer
) -> None:
    state = DeskState(ConversationStore(real_redis, sealer, ids))
    key = state.store.conversation_key(555_000_777)
    await state.ensure(key, {"alert": "x", "shut": 1, "meetup": 1})  # (scripts loaded)
    await real_redis.config_resetstat()
    case, made = await state.ensure(key, FIELDS, drop=("alert", "shut", "meetup"))
    assert not made
    assert (case.open, case.priority, case.reason, case.lang) == (True, 2, "operator", "uk")
    assert (case.alert, case.shut, case.meetup) == (None, False, False)
    assert await state.update(key, {"stage": "meetup", "card": 7}, "open", "reason")
    ran = await server_commands(real_redis)
    assert (ran["hset"], ran["hdel"]) == (2, 2)  # one of each per script that writes
    after = await state.load(key)
    assert after is not None
    assert (after.stage, after.card, after.open, after.reason) == ("meetup", 7, False, "")
    await real_redis.delete(state.record_key(key))
    assert not await state.update(key, {"stage": "x"})  # gone: nothing brought back
    assert await state.load(key) is None
