"""Per-caller rate limit: a flood gets one polite notice per window, not one per message.

Never dropped over the limit: what a caller an operator follows sends (text, voice, presses:
each reaches the case topic, in order, under the group's own budget, bot.group_posts), and a
voice or video note of anyone (it escalates).

What is counted is the caller's distinct updates (by `update_id`): our own retries of an update
and Telegram's redeliveries of it are the same update and never count again, so a caller whose
message was retried through a Redis outage is not told "too many messages" afterwards.

With a store the windows live in Redis, shared by every bot process, a field of each caller's
conversation hash (flows.quota), counted by the load of his update in the same script that
takes the conversation's turn; this middleware only tells him he is over it.
Without one (a unit under test) they live here, for at most `max_tracked` callers (least
recently seen dropped first), so a flood from many ids keeps memory bounded while real callers
go on being answered.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import structlog
from aiogram import BaseMiddleware
from aiogram.types import CallbackQuery, Message, TelegramObject, Update

from bot.i18n import Translator
from bot.middlewares.chain import Data, Next
from flows.quota import COUNT, OverLimit
from flows.store import ConversationStore
from flows.unavailable import milliseconds, unavailable

log = structlog.get_logger("hotline.ratelimit")
WINDOW = 60.0


@dataclass(slots=True)
class _Window:
    started: float
    updates: set[int] = field(default_factory=set)
    over: int = 0  # updates refused in this window
    noticed: bool = False


class CallerRateLimit(BaseMiddleware):
    def __init__(
        self,
        translator: Translator,
        *,
        per_minute: int,
        clock: Callable[[], float] = time.time,
        max_tracked: int = 50_000,
        store: ConversationStore | None = None,
    ) -> None:
        self.translator = translator
        self.per_minute = per_minute
        self.clock = clock
        self.max_tracked = max_tracked
        self.store = store
        self._count = store.redis.register_script(COUNT) if store is not None else None
        self._windows: OrderedDict[int, _Window] = OrderedDict()
        self.dropped = 0

    async def check(self, user_id: int, update_id: int) -> tuple[bool, bool]:
        """(allowed, send the notice now) for this update of this caller, on its own."""
        if self.store is None or self._count is None:
            return self.allow(user_id, update_id)
        key = self.store.conversation_key(user_id)
        keys = [self.store.key(key, "conv")]
        args = [update_id, int(self.clock() * 1000), milliseconds(WINDOW), self.per_minute]
        with unavailable():
            allowed, notify = await self._count(keys=keys, args=args)
        return bool(allowed), bool(notify)

    def allow(self, user_id: int, update_id: int) -> tuple[bool, bool]:
        """The same as `check`, in this process's memory."""
        now = self.clock()
        window = self._windows.get(user_id)
        if window is None or now - window.started >= WINDOW:
            window = _Window(started=now)
        self._windows[user_id] = window
        self._windows.move_to_end(user_id)
        while len(self._windows) > self.max_tracked:
            self._windows.popitem(last=False)
        if update_id in window.updates:
            return True, False
        if len(window.updates) < self.per_minute:
            window.updates.add(update_id)
            return True, False
        first = not window.noticed
        window.noticed = True
        return False, first

    @staticmethod
    def heard_anyway(event: TelegramObject) -> bool:
        """Over the limit, what is never dropped here: a voice or video note (a caller who
        cannot type must be heard: it escalates). With a store, what an escalated caller sends
        is never dropped either (flows.quota)."""
        return isinstance(event, Message) and bool(event.voice or event.video_note)

    def __len__(self) -> int:
        """Callers whose window is kept in this process."""
        return len(self._windows)

    async def __call__(self, handler: Next, event: TelegramObject, data: Data) -> Any:
        chat = data.get("event_chat")
        user = data.get("event_from_user")
        update = data.get("event_update")
        if user is None or chat is None or chat.type != "private":
            return await handler(event, data)
        if self.store is not None:
            # counted by the load of the update (flows.quota): no round trip of its own
            try:
                return await handler(event, data)
            except OverLimit as over:
                return await self._refused(event, user.language_code, notify=over.notice)
        update_id = update.update_id if isinstance(update, Update) else -1
        allowed, notify = await self.check(user.id, update_id)
        if allowed or self.heard_anyway(event):
            return await handler(event, data)
        return await self._refused(event, user.language_code, notify=notify)

    async def _refused(self, event: TelegramObject, language: str | None, *, notify: bool) -> None:
        self.dropped += 1
        if notify:
            log.warning("caller rate limited")
            lang = self.translator.language_of(language)
            text = self.translator.text(lang, "rate-limited")
            if isinstance(event, Message):
                await event.answer(text, protect_content=True)
            elif isinstance(event, CallbackQuery):
                await event.answer(text, show_alert=True)
        elif isinstance(event, CallbackQuery):
            await event.answer()
