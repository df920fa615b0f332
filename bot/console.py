"""`hotline console`: play the caller in a terminal, against the real Dispatcher.

Each line becomes a real Telegram `Update` fed to the same Dispatcher production runs; what the
bot sends is recorded by `RecordingSession` and printed as the transcript:

    bot> TEXT        a message to the caller, then `[N] LABEL` for each of its buttons
    desk> TEXT       a post in the operator group

Script lines: plain text is sent as the caller's message; `#` starts a comment; `1`..`9` presses
that button of the last keyboard; `[TEXT]` presses the button whose label contains TEXT;
`@location LAT LON`, `@contact PHONE`, `@voice`, `@sticker`, `@photo` send that kind of message;
`op: TEXT` is written by an operator in the case's topic.
"""

from __future__ import annotations

import asyncio
import datetime
import itertools
import re
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, TextIO

from aiogram.methods import CopyMessage, SendMessage, TelegramMethod
from aiogram.types import (
    CallbackQuery,
    Chat,
    Contact,
    InlineKeyboardMarkup,
    Location,
    Message,
    PhotoSize,
    ReplyKeyboardMarkup,
    Sticker,
    Update,
    User,
    Voice,
)

from bot.app import App, build_app
from bot.recording import RecordingSession, Sent
from bot.settings import Settings

CONSOLE_OPERATOR_ID = 777_000_001
_TAGS = re.compile(r"</?[a-z]+>")


@dataclass(slots=True)
class _Key:
    label: str
    callback: str | None = None  # inline button data
    kind: str = "choice"  # choice | contact | location


