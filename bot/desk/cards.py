"""What the operator desk shows: its words (the operators' language and time zone), the card on
top of each case's topic with its buttons, and the private details text. The base of
`bot.desk.desk.Desk`, so it also holds everything the desk is built with."""

from __future__ import annotations

import contextlib
import datetime
import time
import zoneinfo
from collections.abc import Callable, Mapping
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
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from bot.desk.canned_keys import canned_rows
from bot.desk.card_actions import card_rows
from bot.desk.details import DetailsReveal, render_details
from bot.desk.kinds import CONFIRMED, DeskAction
from bot.desk.operators import OperatorList
from bot.desk.profile import CaseProfile
from bot.desk.records import DeskCase, DeskState
from bot.desk.relay import CallerRelay
from bot.desk.shared_topics import SharedTopics, registered
from bot.i18n import Translator
from flows import engine
from flows.hooks import Hooks
from flows.model import Conversation, LinkNotice, Priority
from flows.sealing import SealError
from flows.store import ConversationStore

log = structlog.get_logger("hotline.desk")
# Telegram's answers that trying again will not change (the bot lost its rights, the message or
# the topic is gone, "message is not modified")
REFUSED_FOR_GOOD: Final = (TelegramBadRequest, TelegramForbiddenError, TelegramNotFound)


class Sweeper(Protocol):
    async def sweep(self, now: float) -> int: ...


class CardMarks(Protocol):
    """Suspected probes and blocked accounts (bot.desk.marks): a line on the card (`own`: the
    account's mark hash, read already)."""

    def mark_key(self, key: str) -> str: ...

    async def card_line(
        self, case: DeskCase, own: Mapping[str, str] | None = None
    ) -> str | None: ...

    async def of_conversation(
        self, key: str, conversation: Conversation | None
    ) -> object | None: ...


class Retention(Protocol):
    """Ended topics, deleted after a while (bot.desk.retention)."""

    async def schedule(self, topic: int) -> None: ...

    async def sweep(self, now: float | None = None) -> int: ...


class Links(Protocol):
    """Links to a case and failed checks (bot.desk.linking, which builds on this module)."""

    def links_key(self, owner: str) -> str: ...

    async def card_line(
        self, case: DeskCase, counted: Mapping[str, str] | None = None
    ) -> str | None: ...

    async def notice(self, effect: LinkNotice) -> None: ...

    async def drop(self, owner: str) -> None: ...

    async def unlock(self, user_id: int, case: DeskCase, via: str) -> None: ...


PRIORITY_NAMES: Final[Mapping[int, str]] = {
    Priority.NORMAL: "normal",
    Priority.HIGH: "high",
    Priority.HIGHEST: "highest",
}


class DeskData(CallbackData, prefix="desk"):
    """A card button: the action and the topic of the card. The action is a `DeskAction`
    value, kept a string here so that an old card's button is answered, not dropped."""

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


class Cards:
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
        self.shared = SharedTopics(self.state)  # one topic per case across its accounts
        self.marks: CardMarks | None = None  # suspected probes, blocks (bot.desk.marks)
        self.retention: Retention | None = None  # ended topics deleted (bot.desk.retention)
        self.expiring: Sweeper | None = None  # the caller's messages with a time limit
        # hook event id -> the record it is about, while the event is emitted (bot.desk.desk)
        self._emitting: dict[str, DeskCase | None] = {}

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

    def _card_reads(self, case: DeskCase) -> list[str]:
        """The hashes the card's lines on links and marks are made of."""
        links = self.links if self.links is not None and registered(case) else None
        names = [] if links is None else [links.links_key(case.key)]
        if self.marks is not None:
            names.append(self.marks.mark_key(case.key))
        return names

    async def _card_extra(
        self, case: DeskCase, found: list[dict[str, str]] | None = None
    ) -> str | None:
        """The card's lines below its state (`found`: the hashes of `_card_reads`, read
        already)."""
        lines = [self.profile_line(case)]
        links = self.links if self.links is not None and registered(case) else None
        if found is None:
            found = await self.state.read_hashes(self._card_reads(case))  # at once
        if links is not None:
            lines.append(await links.card_line(case, found.pop(0)))
        if self.marks is not None:
            lines.append(await self.marks.card_line(case, found.pop(0)))
        return "\n".join(line for line in lines if line) or None

    def profile(self, case: DeskCase) -> CaseProfile | None:
        if case.profile is None:
            return None
        try:
            return CaseProfile.loads(self._open(case.key, case.profile))
        except (SealError, ValueError, TypeError):
            return None

    def profile_line(self, case: DeskCase) -> str | None:
        """His language, group size, injuries' category, way in: never who or where."""
        profile = self.profile(case)
        if profile is None:
            return None
        return self.t(
            "desk-card-profile",
            language=profile.lang,
            people=profile.people,
            injuries=profile.injuries,
            via=profile.via,
        )

    def card_markup(
        self, case: DeskCase, confirm: DeskAction | None = None
    ) -> InlineKeyboardMarkup:
        topic = case.topic or 0

        def key(action: DeskAction) -> InlineKeyboardButton:
            data = DeskData(action=action, topic=topic).pack()
            return InlineKeyboardButton(text=self.t(f"desk-btn-{action}"), callback_data=data)

        if confirm is not None:
            return InlineKeyboardMarkup(
                inline_keyboard=[[key(CONFIRMED[confirm])], [key(DeskAction.CANCEL)]]
            )
        rows = [[key(a) for a in row] for row in card_rows(case)]  # what the case allows now
        if case.open:  # someone to talk to: the canned replies under the card
            rows += canned_rows(self.t, topic)
        return InlineKeyboardMarkup(inline_keyboard=rows)

    async def refresh_card(
        self,
        case: DeskCase,
        *,
        ended: str | None = None,
        confirm: DeskAction | None = None,
        durable: bool = False,
    ) -> None:
        """The card as the case is now. `durable`: a step of an outbox, which is tried again,
        so only a failure for good is logged; a passing one (the network) raises."""
        if case.card is None:
            return
        if ended is None:
            case = await self._speaking(case)
        markup = None if ended is not None else self.card_markup(case, confirm)
        try:
            await self.bot.edit_message_text(
                text=self.card_text(case, ended, await self._card_extra(case)),
                chat_id=self.chat_id,
                message_id=case.card,
                reply_markup=markup,
            )
        except TelegramAPIError as exc:  # "message is not modified", or the topic is gone
            if durable and not isinstance(exc, REFUSED_FOR_GOOD):
                raise
            log.info("card not edited", error=type(exc).__name__)

    async def _speaking(self, case: DeskCase) -> DeskCase:
        """The record of the account the topic talks to: a case's accounts share one topic and
        one card (bot.desk.shared_topics), which shows the one an operator's message reaches."""
        if case.topic is None:
            return case
        key = await self.state.of_topic(case.topic)
        if key is None or key == case.key:
            return case
        other = await self.state.load(key)
        return other if other is not None and other.topic == case.topic else case

    async def show_keys(self, case: DeskCase, confirm: DeskAction | None = None) -> None:
        """Swap the card's buttons for a confirmation (or back), without touching its text (a
        step of the caller's outbox: a failure for good is let go, a passing one raises)."""
        if case.card is None:
            return
        with contextlib.suppress(*REFUSED_FOR_GOOD):
            await self.bot.edit_message_reply_markup(
                chat_id=self.chat_id,
                message_id=case.card,
                reply_markup=self.card_markup(case, confirm),
            )

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


def _minutes(value: float) -> int | str:
    return int(value) if float(value).is_integer() else f"{value:g}"
