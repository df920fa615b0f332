"""Two bot processes on one Redis, one conversation: updates apply one at a time, each once.

Each process (spawned, with its own event loop and Redis client) feeds 50 updates of the same
caller through `flows.dialogue.Dialogue`; ten update ids are delivered to both processes, as
Telegram redelivers after a timeout. Afterwards the outbox must hold exactly one batch per
distinct update, the version must count them, and replaying the updates serially in outbox
order through the engine must give the very same effects and the same final conversation.
"""

from __future__ import annotations

import asyncio
import datetime
import multiprocessing
import multiprocessing.synchronize
from typing import Any

import pytest
import redis.asyncio

from bot.redis_url import connect
from flows import engine
from flows.dialogue import ConflictError, Dialogue
from flows.model import Command, Context, Conversation, Event, Press, Text
from flows.sealing import Pseudonymizer, Sealer, SealKey
from flows.store import CommitResult, ConversationStore

pytestmark = pytest.mark.redis

USER = 424242
NOW = 1_750_000_000.0
SEAL_KEY = SealKey("conc", b"c" * 32)
ID_SECRET = b"concurrency-test-id-secret-01234567"
PER_PROCESS = 50
SHARED = 10  # update ids both processes receive
TIMEOUT = 120


def event_of(update_id: int) -> Event:
    """The event behind an update id: the same in both processes. Several change the state,
    so the effects of each update depend on the order they were applied in."""
    kinds: list[Event] = [
        Text("hello"),
        Command("help"),
        Press("menu-surrender"),
        Press("not-yet"),
        Command("status"),
    ]
    return kinds[update_id % len(kinds)]


def _dialogue(store: ConversationStore) -> Dialogue:
    return Dialogue(
        store, clock=lambda: NOW, new_code=lambda: "K7QM-3P9X", new_case_id=lambda: "c0ffee"
    )


def _store(client: redis.asyncio.Redis) -> ConversationStore:
    return ConversationStore(client, Sealer([SEAL_KEY]), Pseudonymizer(ID_SECRET))


class CountingStore(ConversationStore):
    """Counts the commits that lost the race (the dialogue reloads and re-applies those).

    The first commit of each process waits until the other process has loaded too, so both
    commit on the same version at least once: the race is sure to happen, even on a loaded
    machine where the processes would otherwise run one after the other."""

    lost_races = 0

    def __init__(self, *args: Any, race: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.race = race

    async def commit(self, *args: Any, **kwargs: Any) -> CommitResult:
        if self.race is not None:
            race, self.race = self.race, None
            await asyncio.to_thread(race.wait, TIMEOUT)
        result = await super().commit(*args, **kwargs)
        self.lost_races += result.conflict
        return result


async def _feed(url: str, update_ids: list[int], start: Any, race: Any) -> dict[str, Any]:
    client = connect(url)
    store = CountingStore(client, Sealer([SEAL_KEY]), Pseudonymizer(ID_SECRET), race=race)
    dialogue = _dialogue(store)
    await client.ping()
    start.wait()  # both processes connected: now interleave
    applied: list[int] = []
    conflicts = 0
    for update_id in update_ids:
        while True:
            try:
                handled = await dialogue.handle(USER, update_id, event_of(update_id))
            except ConflictError:
                conflicts += 1  # not acknowledged: Telegram would deliver it again
                continue
            break
        if handled.batch is not None:
            applied.append(update_id)
    await client.aclose()
    return {"applied": applied, "conflicts": conflicts, "lost_races": store.lost_races}


def feed_in_process(
    url: str,
    update_ids: list[int],
    start: multiprocessing.synchronize.Barrier,
    race: multiprocessing.synchronize.Barrier,
    results: multiprocessing.Queue[dict[str, Any]],
) -> None:
    results.put(asyncio.run(_feed(url, update_ids, start, race)))


async def test_two_processes_never_lose_or_repeat_an_update(
    redis_url: str, real_redis: redis.asyncio.Redis
) -> None:
    first = list(range(1, PER_PROCESS + 1))
    second = list(range(PER_PROCESS - SHARED + 1, 2 * PER_PROCESS - SHARED + 1))
    distinct = set(first) | set(second)
    assert len(distinct) == 2 * PER_PROCESS - SHARED

    ctx = multiprocessing.get_context("spawn")
    start = ctx.Barrier(2)
    race = ctx.Barrier(2)
    results: multiprocessing.Queue[dict[str, Any]] = ctx.Queue()
    procs = [
        ctx.Process(target=feed_in_process, args=(redis_url, ids, start, race, results))
        for ids in (first, second)
    ]
    for proc in procs:
        proc.start()
    outcomes = [await asyncio.to_thread(results.get, True, TIMEOUT) for _ in procs]
    for proc in procs:
        proc.join(TIMEOUT)
        assert proc.exitcode == 0

    # every distinct update was applied by exactly one of the processes
    # the processes really raced: some commits found the version moved and were re-applied
    assert sum(o["lost_races"] for o in outcomes) > 0
    applied = [u for outcome in outcomes for u in outcome["applied"]]
    assert sorted(applied) == sorted(distinct)

    store = _store(real_redis)
    key = store.conversation_key(USER)
    batches = await store.pending(key)
    order = [batch.update_id for batch in batches]
    assert sorted(u for u in order if u is not None) == sorted(distinct)  # each exactly once
    loaded = await store.load(key, 10**9)
    assert loaded.version == len(distinct)  # no lost update

    # the stored history is a serial one: replaying it in outbox order gives the same effects
    ctx_ = Context(
        now=NOW,
        today=_dialogue(store).context(None).today,
        new_code=lambda: "K7QM-3P9X",
        new_case_id=lambda: "c0ffee",
        digest=store.digest,
    )
    conv = Conversation()
    for batch in batches:
        assert batch.update_id is not None
        outcome = engine.handle(conv, event_of(batch.update_id), ctx_)
        assert list(batch.effects) == outcome.effects, f"update {batch.update_id}"
        conv = outcome.conversation
    conv.version = loaded.version
    assert loaded.conversation == conv


def test_the_events_change_state_so_order_matters() -> None:
    store_free_ctx = Context(
        now=NOW,
        today=datetime.date(2025, 6, 15),
        new_code=lambda: "K7QM-3P9X",
        new_case_id=lambda: "c0ffee",
        digest=lambda ns, v: f"{ns}:{len(v)}",
    )
    states = set()
    conv = Conversation()
    for update_id in range(1, 30):
        conv = engine.handle(conv, event_of(update_id), store_free_ctx).conversation
        states.add(conv.state)
    assert {"menu", "declaration"} <= states
