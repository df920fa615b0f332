"""Redis down: the caller is told to try again shortly; nothing was applied (commits are
atomic). The update still fails after that, so it is not acknowledged: the webhook answers
non-2xx and long polling asks for it again (bot/polling.py), and Telegram delivers it once
Redis is back."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import structlog
from aiogram import BaseMiddleware
from aiogram.exceptions import TelegramAPIError
from aiogram.types import TelegramObject, Update
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import OutOfMemoryError, ReadOnlyError
from redis.exceptions import TimeoutError as RedisTimeoutError

from bot import metrics
from bot.i18n import Translator
from bot.middlewares.chain import Data, Next
from flows.store import StoreUnavailable

log = structlog.get_logger("hotline.errors")

# Redis unusable for a while, not this update's fault (a replica during a failover answers
# READONLY, a full one OOM); the store wraps its own errors in StoreUnavailable
STORE_DOWN = (
    StoreUnavailable,
    RedisConnectionError,
    RedisTimeoutError,
    ReadOnlyError,
    OutOfMemoryError,
)
NOTICE_EVERY = 30.0  # seconds: one notice per chat while the store is down, not one per message
MAX_TRACKED = 10_000


class StoreDown(BaseMiddleware):
    def __init__(
        self,
        translator: Translator,
        clock: Callable[[], float] = time.monotonic,
        max_tracked: int = MAX_TRACKED,
    ) -> None:
        self.translator = translator
        self.clock = clock
        self.max_tracked = max_tracked
        self._noticed: OrderedDict[int, float] = OrderedDict()

    def __len__(self) -> int:
        """Chats remembered as told (bounded: a flood from many ids while Redis is down)."""
        return len(self._noticed)

    async def __call__(self, handler: Next, event: TelegramObject, data: Data) -> Any:
        try:
            return await handler(event, data)
        except STORE_DOWN as exc:
            log.error("store unavailable", error=type(exc).__name__)
            metrics.STORE_UNAVAILABLE.inc()
            await self._tell(event, data)
            raise  # not recorded: must not be acknowledged

    async def _tell(self, event: TelegramObject, data: Data) -> None:
        await tell_try_again(self.translator, event, data, first_in_window=self._first_in_window)

    def _first_in_window(self, chat_id: int) -> bool:
        now = self.clock()
        if now - self._noticed.get(chat_id, -NOTICE_EVERY) < NOTICE_EVERY:
            return False
        self._noticed[chat_id] = now
        self._noticed.move_to_end(chat_id)
        while len(self._noticed) > self.max_tracked:
            self._noticed.popitem(last=False)
        return True


async def tell_try_again(
    translator: Translator,
    event: TelegramObject,
    data: Data,
    *,
    first_in_window: Callable[[int], bool] = lambda _: True,
) -> None:
    """The localized "try again shortly" to a private chat whose update could not be applied."""
    chat = data.get("event_chat")
    user = data.get("event_from_user")
    if not isinstance(event, Update) or chat is None or chat.type != "private":
        return
    if not first_in_window(chat.id):
        return
    lang = translator.language_of(getattr(user, "language_code", None))
    try:
        text = translator.text(lang, "try-again-later")
        await data["bot"].send_message(chat.id, text, protect_content=True)
    except TelegramAPIError as exc:
        log.error("could not tell the caller", error=type(exc).__name__)
