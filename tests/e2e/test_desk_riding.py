"""The desk lane's jobs ride on the records of the caller's delivery (bot.desk.lane, the
deliverer's Riders): a relayed message costs the desk no round trip to push its job, and its
first read checks whom his topic talks to at once; the job is pushed exactly when its effect's
progress is recorded, so a process that dies in between neither loses nor doubles what reaches
the group. Counted through the real Dispatcher on a real Redis (bench/escalation.py)."""

from __future__ import annotations

import asyncio
import os
from typing import Any

import pytest
import redis.asyncio
from aiogram.methods import SendMessage

from bench import escalation
from bench.dialogue import ESCALATION
from flows.store import StoreUnavailable
from tests.e2e.conftest import (
    CALLER_HEADER,
    Caller,
    Hotline,
    HotlineFactory,
    deployment_keys,
    redis_away,
)

# the benchmark counts on one server (a cluster's pipelines go to each node: counted apart)
ONE_SERVER = pytest.mark.skipif(
    os.environ.get("HOTLINE_TEST_REDIS") == "cluster", reason="the bench runs one redis-server"
)


def _relays(*hotlines: Hotline) -> list[str]:
    return [
        m.text
        for hotline in hotlines
        for m in hotline.desk()
        if isinstance(m, SendMessage) and m.text.startswith(CALLER_HEADER)
    ]


@pytest.mark.redis
@ONE_SERVER
async def test_a_relayed_message_costs_five_round_trips_all_told(redis_url: str) -> None:
    figures = await escalation.measure(redis_url, 3, warm=1)
    # his update read and committed, its record (the lane's job with it), the desk's one read
    # (his conversation, record, mark and whom his topic talks to), the job leaving the lane
    for step in range(1, len(ESCALATION)):
        assert figures.per_step(step) <= 5, figures.relay_sources
    assert not [s for s in figures.relay_sources if s.endswith("._store")]  # no push of its own
    assert "bot.desk.records.of_topic" not in figures.relay_sources  # read with the record
    assert figures.relay_sources["bot.desk.records.at_work"] == 2 * 3


@pytest.mark.redis
@ONE_SERVER
async def test_an_escalations_desk_work_rides_on_one_record_and_reads_at_once(
    redis_url: str,
) -> None:
    callers = 3
    figures = await escalation.measure(redis_url, callers, warm=1)
    first = figures.step_sources[0]
    # its batch: the escalation and its case event (the desk's, one record), his answer (the
    # other, with the acknowledgement)
    assert first["flows.outbox.record"] == 2 * callers
    assert first["bot.desk.lane._work"] == 0  # both jobs pushed at once: none read back
    # the escalation's job leaves the lane with the case event's read; that one by itself
    assert first["bot.desk.lane._done"] == callers
    assert first["bot.desk.records.at_work"] >= 2 * callers
    # the case's shared topic read with its place among the open ones, the card's lines with
    # the topic index's check, the card written into the record and the shared topic at once:
    # 13 in all (17 apart)
    assert "bot.desk.shared_topics.of_case" not in first
    assert "bot.desk.records.read_hashes" not in first
    assert "bot.desk.shared_topics.join" not in first
    assert figures.per_step(0) <= 13, first


async def test_a_relay_whose_process_died_before_its_record_reaches_the_group_once(
    redis_backend: redis.asyncio.Redis, make_hotline: HotlineFactory
) -> None:
    keys = deployment_keys()
    before = await make_hotline(redis_backend, **keys)
    caller = Caller(before, 771_000_333, "ru")
    await caller.command("start")
    await caller.tap("menu-operator")  # his topic and card
    assert _relays(before) == []

    before.app.store.outbox.record = redis_away  # type: ignore[method-assign]
    await caller.text("Я на месте, жду")  # relayed; its progress never recorded
    before.app.deliverer.stop()  # and the process dies: what it kept in memory with it
    await before.app.drain()

    after = await make_hotline(redis_backend, **keys)  # the next process, the same Redis
    assert await after.app.deliverer.resume_pending() == 1
    await after.app.drain()
    (relay,) = _relays(before, after)  # once, from whichever process
    assert "Я на месте, жду" in relay
    assert await after.redis.exists(after.app.store.key(caller.key, "desklane")) == 0


@pytest.mark.parametrize("ran", [False, True], ids=["not-run", "run-unanswered"])
async def test_a_relay_whose_record_redis_did_not_answer_reaches_the_group_once(
    any_hotline: Hotline, ran: bool
) -> None:
    hotline = any_hotline
    hotline.app.deliverer.retry_first = 0.01
    caller = hotline.caller()
    await caller.command("start")
    await caller.tap("menu-operator")
    outbox = hotline.app.store.outbox
    record = outbox.record
    failed: list[Any] = []

    async def unanswered_once(*args: Any, **kw: Any) -> Any:
        if kw.get("push") is not None and not failed:
            failed.append(kw["push"])
            if ran:  # Redis ran it, its answer was lost
                await record(*args, **kw)
            raise StoreUnavailable("conversation store unavailable (ConnectionError)")
        return await record(*args, **kw)

    outbox.record = unanswered_once  # type: ignore[method-assign]
    await caller.text("Со мной ещё двое")  # the retry writes the record again
    async with asyncio.timeout(10):
        while hotline.app.deliverer.retrying or not _relays(hotline):
            await asyncio.sleep(0.01)
            await hotline.app.deliverer.drain()
            await hotline.app.drain()
    assert failed  # the relay's job rode on that record
    (relay,) = _relays(hotline)
    assert "Со мной ещё двое" in relay
    assert (await hotline.app.store.load(caller.key, -1)).pending == 0
