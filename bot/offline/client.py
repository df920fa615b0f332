"""Real aiogram `Update`s from the people who write to the bot, fed to its real Dispatcher.

`Telegram` numbers what Telegram numbers for one bot (update ids across all chats, callback
query ids) and dates messages by a clock. An `Account` is one Telegram account writing in one
chat: a caller in his private chat, an operator (or a stranger) in the desk's forum group; each
of its methods builds the `Update` Telegram would send for that action. `Client` is an app on a
`RecordingSession` with its accounts: it feeds an update as Telegram would and returns what
the bot sent in answer. The console and the tests build every update here.
"""

from __future__ import annotations

import datetime
import itertools
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiogram.types import (
    CallbackQuery,
    Chat,
    ChatMemberLeft,
    ChatMemberMember,
    ChatMemberUpdated,
    Message,
    MessageOrigin,
    Update,
    User,
)

from bot.middlewares.errors import STORE_DOWN
from bot.offline import content
from bot.offline.session import BOT_USER, RecordingSession, Sent

if TYPE_CHECKING:
    from bot.app import App

GROUP_FIRST_MESSAGE = 10_000  # the desk group's message ids start here (a caller's at 1)


class Telegram:
    """What Telegram numbers and dates for one bot."""

    def __init__(
        self,
        *,
        update_ids: Iterator[int] | None = None,
        query_ids: Iterator[int] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.update_ids = update_ids if update_ids is not None else itertools.count(1)
        self.query_ids = query_ids if query_ids is not None else itertools.count(1)
        self.clock = clock

    def update(self, **event: Any) -> Update:
        """An update with the next id: `message=...`, `callback_query=...`..."""
        return Update(update_id=next(self.update_ids), **event)

    def now(self) -> datetime.datetime:
        return datetime.datetime.fromtimestamp(self.clock(), datetime.UTC)

    def query_id(self) -> str:
        return f"q{next(self.query_ids)}"


@dataclass
class Account:
    """One Telegram account writing in one chat; each method is the update of one action."""

    telegram: Telegram
    user: User
    chat: Chat
    message_ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    @property
    def user_id(self) -> int:
        return self.user.id

    def message(self, *, topic: int | None = None, **fields: Any) -> Message:
        """A new message of his (in a forum topic: `topic`); `fields` its content."""
        values: dict[str, Any] = {
            "message_id": next(self.message_ids),
            "date": self.telegram.now(),
            "chat": self.chat,
            "from_user": self.user,
        }
        if topic is not None:
            values.update(message_thread_id=topic, is_topic_message=True)
        values.update(fields)
        return Message(**values)

    def sends(self, *, topic: int | None = None, **fields: Any) -> Update:
        return self.telegram.update(message=self.message(topic=topic, **fields))

    def text(self, text: str, *, topic: int | None = None) -> Update:
        return self.sends(topic=topic, text=text)

    def command(self, name: str, args: str = "", *, topic: int | None = None) -> Update:
        return self.text(f"/{name} {args}".rstrip(), topic=topic)

    def location(self, latitude: float = 47.91, longitude: float = 37.62) -> Update:
        return self.sends(**content.location(latitude, longitude))

    def contact(self, phone: str, *, own: bool = True) -> Update:
        """His phone shared with the button (`own`), or someone else's contact card."""
        return self.sends(**content.contact(phone, self.user_id if own else self.user_id + 1))

    def media(self, kind: str) -> Update:
        """A message of one of `content.MEDIA`'s kinds (a voice message, a sticker...)."""
        return self.sends(**content.MEDIA[kind]())

    def forward(self, text: str, origin: MessageOrigin | None = None) -> Update:
        """A forwarded message (default: someone's, an hour old)."""
        if origin is None:
            origin = content.from_person(self.telegram.now() - datetime.timedelta(hours=1))
        return self.sends(text=text, forward_origin=origin)

    def edit(self, message: Message, **fields: Any) -> Update:
        """His earlier `message` edited: same id, new content."""
        edited = message.model_copy(update={**fields, "edit_date": int(self.telegram.clock())})
        return self.telegram.update(edited_message=edited)

    def press(
        self,
        data: str,
        on: int,
        *,
        topic: int | None = None,
        query_id: str | None = None,
        text: str = "(a message with buttons)",
    ) -> Update:
        """An inline button with callback `data` on the bot's message `on` in this chat."""
        shown: dict[str, Any] = {
            "message_id": on,
            "date": self.telegram.now(),
            "chat": self.chat,
            "from_user": BOT_USER,
            "text": text,
        }
        if topic is not None:
            shown.update(message_thread_id=topic, is_topic_message=True)
        query = CallbackQuery(
            id=query_id or self.telegram.query_id(),
            from_user=self.user,
            chat_instance=f"chat{self.chat.id}",
            data=data,
            message=Message(**shown),
        )
        return self.telegram.update(callback_query=query)

    def joins(self) -> Update:
        """The service message of his joining the group."""
        return self.sends(new_chat_members=[self.user])

    def member_joined(self) -> Update:
        """The `chat_member` update of his joining (a bot admin of the group gets both)."""
        joined = ChatMemberUpdated(
            chat=self.chat,
            from_user=self.user,
            date=self.telegram.now(),
            old_chat_member=ChatMemberLeft(user=self.user),
            new_chat_member=ChatMemberMember(user=self.user),
        )
        return self.telegram.update(chat_member=joined)


def private_chat(user_id: int, lang: str | None = "ru", name: str = "Caller") -> tuple[User, Chat]:
    user = User(id=user_id, is_bot=False, first_name=name, language_code=lang)
    return user, Chat(id=user_id, type="private")


def forum(chat_id: int) -> Chat:
    """The desk: a supergroup with topics."""
    return Chat(id=chat_id, type="supergroup", title="Desk", is_forum=True)


@dataclass(frozen=True, slots=True)
class Fed:
    sent: list[Sent]  # what the bot sent after it, anywhere
    acknowledged: bool  # False: the store was down, Telegram would send it again


@dataclass
class Client:
    """An app on a recording session, and the accounts that write to it."""

    app: App
    session: RecordingSession
    telegram: Telegram = field(default_factory=Telegram)
    # the desk group's messages, whoever writes them, count on from one number
    group_message_ids: Iterator[int] = field(
        default_factory=lambda: itertools.count(GROUP_FIRST_MESSAGE)
    )

    def caller(
        self, user_id: int, lang: str | None = "ru", *, message_ids: Iterator[int] | None = None
    ) -> Account:
        """A caller in his private chat (his message ids count from 1 unless given)."""
        user, chat = private_chat(user_id, lang)
        ids = message_ids if message_ids is not None else itertools.count(1)
        return Account(self.telegram, user, chat, ids)

    def member(
        self, user_id: int, name: str = "Operator", *, message_ids: Iterator[int] | None = None
    ) -> Account:
        """Someone in the desk group: a listed operator or not."""
        user = User(id=user_id, is_bot=False, first_name=name)
        ids = message_ids if message_ids is not None else self.group_message_ids
        return Account(self.telegram, user, forum(self.app.desk.chat_id), ids)

    async def feed(self, update: Update) -> Fed:
        """One update as Telegram delivers it, waited for until what it handed over is
        delivered. One that failed because the store is down (the caller was told to try
        again) is not acknowledged: the webhook answers non-2xx, polling asks for it again."""
        mark = len(self.session.sent)
        acknowledged = True
        try:
            await self.app.dispatcher.feed_update(self.app.bot, update)
        except STORE_DOWN:
            acknowledged = False
        await self.app.drain()
        return Fed(self.session.sent[mark:], acknowledged)


def as_json(update: Update) -> dict[str, Any]:
    """The update as Telegram posts it to a webhook or returns it from getUpdates."""
    data: dict[str, Any] = update.model_dump(mode="json", by_alias=True, exclude_none=True)
    return data