@dataclass(slots=True)
class Console:
    app: App
    session: RecordingSession
    out: TextIO
    user_id: int = 100_000_001
    lang: str = "ru"
    keys: list[_Key] = field(default_factory=list)
    last_bot_message: int = 0
    topic: int | None = None
    _ids: Iterable[int] = field(default_factory=lambda: itertools.count(1))
    _update_ids: Iterable[int] = field(default_factory=lambda: itertools.count(1))

    def __post_init__(self) -> None:
        self.session.listeners.append(self._show)

    # -- transcript ---------------------------------------------------------------------------
    def _print(self, line: str) -> None:
        print(line, file=self.out)

    def _show(self, sent: Sent) -> None:
        method: TelegramMethod[Any] = sent.method
        chat_id = getattr(method, "chat_id", None)
        desk = chat_id == self.app.desk.chat_id
        if isinstance(method, SendMessage):
            text = _TAGS.sub("", method.text)
            prefix = "desk> " if desk else "bot> "
            self._print(prefix + text.replace("\n", "\n" + " " * len(prefix)))
            if desk:
                if method.message_thread_id is not None:
                    self.topic = method.message_thread_id
                return
            self.last_bot_message = sent.result.message_id
            self._remember_keys(method.reply_markup)
        elif isinstance(method, CopyMessage):
            if desk:
                self.topic = method.message_thread_id or self.topic
                self._print("desk> (the caller's message, copied)")
            else:
                self._print("bot> (an operator's message)")

    def _remember_keys(self, markup: Any) -> None:
        if isinstance(markup, InlineKeyboardMarkup):
            self.keys = [
                _Key(b.text, callback=b.callback_data)
                for row in markup.inline_keyboard
                for b in row
            ]
        elif isinstance(markup, ReplyKeyboardMarkup):
            self.keys = [
                _Key(
                    b.text,
                    kind="contact"
                    if b.request_contact
                    else "location"
                    if b.request_location
                    else "choice",
                )
                for row in markup.keyboard
                for b in row
            ]
        else:
            return
        for i, key in enumerate(self.keys, 1):
            self._print(f"[{i}] {key.label}")

    # -- input --------------------------------------------------------------------------------
    def _caller(self) -> User:
        return User(id=self.user_id, is_bot=False, first_name="Caller", language_code=self.lang)

    def _message(self, **content: Any) -> Message:
        return Message(
            message_id=next(iter(self._ids)),
            date=datetime.datetime.now(datetime.UTC),
            chat=Chat(id=self.user_id, type="private"),
            from_user=self._caller(),
            **content,
        )

    async def _feed(self, **update: Any) -> None:
        app = self.app
        await app.dispatcher.feed_update(
            app.bot, Update(update_id=next(iter(self._update_ids)), **update)
        )
        await app.deliverer.drain()

    async def line(self, raw: str) -> None:
        line = raw.strip()
        if not line or line.startswith("#"):
            return
        self._print(f"you> {line}")
        if line.startswith("op:"):
            await self._operator(line[3:].strip())
        elif line.isdigit() and 1 <= int(line) <= 9 and int(line) <= len(self.keys):
            await self._press(self.keys[int(line) - 1])
        elif line.startswith("[") and line.endswith("]"):
            wanted = line[1:-1].casefold()
            key = next((k for k in self.keys if wanted in k.label.casefold()), None)
            if key is None:
                self._print(f"(no button contains {line[1:-1]!r})")
                return
            await self._press(key)
        elif line.startswith("@"):
            await self._special(line)
        else:
            await self._feed(message=self._message(text=line))

    async def _press(self, key: _Key) -> None:
        if key.callback is not None:
            query = CallbackQuery(
                id=str(next(iter(self._ids))),
                from_user=self._caller(),
                chat_instance="console",
                data=key.callback,
                message=self._message(text="(button)", message_id=self.last_bot_message),
            )
            await self._feed(callback_query=query)
        elif key.kind == "location":
            await self._special("@location 47.9 37.6")
        elif key.kind == "contact":
            await self._special("@contact +79123456789")
        else:
            await self._feed(message=self._message(text=key.label))

    async def _special(self, line: str) -> None:
        word, *args = line[1:].split()
        if word == "location" and len(args) == 2:
            location = Location(latitude=float(args[0]), longitude=float(args[1]))
            await self._feed(message=self._message(location=location))
        elif word == "contact" and args:
            contact = Contact(phone_number=args[0], first_name="Caller", user_id=self.user_id)
            await self._feed(message=self._message(contact=contact))
        elif word == "voice":
            voice = Voice(file_id="voice", file_unique_id="voice", duration=3)
            await self._feed(message=self._message(voice=voice))
        elif word == "sticker":
            sticker = Sticker(
                file_id="st",
                file_unique_id="st",
                type="regular",
                width=512,
                height=512,
                is_animated=False,
                is_video=False,
            )
            await self._feed(message=self._message(sticker=sticker))
        elif word == "photo":
            photo = [PhotoSize(file_id="ph", file_unique_id="ph", width=90, height=90)]
            await self._feed(message=self._message(photo=photo))
        else:
            self._print(f"(unknown: {line})")

    async def _operator(self, text: str) -> None:
        desk = self.app.desk
        operators = self.app.settings.operator_ids
        operator = User(
            id=min(operators) if operators else CONSOLE_OPERATOR_ID,
            is_bot=False,
            first_name="Operator",
        )
        message = Message(
            message_id=next(iter(self._ids)),
            date=datetime.datetime.now(datetime.UTC),
            chat=Chat(id=desk.chat_id, type="supergroup", is_forum=True),
            from_user=operator,
            message_thread_id=self.topic,
            is_topic_message=self.topic is not None,
            text=text,
        )
        await self._feed(message=message)


def console_settings(settings: Settings) -> Settings:
    """The console plays the operator too: make sure its operator is listed and the desk set."""
    operators = settings.operator_ids or frozenset({CONSOLE_OPERATOR_ID})
    desk_chat = settings.operator_chat_id or -1000000000001
    return settings.model_copy(update={"operator_ids": operators, "operator_chat_id": desk_chat})


async def run_console(
    settings: Settings,
    *,
    script: Iterable[str] | None,
    lang: str,
    user_id: int,
    out: TextIO = sys.stdout,
    read: Callable[[], str] | None = None,
) -> int:
    session = RecordingSession()
    app = build_app(console_settings(settings), session=session, throttle=False)
    console = Console(app, session, out, user_id=user_id, lang=lang)
    try:
        if script is not None:
            for raw in script:
                await console.line(raw)
            return 0
        print(
            "You are the caller. Type messages; a number presses a button; Ctrl-D ends.", file=out
        )
        reader = read or (lambda: input("you> "))
        while True:
            try:
                raw = await asyncio.to_thread(reader)
            except EOFError:
                return 0
            await console.line(raw)
    finally:
        await app.close()
