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

The script language (what each line may be) is listed in README.md and read by
`bot.console_script`. Interactively the desk's timer runs as in production (re-announcements,
details deleted); with REDIS_URL the ids continue from the last run's, so the same --user-id is
answered again.
"""

from __future__ import annotations

import asyncio
import itertools
import re
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, TextIO

from aiogram.methods import (
    CopyMessage,
    DeleteMessage,
    DeleteMessages,
    SendMessage,
    TelegramMethod,
)
from aiogram.types import InlineKeyboardMarkup, Message, ReplyKeyboardMarkup, Update

from bot.app import App, build_app
from bot.console_desk import DeskTranscript, Key
from bot.console_script import STRANGER_ID, operator_line, special_update
from bot.offline.client import Account, Client, Telegram
from bot.offline.session import RecordingSession, Sent
from bot.settings import Settings
from flows import surrender as flow
from flows.reading import Expects

# the console's operators when OPERATOR_IDS lists none: `op:`, `op2:`, `op3:`
CONSOLE_OPERATORS = (777_000_001, 777_000_002, 777_000_003)
ID_BLOCK = 1_000_000  # update and message ids a run takes from the store's counter
_CODE = re.compile(r"<b>([0-9A-Z]{4}-[0-9A-Z]{4})</b>")
SCRIPT_RATE_LIMIT = 100_000
_TAGS = re.compile(r"</?[a-z]+>")


@dataclass(slots=True)
class Console:
    app: App
    session: RecordingSession
    out: TextIO
    user_id: int = 100_000_001
    lang: str = "ru"
    keys: list[Key] = field(default_factory=list)
    old_keys: list[Key] = field(default_factory=list)  # of earlier keyboards, newest first
    # the reply keyboard stays on screen below a later message with inline buttons
    reply_keys: list[Key] = field(default_factory=list)
    last_bot_message: int = 0
    last_message: Message | None = None  # the caller's last message (what `@edit` edits)
    code: str | None = None  # the last case code the bot showed (what `$CODE` stands for)
    echo: bool = True  # print `you> LINE` (a terminal has shown what was typed already)
    first_id: int = 1  # of this run's update, message and callback query ids

    desk_view: DeskTranscript = field(init=False)
    client: Client = field(init=False)
    _ids: Iterator[int] = field(init=False)  # the messages of the caller and the operators

    def __post_init__(self) -> None:
        self.desk_view = DeskTranscript(self._print)
        self.session.listeners.append(self._show)
        self._ids = itertools.count(self.first_id)
        telegram = Telegram(
            update_ids=itertools.count(self.first_id), query_ids=itertools.count(self.first_id)
        )
        self.client = Client(self.app, self.session, telegram)

    # -- transcript ---------------------------------------------------------------------------
    def _print(self, line: str) -> None:
        print(line, file=self.out)

    def _show(self, sent: Sent) -> None:
        method: TelegramMethod[Any] = sent.method
        chat_id = getattr(method, "chat_id", None)
        if chat_id == self.app.desk.chat_id or self.desk_view.answers(method):
            self.desk_view.show(sent)
            return
        if chat_id != self.user_id and chat_id in self.app.settings.operator_ids:
            if isinstance(method, SendMessage):  # an operator's private chat: details
                self.desk_view.write("(private) " + method.text)
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
                Key(b.text, callback=b.callback_data, message_id=self.last_bot_message)
                for row in markup.inline_keyboard
                for b in row
            ]
        elif isinstance(markup, ReplyKeyboardMarkup):
            keys = [
                Key(
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
        if isinstance(markup, ReplyKeyboardMarkup):
            self.reply_keys = keys
        self.old_keys = self.keys + self.old_keys
        self.keys = keys
        for i, key in enumerate(self.keys, 1):
            self._print(f"[{i}] {key.label}")

    # -- input --------------------------------------------------------------------------------
    def _caller(self) -> Account:
        return self.client.caller(self.user_id, self.lang, message_ids=self._ids)

    async def _feed(self, update: Update) -> None:
        if update.message is not None and update.message.chat.type == "private":
            self.last_message = update.message  # what `@edit` edits
        # Redis down: the caller was told to try again (StoreDown); a console has no redelivery
        await self.client.feed(update)

    async def line(self, raw: str) -> None:
        line = raw.strip()
        if not line or line.startswith("#"):
            return
        if "$CODE" in line and self.code is not None:
            line = line.replace("$CODE", self.code)
        if self.echo:
            self._print(f"you> {line}")
        operator = operator_line(line)
        if operator is not None:
            await self._operator(operator.text, operator.place)
        elif (
            line.isdigit()
            and 1 <= int(line) <= min(9, len(self.keys))
            and not await self._asks_for_text()
        ):
            await self._press(self.keys[int(line) - 1])
        elif line.startswith("[") and line.endswith("]"):
            shown = self.keys + [k for k in self.reply_keys if k not in self.keys]
            key = self._find(shown, line[1:-1])
            if key is not None:
                await self._press(key)
        elif line.startswith("@"):
            await self._special(line)
        else:
            await self._feed(self._caller().text(line))

    async def _asks_for_text(self) -> bool:
        """Whether the caller's current screen asks for words or a number ("how many are
        you?"): a number typed there is his answer, not a press of one of its buttons."""
        store = self.app.store
        state = (await store.load(store.conversation_key(self.user_id), -1)).conversation.state
        screen = flow.SCREENS.get(state)
        return screen is not None and screen.expects is Expects.TEXT

    def _find(self, keys: list[Key], wanted: str) -> Key | None:
        key = next((k for k in keys if wanted.casefold() in k.label.casefold()), None)
        if key is None:
            self._print(f"(no button contains {wanted!r})")
        return key

    async def _press(self, key: Key) -> None:
        caller = self._caller()
        if key.callback is not None:
            await self._feed(caller.press(key.callback, key.message_id))
        elif key.kind == "location":
            await self._feed(caller.location(47.9, 37.6))
        elif key.kind == "contact":
            await self._feed(caller.contact("+79123456789"))
        else:
            await self._feed(caller.text(key.label))

    async def _special(self, line: str) -> None:
        word, _, rest = line[1:].partition(" ")
        args = rest.split()
        update = special_update(self._caller(), word, rest)
        if update is not None:
            await self._feed(update)
        elif word == "edit":
            if self.last_message is None:
                self._print("(no message of his to edit yet)")
                return
            await self._feed(self._caller().edit(self.last_message, text=rest or "..."))
        elif word == "old" and rest.startswith("[") and rest.endswith("]"):
            key = self._find(self.old_keys, rest[1:-1])
            if key is not None:
                await self._press(key)
        elif word == "user" and args:
            # another Telegram account (and optionally language) from now on
            self.user_id = int(args[0])
            self.lang = args[1] if len(args) > 1 else self.lang
            self.keys, self.old_keys, self.reply_keys = [], [], []
            self.last_message = None
        else:
            self._print(f"(unknown: {line})")

    # -- the operator group -------------------------------------------------------------------
    def _member(self, place: int | None) -> Account | None:
        """The N-th listed operator (1-based), or the stranger for None."""
        if place is None:
            return self.client.member(STRANGER_ID, "Stranger", message_ids=self._ids)
        operators = self.app.settings.operator_ids
        if place > len(operators):
            self._print(f"(no operator {place}: OPERATOR_IDS lists {len(operators)})")
            return None
        return self.client.member(operators[place - 1], f"Operator {place}", message_ids=self._ids)

    async def _operator(self, text: str, place: int | None = 1) -> None:
        """`op: TEXT` is written by the first listed operator in the case's topic (commands
        included), `opN: TEXT` by the N-th, `op?: TEXT` by a group member who is not listed;
        `op: [LABEL]` presses the button whose label has LABEL: of a typed command's question
        while it is there, else of the case card."""
        who = self._member(place)
        if who is None:
            return
        topic = self.desk_view.topic
        if text.startswith("[") and text.endswith("]"):
            key = self._find(self.desk_view.question_keys + self.desk_view.card_keys, text[1:-1])
            if key is None or key.callback is None:
                return
            # the card's, or a typed command's question's (the message the key came with)
            on = key.message_id or self.desk_view.card_message
            update = who.press(key.callback, on, topic=topic, text="(card)")
            assert update.callback_query is not None
            self.desk_view.queries.add(update.callback_query.id)
            await self._feed(update)
            return
        await self._feed(who.text(text, topic=topic))


