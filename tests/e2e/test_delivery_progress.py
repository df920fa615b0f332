"""Delivery progress per message: each message the bot sent is recorded (with its id) before the
next goes, so a process stopped inside a batch sends again at most the one in flight, a message
sent while Redis was unreachable is recorded when Redis answers and never sent again, and two
processes never deliver one conversation at once (the delivery lease)."""

from __future__ import annotations

import asyncio
from typing import Any

import redis.asyncio
from aiogram.exceptions import TelegramNetworkError
from aiogram.methods import SendMessage

from flows.store import StoreUnavailable
from tests.e2e.conftest import Caller, Hotline, HotlineFactory, deployment_keys, screen, t
from tests.e2e.test_caller_delivery import _until as until_sent


def _texts(hotline: Hotline, user_id: int) -> list[str]:
    return [
        s.method.text
        for s in hotline.session.sent
        if isinstance(s.method, SendMessage) and s.method.chat_id == user_id
    ]


async def test_a_message_sent_while_redis_was_away_is_recorded_later_and_never_sent_again(
    hotline: Hotline,
) -> None:
    hotline.app.deliverer.retry_first = 0.01
    outbox = hotline.app.store.outbox
    record = outbox.record
    calls: list[tuple[int, tuple[int, ...]]] = []

    async def redis_away_once(key: str, entry: str, done: int, ids: Any = (), **kw: Any) -> Any:
        calls.append((done, tuple(ids)))
        if len(calls) == 1:
            raise StoreUnavailable("conversation store unavailable (ConnectionError)")
        return await record(key, entry, done, ids, **kw)

    outbox.record = redis_away_once  # type: ignore[method-assign,assignment]
    caller = hotline.caller(lang="uk")
    await caller.command("start")  # the greeting goes out, its record fails
    await until_sent(hotline, caller, 2)
    assert _texts(hotline, caller.user_id) == [t("uk", "greeting"), screen("uk", "menu")]
    greeting = caller.all_messages()[0].result.message_id
    assert calls[0] == calls[1] == (1, (greeting,))  # the same record, written once Redis was back
    assert greeting in await hotline.app.store.chat_messages(caller.key)  # /forget finds it
    assert (await hotline.app.store.load(caller.key, -1)).pending == 0


async def test_a_process_stopped_inside_a_batch_leaves_only_the_unsent_message_to_the_next(
    redis_backend: redis.asyncio.Redis, make_hotline: HotlineFactory
) -> None:
    keys = deployment_keys()
    before = await make_hotline(redis_backend, **keys)
    caller = Caller(before, 771_000_222, "ru")
    method = SendMessage(chat_id=caller.user_id, text="")
    sent = before.session.make_request

    async def down_after_the_first(bot, method_, timeout=None):  # type: ignore[no-untyped-def]  # noqa: ASYNC109
        if isinstance(method_, SendMessage) and _texts(before, caller.user_id):
            raise TelegramNetworkError(method, "the process is going down")
        return await sent(bot, method_, timeout)

    before.session.make_request = down_after_the_first  # type: ignore[method-assign]
    await caller.command("start")
    before.app.deliverer.stop()  # and it stops: its retries die with it
    assert _texts(before, caller.user_id) == [t("ru", "greeting")]

    after = await make_hotline(redis_backend, **keys)  # the next process, the same Redis
    assert await after.app.deliverer.resume_pending() == 1
    await after.app.deliverer.drain()
    assert _texts(after, caller.user_id) == [screen("ru", "menu")]  # not the greeting again


async def test_two_processes_kicked_for_one_conversation_send_each_message_once(
    redis_backend: redis.asyncio.Redis, make_hotline: HotlineFactory
) -> None:
    keys = deployment_keys()
    one = await make_hotline(redis_backend, **keys)
    other = await make_hotline(redis_backend, **keys)
    caller = Caller(one, 771_000_333, "ru")
    gate = asyncio.Event()
    sent = one.session.make_request

    async def slow(bot, method_, timeout=None):  # type: ignore[no-untyped-def]  # noqa: ASYNC109
        await gate.wait()  # the first process is in the middle of its delivery...
        return await sent(bot, method_, timeout)

    one.session.make_request = slow  # type: ignore[method-assign]
    feeding = asyncio.create_task(caller.command("start"))
    await asyncio.sleep(0.05)
    conversation = (await one.app.store.load(caller.key, -1)).conversation
    other.app.deliverer.kick(caller.key, caller.user_id, conversation)  # ...when the other looks
    await other.app.deliverer.drain()
    gate.set()
    await feeding
    await one.app.deliverer.drain()
    both = _texts(one, caller.user_id) + _texts(other, caller.user_id)
    assert both == [t("ru", "greeting"), screen("ru", "menu")]
    assert _texts(other, caller.user_id) == []  # it left the conversation to the lease holder
    assert caller.key in other.app.deliverer.retrying  # and looks again once the lease lapses
