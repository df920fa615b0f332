"""What several processes on one Redis share: Telegram's outgoing limits (bot.shared_slots),
the desk's periodic work (one leader), and the replicas a commit waits for."""

from __future__ import annotations

import fakeredis
import pytest
import redis.asyncio

from bot.app import build_app
from bot.offline.session import RecordingSession
from bot.settings import Settings
from bot.shared_slots import PER_GROUP, PER_PRIVATE_CHAT, SharedSlots
from flows.model import Conversation, Reply
from flows.replicas import Replicas
from flows.sealing import Pseudonymizer, Sealer
from flows.store import ConversationStore, StoreUnavailable

CALLER = 100_300_400
GROUP = -1001000000555


def digest(namespace: str, value: str) -> str:
    return f"{namespace}-{abs(hash(value))}"


async def test_two_processes_keep_one_second_between_messages_to_one_chat(
    redis_backend: redis.asyncio.Redis,
) -> None:
    one, other = SharedSlots(redis_backend, digest, "hl"), SharedSlots(redis_backend, digest, "hl")
    assert await one.reserve(CALLER, group=False) == pytest.approx(0, abs=0.05)
    booked = await other.reserve(CALLER, group=False)  # the other process, the same chat
    assert booked == pytest.approx(PER_PRIVATE_CHAT, abs=0.05)
    assert await one.reserve(CALLER + 1, group=False) <= 0.1  # another chat: not held back


async def test_a_group_takes_its_twenty_a_minute_across_processes(
    redis_backend: redis.asyncio.Redis,
) -> None:
    slots = [SharedSlots(redis_backend, digest, "hl") for _ in range(2)]
    waits = [await slots[n % 2].reserve(GROUP, group=True) for n in range(PER_GROUP + 1)]
    assert max(waits[:PER_GROUP]) < 5  # the first twenty go at once (30/s overall)
    assert waits[PER_GROUP] > 50  # the 21st waits for the minute to roll


async def test_a_429_for_a_chat_holds_every_process_back(
    redis_backend: redis.asyncio.Redis,
) -> None:
    one, other = SharedSlots(redis_backend, digest, "hl"), SharedSlots(redis_backend, digest, "hl")
    await one.pause(CALLER, 12)
    assert await other.reserve(CALLER, group=False) == pytest.approx(12, abs=0.2)


async def test_no_chat_id_in_the_key_names(redis_backend: redis.asyncio.Redis) -> None:
    slots = SharedSlots(redis_backend, digest, "hl")
    await slots.reserve(CALLER, group=False)
    await slots.reserve(GROUP, group=True)
    names = [k.decode() if isinstance(k, bytes) else k async for k in redis_backend.scan_iter()]
    assert names
    assert not [n for n in names if str(CALLER) in n or str(GROUP)[1:] in n]


async def test_one_process_leads_the_desks_periodic_work() -> None:
    redis = fakeredis.FakeAsyncRedis()
    apps = [
        build_app(Settings(operator_chat_id=GROUP), session=RecordingSession(), redis=redis)
        for _ in range(3)
    ]
    leads = [await app.leads_desk() for app in apps]
    assert leads.count(True) == 1
    assert [await app.leads_desk() for app in apps] == leads  # the leader keeps it


@pytest.mark.redis
async def test_a_commit_no_replica_confirmed_is_not_acknowledged(
    real_redis: redis.asyncio.Redis, sealer: Sealer, ids: Pseudonymizer
) -> None:
    """This server has no replica: with one required, the update fails (Telegram sends it
    again), and so does its repeat, until a replica holds it."""
    store = ConversationStore(real_redis, sealer, ids, replicas=Replicas(1, timeout=0.05))
    key = store.conversation_key(CALLER)
    with pytest.raises(StoreUnavailable, match="replicas"):
        await store.commit(key, 0, Conversation(state="menu"), 1, [Reply("greeting")])
    with pytest.raises(StoreUnavailable, match="replicas"):
        await store.settle(key)  # the repeat of the update: still not safe
    plain = ConversationStore(real_redis, sealer, ids)
    assert (await plain.commit(key, 1, Conversation(state="menu"), 2, [])).batch is not None
    await real_redis.flushall()  # no outbox left behind for a later process on this server
