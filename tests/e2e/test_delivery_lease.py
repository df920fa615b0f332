"""A batch whose sending outlasts the delivery lease keeps it to the end: the deliverer renews
it while it sends (bot.deliver), so no other process takes the conversation over mid-batch and
sends what this one is sending. On the real Redis server, through the real Dispatcher."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
import redis.asyncio
from aiogram.methods import SendMessage

from flows.locks import Lease
from tests.e2e.conftest import HotlineFactory

pytestmark = pytest.mark.redis

TTL = 1.0  # seconds the lease lasts unrenewed, here (renewed every third of it)
CALL = 0.7  # seconds each Bot API call takes, here: /start's two messages outlast the lease


async def test_a_batch_that_outlasts_the_lease_keeps_it_to_the_end(
    real_redis: redis.asyncio.Redis, make_hotline: HotlineFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    hotline = await make_hotline(real_redis)
    deliverer = hotline.app.deliverer
    monkeypatch.setattr(deliverer, "lease_ttl", TTL)
    caller = hotline.caller()
    lease = hotline.app.store.key(caller.key, "lease")
    other = Lease(real_redis)  # another process, trying to take the conversation over
    refused: list[float] = []
    session = hotline.session
    make_request = session.make_request

    async def slow(*args: Any, **kwargs: Any) -> Any:
        await asyncio.sleep(CALL)
        refused.append(await other.hold(lease, 5))  # 0: it took the lease
        return await make_request(*args, **kwargs)

    monkeypatch.setattr(session, "make_request", slow)
    await caller.command("start")
    await hotline.app.drain()
    texts = [
        s.method.text for s in caller.to_me(session.sent) if isinstance(s.method, SendMessage)
    ]
    assert len(texts) == 2  # the greeting and the menu, once each
    assert len(refused) == 2
    assert all(left > 0 for left in refused)  # ours all along
