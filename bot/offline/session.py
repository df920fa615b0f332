"""A Bot API session without a network: it records every method the bot sends and answers with
what Telegram would. The console, the tests and the benchmarks run the real Dispatcher on it, so
what they show is exactly what Telegram would receive (the pattern of aiogram's own
MockedSession)."""

from __future__ import annotations

import datetime
import itertools
from collections import deque
from collections.abc import AsyncGenerator, Callable
from dataclasses import dataclass
from typing import Any, cast

from aiogram import Bot
from aiogram.client.session.base import BaseSession
from aiogram.methods import (
    CopyMessage,
    CreateForumTopic,
    EditMessageText,
    GetMe,
    SendMessage,
    TelegramMethod,
)
from aiogram.methods.base import TelegramType
from aiogram.types import Chat, ForumTopic, Message, MessageId, User

BOT_USER = User(id=4242, is_bot=True, first_name="Hotline", username="hotline_test_bot")


@dataclass(frozen=True, slots=True)
class Sent:
    method: TelegramMethod[Any]
    result: Any

    @property
    def name(self) -> str:
        return type(self.method).__name__


class RecordingSession(BaseSession):
    def __init__(self) -> None:
        super().__init__()
        self.sent: list[Sent] = []
        self._ids = itertools.count(1000)
        self._failures: deque[tuple[type[TelegramMethod[Any]], Exception]] = deque()
        self.listeners: list[Callable[[Sent], None]] = []

    def fail_next(self, method: type[TelegramMethod[Any]], error: Exception) -> None:
        """The next call of `method` raises `error` (e.g. TelegramRetryAfter), not a result."""
        self._failures.append((method, error))

    async def close(self) -> None:
        return None

    async def make_request(
        self,
        bot: Bot,
        method: TelegramMethod[TelegramType],
        timeout: int | None = None,  # noqa: ASYNC109 - aiogram's signature
    ) -> TelegramType:
        for i, (kind, error) in enumerate(self._failures):
            if isinstance(method, kind):
                del self._failures[i]
                raise error
        result = self._answer(method)
        self.keep(Sent(method, result))
        return cast(TelegramType, result)

    def keep(self, sent: Sent) -> None:
        """What is done with each call answered: recorded, and shown to the listeners."""
        self.sent.append(sent)
        for listener in self.listeners:
            listener(sent)

    async def stream_content(
        self,
        url: str,
        headers: dict[str, Any] | None = None,
        timeout: int = 30,  # noqa: ASYNC109 - aiogram's signature
        chunk_size: int = 65536,
        raise_for_status: bool = True,
    ) -> AsyncGenerator[bytes, None]:
        yield b""

    def _answer(self, method: TelegramMethod[Any]) -> Any:
        if isinstance(method, GetMe):
            return BOT_USER
        if isinstance(method, SendMessage | EditMessageText):
            chat_id = int(method.chat_id or 0)
            return Message(
                message_id=next(self._ids),
                date=datetime.datetime.now(datetime.UTC),
                chat=Chat(id=chat_id, type="private" if chat_id > 0 else "supergroup"),
                text=method.text,
                message_thread_id=getattr(method, "message_thread_id", None),
                from_user=BOT_USER,
            )
        if isinstance(method, CopyMessage):
            return MessageId(message_id=next(self._ids))
        if isinstance(method, CreateForumTopic):
            return ForumTopic(message_thread_id=next(self._ids), name=method.name, icon_color=0)
        if type(method).__name__.startswith("Send"):
            chat_id = int(getattr(method, "chat_id", 0) or 0)
            return Message(
                message_id=next(self._ids),
                date=datetime.datetime.now(datetime.UTC),
                chat=Chat(id=chat_id, type="private" if chat_id > 0 else "supergroup"),
                from_user=BOT_USER,
            )
        return True

    def of(self, method: type[TelegramMethod[Any]]) -> list[Any]:
        return [s.method for s in self.sent if isinstance(s.method, method)]

    def clear(self) -> None:
        self.sent.clear()
