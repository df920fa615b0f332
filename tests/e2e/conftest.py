"""End-to-end harness: the app exactly as `build_app` composes it, fed real aiogram `Update`s.

`Hotline` wraps one app on a `RecordingSession` (every Bot API call recorded, nothing sent), a
Redis (fakeredis or the real server of tests/conftest.py), the throttle off and a clock that
stands still except when an update arrives (each one moves it STEP seconds on, so the per-caller
rate limit of the default settings is never reached by a normal dialogue). `Caller` plays one
Telegram account in its private chat: every action builds a real `Update` with
`bot.offline.client` (new `update_id`), feeds it to the Dispatcher, waits for the outbox and the
desk (`app.drain()`) and keeps what the bot sent in answer in `caller.out`.

Expected texts are rendered from the message packs with `bot.i18n.Translator` (never
hard-coded), screens and buttons from the flow data in `flows.surrender`.
"""

from __future__ import annotations

import base64
import datetime
import itertools
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import fakeredis
import pytest
import redis.asyncio
from aiogram.client.default import Default
from aiogram.methods import (
    CopyMessage,
    DeleteMessage,
    DeleteMessages,
    SendMessage,
    TelegramMethod,
)
from aiogram.types import (
    InlineKeyboardMarkup,
    Message,
    MessageOrigin,
    ReplyKeyboardMarkup,
    Update,
    User,
)

from bot.app import App, build_app
from bot.events import ButtonData
from bot.i18n import Translator
from bot.offline.client import Client, Telegram
from bot.offline.content import MEDIA as MEDIA
from bot.offline.content import TELEGRAM_TEXT_MAX as TELEGRAM_TEXT_MAX
from bot.offline.session import RecordingSession, Sent
from bot.settings import Settings
from flows import surrender as flow
from flows.model import Conversation
from flows.sealing import new_key
from flows.store import StoreUnavailable

NOW = datetime.datetime(2025, 6, 15, 9, 0, tzinfo=datetime.UTC).timestamp()
STEP = 4.0  # seconds the clock moves on per update: 15 a minute, under the default limit
DESK_CHAT = -1001000000777
OPERATOR_ID = 5_550_001
LANGS = ("ru", "uk")

T = Translator()
CALLER_HEADER = "💬 <b>"  # how every relay of a caller's message starts (desk-from-caller)


@dataclass(frozen=True)
class Relayed:
    from_chat_id: int
    message_id: int


# ---------------------------------------------------------------------------------------------
# Expected texts and buttons


def t(lang: str, message_id: str, **params: str | int) -> str:
    return T.text(lang, message_id, params)


def screen(lang: str, state: str, **params: str | int) -> str:
    """The text of a state's screen as the caller must see it ("step k of n" included)."""
    body = t(lang, flow.SCREENS[state].prompt, **params)
    if state in flow.STEP_OF:
        k, n = flow.STEP_OF[state]
        body = t(lang, "step", k=k, n=n) + "\n" + body
    return body


# What an erased conversation's hash keeps: its dedupe marks (Telegram may redeliver) with the
# version and batch number it reached, its rate-limit window (a minute of update ids and times;
# /forget must not reset a flood's limit) and, after an erase that did not wipe the chat, the
# ids of the bot's messages there (48 h at most: a later /forget still wipes them). None of it
# is personal (Hotline.assert_erased).
ERASED_FIELDS = frozenset({"seen", "ev", "es", "rate", "rn", "chat", "sec"})


def kept_after_erase(key: str) -> set[str]:
    """The keys an erased conversation leaves: its hash, with ERASED_FIELDS at most."""
    return {f"hl:{{{key}}}:conv"}


def labels(lang: str, state: str) -> list[str]:
    """The reply-keyboard labels of a state, in order."""
    return [t(lang, b.label) for b in flow.SCREENS[state].buttons]


def inline_data(state: str) -> list[str]:
    """The callback data of a state's inline buttons, in order."""
    return [ButtonData(screen=state, button=b.id).pack() for b in flow.SCREENS[state].buttons]


def keyboard_of(method: SendMessage) -> list[str]:
    """Reply-keyboard labels, or inline callback data, of a message (empty: no keyboard)."""
    markup = method.reply_markup
    if isinstance(markup, ReplyKeyboardMarkup):
        return [b.text for row in markup.keyboard for b in row]
    if isinstance(markup, InlineKeyboardMarkup):
        return [b.callback_data or "" for row in markup.inline_keyboard for b in row]
    return []


