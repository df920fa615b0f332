"""Case events at the desk: what the flow's CaseEvents do to a case's record, card and topic
(registered, the meetup, the caller leaving, a live conversation, the endings), the hook events
the desk emits (flows.hooks) and the group's own feed of them in the queue view, and the end of
an escalation. A conversation the desk keeps nothing of (it never reached the desk) is told to
the hooks only: nothing is made for it (`unheld_event`).
"""

from __future__ import annotations

import contextlib
from dataclasses import replace
from typing import Final

import structlog
from aiogram.exceptions import TelegramAPIError

from bot.desk.cards import PRIORITY_NAMES, REFUSED_FOR_GOOD, priority_name, stage_of
from bot.desk.records import DeskCase
from bot.desk.topics import Topics
from flows.hooks import HookEvent
from flows.model import CaseEvent, Conversation

log = structlog.get_logger("hotline.desk")

# Endings at the caller's wish: the topic goes with his data (a met case's is kept, closed)
# "unlinked": a linked account's own conversation ended (its /forget or withdrawal), the case
# itself goes on with its owner
TOPIC_DELETED: Final = frozenset({"withdrawn", "erased", "unlinked"})
# Hook events the group's queue view shows (escalations are announced there already)
FEED_KINDS: Final = frozenset({"claimed", "meetup", "completed", "withdrawn", "erased"})
HOOKED: Final = frozenset(
    {"registered", "escalated", "recall", "meetup", "completed", "withdrawn", "erased"}
)
# A live conversation opened by an operator's message, and how it ends: the card's actions
# follow it; the topic hears when the caller's words go to the bot again
TALK_EVENTS: Final = {"talk": 1, "talk-back": 0, "talk-ended": 0}
# The case events the desk or the hooks act on ("updated", details changed, is none of them)
HEARD: Final = HOOKED | TOPIC_DELETED | frozenset(TALK_EVENTS) | {"left"}
# what a new escalation or its end leaves behind of the one before
ENDED_WITH_ESCALATION: Final = (
    "claimer",
    "claimed_at",
    "counted",
    "announced",
    "meetup",
    "raised",
    "talk",
)


