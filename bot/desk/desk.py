"""The operator desk: a forum supergroup with one topic per case, a card on top of each, a queue
view in the General topic, and the relay between the caller and the topic.

Topics are titled with a short case reference (`#` and the start of the case's pseudonymous
id, or of a random ref before registration) and the stage, never a name and never the case
code, which is the caller's secret. The card (the first message of the topic) shows the state,
priority, since when it waits and which operator has it ("operator N": their place in
OPERATOR_IDS; callers never see it), and is edited as the case moves. Everything the desk keeps
is in `bot.desk.records`; the card and the words in `bot.desk.cards`, the topic in
`bot.desk.topics` (the bases of `Desk`); what operators do is in `bot.desk.actions`; links to a
case from other accounts and failed checks in `bot.desk.linking`.

The renderer calls `escalate`, `relay_from_caller`, `alert`, `case_event` and `erase` (the
`DeskPort` of bot.render) while it delivers a caller's effects, in order and one conversation at
a time. Case events also leave here as hook events (flows.hooks), of which the group itself is a
consumer: `feed` posts lifecycle lines into the queue view.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Final

import structlog
from aiogram.exceptions import (
    TelegramAPIError,
)

from bot.desk.cards import (
    PRIORITY_NAMES,
    REFUSED_FOR_GOOD,
    DeskData,
    priority_name,
    stage_of,
    topic_link,
)
from bot.desk.records import DeskCase
from bot.desk.topics import Topics
from flows.hooks import HookEvent
from flows.model import CaseEvent, Conversation, Escalate, LinkNotice, Relay, SilentAlert

# what the rest of the bot takes from the desk (the card's parts are defined in bot.desk.cards)
__all__ = ["PRIORITY_NAMES", "Desk", "DeskData", "priority_name", "topic_link"]

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


class Desk(Topics):
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
            drop = ENDED_WITH_ESCALATION
        case, retitle = await self._record(key, conversation, chat_id, changes, drop, current)
        # raised for his situation (bot.desk.profile): news for the queue too
        news = news or (current is not None and case.priority > max(priority, current.priority))
        priority = case.priority
        await self.state.mark_open(key, case.since)
        if news and not opening:
            # the first escalation is the flow's own "escalated" event; what comes later (at
            # the meeting point, help now, a higher priority) is news for every consumer too
            await self.emit("escalated", case)
        case, posted = await self._show(
            case, stage_of(conversation), retitle=retitle, refresh=False
        )
        case = await self.take_topic(case)  # of a case with several accounts: this one's now
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
        case = await self.take_topic(case, unless_busy=True)
        shown = await self.caller_relay.show(case.topic, chat_id, effect)
        await self.shared.remember_posts(key, shown)  # what goes should his data go alone

    async def _alert(self, key: str, conversation: Conversation, effect: SilentAlert) -> None:
        """On the card and in the topic only: nothing reaches the queue, nor the caller."""
        case, posted = await self._sync(
            key, conversation, None, show=True, changes={"alert": effect.reason}, refresh=False
        )
        if not posted:
            await self.refresh_card(case)
        await self.post(case, self.t("desk-silent-alert", reason=effect.reason))
        log.warning("silent alert", reason=effect.reason)

    async def unheld_event(self, conversation: Conversation, effect: CaseEvent) -> None:
        """A case event of a conversation the desk keeps nothing of (it never reached the desk:
        registered and left idle, say): only the hooks hear of it, by the case's registered id
        (the one an ending names, else the one the conversation owns), and nothing is kept."""
        owned = conversation.case_id if conversation.owns_case else None
        case_id = effect.case or owned
        if effect.kind in HOOKED and case_id is not None:
            await self._emit(effect.kind, case_id, None)

    async def _case_event(self, key: str, conversation: Conversation, effect: CaseEvent) -> None:
        kind = effect.kind
        case = await self.state.load(key)
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
        case = await self.state.load(key)
        if not topic and case is not None and case.topic is not None:
            await self.leave_topic(case, delete=False)  # another account's now, if any
        await self.state.delete(key)

    async def _delete_topic(self, topic: int) -> None:
        """Gone already, or never deletable: nothing more to do. The network or flood control
        raises instead, so the batch is tried again while the record still knows the topic."""
        with contextlib.suppress(*REFUSED_FOR_GOOD):
            await self.bot.delete_forum_topic(self.chat_id, topic)

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

    async def forget(self, key: str) -> None:
        """The conversation expired without an ending: its desk record goes, its topic closes
        (unless another account of the case still uses it)."""
        case = await self.state.load(key)
        shared = case is not None and case.topic is not None
        shared = shared and case is not None and await self.leave_topic(case, delete=False)
        case = await self.state.delete(key)
        if case is not None and case.topic is not None and not shared:
            await self.state.mark_topic_ended(case.topic)
            if self.retention is not None:
                await self.retention.schedule(case.topic)
            with contextlib.suppress(TelegramAPIError):
                await self.bot.close_forum_topic(self.chat_id, case.topic)

    async def sweep(self, now: float | None = None) -> int:
        done = await self.details.sweep(now)
        if self.expiring is not None:
            await self.expiring.sweep(self.clock() if now is None else now)  # the code shown once
        if self.retention is not None:
            await self.retention.sweep(now)  # closed topics of ended cases, after a while
        return done

    async def aclose(self) -> None:
        await self.details.aclose()