def review_values(lang: str, fields: dict[str, str]) -> dict[str, str | int]:
    """The parameters of the review screen for these answers (not given ones in words)."""
    params: dict[str, str | int] = {}
    for detail in flow.DETAILS:
        value = fields.get(detail.name, "not-given")
        if detail.name == "birth_date" and value != "not-given":
            year, month, day = value.split("-")
            value = f"{day}.{month}.{year}"
        params[detail.name.replace("_", "-")] = value
    return params


def protected(sent: Sent, bot_default: Callable[[str], Any]) -> bool:
    value = getattr(sent.method, "protect_content", None)
    if isinstance(value, Default):
        value = bot_default(value.name)
    return value is True


# ---------------------------------------------------------------------------------------------
# The app and its callers


class Clock:
    def __init__(self, now: float = NOW) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass
class Hotline:
    app: App
    session: RecordingSession
    clock: Clock
    first_update_id: int = 1
    callers: list[Caller] = field(default_factory=list)
    unacknowledged: list[int] = field(default_factory=list)  # update ids Telegram would resend
    client: Client = field(init=False)

    def __post_init__(self) -> None:
        telegram = Telegram(update_ids=itertools.count(self.first_update_id), clock=self.clock)
        self.client = Client(self.app, self.session, telegram)

    @property
    def redis(self) -> redis.asyncio.Redis:
        return self.app.redis

    def caller(self, user_id: int = 100_200_300, lang: str = "ru") -> Caller:
        caller = Caller(self, user_id, lang)
        self.callers.append(caller)
        return caller

    async def feed(self, update: Update) -> list[Sent]:
        """Feed one update as Telegram would and wait for its delivery; what was sent. An update
        that failed because Redis is down (the caller is told) is in `unacknowledged`: the
        webhook answered non-2xx, polling will ask for it again."""
        self.clock.advance(STEP)
        fed = await self.client.feed(update)
        if not fed.acknowledged:
            self.unacknowledged.append(update.update_id)
        return fed.sent

    def desk(self, sent: list[Sent] | None = None) -> list[TelegramMethod[Any]]:
        """Calls into the operator group (all of them, or of `sent`)."""
        calls = self.session.sent if sent is None else sent
        return [s.method for s in calls if getattr(s.method, "chat_id", None) == DESK_CHAT]

    def assert_all_protected(self) -> None:
        """Every message to a caller so far went out with protect_content."""
        chats = {c.user_id for c in self.callers}
        bot = self.app.bot
        for sent in self.session.sent:
            chat = getattr(sent.method, "chat_id", None)
            if chat in chats and sent.name.startswith(("Send", "Copy", "Forward")):
                assert protected(sent, lambda name: bot.default[name]), sent.method

    async def keys(self) -> set[str]:
        # SCAN, not KEYS: on a cluster it walks every node
        return {k.decode() if isinstance(k, bytes) else k async for k in self.redis.scan_iter()}

    async def assert_erased(self, key: str) -> None:
        """Of the conversation `key` only ERASED_FIELDS are left, its dedupe marks among them."""
        names = await self.redis.hkeys(f"hl:{{{key}}}:conv")
        fields = {n.decode() if isinstance(n, bytes) else n for n in names}
        assert "seen" in fields
        assert fields <= ERASED_FIELDS, fields - ERASED_FIELDS


