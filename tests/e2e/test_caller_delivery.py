"""Delivery when Telegram fails: nothing a caller should get is dropped, nothing is sent twice,
and one refused message never holds back the rest.

A failure Telegram may get over (network, 5xx, 429s in a row) leaves the batch in the outbox and
it is tried again by itself after a back-off, going on from the effect that failed. A refusal
for good (a bad request, the bot blocked, the desk group misconfigured) is logged and skipped.
"""

from __future__ import annotations

import asyncio

import redis.asyncio
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramServerError,
)
from aiogram.methods import CreateForumTopic, DeleteMessages, SendMessage

from bot.offline.session import Sent
from tests.e2e.conftest import Caller, Hotline, HotlineFactory, deployment_keys, screen, t


async def _until(hotline: Hotline, caller: Caller, count: int) -> None:
    """Wait (10 s at most) until the caller has been sent `count` messages in all."""
    enough = asyncio.Event()

    def check(_: Sent) -> None:
        if len(caller.all_messages()) >= count:
            enough.set()

    hotline.session.listeners.append(check)
    if len(caller.all_messages()) >= count:
        enough.set()
    async with asyncio.timeout(10):
        await enough.wait()
    await hotline.app.drain()


def _texts(caller: Caller) -> list[str]:
    return [s.method.text for s in caller.all_messages() if isinstance(s.method, SendMessage)]


async def test_a_network_failure_is_retried_by_itself_and_nothing_is_sent_twice(
    hotline: Hotline,
) -> None:
    hotline.app.deliverer.retry_first = 0.01
    caller = hotline.caller(lang="uk")
    method = SendMessage(chat_id=caller.user_id, text="")
    error = TelegramNetworkError(method, "connection reset")
    hotline.session.fail_next(SendMessage, error)
    await caller.command("start")
    assert caller.replies == []  # Telegram could not be reached
    assert caller.key in hotline.app.deliverer.retrying

    await _until(hotline, caller, 2)
    assert _texts(caller) == [t("uk", "greeting"), screen("uk", "menu")]
    assert hotline.app.deliverer.retrying == frozenset()
    assert (await hotline.app.store.load(caller.key, -1)).pending == 0


async def test_a_retry_goes_on_from_the_message_that_failed(hotline: Hotline) -> None:
    hotline.app.deliverer.retry_first = 0.01
    caller = hotline.caller(lang="ru")
    failures = [TelegramServerError(SendMessage(chat_id=1, text=""), "Bad Gateway")]
    send = hotline.session.make_request

    async def second_fails(bot, method, timeout=None):  # type: ignore[no-untyped-def]  # noqa: ASYNC109
        if isinstance(method, SendMessage) and _texts(caller) and failures:
            raise failures.pop()
        return await send(bot, method, timeout)

    hotline.session.make_request = second_fails  # type: ignore[method-assign]
    await caller.command("start")
    assert caller.texts == [t("ru", "greeting")]  # the menu failed
    await _until(hotline, caller, 2)
    assert _texts(caller) == [t("ru", "greeting"), screen("ru", "menu")]  # greeting once


async def test_a_desk_that_refuses_does_not_hold_back_the_callers_answer(
    hotline: Hotline,
) -> None:
    caller = hotline.caller(lang="ru")
    await caller.command("start")
    refusal = TelegramBadRequest(CreateForumTopic(chat_id=1, name="x"), "not enough rights")
    hotline.session.fail_next(CreateForumTopic, refusal)
    await caller.tap("menu-emergency")
    assert await caller.state() == "emergency_location"
    assert caller.texts == [screen("ru", "emergency_location")]
    assert hotline.app.deliverer.retrying == frozenset()
    assert (await hotline.app.store.load(caller.key, -1)).pending == 0

    # and his next answer is not stuck behind the refused one
    await caller.location()
    assert caller.texts == [screen("ru", "emergency_people")]


async def test_a_caller_who_blocked_the_bot_does_not_block_his_outbox(hotline: Hotline) -> None:
    caller = hotline.caller(lang="ru")
    await caller.command("start")
    blocked = TelegramForbiddenError(SendMessage(chat_id=1, text=""), "bot was blocked")
    hotline.session.fail_next(SendMessage, blocked)
    await caller.command("help")
    assert hotline.app.deliverer.retrying == frozenset()
    assert (await hotline.app.store.load(caller.key, -1)).pending == 0
    assert caller.texts == [screen("ru", "menu")]  # the help was refused, the rest went out


async def test_what_a_stopped_process_left_in_the_outbox_is_delivered_at_the_next_start(
    redis_backend: redis.asyncio.Redis, make_hotline: HotlineFactory
) -> None:
    keys = deployment_keys()
    before = await make_hotline(redis_backend, **keys)
    caller = Caller(before, 771_000_111, "uk")
    await caller.command("start")
    await caller.tap("menu-surrender")
    shown = [s.result.message_id for s in caller.all_messages()]
    # the panic button, and the process stops before it could send anything (Telegram down)
    method = SendMessage(chat_id=caller.user_id, text="")
    for _ in range(20):
        before.session.fail_next(SendMessage, TelegramNetworkError(method, "down"))
        before.session.fail_next(DeleteMessages, TelegramNetworkError(method, "down"))
    await caller.command("forget")
    before.app.deliverer.stop()  # its retries die with it
    mark = len(before.session.sent)
    assert (await before.app.store.load(caller.key, -1)).pending == 1

    after = await make_hotline(redis_backend, **keys)  # a new process, the same Redis and keys
    assert await after.app.deliverer.resume_pending() == 1
    await after.app.drain()

    sent = after.session.sent
    deleted = [
        i for s in sent if isinstance(s.method, DeleteMessages) for i in s.method.message_ids
    ]
    assert set(shown) <= set(deleted)  # his chat is wiped after all
    goodbye = [s.method for s in sent if isinstance(s.method, SendMessage)]
    assert [(m.chat_id, m.text) for m in goodbye] == [(caller.user_id, t("uk", "forget-done"))]
    assert (await after.app.store.load(caller.key, -1)).pending == 0
    assert len(before.session.sent) == mark  # nothing went out of the stopped one meanwhile
