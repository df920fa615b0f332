"""A no-network Bot API session for benchmarks: answers as Telegram would (bot.offline.session's
answers), keeps nothing, and counts the calls per chat so a benchmark can wait for a caller's
replies. Both bots of a benchmark get one, so neither pays for the network nor saves on it."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

from aiogram.methods import AnswerCallbackQuery

from bot.offline.session import RecordingSession, Sent


class CountingSession(RecordingSession):
    def __init__(self, *, record: bool = False) -> None:
        super().__init__()
        self.record = record  # keep every call: for checks, never in timed runs
        self.calls: list[tuple[int, str, str | None]] = []  # chat, method name, text
        self.total = 0
        self._count: Counter[int] = Counter()
        self._waiting: dict[int, tuple[int, asyncio.Future[None]]] = {}
        self._queries: dict[str, int] = {}  # callback query id -> its chat, until answered

    def expect_query(self, query_id: str, chat_id: int) -> None:
        """An answer to this callback query counts for this chat (it carries no chat id)."""
        self._queries[query_id] = chat_id

    def keep(self, sent: Sent) -> None:
        method = sent.method
        if isinstance(method, AnswerCallbackQuery):
            chat = self._queries.pop(method.callback_query_id, 0)
        else:
            chat = int(getattr(method, "chat_id", 0) or 0)
        self.total += 1
        if self.record:
            self.calls.append((chat, type(method).__name__, getattr(method, "text", None)))
        self._count[chat] += 1
        waiting = self._waiting.get(chat)
        if waiting is not None and self._count[chat] >= waiting[0]:
            del self._waiting[chat]
            if not waiting[1].done():  # not given up on (a timeout)
                waiting[1].set_result(None)

    async def replies(self, chat_id: int, calls: int) -> None:
        """Wait until `calls` more calls went to this chat since the last wait returned."""
        target = calls
        if self._count[chat_id] < target:
            future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
            self._waiting[chat_id] = (target, future)
            try:
                await future
            finally:
                self._waiting.pop(chat_id, None)
        self._count[chat_id] -= target
        if not self._count[chat_id]:
            del self._count[chat_id]
