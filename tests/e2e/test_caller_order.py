"""Updates of one caller that arrive together (webhook requests are served concurrently) apply
one at a time, in the order they arrived."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from flows.store import Loaded
from tests.e2e.conftest import NAME, Hotline


async def test_two_answers_arriving_together_apply_in_arrival_order(
    hotline: Hotline, monkeypatch: pytest.MonkeyPatch
) -> None:
    caller = hotline.caller()
    await caller.command("start")
    await caller.tap("menu-surrender")
    await caller.tap("declare")
    assert await caller.state() == "details_full_name"
    name = caller.account.text(NAME["ru"])
    birth = caller.account.text("17.05.1990")

    store = hotline.app.store
    load = store.load

    async def slow_for_the_first(key: str, update_id: int, **kw: Any) -> Loaded:
        if update_id == name.update_id:
            await asyncio.sleep(0.05)  # Redis is slow for the first one only
        return await load(key, update_id, **kw)

    monkeypatch.setattr(store, "load", slow_for_the_first)
    dispatcher, bot = hotline.app.dispatcher, hotline.app.bot
    await asyncio.gather(dispatcher.feed_update(bot, name), dispatcher.feed_update(bot, birth))
    await hotline.app.drain()

    conversation = await caller.conversation()
    assert conversation.state == "details_unit"  # the name, then the birth date
    assert conversation.fields["birth_date"] == "1990-05-17"
    assert "full_name" in conversation.fields
