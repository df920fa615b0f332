"""The case's forum topic: made with its card when first needed, titled with the case reference
and stage (never a name, never the code), reopened when the case waits again; posts into it and
into the queue view; an operator's messages copied to the caller."""

from __future__ import annotations

import contextlib
import html
from collections.abc import Mapping
from dataclasses import replace
from typing import Final

import structlog
from aiogram.exceptions import (
    TelegramAPIError,
)
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup, Message

from bot.desk.cards import REFUSED_FOR_GOOD, Cards, priority_name, stage_of, topic_link
from bot.desk.profile import profile_of, raised
from bot.desk.records import DeskCase, Speaking
from bot.desk.scripted import at_once
from flows.model import Conversation

log = structlog.get_logger("hotline.desk")

TOPIC_TITLE_MAX: Final = 128
# The group refused for good (a bad request, no rights, gone): retrying cannot help. The network
# and flood control are not among them: those raise, and the batch is tried again.


class Topics(Cards):
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
        loaded: bool = False,
    ) -> tuple[DeskCase, bool]:
        """Bring the record up to date with the conversation (and, with `show`, the topic and
        its card); whether the card was posted just now. `loaded`: `current` is the record as
        just read (None: there is none)."""
        before = current if loaded else current or await self.state.load(key)
        case, retitle = await self._record(
            key, conversation, chat_id, changes, drop, before, loaded=True
        )
        if not show:
            return case, False
        stage = stage_of(conversation)
        case, posted = await self._show(case, stage, retitle=retitle, refresh=refresh)
        if before is None or posted:
            return case, posted
        if case.raised and not before.raised:
            await self._raised(case)  # an answer came that makes the case more urgent
        elif refresh and case.profile != before.profile and stage == before.stage and not retitle:
            await self.refresh_card(case)  # what the card says of his situation changed
        return case, posted

    async def _raised(self, case: DeskCase) -> None:
        """The card, the topic and the queue hear of a priority raised for his situation."""
        profile = self.profile(case)
        why = "injuries" if profile is not None and profile.injuries == "serious" else "group"
        people = profile.people if profile is not None else 0
        name = priority_name(case.priority)
        await self.refresh_card(case)
        await self.post(
            case, self.t("desk-priority-raised", priority=name, why=why, people=people)
        )
        text = self.t("desk-queue", code=self.label(case), priority=name, reason=case.reason)
        await self.announce(text, case)

    async def _record(
        self,
        key: str,
        conversation: Conversation,
        chat_id: int | None,
        changes: Mapping[str, str | int | float] | None = None,
        drop: tuple[str, ...] = (),
        current: DeskCase | None = None,
        *,
        loaded: bool = False,
    ) -> tuple[DeskCase, bool]:
        """The record brought up to date with the conversation; whether its reference is new
        (the topic is to be titled again). `loaded`: `current` is the record as just read
        (None: there is none), not to be read again."""
        if current is None and not loaded:
            current = await self.state.load(key)
        fields: dict[str, str | int | float] = dict(changes or {})
        if current is None or current.lang != conversation.lang:
            fields["lang"] = conversation.lang
        if conversation.case_id is not None and (
            current is None or current.case != conversation.case_id
        ):
            fields["case"] = conversation.case_id
        if chat_id is not None and (current is None or current.chat is None):
            fields["chat"] = self._seal(key, str(chat_id))
        await self._profile(key, conversation, current, fields)
        retitle = current is not None and "case" in fields  # registered: a new reference
        if current is not None and not fields and not drop:
            case = current  # nothing new: no write (a relay costs one read)
        else:
            case, _ = await self.state.ensure(key, fields, drop)
        if retitle and case.topic is not None:
            await self.shared.join(case)  # registered now: his other accounts will share it
        return case, retitle

    async def _profile(
        self,
        key: str,
        conversation: Conversation,
        current: DeskCase | None,
        fields: dict[str, str | int | float],
    ) -> None:
        """His situation as the card shows it, kept when it changed; a serious injury or a
        group of five or more raises an open escalation one step, once (a suspected probe's
        never: bot.desk.marks)."""
        profile = profile_of(conversation)
        if current is None or self.profile(current) != profile:
            fields["profile"] = self._seal(key, profile.dumps())
        opening = "since" in fields
        is_open = opening or (current is not None and current.open)
        if not is_open or not profile.urgent:
            return
        if current is not None and current.raised and not opening:
            return
        if self.marks is not None and await self.marks.of_conversation(key, conversation):
            return
        base = int(fields.get("priority", current.priority if current is not None else 0))
        if raised(base) == base:
            return  # the highest already
        fields["priority"] = raised(base)
        fields["raised"] = 1

    def title(self, case: DeskCase, stage: str) -> str:
        return self.t("desk-topic-title", code=self.label(case), stage=stage)[:TOPIC_TITLE_MAX]

    async def _show(
        self,
        case: DeskCase,
        stage: str,
        *,
        retitle: bool,
        refresh: bool = True,
        shared: Mapping[str, str] | None = None,
    ) -> tuple[DeskCase, bool]:
        """The topic made (with its card) if missing, else titled anew when its stage or label
        changed (the card too, unless `refresh` is off: the caller refreshes it anyway), and
        reopened if the bot had closed it and the case waits again. `shared`: the case's
        shared topic, read already (bot.desk.shared_topics)."""
        adopted = await self._adopt(case, shared) if case.topic is None else None
        if adopted is not None:
            case = adopted  # another account's topic of the case: the card is there already
        elif case.topic is None:
            title = self.title(case, stage)
            created = await self.bot.create_forum_topic(self.chat_id, title)
            topic = created.message_thread_id
            # (what the card's lines are made of, read with the index's check)
            found = await self.state.set_topic(case.key, topic, read=self._card_reads(case))
            case = replace(case, topic=topic, stage=stage)
            card = await self.bot.send_message(
                self.chat_id,
                self.card_text(case, extra=await self._card_extra(case, found)),
                message_thread_id=topic,
                reply_markup=self.card_markup(case),
            )
            case = replace(case, card=card.message_id)
            # the record and the case's shared topic hear of the card at once
            written = self.state.update_call(case.key, {"stage": stage, "card": card.message_id})
            await at_once(self.state.redis, written, *filter(None, [self.shared.join_call(case)]))
            return case, True
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

    # -- one topic per case across its accounts (bot.desk.shared_topics) -----------------------
    async def _adopt(
        self, case: DeskCase, read: Mapping[str, str] | None = None
    ) -> DeskCase | None:
        """The case's topic, taken by this account's record; None when the case has none."""
        found = await self.shared.of_case(case, read)
        if found is None:
            return None
        topic, card = found
        await self.state.update(case.key, {"card": card})
        await self.state.set_topic(case.key, topic)  # the topic talks to this account now
        # shut: reopened below if this record waits (the other account's may have closed it)
        case = replace(case, topic=topic, card=card, shut=True)
        await self.shared.join(case)
        await self._now_speaking(case)
        return case

    async def take_topic(
        self, case: DeskCase, *, unless_busy: bool = False, known: Speaking | None = None
    ) -> DeskCase:
        """The shared topic talks to this account from now on (`unless_busy`: unless the
        account it talks to has an open escalation). `known`: the topic's index as read with
        the record, nothing awaited since."""
        if case.topic is None or await self.shared.speaks(case, known):
            return case
        if unless_busy:
            current = await self.shared.talks_to(case.topic, known)
            other = await self.state.load(current) if current is not None else None
            if other is not None and other.open:
                return case
        await self.state.set_topic(case.key, case.topic)
        await self._now_speaking(case)
        return case

    async def _now_speaking(self, case: DeskCase) -> None:
        """Whom an operator's message in the topic reaches now: said in the topic."""
        profile = self.profile(case)
        via = profile.via if profile is not None else "own"
        with contextlib.suppress(*REFUSED_FOR_GOOD):  # the topic went meanwhile (an erasure)
            await self.post(
                case, self.t("desk-topic-now", via="linked" if via == "linked" else "own")
            )
        await self.refresh_card(case)

    async def leave_topic(self, case: DeskCase, *, delete: bool) -> bool:
        """This account's record leaves the case's topic (its data goes, or it expired):
        whether another account still uses it. `delete`: what showed this account in it goes
        too (his messages, the operators' to him), or the whole topic if it was his alone."""
        others = await self.shared.others(case)
        await self.shared.leave(case)
        if not others:
            if delete and case.topic is not None:
                with contextlib.suppress(*REFUSED_FOR_GOOD):
                    await self.bot.delete_forum_topic(self.chat_id, case.topic)
            return False
        if delete:
            for batch in self.shared.batches(await self.shared.posts(case.key)):
                with contextlib.suppress(*REFUSED_FOR_GOOD):
                    await self.bot.delete_messages(self.chat_id, batch)
        if await self.shared.speaks(case):
            await self.take_topic(others[0])
        return True

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
