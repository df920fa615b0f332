"""Per-caller rate limit: a flood gets one polite notice per window, not one per message.

Windows are kept for at most `max_tracked` callers (least recently seen dropped first), so a
flood from many ids keeps memory bounded while real callers go on being answered.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import structlog
from aiogram import BaseMiddleware
from aiogram.types import CallbackQuery, Message, TelegramObject

from bot.i18n import Translator

log = structlog.get_logger("hotline.ratelimit")
WINDOW = 60.0


@dataclass(slots=True)
class _Window:
    started: float
    count: int = 0
    noticed: bool = False


class CallerRateLimit(BaseMiddleware):
    def __init__(
        self,
        translator: Translator,
        *,
        per_minute: int,
        clock: Callable[[], float] = time.monotonic,
        max_tracked: int = 50_000,
    ) -> None:
        self.translator = translator
        self.per_minute = per_minute
        self.clock = clock
        self.max_tracked = max_tracked
        self._windows: OrderedDict[int, _Window] = OrderedDict()
        self.dropped = 0

    def allow(self, user_id: int) -> tuple[bool, bool]:
        """(allowed, send the notice now)."""
        now = self.clock()
        window = self._windows.get(user_id)
        if window is None or now - window.started >= WINDOW:
            window = _Window(started=now)
        window.count += 1
        self._windows[user_id] = window
        self._windows.move_to_end(user_id)
        while len(self._windows) > self.max_tracked:
            self._windows.popitem(last=False)
        if window.count <= self.per_minute:
            return True, False
        first = not window.noticed
        window.noticed = True
        return False, first

    def __len__(self) -> int:
        return len(self._windows)

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        chat = data.get("event_chat")
        user = data.get("event_from_user")
        if user is None or chat is None or chat.type != "private":
            return await handler(event, data)
        allowed, notify = self.allow(user.id)
        if allowed:
            return await handler(event, data)
        self.dropped += 1
        if notify:
            log.warning("caller rate limited")
            lang = self.translator.language_of(user.language_code)
            text = self.translator.text(lang, "rate-limited")
            if isinstance(event, Message):
                await event.answer(text, protect_content=True)
            elif isinstance(event, CallbackQuery):
                await event.answer(text, show_alert=True)
        elif isinstance(event, CallbackQuery):
            await event.answer()
        return None
