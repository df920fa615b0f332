"""The operator desk: a forum supergroup with one topic per case, a card on top of each, a queue
view in the General topic, and the relay between the caller and the topic.

Topics are titled with a short case reference (`#` and the start of the case's pseudonymous
id, or of a random ref before registration) and the stage, never a name and never the case
code, which is the caller's secret. The card (the first message of the topic) shows the state,
priority, since when it waits and which operator has it ("operator N": their place in
OPERATOR_IDS; callers never see it), and is edited as the case moves. Everything the desk keeps
is in `bot.desk.records`; what operators do is in `bot.desk.actions`; links to a case from
other accounts and failed checks in `bot.desk.linking`.

The renderer calls `escalate`, `relay_from_caller`, `alert`, `case_event` and `erase` (the
`DeskPort` of bot.render) while it delivers a caller's effects, in order and one conversation at
a time. Case events also leave here as hook events (flows.hooks), of which the group itself is a
consumer: `feed` posts lifecycle lines into the queue view.
"""

from __future__ import annotations

import contextlib
import datetime
import html
import time
import zoneinfo
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import replace
from typing import Final, Protocol

import structlog
from aiogram import Bot
from aiogram.exceptions import (
    TelegramAPIError,
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNotFound,
)
from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup, Message

from bot.desk.details import DetailsReveal, render_details
from bot.desk.operators import OperatorList
from bot.desk.records import DeskCase, DeskState
from bot.desk.relay import CallerRelay
from bot.i18n import Translator
from flows import engine
from flows.hooks import HookEvent, Hooks
from flows.model import (
    CaseEvent,
    Conversation,
    Escalate,
    LinkNotice,
    Priority,
    Relay,
    SilentAlert,
)
from flows.store import ConversationStore

log = structlog.get_logger("hotline.desk")


class Sweeper(Protocol):
    async def sweep(self, now: float) -> int: ...


class Links(Protocol):
    """Links to a case and failed checks (bot.desk.linking, which builds on this module)."""

    async def card_line(self, case: DeskCase) -> str | None: ...

    async def notice(self, effect: LinkNotice) -> None: ...

    async def drop(self, owner: str) -> None: ...

    async def unlock(self, user_id: int, case: DeskCase, via: str) -> None: ...


PRIORITY_NAMES: Final[Mapping[int, str]] = {
    Priority.NORMAL: "normal",
    Priority.HIGH: "high",
    Priority.HIGHEST: "highest",
}
# Endings at the caller's wish: the topic goes with his data (a met case's is kept, closed)
# The group refused for good (a bad request, no rights, gone): retrying cannot help. The network
# and flood control are not among them: those raise, and the batch is tried again.
REFUSED_FOR_GOOD: Final = (TelegramBadRequest, TelegramForbiddenError, TelegramNotFound)
# "unlinked": a linked account's own conversation ended (its /forget or withdrawal), the case
# itself goes on with its owner
TOPIC_DELETED: Final = frozenset({"withdrawn", "erased", "unlinked"})
# Hook events the group's queue view shows (escalations are announced there already)
FEED_KINDS: Final = frozenset({"claimed", "meetup", "completed", "withdrawn", "erased"})
HOOKED: Final = frozenset(
    {"registered", "escalated", "recall", "meetup", "completed", "withdrawn", "erased"}
)
CARD_ROWS: Final = (
    ("claim", "release"),
    ("details", "verified"),
    ("meet",),
    ("met", "abort"),
    ("close", "erase"),
)
CONFIRMED: Final = {"met": "confirm-met", "erase": "confirm-erase"}
TOPIC_TITLE_MAX: Final = 128


class DeskData(CallbackData, prefix="desk"):
    """A card button: the action and the topic of the card (old cards keep working)."""

    action: str
    topic: int


def topic_link(chat_id: int, topic: int) -> str | None:
    """t.me link to a topic of a supergroup (its id is -100 followed by the internal id)."""
    text = str(chat_id)
    if not text.startswith("-100") or len(text) <= 4:
        return None
    return f"https://t.me/c/{text[4:]}/{topic}"


def _zone(name: str) -> datetime.tzinfo:
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        log.warning("unknown desk time zone: UTC is used")
        return datetime.UTC


def case_reference(case: DeskCase) -> str:
    """`#` and the start of the case's pseudonymous id (random, unrelated to the code); a linked
    account's topic shows the same reference as the owner's."""
    return f"#{case.case[:8]}"


def priority_name(priority: int) -> str:
    return PRIORITY_NAMES.get(priority, "none")


