"""The two bots the benchmarks compare, built the same way: the project as `build_app` composes
it for production (its Redis client included, in a process with bot.serve's collector
settings), and the plain aiogram baseline, each on a `CountingSession` (no network) and the
same Redis; and two views of the baseline that bound the comparison (on MemoryStorage: no
Redis; under the project's collector settings)."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import time
from collections.abc import Awaitable, Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.types import Update

from bench.baseline import build_baseline
from bench.dialogue import chat_of
from bench.session import CountingSession
from bot import gc_tuning
from bot.app import build_app
from bot.i18n import Translator
from bot.settings import Settings
from bot.throttle import Throttle

PROJECT, BASELINE = "project", "baseline"
ALONE = "aiogram-alone"  # the baseline's bot on MemoryStorage: no Redis
TUNED = "baseline-tuned"  # the baseline under the project's collector settings (bot.gc_tuning)
DESK_CHAT = -1001000000555
REPLY_TIMEOUT = 30.0  # a reply that never comes is a broken bot, not a slow one
TRANSLATOR = Translator()


def project_settings(redis_url: str, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "redis_url": redis_url,
        "operator_chat_id": DESK_CHAT,
        "operator_ids": (5_550_001,),
        "hotline_seal_keys": "bench1:" + base64.b64encode(b"s" * 32).decode(),
        "hotline_id_key": base64.b64encode(b"i" * 32).decode(),
        **overrides,
    }
    return Settings(**values)  # type: ignore[arg-type]


async def _nothing() -> None:
    return None


@dataclass
class Variant:
    name: str
    bot: Bot
    dispatcher: Dispatcher
    session: CountingSession
    settle: Callable[[], Awaitable[None]]  # wait for background deliveries
    closers: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    # the project's: wait for the desk's work too (its lane: the topic, the card, relays)
    settle_desk: Callable[[], Awaitable[None]] = _nothing
    # the project's: delete the messages whose time is up (the code shown once) as if it were
    # that time now
    expire_timed: Callable[[], Awaitable[object]] = _nothing
    # what its process runs in while it serves (the project: bot.serve's collector settings)
    process: Callable[[], AbstractContextManager[None]] = contextlib.nullcontext

    async def feed(self, raw: dict[str, Any], calls: int) -> None:
        """Feed one update of a caller as Telegram would (JSON, parsed here as polling and the
        webhook do); return when his replies went out."""
        update = Update.model_validate(raw, context={"bot": self.bot})
        chat = chat_of(raw)
        if update.callback_query is not None:
            self.session.expect_query(update.callback_query.id, chat)
        await self.dispatcher.feed_update(self.bot, update)
        await asyncio.wait_for(self.session.replies(chat, calls), REPLY_TIMEOUT)

    async def close(self) -> None:
        await self.settle()
        for close in self.closers:
            await close()


def project(
    redis_url: str,
    *,
    record: bool = False,
    throttle_sleep: Callable[[float], Awaitable[None]] | None = None,
    clock: Callable[[], float] = time.time,
) -> Variant:
    """The project; with `throttle_sleep`, its throttle books every call as in production and
    waits with that (no throttle otherwise: the baseline has none)."""
    session = CountingSession(record=record)
    if throttle_sleep is not None:
        session.middleware(Throttle(sleep=throttle_sleep))
    app = build_app(
        project_settings(redis_url),
        session=session,
        throttle=False,
        translator=TRANSLATOR,
        clock=clock,
    )

    async def close() -> None:
        app.deliverer.stop()
        await app.redis.aclose()

    async def expire_timed() -> object:
        assert app.desk.expiring is not None
        later = clock() + app.settings.code_message_minutes * 60 + 1
        return await app.desk.expiring.sweep(later)

    return Variant(
        PROJECT,
        app.bot,
        app.dispatcher,
        session,
        app.deliverer.drain,
        closers=[close],
        settle_desk=app.drain,
        expire_timed=expire_timed,
        process=gc_tuning.tuned,
    )


def baseline(redis_url: str, *, record: bool = False) -> Variant:
    session = CountingSession(record=record)
    bot, dispatcher = build_baseline(redis_url, session, TRANSLATOR)

    async def close() -> None:
        await dispatcher.storage.close()

    return Variant(BASELINE, bot, dispatcher, session, _nothing, closers=[close])


def baseline_tuned(redis_url: str, *, record: bool = False) -> Variant:
    """The baseline in a process with the project's collector settings: how much of the
    project's lead they make."""
    variant = baseline(redis_url, record=record)
    variant.name, variant.process = TUNED, gc_tuning.tuned
    return variant


def aiogram_alone(redis_url: str, *, record: bool = False) -> Variant:
    """The baseline's bot with its state in process memory: aiogram's dispatch, the dialogue's
    texts and checks and the same Bot API calls, without a Redis round trip (`redis_url` is
    not used). What any aiogram bot of this dialogue costs at the least."""
    session = CountingSession(record=record)
    bot, dispatcher = build_baseline(None, session, TRANSLATOR)
    return Variant(ALONE, bot, dispatcher, session, _nothing)


BUILD: dict[str, Callable[..., Variant]] = {
    PROJECT: project,
    BASELINE: baseline,
    ALONE: aiogram_alone,
    TUNED: baseline_tuned,
}
