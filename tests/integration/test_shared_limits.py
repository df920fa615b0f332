"""What several processes on one Redis share: Telegram's outgoing limits (bot.shared_slots),
the desk's periodic work (one leader), and the replicas a commit waits for."""

from __future__ import annotations

import fakeredis
import pytest
import redis.asyncio

from bot.app import build_app
from bot.offline.session import RecordingSession
from bot.settings import Settings
from bot.shared_slots import OVERALL_PER_SECOND, PER_GROUP, PER_PRIVATE_CHAT, SharedSlots, Ticket
from flows.model import Conversation, Reply
from flows.replicas import Replicas
from flows.sealing import Pseudonymizer, Sealer
from flows.store import ConversationStore, StoreUnavailable

CALLER = 100_300_400
GROUP = -1001000000555


def digest(namespace: str, value: str) -> str:
    return f"{namespace}-{abs(hash(value))}"


def private(chat_id: int) -> Ticket:
    return Ticket(chat_id, group=False)


async def test_two_processes_keep_one_second_between_messages_to_one_chat(
    redis_backend: redis.asyncio.Redis,
) -> None:
    one, other = SharedSlots(redis_backend, digest, "hl"), SharedSlots(redis_backend, digest, "hl")
    assert await one.take(private(CALLER)) == 0
    waits = await other.take(private(CALLER))  # the other process, the same chat
    assert waits == pytest.approx(PER_PRIVATE_CHAT, abs=0.05)
    assert await one.take(private(CALLER + 1)) == 0  # another chat: not held back


async def test_a_group_takes_its_twenty_a_minute_across_processes(
    redis_backend: redis.asyncio.Redis,
) -> None:
    slots = [SharedSlots(redis_backend, digest, "hl") for _ in range(2)]
    waits = [await slots[n % 2].take(Ticket(GROUP, group=True)) for n in range(PER_GROUP + 1)]
    assert waits[:PER_GROUP] == [0] * PER_GROUP  # the first twenty go at once (30/s overall)
    assert waits[PER_GROUP] > 50  # the 21st waits for the minute to roll


async def test_thirty_a_second_across_processes_the_first_answers_first(
    redis_backend: redis.asyncio.Redis,
) -> None:
    slots = [SharedSlots(redis_backend, digest, "hl") for _ in range(2)]
    waits = [await slots[n % 2].take(private(CALLER + n)) for n in range(OVERALL_PER_SECOND)]
    assert waits == [0] * OVERALL_PER_SECOND
    following = private(CALLER)  # his second message, while the second is full
    assert await slots[0].take(following) > 0
    assert following.rank is not None
    first = private(CALLER + 100)  # another caller's first answer, asked later
    assert await slots[1].take(first) > 0
    assert first.rank is not None
    assert first.rank < following.rank  # it goes first


async def test_a_429_for_a_chat_holds_every_process_back(
    redis_backend: redis.asyncio.Redis,
) -> None:
    one, other = SharedSlots(redis_backend, digest, "hl"), SharedSlots(redis_backend, digest, "hl")
    await one.pause(CALLER, 12)
    assert await other.take(private(CALLER)) == pytest.approx(12, abs=0.2)


async def test_no_chat_id_in_the_key_names(redis_backend: redis.asyncio.Redis) -> None:
    slots = SharedSlots(redis_backend, digest, "hl")
    for _ in range(2):
        await slots.take(private(CALLER))  # the second waits: in the line, held
    await slots.take(Ticket(GROUP, group=True))
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
