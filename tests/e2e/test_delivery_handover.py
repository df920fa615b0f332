"""The batch a commit hands over to the deliverer is delivered once, also when the deliverer is
reading the outbox of the same conversation at that moment (a retry, a start-up, a batch of
another process): the read does not know the batch yet, the handover does."""

from __future__ import annotations

import asyncio

import pytest
from aiogram.methods import SendMessage

from flows.store import Batch
from tests.e2e.conftest import Hotline, screen, t


async def test_a_batch_handed_over_while_the_outbox_is_read_is_delivered_once(
    hotline: Hotline, monkeypatch: pytest.MonkeyPatch
) -> None:
    caller = hotline.caller()
    await caller.command("start")
    store, deliverer = hotline.app.store, hotline.app.deliverer
    pending = store.pending
    reading, read = asyncio.Event(), asyncio.Event()

    async def slow_read(key: str) -> list[Batch]:
        batches = await pending(key)  # nothing pending yet
        reading.set()
        await read.wait()
        return batches

    monkeypatch.setattr(store, "pending", slow_read)
    conversation = (await store.load(caller.key, -1)).conversation
    deliverer.kick(caller.key, caller.user_id, conversation)  # a read of the outbox, as a retry
    await reading.wait()
    mark = len(hotline.session.sent)
    press = caller.account.text(t("ru", "btn-menu-surrender"))
    dispatcher, bot = hotline.app.dispatcher, hotline.app.bot
    await dispatcher.feed_update(bot, press)  # committed and handed over during the read
    read.set()
    await hotline.app.drain()

    sent = [s.method for s in caller.to_me(hotline.session.sent[mark:])]
    texts = [m.text for m in sent if isinstance(m, SendMessage)]
    assert texts == [screen("ru", await caller.state())]  # delivered, and once
    assert await pending(caller.key) == []
