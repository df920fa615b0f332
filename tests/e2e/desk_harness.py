"""The operator side of the end-to-end harness (tests/e2e/conftest.py plays the callers).

`Operator` is one Telegram account in the operator forum group: it writes in a case topic,
sends commands, presses card buttons and edits its messages, each as a real `Update` fed to the
Dispatcher. `DeskView` reads what the group received: topics, cards (with their edits), queue
posts, notices. Texts are rendered from the packs in the operators' language (uk by default).
"""

from __future__ import annotations

from typing import Any

from aiogram.methods import (
    AnswerCallbackQuery,
    CopyMessage,
    CreateForumTopic,
    EditMessageReplyMarkup,
    EditMessageText,
    SendMessage,
    TelegramMethod,
)
from aiogram.types import InlineKeyboardMarkup, Message, Update, User

from bot.desk.canned_keys import SayData
from bot.desk.desk import DeskData
from bot.desk.records import DeskCase
from bot.offline.client import forum
from bot.offline.session import Sent
from flows.hooks import HookEvent
from tests.e2e.conftest import DESK_CHAT, Caller, Hotline, register, t

OPERATORS = (5_550_001, 5_550_002, 5_550_003)
STRANGER = 6_660_666  # in the group, not on the list
DESK_LANG = "uk"

DESK_GROUP = forum(DESK_CHAT)


def dt(message_id: str, **params: str | int) -> str:
    """A desk text in the operators' language."""
    return t(DESK_LANG, message_id, **params)


def profile_line(
    lang: str = "ru", people: int = 0, injuries: str = "unknown", via: str = "new"
) -> str:
    """The card's line on his situation (bot.desk.profile)."""
    return dt("desk-card-profile", language=lang, people=people, injuries=injuries, via=via)


def op_label(n: int) -> str:
    return dt("desk-operator", n=n)


class Operator:
    """One account in the operator group: `account` builds its updates (bot.offline.client)."""

    def __init__(self, hotline: Hotline, user_id: int, name: str = "Operator") -> None:
        self.hotline = hotline
        self.user_id = user_id
        self.account = hotline.client.member(user_id, name)
        self.out: list[Sent] = []
        self.last_update: Update | None = None

    @property
    def user(self) -> User:
        return self.account.user

    async def feed(self, update: Update) -> list[Sent]:
        self.last_update = update
        self.out = await self.hotline.feed(update)
        return self.out

    async def send(self, topic: int | None, **content: Any) -> Message:
        update = self.account.sends(topic=topic, **content)
        assert update.message is not None
        await self.feed(update)
        return update.message

    async def say(self, topic: int | None, text: str) -> Message:
        return await self.send(topic, text=text)

    async def edit(self, message: Message, **content: Any) -> None:
        await self.feed(self.account.edit(message, **content))

    async def press(self, topic: int, action: str, card: int | None = None) -> str | None:
        """A button of the topic's card (or of the message `card`); what the bot answered."""
        if card is None:
            card = await self._card_of(topic)
        data = DeskData(action=action, topic=topic).pack()
        await self.callback(data, topic, card)
        return self.answer()

    async def _card_of(self, topic: int) -> int:
        state = self.hotline.app.desk.state
        key = await state.of_topic(topic)
        case = await state.load(key) if key is not None else None
        return case.card if case is not None and case.card is not None else 1

    async def callback(self, data: str, topic: int | None, card: int = 1) -> None:
        await self.feed(self.account.press(data, card, topic=topic, text="(card)"))

    def question(self) -> tuple[int, str, list[str]]:
        """The question the bot asked in answer to this operator's last typed command: its
        message id, text and buttons."""
        found = [
            (int(s.result.message_id), s.method.text, actions)
            for s in self.out
            if isinstance(s.method, SendMessage)
            and (actions := _desk_actions(s.method.reply_markup)) is not None
            and _is_question(actions)
        ]
        assert len(found) == 1, found
        return found[0]

    async def confirm(self, topic: int, action: str = "") -> str | None:
        """Presses "yes" (or `action`: "cancel") under the question of the last command."""
        message, _, actions = self.question()
        yes = action or next(a for a in actions if a.startswith("confirm-"))
        return await self.press(topic, yes, card=message)

    def answer(self) -> str | None:
        answers = [s.method for s in self.out if isinstance(s.method, AnswerCallbackQuery)]
        assert len(answers) == 1, answers
        return answers[0].text

    def replies(self) -> list[str]:
        """Notices the bot answered this operator's last message with, in the group."""
        return [
            s.method.text
            for s in self.out
            if isinstance(s.method, SendMessage)
            and s.method.chat_id == DESK_CHAT
            and s.method.reply_parameters is not None
        ]