class CaseEvents(Topics):
    async def unheld_event(self, conversation: Conversation, effect: CaseEvent) -> None:
        """A case event of a conversation the desk keeps nothing of (it never reached the desk:
        registered and left idle, say): only the hooks hear of it, by the case's registered id
        (the one an ending names, else the one the conversation owns), and nothing is kept."""
        owned = conversation.case_id if conversation.owns_case else None
        case_id = effect.case or owned
        if effect.kind in HOOKED and case_id is not None:
            await self._emit(effect.kind, case_id, None)

    async def _case_event(
        self, key: str, conversation: Conversation, effect: CaseEvent, case: DeskCase | None
    ) -> None:
        kind = effect.kind
        if case is None:
            await self.unheld_event(conversation, effect)
            return
        if kind == "meetup" and case.meetup:
            return  # instructions sent again: this escalation is at the meetup already
        if kind in ("registered", "meetup"):
            # the conversation is as the event left it (an ending one is erased already); a
            # new stage or label retitles the topic and redraws its card
            changes = {"meetup": 1} if kind == "meetup" else None
            case, _ = await self._sync(
                key, conversation, None, show=case.topic is not None, changes=changes, current=case
            )
        if kind == "left":
            await self._caller_left(case, conversation)
            return
        if kind in TALK_EVENTS:
            await self._talk(case, kind)
            return
        if kind in HOOKED:
            await self.emit(kind, case)
        if kind == "completed":
            await self._completed(case)
        elif kind in TOPIC_DELETED and case.topic is not None:
            # his data goes: what he sent and what operators wrote about him too (only that,
            # should another account of the case still use the topic)
            await self.state.mark_closed(case.key)
            await self.leave_topic(case, delete=True)

    async def _caller_left(self, case: DeskCase, conversation: Conversation) -> None:
        """He left the hand-off or cancelled the meeting himself: the topic is told, and the
        escalation ends as a /close ends it (a new one reopens the topic)."""
        if not case.open:
            return
        await self.close_escalation(case.key, conversation)
        if case.topic is not None:
            await self.post(case, self.t("desk-caller-left", stage=case.stage))
        log.info("the caller left", stage=case.stage)

    async def _talk(self, case: DeskCase, kind: str) -> None:
        """The card offers what a live conversation allows (Close brings him back to his step);
        the topic is told whose turn his words are (the operator's ended it himself)."""
        talking = TALK_EVENTS[kind]
        if not case.open or case.talk == bool(talking):
            return
        if not await self.state.update(case.key, {"talk": talking}):
            return
        await self.refresh_card(replace(case, talk=bool(talking)))
        if kind == "talk":
            await self.post(case, self.t("desk-talk", stage=case.stage))
        elif kind == "talk-back":
            await self.post(case, self.t("desk-talk-back"))

    async def _completed(self, case: DeskCase) -> None:
        """Met: the card says so and keeps no buttons; the topic is closed, its history kept."""
        await self.state.mark_closed(case.key)
        if case.topic is None:
            return
        await self.state.mark_topic_ended(case.topic)
        if self.retention is not None:
            await self.retention.schedule(case.topic)
        title = self.title(case, "completed")
        await self.refresh_card(case, ended="completed")
        await self.post(case, self.t("desk-case-ended"))
        with contextlib.suppress(TelegramAPIError):
            await self.bot.edit_forum_topic(self.chat_id, case.topic, name=title)
        with contextlib.suppress(TelegramAPIError):
            await self.bot.close_forum_topic(self.chat_id, case.topic)

    # -- hook events ------------------------------------------------------------------------------
    async def emit(self, kind: str, case: DeskCase) -> None:
        escalation = kind in ("escalated", "recall") and case.priority in PRIORITY_NAMES
        priority = priority_name(case.priority) if escalation else None
        reason = (case.reason or None) if escalation else None
        await self._emit(kind, case.case, case, priority, reason)

    async def _emit(
        self,
        kind: str,
        case_id: str,
        case: DeskCase | None,
        priority: str | None = None,
        reason: str | None = None,
    ) -> None:
        try:
            event = HookEvent(kind, case_id, self.clock(), priority=priority, reason=reason)
        except ValueError as exc:
            log.error("hook event not made", kind=kind, error=type(exc).__name__)
            return
        # the group, as one of the consumers, is handed the record the event is about (only
        # while it is emitted): nothing is looked up by the case's id
        self._emitting[event.id] = case
        try:
            await self.hooks.emit(event)
        finally:
            del self._emitting[event.id]

    async def feed(self, event: HookEvent) -> None:
        """The group as a hook consumer: lifecycle lines in the queue view, of the events this
        desk emits (it shows what it holds a topic of: an event about anything else, or from
        elsewhere, is nothing the group would know of)."""
        if event.kind not in FEED_KINDS:
            return
        case = self._emitting.get(event.id)
        if case is None or case.topic is None:
            return  # never escalated, so never a topic: nothing the group would know of
        if event.kind in TOPIC_DELETED and await self._topic_stays(case):
            # the conversation that ended is erased by now; a linked phone of the case still
            # there (the first phone withdrew or erased) keeps the topic, and saying it was
            # deleted would mislead
            return
        text = self.t("desk-feed", code=self.label(case), event=event.kind)
        await self.announce(text, None if event.kind in TOPIC_DELETED else case)

    async def _topic_stays(self, case: DeskCase) -> bool:
        for other in await self.shared.others(case):
            if await self.state.conversation_exists(other.key):
                return True
        return await self.state.conversation_exists(case.key)

    # -- the escalation ends, the conversation is gone -------------------------------------
    async def close_escalation(
        self, key: str, conversation: Conversation | None = None, *, durable: bool = False
    ) -> None:
        """The case no longer waits for an operator: claim dropped, card updated, topic closed
        (a new escalation reopens it). Title and card take the stage of the conversation as
        it is now (`conversation`, else the stored one). `durable`: a step of an outbox (tried
        again): a passing failure of Telegram raises."""
        await self.state.mark_closed(key)
        changed = await self.state.update(key, {"open": 0, "shut": 1}, *ENDED_WITH_ESCALATION)
        # (a step tried again after the record changed: the card and the topic still follow)
        case = await self.state.load(key) if changed or durable else None
        if case is None:
            return
        if conversation is None:
            loaded = await self.store.load(key, -1)
            conversation = loaded.conversation if loaded.version else None
        if conversation is not None and stage_of(conversation) != case.stage:
            case = await self._restage(case, stage_of(conversation))
        await self.refresh_card(case, durable=durable)
        if case.topic is not None and not any(o.open for o in await self.shared.others(case)):
            with contextlib.suppress(*(REFUSED_FOR_GOOD if durable else (TelegramAPIError,))):
                await self.bot.close_forum_topic(self.chat_id, case.topic)
