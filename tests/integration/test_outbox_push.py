"""What rides on a record of delivery progress (flows.outbox.Push: the desk lane's jobs) goes in
the same step, exactly when that progress is new: the same record written again (Redis did not
answer the first time, and may or may not have run it) pushes nothing twice, progress already
recorded further pushes nothing, an acknowledged batch pushes nothing; on fakeredis and on a
real server."""

from __future__ import annotations

import pytest

from flows.model import Conversation, Effect, Escalate, Priority, Relay, Reply
from flows.outbox import Push
from flows.store import ConversationStore

USER = 555_000_321
LANE = "desklane"


async def _batch(store: ConversationStore) -> tuple[str, str]:
    key = store.conversation_key(USER)
    loaded = await store.load(key, 1)
    effects: list[Effect] = [
        Escalate(Priority.NORMAL, "operator"),
        Relay(7, "text", text="x"),
        Reply("menu"),
    ]
    result = await store.commit(key, loaded.version, Conversation(state="menu"), 1, effects)
    assert result.batch is not None
    return key, result.batch.entry_id


async def _lane(store: ConversationStore, key: str) -> list[str]:
    raw = await store.redis.lrange(store.key(key, LANE), 0, -1)
    return [r.decode() if isinstance(r, bytes) else str(r) for r in raw]


def _push(*records: str) -> Push:
    return Push(LANE, records, 60.0, peek=("desk", "topic"))


async def test_records_go_once_with_new_progress_only(store: ConversationStore) -> None:
    key, entry = await _batch(store)
    first = await store.outbox.record(key, entry, 1, push=_push("job-1"))
    assert (first.pushed, await _lane(store, key)) == (1, ["job-1"])
    again = await store.outbox.record(key, entry, 1, push=_push("job-1"))  # written again
    assert (again.pushed, await _lane(store, key)) == (0, ["job-1"])
    second = await store.outbox.record(key, entry, 2, push=_push("job-2", "job-3"))
    assert (second.pushed, await _lane(store, key)) == (3, ["job-1", "job-2", "job-3"])
    behind = await store.outbox.record(key, entry, 1, push=_push("late"))  # progress went on
    assert behind.pushed == 0
    assert 0 < await store.redis.pttl(store.key(key, LANE)) <= 60_000
    assert [b.done for b in await store.pending(key)] == [2]  # progress never goes back


async def test_the_acknowledgement_pushes_once_and_an_acknowledged_batch_never(
    store: ConversationStore,
) -> None:
    key, entry = await _batch(store)
    acked = await store.outbox.record(key, entry, 3, push=_push("job"), ack=True)
    assert (acked.pushed, acked.pending) == (1, 0)
    assert await store.pending(key) == []
    repeat = await store.outbox.record(key, entry, 3, push=_push("job"), ack=True)
    assert (repeat.pushed, await _lane(store, key)) == (0, ["job"])


@pytest.mark.parametrize("topic", [None, "1042"])
async def test_the_field_asked_for_is_read_in_the_same_step(
    store: ConversationStore, topic: str | None
) -> None:
    key, entry = await _batch(store)
    if topic is not None:
        await store.redis.hset(store.key(key, "desk"), mapping={"ref": "r", "topic": topic})
    recorded = await store.outbox.record(key, entry, 1, push=_push("job"))
    assert recorded.peeked == topic
    plain = await store.outbox.record(key, entry, 2)  # nothing to push: nothing read
    assert (plain.pushed, plain.peeked) == (0, None)