class DeskView:
    """What the operator group received."""

    def __init__(self, hotline: Hotline) -> None:
        self.hotline = hotline

    def calls(self, sent: list[Sent] | None = None) -> list[TelegramMethod[Any]]:
        return self.hotline.desk(sent)

    def posts(self, sent: list[Sent] | None = None, topic: int | None = None) -> list[str]:
        """Texts posted in a topic (default: the queue view, General)."""
        return [
            m.text
            for m in self.calls(sent)
            if isinstance(m, SendMessage) and m.message_thread_id == topic
        ]

    def copies(self, sent: list[Sent] | None = None) -> list[CopyMessage]:
        return [m for m in self.calls(sent) if isinstance(m, CopyMessage)]

    def topics(self) -> list[CreateForumTopic]:
        return [m for m in self.calls() if isinstance(m, CreateForumTopic)]

    def card(self) -> tuple[str, InlineKeyboardMarkup | None]:
        """The latest text and buttons of the (last) case card."""
        text: str | None = None
        markup: InlineKeyboardMarkup | None = None
        for method in self.calls():
            if isinstance(method, SendMessage) and isinstance(
                method.reply_markup, InlineKeyboardMarkup
            ):
                if _is_card(method.reply_markup):
                    text, markup = method.text, method.reply_markup
            elif isinstance(method, EditMessageText):
                text = method.text
                markup = method.reply_markup
            elif isinstance(method, EditMessageReplyMarkup):
                markup = method.reply_markup
        assert text is not None, "no card yet"
        return text, markup

    async def case(self, caller: Caller) -> DeskCase:
        case = await self.hotline.app.desk.state.load(caller.key)
        assert case is not None, "the caller has no case on the desk"
        return case

    async def topic(self, caller: Caller) -> int:
        topic = (await self.case(caller)).topic
        assert topic is not None
        return topic


def _desk_actions(markup: Any) -> list[str] | None:
    """The desk actions of a markup's buttons; None when it is not the desk's."""
    if not isinstance(markup, InlineKeyboardMarkup):
        return None
    data = [b.callback_data or "" for row in markup.inline_keyboard for b in row]
    desk = [d for d in data if d.startswith(DeskData.__prefix__ + ":")]
    if data and not desk:
        return None  # a queue post's link, or none of the desk's
    return [DeskData.unpack(d).action for d in desk]  # (canned replies have their own data)


def _is_question(actions: list[str]) -> bool:
    """Only "yes" and "no, back": a typed command's question (or the card asking)."""
    return bool(actions) and all(a.startswith("confirm-") or a == "cancel" for a in actions)


def _is_card(markup: Any) -> bool:
    """A card's buttons (a closed case's card has none), not a typed command's question."""
    actions = _desk_actions(markup)
    return actions is not None and not _is_question(actions)


def _data(markup: InlineKeyboardMarkup | None, prefix: str) -> list[str]:
    """The callback data of the markup's buttons made with this CallbackData prefix."""
    assert markup is not None
    every = [b.callback_data or "" for row in markup.inline_keyboard for b in row]
    return [data for data in every if data.startswith(prefix + ":")]


def card_actions(markup: InlineKeyboardMarkup | None) -> list[str]:
    return [DeskData.unpack(d).action for d in _data(markup, DeskData.__prefix__)]


def canned_buttons(markup: InlineKeyboardMarkup | None) -> list[str]:
    """The canned replies the card offers (bot.desk.canned_keys), in order."""
    return [SayData.unpack(d).name for d in _data(markup, SayData.__prefix__)]


async def recall(caller: Caller) -> str:
    """Register, then come back ready: the case is escalated (high priority, "recall")."""
    code = await register(caller)
    await caller.tap("ready")
    await caller.text({"ru": "Я иду сдаваться", "uk": "Я йду здаватися"}[caller.lang])
    assert await caller.state() == "recall_location"
    return code


async def reference(caller: Caller) -> str:
    """The short case reference operators see for his case: never the code."""
    case_id = (await caller.conversation()).case_id
    assert case_id is not None
    return f"#{case_id[:8]}"


class Recorder:
    """A hook consumer that keeps what it is given."""

    def __init__(self) -> None:
        self.events: list[HookEvent] = []

    async def handle(self, event: HookEvent) -> None:
        self.events.append(event)


def to_caller(operator: Operator, caller: Caller) -> list[Any]:
    return [s.method for s in operator.out if getattr(s.method, "chat_id", None) == caller.user_id]


async def to_meetup(caller: Caller) -> None:
    """From the location question through people and injuries to the meetup screen."""
    await caller.location()
    await caller.text("3")
    await caller.tap("health-none")
    assert await caller.state() == "meetup"


async def redis_state(hotline: Hotline) -> dict[str, Any]:
    """Every key and its value, but the audit stream (which a refusal adds to)."""
    redis = hotline.redis
    audit = hotline.app.audit.key
    snapshot: dict[str, Any] = {}
    async for raw in redis.scan_iter():
        key = raw.decode() if isinstance(raw, bytes) else raw
        if key == audit:
            continue
        raw_kind = await redis.type(key)
        kind = raw_kind.decode() if isinstance(raw_kind, bytes) else str(raw_kind)
        if kind == "hash":
            snapshot[key] = await redis.hgetall(key)
        elif kind == "string":
            snapshot[key] = await redis.get(key)
        elif kind == "zset":
            snapshot[key] = await redis.zrange(key, 0, -1, withscores=True)
        elif kind == "list":
            snapshot[key] = await redis.lrange(key, 0, -1)
        else:
            snapshot[key] = kind
    return snapshot