def stage_of(conversation: Conversation) -> str:
    return str(engine.status_params(conversation)["phase"])


class Desk:
    def __init__(
        self,
        bot: Bot,
        store: ConversationStore,
        translator: Translator,
        chat_id: int,
        *,
        operators: OperatorList,
        hooks: Hooks | None = None,
        language: str = "uk",
        clock: Callable[[], float] = time.time,
        timezone: str = "Europe/Kyiv",
        details_minutes: float = 5.0,
    ) -> None:
        self.bot = bot
        self.store = store
        self.translator = translator
        self.chat_id = chat_id
        self.operators = operators
        self.hooks = hooks if hooks is not None else Hooks()
        self.language = language
        self.clock = clock
        self.zone = _zone(timezone)
        self.state = DeskState(store)
        self.caller_relay = CallerRelay(bot, chat_id, self.t, self._label_of)
        self.details = DetailsReveal(
            bot, self.state, store.sealer, clock=clock, minutes=details_minutes
        )
        self.links: Links | None = None  # links and failed checks (bot.desk.linking)
        self.expiring: Sweeper | None = None  # the caller's messages with a time limit

    # -- words --------------------------------------------------------------------------------
    def t(self, message_id: str, **params: str | int) -> str:
        return self.translator.text(self.language, message_id, params)

    def _label_of(self, message_id: str) -> str | None:
        return self.t(message_id) if self.translator.has(self.language, message_id) else None

    def operator_label(self, digest: str | None) -> str:
        if digest is None:
            return "none"
        return self.t("desk-operator", n=self.operators.number(digest) or "?")

    def label(self, case: DeskCase) -> str:
        """The short case reference operators know a case by: never the code."""
        return case_reference(case)

    def local_time(self, moment: float) -> str:
        return datetime.datetime.fromtimestamp(moment, self.zone).strftime("%d.%m %H:%M")

    def local_day(self, moment: float) -> str:
        return datetime.datetime.fromtimestamp(moment, self.zone).date().isoformat()

    # -- sealing: what the desk keeps of the caller opens only for this conversation's record --
    def _seal(self, key: str, value: str) -> str:
        return self.store.sealer.seal(value.encode(), f"{key}|desk".encode())

    def _open(self, key: str, record: str) -> str:
        return self.store.sealer.unseal(record, f"{key}|desk".encode()).decode()

    def caller_chat(self, case: DeskCase) -> int | None:
        return int(self._open(case.key, case.chat)) if case.chat is not None else None

    # -- the card -----------------------------------------------------------------------------
    def card_state(self, case: DeskCase) -> str:
        if not case.open:
            return "closed"
        return "claimed" if case.claimer is not None else "waiting"

    def card_text(self, case: DeskCase, ended: str | None = None, extra: str | None = None) -> str:
        text = self.t(
            "desk-card",
            code=self.label(case),
            stage=ended or case.stage,
            state=ended or self.card_state(case),
            priority=priority_name(case.priority),
            reason=case.reason or "none",
            since=self.local_time(case.since) if case.open and ended is None else "none",
            operator=self.operator_label(case.claimer),
            verified="yes" if case.verified else "no",
        )
        if case.alert is not None:
            text += "\n" + self.t("desk-card-alert", reason=case.alert)
        return text if extra is None else f"{text}\n{extra}"

    async def _card_extra(self, case: DeskCase) -> str | None:
        return await self.links.card_line(case) if self.links is not None else None

    def card_markup(self, case: DeskCase, confirm: str | None = None) -> InlineKeyboardMarkup:
        topic = case.topic or 0

        def key(action: str) -> InlineKeyboardButton:
            data = DeskData(action=action, topic=topic).pack()
            return InlineKeyboardButton(text=self.t(f"desk-btn-{action}"), callback_data=data)

        if confirm is not None:
            return InlineKeyboardMarkup(
                inline_keyboard=[[key(CONFIRMED[confirm])], [key("cancel")]]
            )
        return InlineKeyboardMarkup(inline_keyboard=[[key(a) for a in row] for row in CARD_ROWS])

    async def refresh_card(
        self, case: DeskCase, *, ended: str | None = None, confirm: str | None = None
    ) -> None:
        if case.card is None:
            return
        markup = None if ended is not None else self.card_markup(case, confirm)
        try:
            await self.bot.edit_message_text(
                text=self.card_text(case, ended, await self._card_extra(case)),
                chat_id=self.chat_id,
                message_id=case.card,
                reply_markup=markup,
            )
        except TelegramAPIError as exc:  # "message is not modified", or the topic is gone
            log.info("card not edited", error=type(exc).__name__)

    async def show_keys(self, case: DeskCase, confirm: str | None = None) -> None:
        """Swap the card's buttons for a confirmation (or back), without touching its text."""
        if case.card is None:
            return
        with contextlib.suppress(TelegramAPIError):
            await self.bot.edit_message_reply_markup(
                chat_id=self.chat_id,
                message_id=case.card,
                reply_markup=self.card_markup(case, confirm),
            )

    # -- the topic ------------------------------------------------------------------------------
    async def _sync(
        self,
        key: str,
        conversation: Conversation,
        chat_id: int | None,
        *,
        show: bool,
        changes: Mapping[str, str | int | float] | None = None,
        drop: tuple[str, ...] = (),
        current: DeskCase | None = None,
        refresh: bool = True,
    ) -> tuple[DeskCase, bool]:
        """Bring the record up to date with the conversation (and, with `show`, the topic and
        its card); whether the card was posted just now."""
        case, retitle = await self._record(key, conversation, chat_id, changes, drop, current)
        if not show:
            return case, False
        return await self._show(case, stage_of(conversation), retitle=retitle, refresh=refresh)

    async def _record(
        self,
        key: str,
        conversation: Conversation,
        chat_id: int | None,
        changes: Mapping[str, str | int | float] | None = None,
        drop: tuple[str, ...] = (),
        current: DeskCase | None = None,
    ) -> tuple[DeskCase, bool]:
        """The record brought up to date with the conversation; whether its reference is new
        (the topic is to be titled again)."""
        current = current or await self.state.load(key)
        fields: dict[str, str | int | float] = dict(changes or {})
        if current is None or current.lang != conversation.lang:
            fields["lang"] = conversation.lang
        if conversation.case_id is not None and (
            current is None or current.case != conversation.case_id
        ):
            fields["case"] = conversation.case_id
        if chat_id is not None and (current is None or current.chat is None):
            fields["chat"] = self._seal(key, str(chat_id))
        retitle = current is not None and "case" in fields  # registered: a new reference
        if current is not None and not fields and not drop:
            case = current  # nothing new: no write (a relay costs one read)
        else:
            case, _ = await self.state.ensure(key, fields, drop)
        return case, retitle

    def title(self, case: DeskCase, stage: str) -> str:
        return self.t("desk-topic-title", code=self.label(case), stage=stage)[:TOPIC_TITLE_MAX]

    async def _show(
        self, case: DeskCase, stage: str, *, retitle: bool, refresh: bool = True
    ) -> tuple[DeskCase, bool]:
        """The topic made (with its card) if missing, else titled anew when its stage or label
        changed (the card too, unless `refresh` is off: the caller refreshes it anyway), and
        reopened if the bot had closed it and the case waits again."""
        if case.topic is None:
            title = self.title(case, stage)
            created = await self.bot.create_forum_topic(self.chat_id, title)
            topic = created.message_thread_id
            await self.state.set_topic(case.key, topic)
            case = replace(case, topic=topic, stage=stage)
            card = await self.bot.send_message(
                self.chat_id,
                self.card_text(case, extra=await self._card_extra(case)),
                message_thread_id=topic,
                reply_markup=self.card_markup(case),
            )
            await self.state.update(case.key, {"stage": stage, "card": card.message_id})
            return replace(case, card=card.message_id), True
        if stage != case.stage or retitle:
            case = await self._restage(case, stage)
            if refresh:
                await self.refresh_card(case)
        if case.shut and case.open and case.topic is not None:
            with contextlib.suppress(TelegramAPIError):
                await self.bot.reopen_forum_topic(self.chat_id, case.topic)
            await self.state.update(case.key, None, "shut")
            case = replace(case, shut=False)
        return case, False

    async def _restage(self, case: DeskCase, stage: str) -> DeskCase:
        """The topic titled with the case's label and this stage, which the record keeps."""
        if case.topic is not None:
            with contextlib.suppress(TelegramAPIError):
                await self.bot.edit_forum_topic(
                    self.chat_id, case.topic, name=self.title(case, stage)
                )
        await self.state.update(case.key, {"stage": stage})
        return replace(case, stage=stage)

    async def post(
        self, case: DeskCase, text: str, markup: InlineKeyboardMarkup | None = None
    ) -> Message:
        """A message in the case's topic (in General while it has none)."""
        return await self.bot.send_message(
            self.chat_id, text, message_thread_id=case.topic, reply_markup=markup
        )

    async def announce(self, text: str, case: DeskCase | None = None) -> None:
        """A post in the queue view (the General topic), with a way into the case's topic."""
        markup = None
        link = topic_link(self.chat_id, case.topic) if case and case.topic else None
        if link is not None:
            button = InlineKeyboardButton(text=self.t("desk-btn-open-topic"), url=link)
            markup = InlineKeyboardMarkup(inline_keyboard=[[button]])
        await self.bot.send_message(self.chat_id, text, reply_markup=markup)

    # -- effects of the flow (the renderer's DeskPort) --------------------------------------
    @contextlib.asynccontextmanager
    async def _refusals(self, effect: str) -> AsyncIterator[None]:
        """The group refusing for good (the bot lost its rights, the group is no forum, a
        message cannot be copied) must not hold back the caller's own messages, delivered in
        the same run: it is logged loudly and the record stays as it is (an open escalation is
        announced again by the service levels, a missing topic is made at the next relay).
        Passing trouble (flood control, the network, Telegram's servers) is raised, so the
        whole batch is delivered again later."""
        try:
            yield
        except REFUSED_FOR_GOOD as exc:
            log.error(
                "the operator group refused",
                effect=effect,
                error=type(exc).__name__,
            )

    async def escalate(
        self, key: str, conversation: Conversation, chat_id: int, effect: Escalate
    ) -> None:
        async with self._refusals("escalate"):
            await self._escalate(key, conversation, chat_id, effect)

    async def relay_from_caller(
        self, key: str, conversation: Conversation, chat_id: int, effect: Relay
    ) -> None:
        async with self._refusals("relay"):
            await self._relay_from_caller(key, conversation, chat_id, effect)

    async def alert(self, key: str, conversation: Conversation, effect: SilentAlert) -> None:
        async with self._refusals("alert"):
            await self._alert(key, conversation, effect)

    async def case_event(self, key: str, conversation: Conversation, effect: CaseEvent) -> None:
        async with self._refusals("case event"):
            await self._case_event(key, conversation, effect)

    async def link_notice(self, effect: LinkNotice) -> None:
        if self.links is not None:
            async with self._refusals("link notice"):
                await self.links.notice(effect)

    async def show_case(self, key: str, conversation: Conversation) -> DeskCase:
        """The case's record and topic (made if missing), as the conversation is now."""
        case, _ = await self._sync(key, conversation, None, show=True)
        return case

    async def _escalate(
        self, key: str, conversation: Conversation, chat_id: int, effect: Escalate
    ) -> None:
        current = await self.state.load(key)
        priority = int(effect.priority)
        if current is None or not current.open:
            news = opening = True
        else:
            opening = False
            # the queue hears of a new signal or a higher priority, not of a button pressed again
            news = priority > current.priority or effect.reason != current.reason
            priority = max(priority, current.priority)
        changes: dict[str, str | int | float] = {
            "open": 1,
            "priority": priority,
            "reason": effect.reason,
        }
        drop: tuple[str, ...] = ()
        if opening:
            changes["since"] = changes["opened"] = self.clock()
            drop = ("claimer", "claimed_at", "counted", "announced", "meetup")
        case, retitle = await self._record(key, conversation, chat_id, changes, drop, current)
        await self.state.mark_open(key, case.since)
        if news and not opening:
            # the first escalation is the flow's own "escalated" event; what comes later (at
            # the meeting point, help now, a higher priority) is news for every consumer too
            await self.emit("escalated", case)
        case, posted = await self._show(
            case, stage_of(conversation), retitle=retitle, refresh=False
        )
        name = priority_name(priority)
        if not posted:  # a new card says it all: the group's 20 messages a minute are dear
            await self.refresh_card(case)
            await self.post(case, self.t("desk-escalated", priority=name, reason=effect.reason))
        if news:
            text = self.t("desk-queue", code=self.label(case), priority=name, reason=effect.reason)
            await self.announce(text, case)
        log.info("escalated", priority=name, reason=effect.reason)

    async def _relay_from_caller(
        self, key: str, conversation: Conversation, chat_id: int, effect: Relay
    ) -> None:
        case, _ = await self._sync(key, conversation, chat_id, show=True)
        await self.caller_relay.show(case.topic, chat_id, effect)

    async def _alert(self, key: str, conversation: Conversation, effect: SilentAlert) -> None:
        """On the card and in the topic only: nothing reaches the queue, nor the caller."""
        case, posted = await self._sync(
            key, conversation, None, show=True, changes={"alert": effect.reason}, refresh=False
        )
        if not posted:
            await self.refresh_card(case)
        await self.post(case, self.t("desk-silent-alert", reason=effect.reason))
        log.warning("silent alert", reason=effect.reason)

    async def _case_event(self, key: str, conversation: Conversation, effect: CaseEvent) -> None:
        kind = effect.kind
        case = await self.state.load(key)
        if kind == "meetup" and case is not None and case.meetup:
            return  # instructions sent again: this escalation is at the meetup already
        if kind == "registered" or (kind == "meetup" and case is not None):
            # the conversation is as the event left it (an ending one is erased already); a
            # new stage or label retitles the topic and redraws its card
            show = case is not None and case.topic is not None
            changes = {"meetup": 1} if kind == "meetup" else None
            case, _ = await self._sync(
                key, conversation, None, show=show, changes=changes, current=case
            )
        if case is None:
            return  # no case and never escalated: nothing to tell anyone
        if kind == "left":
            await self._caller_left(case, conversation)
            return
        if kind in HOOKED:
            await self.emit(kind, case)
        if kind == "completed":
            await self._completed(case)
        elif kind in TOPIC_DELETED and case.topic is not None:
            # his data goes: what he sent and what operators wrote about him too
            await self.state.mark_closed(case.key)
            await self._delete_topic(case.topic)

    async def _caller_left(self, case: DeskCase, conversation: Conversation) -> None:
        """He left the hand-off or cancelled the meeting himself: the topic is told, and the
        escalation ends as a /close ends it (a new one reopens the topic)."""
        if not case.open:
            return
        await self.close_escalation(case.key, conversation)
        if case.topic is not None:
            await self.post(case, self.t("desk-caller-left", stage=case.stage))
        log.info("the caller left", stage=case.stage)

    async def _completed(self, case: DeskCase) -> None:
        """Met: the card says so and keeps no buttons; the topic is closed, its history kept."""
        await self.state.mark_closed(case.key)
        if case.topic is None:
            return
        await self.state.mark_topic_ended(case.topic)
        title = self.title(case, "completed")
        await self.refresh_card(case, ended="completed")
        await self.post(case, self.t("desk-case-ended"))
        with contextlib.suppress(TelegramAPIError):
            await self.bot.edit_forum_topic(self.chat_id, case.topic, name=title)
        with contextlib.suppress(TelegramAPIError):
            await self.bot.close_forum_topic(self.chat_id, case.topic)

    async def erase(self, key: str, *, topic: bool = False) -> None:
        """Every desk key of the case goes with the conversation. `topic`: its forum topic too,
        as for a withdrawn or erased case (the owner's record of a case ended from a linked
        account, which no case event of its own ends); deleted first, so a repeat after an
        interruption still finds it through the record."""
        if topic:
            case = await self.state.load(key)
            if case is not None and case.topic is not None:
                await self._delete_topic(case.topic)
        if self.links is not None:
            await self.links.drop(key)
        await self.state.delete(key)

    async def _delete_topic(self, topic: int) -> None:
        """Gone already, or never deletable: nothing more to do. The network or flood control
        raises instead, so the batch is tried again while the record still knows the topic."""
        with contextlib.suppress(*REFUSED_FOR_GOOD):
            await self.bot.delete_forum_topic(self.chat_id, topic)

    # -- hook events ------------------------------------------------------------------------------
    async def emit(self, kind: str, case: DeskCase) -> None:
        escalation = kind in ("escalated", "recall") and case.priority in PRIORITY_NAMES
        try:
            event = HookEvent(
                kind,
                case.case,
                self.clock(),
                priority=priority_name(case.priority) if escalation else None,
                reason=(case.reason or None) if escalation else None,
            )
        except ValueError as exc:
            log.error("hook event not made", kind=kind, error=type(exc).__name__)
            return
        await self.hooks.emit(event)

    async def feed(self, event: HookEvent) -> None:
        """The group as a hook consumer: lifecycle lines in the queue view."""
        if event.kind not in FEED_KINDS:
            return
        key = await self.state.of_case(event.case)
        case = await self.state.load(key) if key is not None else None
        if case is None or case.topic is None:
            return  # never escalated, so never a topic: nothing the group would know of
        if event.kind in TOPIC_DELETED and await self.state.conversation_exists(case.key):
            # the conversation that ended is erased by now; one still there is a linked
            # phone's (the first phone withdrew or erased): its topic stays, and saying it
            # was deleted would mislead
            return
        text = self.t("desk-feed", code=self.label(case), event=event.kind)
        await self.announce(text, None if event.kind in TOPIC_DELETED else case)

    # -- the escalation ends, the conversation is gone -------------------------------------
    async def close_escalation(self, key: str, conversation: Conversation | None = None) -> None:
        """The case no longer waits for an operator: claim dropped, card updated, topic closed
        (a new escalation reopens it). Title and card take the stage of the conversation as
        it is now (`conversation`, else the stored one)."""
        await self.state.mark_closed(key)
        changed = await self.state.update(
            key,
            {"open": 0, "shut": 1},
            *("claimer", "claimed_at", "counted", "announced", "meetup"),
        )
        case = await self.state.load(key) if changed else None
        if case is None:
            return
        if conversation is None:
            loaded = await self.store.load(key, -1)
            conversation = loaded.conversation if loaded.version else None
        if conversation is not None and stage_of(conversation) != case.stage:
            case = await self._restage(case, stage_of(conversation))
        await self.refresh_card(case)
        if case.topic is not None:
            with contextlib.suppress(TelegramAPIError):
                await self.bot.close_forum_topic(self.chat_id, case.topic)

    async def forget(self, key: str) -> None:
        """The conversation expired without an ending: its desk record goes, its topic closes."""
        case = await self.state.delete(key)
        if case is not None and case.topic is not None:
            await self.state.mark_topic_ended(case.topic)
            with contextlib.suppress(TelegramAPIError):
                await self.bot.close_forum_topic(self.chat_id, case.topic)

    # -- operator to caller ---------------------------------------------------------------------
    async def relay_to_caller(self, case: DeskCase, message: Message) -> bool:
        chat = self.caller_chat(case)
        if chat is None:
            return False
        try:
            copied = await self.bot.copy_message(
                chat, self.chat_id, message.message_id, protect_content=True
            )
        except TelegramAPIError as exc:
            return await self._undelivered(case, exc)
        await self.store.remember_chat_message(case.key, copied.message_id)
        await self.state.remember_relayed(case.key, message.message_id, self.clock())
        return True

    async def relay_correction(self, case: DeskCase, message: Message) -> bool:
        """An operator edited a message the caller has: the new version goes again, marked."""
        chat = self.caller_chat(case)
        if chat is None:
            return False
        mark = self.translator.text(case.lang, "desk-relay-correction")
        try:
            if message.text is not None:
                body = f"{mark}\n{html.escape(message.text)}"
                sent = await self.bot.send_message(chat, body, protect_content=True)
                ids = [sent.message_id]
            else:
                sent = await self.bot.send_message(chat, mark, protect_content=True)
                copied = await self.bot.copy_message(
                    chat, self.chat_id, message.message_id, protect_content=True
                )
                ids = [sent.message_id, copied.message_id]
        except TelegramAPIError as exc:
            return await self._undelivered(case, exc)
        for message_id in ids:
            await self.store.remember_chat_message(case.key, message_id)
        return True

    async def _undelivered(self, case: DeskCase, exc: TelegramAPIError) -> bool:
        log.warning("relay to the caller failed", error=type(exc).__name__)
        with contextlib.suppress(TelegramAPIError):
            await self.post(case, self.t("desk-relay-failed"))
        return False

    # -- details, shown to the claimer only, for a few minutes --------------------------------
    def details_text(self, case: DeskCase, fields: Mapping[str, str], claimer: str) -> str:
        head = self.t(
            "desk-details",
            code=self.label(case),
            operator=self.operator_label(claimer),
            minutes=_minutes(self.details.minutes),
        )
        return render_details(
            fields,
            head=head,
            field_name=lambda name: self.t("desk-field", field=name),
            shown=self._shown,
            empty=self.t("desk-details-empty"),
        )

    def _shown(self, name: str, value: str) -> str:
        if self.translator.has(self.language, f"btn-{value}"):
            return self.t(f"btn-{value}")  # a choice: its label, in the operators' language
        if name in {"birth_date", "sought_birth"} and value.count("-") == 2:
            year, month, day = value.split("-")
            return f"{day}.{month}.{year}"
        return value

    async def sweep(self, now: float | None = None) -> int:
        done = await self.details.sweep(now)
        if self.expiring is not None:
            await self.expiring.sweep(self.clock() if now is None else now)  # the code shown once
        return done

    async def aclose(self) -> None:
        await self.details.aclose()


def _minutes(value: float) -> int | str:
    return int(value) if float(value).is_integer() else f"{value:g}"