class Caller:
    """One Telegram account in its private chat with the bot: `account` builds his updates
    (bot.offline.client), this feeds them and reads what the bot sent him."""

    def __init__(self, hotline: Hotline, user_id: int, lang: str) -> None:
        self.hotline = hotline
        self.user_id = user_id
        self.lang = lang
        self.account = hotline.client.caller(user_id, lang)
        self.message_ids: list[int] = []  # every message of his the bot was fed
        self.out: list[Sent] = []  # what the last update made the bot send (anywhere)
        self.last_update: Update | None = None

    @property
    def user(self) -> User:
        return self.account.user

    # -- what he sends ------------------------------------------------------------------------
    async def feed(self, update: Update) -> list[Sent]:
        self.last_update = update
        self.out = await self.hotline.feed(update)
        return self.out

    async def sends(self, update: Update) -> Message:
        """A new message of his (built by `account`), fed: the message."""
        message = update.message
        assert message is not None, update
        self.message_ids.append(message.message_id)
        await self.feed(update)
        return message

    async def send(self, **content: Any) -> Message:
        return await self.sends(self.account.sends(**content))

    async def text(self, text: str) -> Message:
        return await self.sends(self.account.text(text))

    async def command(self, name: str) -> Message:
        return await self.sends(self.account.command(name))

    async def tap(self, button_id: str) -> Message:
        """A reply-keyboard button: Telegram sends its label as a text message."""
        return await self.text(t(self.lang, f"btn-{button_id}"))

    async def press(self, button_id: str, *, on: SendMessage | None = None) -> None:
        """An inline button of `on` (default: the last message with inline buttons)."""
        message = on or self.last_inline()
        data = next(
            d
            for d in keyboard_of(message)
            if (
                d.startswith(ButtonData.__prefix__ + ":")
                and ButtonData.unpack(d).button == button_id
            )
            or d == f"lang:{button_id.removeprefix('lang-')}"
        )
        await self.callback(data, self.sent_id(message))

    async def callback(self, data: str, message_id: int) -> None:
        await self.feed(self.account.press(data, message_id))

    async def location(self, latitude: float = 47.91, longitude: float = 37.62) -> Message:
        return await self.sends(self.account.location(latitude, longitude))

    async def contact(self, phone: str, *, own: bool = True) -> Message:
        return await self.sends(self.account.contact(phone, own=own))

    async def media(self, kind: str) -> Message:
        return await self.sends(self.account.media(kind))

    async def edit(self, message: Message, text: str) -> None:
        await self.feed(self.account.edit(message, text=text))

    async def forward(self, text: str, origin: MessageOrigin | None = None) -> Message:
        return await self.sends(self.account.forward(text, origin))

    # -- what the bot sent --------------------------------------------------------------------
    def to_me(self, sent: list[Sent] | None = None) -> list[Sent]:
        calls = self.out if sent is None else sent
        return [s for s in calls if getattr(s.method, "chat_id", None) == self.user_id]

    @property
    def replies(self) -> list[SendMessage]:
        """The messages the last update made the bot send to him."""
        return [s.method for s in self.to_me() if isinstance(s.method, SendMessage)]

    @property
    def texts(self) -> list[str]:
        return [m.text for m in self.replies]

    def all_messages(self) -> list[Sent]:
        """Every message the bot sent him so far, with the result Telegram gave."""
        return [
            s
            for s in self.to_me(self.hotline.session.sent)
            if isinstance(s.method, SendMessage | CopyMessage)
        ]

    def sent_id(self, method: SendMessage) -> int:
        sent = next(s for s in self.hotline.session.sent if s.method is method)
        return int(sent.result.message_id)

    def last_inline(self) -> SendMessage:
        for sent in reversed(self.all_messages()):
            method = sent.method
            if isinstance(method, SendMessage) and isinstance(
                method.reply_markup, InlineKeyboardMarkup
            ):
                return method
        raise AssertionError("no message with inline buttons yet")

    def deleted(self, sent: list[Sent] | None = None) -> list[int]:
        """Ids of his chat's messages the bot deleted (in the last update, or in `sent`)."""
        ids: list[int] = []
        for s in self.to_me(sent):
            if isinstance(s.method, DeleteMessages):
                ids += s.method.message_ids
            elif isinstance(s.method, DeleteMessage):
                ids.append(s.method.message_id)
        return ids

    def relayed(self) -> list[Relayed]:
        """His messages the last update relayed into the operator group: copied, or shown in
        a post under the caller's header (his words; the message is then the update's own)."""
        found: list[Relayed] = []
        for m in self.hotline.desk(self.out):
            if isinstance(m, CopyMessage) and m.from_chat_id == self.user_id:
                seen = Relayed(self.user_id, m.message_id)
            elif isinstance(m, SendMessage) and m.text.startswith(CALLER_HEADER):
                update = self.last_update
                message = update.message or update.edited_message if update else None
                if message is None:
                    continue
                seen = Relayed(self.user_id, message.message_id)
            else:
                continue
            if seen not in found:
                found.append(seen)
        return found

    # -- what the store holds -----------------------------------------------------------------
    @property
    def key(self) -> str:
        return self.hotline.app.store.conversation_key(self.user_id)

    async def conversation(self) -> Conversation:
        loaded = await self.hotline.app.store.load(self.key, -1)
        return loaded.conversation

    async def state(self) -> str:
        return (await self.conversation()).state


