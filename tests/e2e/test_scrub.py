"""Leaving the review: the message with his details leaves his chat, and the list of the
bot's secret messages empties with the record of that step, in its round trip (no write of
its own). On the real Redis server, through the real Dispatcher."""

from __future__ import annotations

import pytest
import redis.asyncio
from aiogram.methods import SendMessage

from bench.store_bench import Traffic, counting
from tests.e2e.conftest import HotlineFactory, fill_form

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
    assert traffic.by_source["bot.ephemeral.scrub"] == 1  # its read; the list went with a record
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
