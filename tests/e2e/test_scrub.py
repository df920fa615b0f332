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