async def redis_away(*args: Any, **kw: Any) -> Any:
    """In place of a store call: Redis does not answer (what the store raises then)."""
    raise StoreUnavailable("conversation store unavailable (ConnectionError)")


def deployment_keys() -> dict[str, str]:
    """Fresh sealing and id keys for hotlines that stand for one deployment's processes (one
    after another, or side by side): each reads what the other wrote."""
    return {
        "hotline_seal_keys": new_key(),
        "hotline_id_key": base64.b64encode(os.urandom(32)).decode(),
    }


def settings(**overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "operator_chat_id": DESK_CHAT,
        "operator_ids": frozenset({OPERATOR_ID}),
        **overrides,
    }
    return Settings(**values)


HotlineFactory = Callable[..., Awaitable[Hotline]]


@pytest.fixture
async def make_hotline() -> AsyncIterator[HotlineFactory]:
    made: list[Hotline] = []

    async def make(redis_client: redis.asyncio.Redis | None = None, **overrides: Any) -> Hotline:
        clock = Clock()
        session = RecordingSession()
        client = redis_client if redis_client is not None else fakeredis.FakeAsyncRedis()
        app = build_app(
            settings(**overrides),
            session=session,
            redis=client,
            clock=clock,
            throttle=False,
            translator=T,
        )
        hotline = Hotline(app, session, clock)
        made.append(hotline)
        return hotline

    yield make
    for hotline in made:
        hotline.app.deliverer.stop()
        await hotline.app.drain()


@pytest.fixture
async def hotline(make_hotline: HotlineFactory) -> Hotline:
    """The app on fakeredis."""
    return await make_hotline()


@pytest.fixture
async def any_hotline(redis_backend: redis.asyncio.Redis, make_hotline: HotlineFactory) -> Hotline:
    """The app on fakeredis and on the real server (tests/conftest.py's `redis_backend`)."""
    return await make_hotline(redis_backend)


# ---------------------------------------------------------------------------------------------
# Walking a caller to a state


DECLARATION = {"ru": "Я иду сдаваться", "uk": "Я йду здаватися"}

# A complete form: (field, how it is answered, value stored)
NAME = {"ru": "Петров Пётр Петрович", "uk": "Петренко Петро Петрович"}


async def fill_form(caller: Caller) -> None:
    """From the menu through the declaration and every detail to the review."""
    await caller.tap("menu-surrender")
    await caller.tap("declare")
    await caller.text(NAME[caller.lang])
    await caller.text("17.05.1990")
    await caller.tap("skip")  # unit
    await caller.tap("skip")  # rank
    await caller.tap("skip")  # service number
    await caller.text("2")
    await caller.tap("skip")  # area
    await caller.tap("skip")  # phone
    await caller.tap("skip")  # health
    await caller.tap("skip")  # wish
    assert await caller.state() == "review"


async def register(caller: Caller) -> str:
    """/start, the whole form, confirm: the case code he was given."""
    await caller.command("start")
    await fill_form(caller)
    await caller.press("confirm")
    conversation = await caller.conversation()
    assert conversation.state == "registered"
    return conversation.fields["case_code"]


async def reach(caller: Caller, state: str) -> None:
    """Walk a fresh caller to one of the states the bad-input tests use."""
    await caller.command("start")
    paths: dict[str, list[str]] = {
        "menu": [],
        "details_full_name": ["menu-surrender", "declare"],
        "details_health": ["menu-surrender", "declare"],
        "emergency_location": ["menu-emergency"],
        "handoff": ["menu-operator"],
    }
    for button in paths[state]:
        await caller.tap(button)
    if state == "details_health":
        await caller.text(NAME[caller.lang])
        await caller.text("17.05.1990")
        for _ in range(3):
            await caller.tap("skip")
        await caller.text("1")
        await caller.tap("skip")
        await caller.tap("skip")
    assert await caller.state() == state
