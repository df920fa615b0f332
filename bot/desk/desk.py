"""The operator desk: a forum supergroup with one topic per case, a card on top of each, a queue
view in the General topic, and the relay between the caller and the topic.

Topics are titled with a short case reference (`#` and the start of the case's pseudonymous
id, or of a random ref before registration) and the stage, never a name and never the case
code, which is the caller's secret. The card (the first message of the topic) shows the state,
priority, since when it waits and which operator has it ("operator N": their place in
OPERATOR_IDS; callers never see it), and is edited as the case moves. Everything the desk keeps
is in `bot.desk.records`; the card and the words in `bot.desk.cards`, the topic in
`bot.desk.topics`, what case events do and the hook events in `bot.desk.events` (the bases
of `Desk`); what operators do is in `bot.desk.actions`; links to a case from other accounts
and failed checks in `bot.desk.linking`.

The renderer calls `escalate`, `relay_from_caller`, `alert`, `case_event` and `erase` (the
`DeskPort` of bot.render) while it delivers a caller's effects, in order and one conversation at
a time (through the desk lane, bot.desk.lane). Case events also leave as hook events
(flows.hooks), of which the group itself is a consumer: `feed` posts lifecycle lines into the
queue view.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

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
from bot.desk.events import ENDED_WITH_ESCALATION, CaseEvents
from bot.desk.records import DeskCase, Speaking
from flows.model import CaseEvent, Conversation, Escalate, LinkNotice, Relay, SilentAlert

# what the rest of the bot takes from the desk (the card's parts are defined in bot.desk.cards)
__all__ = ["PRIORITY_NAMES", "Desk", "DeskData", "priority_name", "topic_link"]

log = structlog.get_logger("hotline.desk")


class Desk(CaseEvents):
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

    # (`current`, `loaded`: the record as the caller read it just now, None if there is none)
    async def escalate(
        self,
        key: str,
        conversation: Conversation,
        chat_id: int,
        effect: Escalate,
        current: DeskCase | None = None,
        *,
        loaded: bool = False,
    ) -> None:
        async with self._refusals("escalate"):
            if not loaded:
                current = await self.state.load(key)
            await self._escalate(key, conversation, chat_id, effect, current)

    async def relay_from_caller(
        self,
        key: str,
        conversation: Conversation,
        chat_id: int,
        effect: Relay,
        current: DeskCase | None = None,
        *,
        loaded: bool = False,
        remember: bool = True,
        speaking: Speaking | None = None,
    ) -> list[int]:
        """The group's messages that show what he sent: remembered (what goes should his data
        go alone) unless `remember` is off (the desk lane does it as the job leaves it).
        `speaking`: whom his topic talks to, read with `current`."""
        shown: list[int] = []
        async with self._refusals("relay"):
            if not loaded:
                current = await self.state.load(key)
            shown = await self._relay_from_caller(
                key, conversation, chat_id, effect, current, speaking
            )
            if remember:
                await self.shared.remember_posts(key, shown)
        return shown

    async def alert(
        self,
        key: str,
        conversation: Conversation,
        effect: SilentAlert,
        current: DeskCase | None = None,
        *,
        loaded: bool = False,
    ) -> None:
        async with self._refusals("alert"):
            if not loaded:
                current = await self.state.load(key)
            await self._alert(key, conversation, effect, current)

    async def case_event(
        self,
        key: str,
        conversation: Conversation,
        effect: CaseEvent,
        current: DeskCase | None = None,
        *,
        loaded: bool = False,
    ) -> None:
        async with self._refusals("case event"):
            if not loaded:
                current = await self.state.load(key)
            await self._case_event(key, conversation, effect, current)

    async def link_notice(self, effect: LinkNotice) -> None:
        if self.links is not None:
            async with self._refusals("link notice"):
                await self.links.notice(effect)

    async def show_case(self, key: str, conversation: Conversation) -> DeskCase:
        """The case's record and topic (made if missing), as the conversation is now."""
        case, _ = await self._sync(key, conversation, None, show=True)
        return case

    async def _escalate(
        self,
        key: str,
        conversation: Conversation,
        chat_id: int,
        effect: Escalate,
        current: DeskCase | None,
    ) -> None:
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
        case, retitle = await self._record(
            key, conversation, chat_id, changes, drop, current, loaded=True
        )
        # raised for his situation (bot.desk.profile): news for the queue too
        news = news or (current is not None and case.priority > max(priority, current.priority))
        priority = case.priority
        # (the case's shared topic, which a record with no topic may take, read at once)
        shared = await self.state.mark_open(key, case.since, read=self.shared.to_read(case))
        if news and not opening:
            # the first escalation is the flow's own "escalated" event; what comes later (at
            # the meeting point, help now, a higher priority) is news for every consumer too
            await self.emit("escalated", case)
        case, posted = await self._show(
            case,
            stage_of(conversation),
            retitle=retitle,
            refresh=False,
            shared=shared[0] if shared else None,
        )
        if not posted:  # (a topic made just now talks to him already)
            case = await self.take_topic(case)  # of a case with several accounts: his now
        name = priority_name(priority)
        if not posted:  # a new card says it all: the group's 20 messages a minute are dear
            await self.refresh_card(case)
            await self.post(case, self.t("desk-escalated", priority=name, reason=effect.reason))
        if news:
            text = self.t("desk-queue", code=self.label(case), priority=name, reason=effect.reason)
            await self.announce(text, case)
        log.info("escalated", priority=name, reason=effect.reason)

    async def _relay_from_caller(
        self,
        key: str,
        conversation: Conversation,
        chat_id: int,
        effect: Relay,
        current: DeskCase | None,
        speaking: Speaking | None = None,
    ) -> list[int]:
        case, posted = await self._sync(
            key, conversation, chat_id, show=True, current=current, loaded=True
        )
        if not posted:
            # the index read with the record holds while nothing about it was done since
            known = speaking if case is current else None
            case = await self.take_topic(case, unless_busy=True, known=known)
        return await self.caller_relay.show(case.topic, chat_id, effect)

    async def _alert(
        self,
        key: str,
        conversation: Conversation,
        effect: SilentAlert,
        current: DeskCase | None,
    ) -> None:
        """On the card and in the topic only: nothing reaches the queue, nor the caller."""
        changes = {"alert": effect.reason}
        case, posted = await self._sync(
            key,
            conversation,
            None,
            show=True,
            changes=changes,
            current=current,
            loaded=True,
            refresh=False,
        )
        if not posted:
            await self.refresh_card(case)
        await self.post(case, self.t("desk-silent-alert", reason=effect.reason))
        log.warning("silent alert", reason=effect.reason)

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
