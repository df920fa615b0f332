"""The desk's part of what an operator does (the claim's line in the topic and its card) leaves
from the caller's outbox: a network error after the commit delays it, never loses it, and
Telegram's redelivery of the operator's update never doubles it.
"""

from __future__ import annotations

import asyncio

from aiogram.exceptions import TelegramNetworkError
from aiogram.methods import SendMessage

from bot.offline.session import Sent
from tests.e2e.conftest import HotlineFactory
from tests.e2e.desk_harness import OPERATORS, DeskView, Operator, dt, op_label, recall


async def test_a_claim_whose_post_failed_on_the_network_is_posted_once_later(
    make_hotline: HotlineFactory,
) -> None:
    hotline = await make_hotline(operator_ids=OPERATORS)
    hotline.app.deliverer.retry_first = 0.01
    view = DeskView(hotline)
    caller = hotline.caller(lang="ru")
    op1 = Operator(hotline, OPERATORS[0])
    await recall(caller)
    topic = await view.topic(caller)
    claimed = dt("desk-claimed", operator=op_label(1))
    posted = asyncio.Event()

    def watch(_: Sent) -> None:
        if claimed in view.posts(topic=topic):
            posted.set()

    hotline.session.listeners.append(watch)
    down = TelegramNetworkError(SendMessage(chat_id=1, text=""), "connection reset")
    hotline.session.fail_next(SendMessage, down)
    claim = op1.account.command("claim", topic=topic)
    await op1.feed(claim)
    assert claimed not in view.posts(topic=topic)  # the network failed: not posted yet
    assert (await view.case(caller)).claimer is not None  # but the claim holds
    assert caller.key in hotline.app.deliverer.retrying

    async with asyncio.timeout(10):
        await posted.wait()  # the retry posts it
    await hotline.app.deliverer.drain()
    assert view.posts(topic=topic).count(claimed) == 1

    before = len(hotline.session.sent)
    await op1.feed(claim)  # Telegram delivers the operator's update again
    assert claimed not in view.posts(hotline.session.sent[before:], topic)
    assert view.posts(topic=topic).count(claimed) == 1
