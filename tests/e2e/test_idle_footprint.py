"""What an idle registered caller keeps in Redis: his conversation's one hash, and the two indexes
of his case, nothing else named by him (the rest is shared: the due list of timed messages, the
operators' salt). Nothing in the hash is personal but what is sealed. On the real Redis server,
through the real Dispatcher."""

from __future__ import annotations

import pytest
import redis.asyncio

from tests.e2e.conftest import HotlineFactory, register

pytestmark = pytest.mark.redis

# the hash's own fields (flows.store) and its neighbours' (flows.quota, bot.ephemeral)
CONVERSATION_FIELDS = frozenset(
    {"v", "meta", "sealed", "seq", "seen", "chat", "tl", "case", "code", "ix"}
    | {"rate", "rn", "sec", "cid"}
)
SHARED = ("hl:expiring", "hl:salt:")


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


async def test_an_idle_registered_caller_keeps_one_hash_and_his_cases_two_indexes(
    real_redis: redis.asyncio.Redis, make_hotline: HotlineFactory
) -> None:
    hotline = await make_hotline(real_redis)
    caller = hotline.caller()
    code = await register(caller)
    await hotline.app.drain()
    conversation = await caller.conversation()
    store = hotline.app.store
    assert conversation.case_id is not None
    keys = {k for k in await hotline.keys() if not k.startswith(SHARED)}
    assert keys == {
        store.key(caller.key, "conv"),  # the outbox went with its last batch
        f"hl:case:{conversation.case_id}",
        f"hl:code:{store.digest('code', code)}",
    }
    raw = await real_redis.hgetall(store.key(caller.key, "conv"))
    fields = {_text(name): _text(value) for name, value in raw.items()}
    assert set(fields) <= CONVERSATION_FIELDS
    for name in ("v", "meta", "sealed", "seen", "chat", "case", "code"):
        assert name in fields
    plain = " ".join(f"{k}={v}" for k, v in fields.items() if k not in ("sealed", "cid"))
    answers = [v for v in conversation.fields.values() if len(v) >= 4]  # not "2" (a count)
    assert answers
    for personal in (str(caller.user_id), code, *answers):
        assert personal not in plain
    assert fields["sealed"].startswith("s1.")


async def test_once_his_code_message_went_in_time_nothing_of_it_is_kept(
    real_redis: redis.asyncio.Redis, make_hotline: HotlineFactory
) -> None:
    """The months he stays idle: the timed code message was deleted, and with it its id, the
    chat id the sweep needed and its place on the due list."""
    hotline = await make_hotline(real_redis, code_message_minutes=10)
    caller = hotline.caller()
    await register(caller)
    await hotline.app.drain()
    conv = hotline.app.store.key(caller.key, "conv")
    assert await real_redis.hexists(conv, "cid")  # while the code message is on his screen
    assert await real_redis.zcard("hl:expiring") == 1
    await hotline.app.service_levels.tick(hotline.clock.now + 10 * 60)
    raw = await real_redis.hgetall(conv)
    assert {_text(name) for name in raw} >= {"v", "meta", "sealed", "case", "code"}
    assert not {"sec", "cid"} & {_text(name) for name in raw}
    assert await real_redis.zcard("hl:expiring") == 0
