"""`hotline console`: play the caller in a terminal, against the real Dispatcher.

Each line becomes a real Telegram `Update` fed to the same Dispatcher production runs; what the
bot sends is recorded by `RecordingSession` and printed as the transcript:

    bot> TEXT        a message to the caller, then `[N] LABEL` for each of its buttons
    desk> TEXT       a post in the case's topic of the operator group
    desk> (queue) TEXT     a post in the group's General topic, the queue view
    desk> (card) TEXT      a case card, posted or edited, then `desk>   [LABEL] ...` its buttons
    desk> (topic opened|renamed|closed|reopened|deleted), (notice) TEXT: topics, button answers
    desk> (private) TEXT   a message to an operator's private chat with the bot (details)

    bot> (deleted: 3, 5)   messages deleted in the caller's chat

Script lines: plain text is sent as the caller's message; `#` starts a comment; `1`..`9` presses
that button of the last keyboard; `[TEXT]` presses the button whose label contains TEXT;
`@old [TEXT]` presses a button of an earlier keyboard (inline buttons keep their old message);
`@location LAT LON`, `@contact PHONE [other]`, `@voice`, `@videonote`, `@sticker`, `@photo`,
`@document` send that kind of message; `@text TEXT` sends TEXT as it is (also a digit or
`[...]`); `@long [N]` sends a text of N characters (4096); `@forward TEXT` a forwarded message;
`@edit TEXT` edits the caller's last message; `@user ID [LANG]` goes on as another Telegram
account; `$CODE` in a line stands for the last case code the bot showed; `op: TEXT` is written
by the first listed operator in the case's topic (desk commands too: `op: /claim`), and
`op: [TEXT]` presses the button of the case card whose label contains TEXT.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import html
import itertools
import re
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, TextIO

from aiogram.methods import (
    AnswerCallbackQuery,
    CloseForumTopic,
    CopyMessage,
    CreateForumTopic,
    DeleteForumTopic,
    DeleteMessage,
    DeleteMessages,
    EditForumTopic,
    EditMessageReplyMarkup,
    EditMessageText,
    ReopenForumTopic,
    SendMessage,
    TelegramMethod,
)
from aiogram.types import (
    CallbackQuery,
    Chat,
    Contact,
    Document,
    InlineKeyboardMarkup,
    Location,
    Message,
    MessageOriginHiddenUser,
    PhotoSize,
    ReplyKeyboardMarkup,
    Sticker,
    Update,
    User,
    VideoNote,
    Voice,
)

from bot.app import App, build_app
from bot.desk.desk import DeskData
from bot.middlewares.errors import STORE_DOWN
from bot.recording import BOT_USER, RecordingSession, Sent
from bot.settings import Settings

CONSOLE_OPERATOR_ID = 777_000_001
TELEGRAM_TEXT_MAX = 4096
_CODE = re.compile(r"<b>([0-9A-Z]{4}-[0-9A-Z]{4})</b>")
SCRIPT_RATE_LIMIT = 100_000
_TAGS = re.compile(r"</?[a-z]+>")
_ALL_TAGS = re.compile(r"<[^>]+>")


@dataclass(slots=True)
class _Key:
    label: str
    callback: str | None = None  # inline button data
    kind: str = "choice"  # choice | contact | location
    message_id: int = 0  # the bot's message the inline button is attached to


@dataclass(slots=True)
class Console:
    app: App
    session: RecordingSession
    out: TextIO
    user_id: int = 100_000_001
    lang: str = "ru"
    keys: list[_Key] = field(default_factory=list)
    old_keys: list[_Key] = field(default_factory=list)  # of earlier keyboards, newest first
    last_bot_message: int = 0
    last_message: int = 0  # the caller's last message (what `@edit` edits)
    code: str | None = None  # the last case code the bot showed (what `$CODE` stands for)
    topic: int | None = None
    card_keys: list[_Key] = field(default_factory=list)  # the buttons of the last case card
    card_message: int = 0
    _queries: set[str] = field(default_factory=set)  # card presses of `op:` lines
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
        if chat_id == self.app.desk.chat_id or self._for_operator(method):
            self._show_desk(sent)
            return
        if chat_id != self.user_id and chat_id in self.app.settings.operator_ids:
            if isinstance(method, SendMessage):  # an operator's private chat: details
                self._desk_print("(private) " + method.text)
            return
        if isinstance(method, SendMessage):
            text = _TAGS.sub("", method.text)
            prefix = "bot> "
            self._print(prefix + text.replace("\n", "\n" + " " * len(prefix)))
            codes = _CODE.findall(method.text)
            if codes:
                self.code = codes[-1]
            self.last_bot_message = sent.result.message_id
            self._remember_keys(method.reply_markup)
        elif isinstance(method, CopyMessage):
            self._print("bot> (an operator's message)")
        elif isinstance(method, DeleteMessage | DeleteMessages):
            ids = [method.message_id] if isinstance(method, DeleteMessage) else method.message_ids
            self._print(f"bot> (deleted: {', '.join(map(str, sorted(ids)))})")

    def _remember_keys(self, markup: Any) -> None:
        if isinstance(markup, InlineKeyboardMarkup):
            keys = [
                _Key(b.text, callback=b.callback_data, message_id=self.last_bot_message)
                for row in markup.inline_keyboard
                for b in row
            ]
        elif isinstance(markup, ReplyKeyboardMarkup):
            keys = [
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
        self.old_keys = self.keys + self.old_keys
        self.keys = keys
        for i, key in enumerate(self.keys, 1):
            self._print(f"[{i}] {key.label}")

    # -- input --------------------------------------------------------------------------------
    def _caller(self) -> User:
        return User(id=self.user_id, is_bot=False, first_name="Caller", language_code=self.lang)

    def _message(self, **content: Any) -> Message:
        fields: dict[str, Any] = {
            "message_id": next(iter(self._ids)),
            "date": datetime.datetime.now(datetime.UTC),
            "chat": Chat(id=self.user_id, type="private"),
            "from_user": self._caller(),
        }
        fields.update(content)  # e.g. the bot's own message an inline button is attached to
        message = Message(**fields)
        if message.from_user is not None and not message.from_user.is_bot:
            self.last_message = message.message_id
        return message

    async def _feed(self, **update: Any) -> None:
        app = self.app
        # Redis down: the caller was told to try again (StoreDown); a console has no redelivery
        with contextlib.suppress(*STORE_DOWN):
            await app.dispatcher.feed_update(
                app.bot, Update(update_id=next(iter(self._update_ids)), **update)
            )
        await app.deliverer.drain()

    async def line(self, raw: str) -> None:
        line = raw.strip()
        if not line or line.startswith("#"):
            return
        if "$CODE" in line and self.code is not None:
            line = line.replace("$CODE", self.code)
        self._print(f"you> {line}")
        if line.startswith("op:"):
            await self._operator(line[3:].strip())
        elif line.isdigit() and 1 <= int(line) <= min(9, len(self.keys)):
            await self._press(self.keys[int(line) - 1])
        elif line.startswith("[") and line.endswith("]"):
            key = self._find(self.keys, line[1:-1])
            if key is not None:
                await self._press(key)
        elif line.startswith("@"):
            await self._special(line)
        else:
            await self._feed(message=self._message(text=line))

    def _find(self, keys: list[_Key], wanted: str) -> _Key | None:
        key = next((k for k in keys if wanted.casefold() in k.label.casefold()), None)
        if key is None:
            self._print(f"(no button contains {wanted!r})")
        return key

    async def _press(self, key: _Key) -> None:
        if key.callback is not None:
            query = CallbackQuery(
                id=str(next(iter(self._ids))),
                from_user=self._caller(),
                chat_instance="console",
                data=key.callback,
                message=self._message(
                    text="(button)", message_id=key.message_id, from_user=BOT_USER
                ),
            )
            await self._feed(callback_query=query)
        elif key.kind == "location":
            await self._special("@location 47.9 37.6")
        elif key.kind == "contact":
            await self._special("@contact +79123456789")
        else:
            await self._feed(message=self._message(text=key.label))

    async def _special(self, line: str) -> None:
        word, _, rest = line[1:].partition(" ")
        args = rest.split()
        content: dict[str, Any] | None = None
        if word == "location" and len(args) == 2:
            content = {"location": Location(latitude=float(args[0]), longitude=float(args[1]))}
        elif word == "contact" and args:
            own = args[1:] != ["other"]
            contact = Contact(
                phone_number=args[0],
                first_name="Caller",
                user_id=self.user_id if own else self.user_id + 1,
            )
            content = {"contact": contact}
        elif word in _MEDIA:
            content = _MEDIA[word]()
        elif word == "text":
            content = {"text": rest}
        elif word == "long":
            content = {"text": "я" * (int(args[0]) if args else TELEGRAM_TEXT_MAX)}
        elif word == "forward":
            origin = MessageOriginHiddenUser(
                date=datetime.datetime.now(datetime.UTC), sender_user_name="Someone"
            )
            content = {"text": rest or "...", "forward_origin": origin}
        elif word == "edit":
            edited = self._message(
                text=rest or "...",
                message_id=self.last_message,
                edit_date=int(datetime.datetime.now(datetime.UTC).timestamp()),
            )
            await self._feed(edited_message=edited)
            return
        elif word == "old" and rest.startswith("[") and rest.endswith("]"):
            key = self._find(self.old_keys, rest[1:-1])
            if key is not None:
                await self._press(key)
            return
        elif word == "user" and args:
            # another Telegram account (and optionally language) from now on
            self.user_id = int(args[0])
            self.lang = args[1] if len(args) > 1 else self.lang
            self.keys, self.old_keys = [], []
            return
        if content is None:
            self._print(f"(unknown: {line})")
            return
        await self._feed(message=self._message(**content))

    # -- the operator group -------------------------------------------------------------------
    def _for_operator(self, method: TelegramMethod[Any]) -> bool:
        """An answer to a card button an `op:` line pressed."""
        return (
            isinstance(method, AnswerCallbackQuery) and method.callback_query_id in self._queries
        )

    def _desk_print(self, line: str) -> None:
        text = html.unescape(_ALL_TAGS.sub("", line))
        self._print("desk> " + text.replace("\n", "\n      "))

    def _show_desk(self, sent: Sent) -> None:
        """What the operator group receives: posts, the cards and their edits, topics."""
        method: TelegramMethod[Any] = sent.method
        if isinstance(method, SendMessage):
            if method.message_thread_id is not None:
                self.topic = method.message_thread_id
            card = isinstance(method.reply_markup, InlineKeyboardMarkup) and any(
                DeskData.__prefix__ in (b.callback_data or "")
                for row in method.reply_markup.inline_keyboard
                for b in row
            )
            where = "" if method.message_thread_id is not None else "(queue) "
            self._desk_print(("(card) " if card else where) + method.text)
            if card:
                self.card_message = sent.result.message_id
                self._show_card_keys(self._card_keys(method.reply_markup))
        elif isinstance(method, EditMessageText):
            self._desk_print("(card) " + (method.text or ""))
            self._show_card_keys(self._card_keys(method.reply_markup))
        elif isinstance(method, EditMessageReplyMarkup):
            self._show_card_keys(self._card_keys(method.reply_markup))
        elif isinstance(method, CopyMessage):
            self.topic = method.message_thread_id or self.topic
            caption = method.caption if isinstance(method.caption, str) else ""
            self._desk_print(f"(the caller's message, copied) {caption}".rstrip())
        elif isinstance(method, CreateForumTopic):
            self.topic = sent.result.message_thread_id
            self._desk_print(f"(topic opened) {method.name}")
        elif isinstance(method, EditForumTopic):
            self._desk_print(f"(topic renamed) {method.name}")
        elif isinstance(method, CloseForumTopic | ReopenForumTopic | DeleteForumTopic):
            what = {
                CloseForumTopic: "closed",
                ReopenForumTopic: "reopened",
                DeleteForumTopic: "deleted",
            }[type(method)]
            self._desk_print(f"(topic {what})")
        elif isinstance(method, DeleteMessage):
            self._desk_print("(message deleted)")
        elif isinstance(method, AnswerCallbackQuery) and method.text:
            self._desk_print(f"(notice) {method.text}")

    def _card_keys(self, markup: Any) -> list[_Key]:
        if not isinstance(markup, InlineKeyboardMarkup):
            return []
        return [
            _Key(b.text, callback=b.callback_data, message_id=self.card_message)
            for row in markup.inline_keyboard
            for b in row
            if b.callback_data is not None
        ]

    def _show_card_keys(self, keys: list[_Key]) -> None:
        if keys:
            self.card_keys = keys
            self._print("desk>   " + " ".join(f"[{k.label}]" for k in keys))

    def _operator_user(self) -> User:
        operators = self.app.settings.operator_ids
        user_id = operators[0] if operators else CONSOLE_OPERATOR_ID
        return User(id=user_id, is_bot=False, first_name="Operator")

    async def _operator(self, text: str) -> None:
        """`op: TEXT` is written by the first listed operator in the case's topic (commands
        included); `op: [LABEL]` presses the button of the case card whose label has LABEL."""
        desk = self.app.desk
        chat = Chat(id=desk.chat_id, type="supergroup", is_forum=True)
        if text.startswith("[") and text.endswith("]"):
            key = self._find(self.card_keys, text[1:-1])
            if key is None or key.callback is None:
                return
            query_id = f"op{next(iter(self._ids))}"
            self._queries.add(query_id)
            card = Message(
                message_id=self.card_message,
                date=datetime.datetime.now(datetime.UTC),
                chat=chat,
                from_user=BOT_USER,
                message_thread_id=self.topic,
                is_topic_message=self.topic is not None,
                text="(card)",
            )
            query = CallbackQuery(
                id=query_id,
                from_user=self._operator_user(),
                chat_instance="console-desk",
                data=key.callback,
                message=card,
            )
            await self._feed(callback_query=query)
            return
        message = Message(
            message_id=next(iter(self._ids)),
            date=datetime.datetime.now(datetime.UTC),
            chat=chat,
            from_user=self._operator_user(),
            message_thread_id=self.topic,
            is_topic_message=self.topic is not None,
            text=text,
        )
        await self._feed(message=message)


def _sticker() -> dict[str, Any]:
    sticker = Sticker(
        file_id="st",
        file_unique_id="st",
        type="regular",
        width=512,
        height=512,
        is_animated=False,
        is_video=False,
    )
    return {"sticker": sticker}


_MEDIA: dict[str, Callable[[], dict[str, Any]]] = {
    "sticker": _sticker,
    "photo": lambda: {"photo": [PhotoSize(file_id="ph", file_unique_id="ph", width=9, height=9)]},
    "voice": lambda: {"voice": Voice(file_id="vo", file_unique_id="vo", duration=3)},
    "videonote": lambda: {
        "video_note": VideoNote(file_id="vn", file_unique_id="vn", length=240, duration=3)
    },
    "document": lambda: {"document": Document(file_id="do", file_unique_id="do")},
}


def console_settings(settings: Settings) -> Settings:
    """The console plays the operator too: make sure its operator is listed and the desk set."""
    operators = settings.operator_ids or (CONSOLE_OPERATOR_ID,)
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
    settings = console_settings(settings)
    if script is not None:
        # a script replays at machine speed: the per-caller limit is for people typing
        limit = max(settings.rate_limit_per_minute, SCRIPT_RATE_LIMIT)
        settings = settings.model_copy(update={"rate_limit_per_minute": limit})
    app = build_app(settings, session=session, throttle=False)
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