def console_settings(settings: Settings) -> Settings:
    """The console plays the operator too: make sure its operator is listed and the desk set."""
    operators = settings.operator_ids or CONSOLE_OPERATORS
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
    first = await _first_id(app)
    console = Console(app, session, out, user_id=user_id, lang=lang, first_id=first)
    try:
        if script is not None:
            for raw in script:
                await console.line(raw)
            return 0
        app.service_levels.start(settings.desk_tick_seconds)  # the desk's timer, as served
        terminal = read is None and sys.stdin.isatty()
        console.echo = not terminal  # a terminal shows what was typed already
        print(
            "You are the caller. Type messages; a number presses a button (where no number is "
            "asked); `op: TEXT` writes as an operator; README.md lists every command; "
            "Ctrl-D ends.",
            file=out,
        )
        reader = read or ((lambda: input("you> ")) if terminal else _next_line)
        while True:
            try:
                raw = await asyncio.to_thread(reader)
            except EOFError:
                return 0
            await console.line(raw)
    finally:
        await app.close()


def _next_line() -> str:
    line = sys.stdin.readline()
    if not line:
        raise EOFError
    return line


async def _first_id(app: App) -> int:
    """Where this run's update and message ids start: past every earlier run's when the store
    outlives the process (REDIS_URL), so its dedupe never takes a new update for a seen one."""
    if app.settings.embedded:
        return 1
    top = int(await app.redis.incrby(f"{app.store.prefix}:console:ids", ID_BLOCK))
    return top - ID_BLOCK + 1
