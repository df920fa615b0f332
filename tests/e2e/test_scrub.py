"""Leaving the review: the message with his details leaves his chat, and the list of the
bot's secret messages empties with the record of that step, in its round trip (no write of
its own); the list comes with the commit (no read of its own), unless a batch before it was
still to be delivered. On the real Redis server, through the real Dispatcher."""

from __future__ import annotations

import pytest
import redis.asyncio
from aiogram.exceptions import TelegramServerError
from aiogram.methods import SendMessage

from bench.store_bench import Traffic, counting
from flows import packed
from tests.e2e.conftest import Caller, HotlineFactory, deployment_keys, fill_form, redis_away

pytestmark = pytest.mark.redis


async def test_leaving_the_review_deletes_it_and_empties_the_list_in_its_record(
    real_redis: redis.asyncio.Redis, make_hotline: HotlineFactory
) -> None:
    hotline = await make_hotline(real_redis)
    caller = hotline.caller()
    await caller.command("start")
    await fill_form(caller)
    review = caller.last_inline()
    shown = next(
        s.result.message_id for s in caller.to_me(hotline.session.sent) if s.method is review
    )
    conv = hotline.app.store.key(caller.key, "conv")
    assert await real_redis.hexists(conv, "sec")  # the review is a secret message
    traffic = Traffic()
    with counting(traffic):
        await caller.press("edit-phone", on=review)
        await hotline.app.drain()
    assert caller.deleted() == [shown]
    assert not await real_redis.hexists(conv, "sec")
    assert traffic.by_source["bot.ephemeral.scrub"] == 0  # its commit read the list for it
    assert traffic.round_trips == 4  # load, commit, the deletion's record, the reply's record
    assert await caller.state() == "details_phone"
    assert isinstance(caller.replies[-1], SendMessage)


async def test_the_code_message_is_kept_for_the_sweep_by_its_record_and_one_write_more(
    real_redis: redis.asyncio.Redis, make_hotline: HotlineFactory
) -> None:
    """The message with his code must go in time: its record keeps the chat id the sweep
    needs (sealed), and one write more puts it on the due list (another slot)."""
    hotline = await make_hotline(real_redis)
    caller = hotline.caller()
    await caller.command("start")
    await fill_form(caller)
    conv = hotline.app.store.key(caller.key, "conv")
    traffic = Traffic()
    with counting(traffic):
        await caller.press("confirm")
        await hotline.app.drain()
    assert await caller.state() == "registered"
    sealed = await real_redis.hget(conv, "cid")
    assert sealed is not None
    record = sealed.decode() if isinstance(sealed, bytes) else sealed
    chat = hotline.app.store.sealer.unseal(record, caller.key.encode())
    assert int(chat) == caller.user_id
    assert await real_redis.zcard("hl:expiring") == 1
    assert traffic.by_source["bot.ephemeral.schedule"] == 1
    assert traffic.by_source["bot.ephemeral.remember"] == 0  # no write of its own for the id


async def test_a_review_still_undelivered_when_he_left_it_is_deleted_all_the_same(
    real_redis: redis.asyncio.Redis, make_hotline: HotlineFactory
) -> None:
    """The list his leaving's commit read lacks the review sent after it (its batch was still
    in the outbox, Telegram having failed): the deletion reads the list when it comes."""
    hotline = await make_hotline(real_redis)
    caller = hotline.caller()
    await caller.command("start")
    await fill_form(caller)
    first = caller.last_inline()
    await caller.press("edit-phone", on=first)
    failure = TelegramServerError(SendMessage(chat_id=caller.user_id, text=""), "Bad Gateway")
    hotline.session.fail_next(SendMessage, failure)
    await caller.tap("skip")  # the review again: its batch waits for a retry
    assert caller.replies == []
    assert caller.key in hotline.app.deliverer.retrying
    await caller.press("edit-phone", on=first)  # on the review he still sees
    again = next(
        s
        for s in reversed(caller.all_messages())
        if isinstance(s.method, SendMessage) and s.method.text == first.text
    )
    assert again.method is not first
    assert again.result.message_id in caller.deleted()  # sent, and then deleted at once
    conv = hotline.app.store.key(caller.key, "conv")
    assert not await real_redis.hexists(conv, "sec")
    assert await caller.state() == "details_phone"


async def test_the_registrations_deletion_and_indexes_ride_on_its_case_events_record(
    real_redis: redis.asyncio.Redis, make_hotline: HotlineFactory
) -> None:
    """They do no harm done again, and nothing reaches him before that record: one record
    for the three, then one per message."""
    hotline = await make_hotline(real_redis)
    caller = hotline.caller()
    await caller.command("start")
    await fill_form(caller)
    traffic = Traffic()
    with counting(traffic):
        await caller.press("confirm")
        await hotline.app.drain()
    assert await caller.state() == "registered"
    assert traffic.by_source["flows.outbox.record"] == 3  # 5 effects: 2 ride on the third's


async def test_a_registration_whose_process_died_before_its_first_record_is_done_once(
    real_redis: redis.asyncio.Redis, make_hotline: HotlineFactory
) -> None:
    keys = deployment_keys()
    before = await make_hotline(real_redis, **keys)
    caller = Caller(before, 771_000_444, "ru")
    await caller.command("start")
    await fill_form(caller)
    review = caller.sent_id(caller.last_inline())

    before.app.store.outbox.record = redis_away  # type: ignore[method-assign]
    await caller.press("confirm")  # the review deleted, the indexes written: nothing recorded
    assert caller.deleted() == [review]
    assert caller.replies == []
    before.app.deliverer.stop()  # and the process dies
    await before.app.drain()

    after = await make_hotline(real_redis, **keys)  # the next process, the same Redis
    assert await after.app.deliverer.resume_pending() == 1
    await after.app.drain()
    texts = [m for m in caller.to_me(after.session.sent) if isinstance(m.method, SendMessage)]
    assert len(texts) == 2  # registered, and his code: once each
    assert review in caller.deleted(after.session.sent)  # deleted again: no harm
    conv = before.app.store.key(caller.key, "conv")
    code_message = caller.to_me(after.session.sent)[-1].result.message_id
    kept = await real_redis.hget(conv, "sec")
    assert isinstance(kept, bytes)
    assert [i for i, _ in packed.decode(kept.decode())] == [code_message]  # the review went
    assert (await after.app.store.load(caller.key, -1)).pending == 0
    conversation = await caller.conversation()
    assert conversation.code_digest is not None
    found = await after.app.store.find_case(conversation.code_digest)
    assert found.case_id == conversation.case_id  # its indexes
