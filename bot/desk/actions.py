"""What operators do in the desk group: claim a case, act on it, write to the caller.

Only ids in OPERATOR_IDS act. Anyone else's button or command is refused with a notice, logged
and audited under a keyed digest of their id (an unlisted id in the operator group is the
adversary until shown otherwise). Of the listed operators, only the one who claimed a case acts
on it and writes to its caller. Actions that move the caller's dialogue (meet, met, abort,
close, erase) go into the caller's conversation as `OperatorAction` events through the same
path as the caller's own updates: one at a time per conversation, deduplicated by `update_id`,
committed with their effects, delivered from the outbox.

Every method returns the notice for the operator (None: nothing to say); the router replies with
it, or answers the button with it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Final, assert_never

import structlog
from aiogram.types import Message

from bot import metrics
from bot.desk import confirm
from bot.desk.at_topic import case_of
from bot.desk.audit import Audit
from bot.desk.card_actions import valid_actions
from bot.desk.desk import Desk
from bot.desk.followups import desk_steps, follow_up, keys_step
from bot.desk.kinds import (
    CASE_ACTIONS,
    CONFIRMED,
    FLOW_ACTIONS,
    ClaimStatus,
    DeskAction,
    ReleaseStatus,
    desk_action,
)
from bot.desk.operators import OperatorList
from bot.desk.records import DeskCase
from bot.pipeline import Pipeline
from flows import fields as field_rules
from flows.model import DeskDone, FlowAction, OperatorAction

log = structlog.get_logger("hotline.operators")

MEET_TIME_MAX: Final = 40
MEET_PLACE_MAX: Final = 400


def parse_meeting(args: str) -> dict[str, str | int] | None:
    """`05:30 | лесополоса у трассы` -> time and place; None unless both are there."""
    time_part, bar, place_part = args.partition("|")
    when = field_rules.clean_text(time_part)
    where = field_rules.clean_text(place_part)
    if not bar or not when or not where:
        return None
    if len(when) > MEET_TIME_MAX or len(where) > MEET_PLACE_MAX:
        return None
    return {"time": when, "place": where}


class DeskActions:
    def __init__(
        self,
        desk: Desk,
        pipeline: Pipeline,
        audit: Audit,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.desk = desk
        self.pipeline = pipeline
        self.audit = audit
        self.operators: OperatorList = desk.operators
        self.clock = clock

    @property
    def t(self) -> Callable[..., str]:
        return self.desk.t

    # -- who may ------------------------------------------------------------------------------
    async def case_of(self, topic: int | None) -> DeskCase | None:
        return await case_of(self.desk, topic)

    async def refuse_stranger(self, user_id: int, action: str, topic: int | None, via: str) -> str:
        """Someone not on the list pressed or typed an action: refused, logged, audited."""
        who = self.operators.who(user_id)
        case = await self.case_of(topic)
        log.warning("refused: not an operator", action=action, via=via, who=who)
        await self.audit.record(
            who,
            action,
            case.case if case else "-",
            result="refused",
            why="not-operator",
            via=via,
        )
        return self.t("desk-refused")

    # (refuse and claimer_only are the desk tools' way to the same refusals: bot.desk.canned,
    # bot.desk.shift, bot.desk.talk)
    async def refuse(self, user_id: int, action: str, case: DeskCase, why: str, via: str) -> None:
        """A listed operator's action refused (`why`): logged and audited under his
        pseudonym; what he is told is the caller's to say."""
        who = self.operators.who(user_id)
        log.info("operator action refused", action=action, why=why, who=who)
        await self.audit.record(who, action, case.case, result="refused", why=why, via=via)

    async def claimer_only(
        self, user_id: int, action: str, case: DeskCase, via: str
    ) -> str | None:
        """None when this operator has the case; else why not, told to them and audited."""
        if case.claimer == self.operators.digest(user_id):
            return None
        if case.claimer is None and not case.open:
            await self.refuse(user_id, action, case, "not-open", via)
            return self.t("desk-not-waiting")
        if case.claimer is None:
            await self.refuse(user_id, action, case, "not-claimed", via)
            return self.t("desk-claim-first")
        await self.refuse(user_id, action, case, "claimed-by-another", via)
        return self.t("desk-not-claimer", operator=self.desk.operator_label(case.claimer))

    # -- commands and buttons -------------------------------------------------------------------
    async def run(
        self,
        user_id: int,
        update_id: int,
        topic: int | None,
        action: DeskAction,
        args: str = "",
        *,
        via: str,
    ) -> str | None:
        """One action on the case of `topic`, from a listed operator."""
        if not self.operators.listed(user_id):
            return await self.refuse_stranger(user_id, action, topic, via)
        if action == DeskAction.HELP:
            return self.t("desk-help")
        if topic is None:
            return self.t("desk-topic-only")
        case = await self.case_of(topic)
        if case is None:
            return self.t("desk-no-case")
        if action == DeskAction.CLAIM:
            return await self.claim(user_id, case, via, update_id)
        if action == DeskAction.RELEASE:
            return await self.release(user_id, case, via, update_id)
        if action == DeskAction.UNLOCK and self.desk.links is not None:
            await self.desk.links.unlock(user_id, case, via)  # any listed operator, audited
            return None
        refusal = await self.claimer_only(user_id, action, case, via)
        if refusal is not None:
            return refusal
        if action == DeskAction.DETAILS:
            return await self.details(user_id, case, via)
        if action == DeskAction.VERIFIED:
            return await self.verified(user_id, case, via, update_id)
        if action in FLOW_ACTIONS and action not in valid_actions(case):
            await self.refuse(user_id, action, case, "not-now", via)
            return self.t("desk-not-now")
        if action in CONFIRMED and via == "command":
            await confirm.ask_typed(self.desk, case, action)  # typed, it asks like the button
            return None
        if action in FLOW_ACTIONS:
            return await self.to_flow(user_id, update_id, case, action, args, via)
        return None

    async def press(
        self, user_id: int, update_id: int, topic: int, data: str, message: int | None = None
    ) -> tuple[str | None, bool]:
        """A button of the card (or of a typed command's question, `message`; the action its
        callback data names): the notice, and whether to show it as an alert."""
        if not self.operators.listed(user_id):
            return await self.refuse_stranger(user_id, data, topic, "button"), True
        action = desk_action(data)
        if action == DeskAction.MEET:  # time and place are typed: the button says how
            return self.t("desk-meet-usage"), True
        if action in CONFIRMED or action == DeskAction.CANCEL:
            case = await self.case_of(topic)
            if case is None:
                return self.t("desk-stale"), True
            me = self.operators.digest(user_id)
            if action == DeskAction.CANCEL:
                if message is not None and message != case.card:
                    await confirm.answered(self.desk, case, message, acted=False)
                else:
                    await self._follow_up(case, update_id, [keys_step(action, me)])
                return None, False
            refusal = await self.claimer_only(user_id, action, case, "button")
            if refusal is not None:
                return refusal, True
            if action not in valid_actions(case):  # an old card's button
                await self.refuse(user_id, action, case, "not-now", "button")
                return self.t("desk-not-now"), True
            await self._follow_up(case, update_id, [keys_step(action, me)])
            return self.t("desk-confirm", action=action), False
        confirmed = confirm.CONFIRMING.get(action) if action is not None else None
        action = confirmed or action
        if action not in CASE_ACTIONS:
            return self.t("desk-stale"), True  # an old card's button, or none of ours
        notice = await self.run(user_id, update_id, topic, action, via="button")
        if confirmed is not None:
            # refused (the stage does not allow it, the case is gone, not theirs): the card
            # gets its own buttons back rather than a confirmation that cannot be given
            case = await self.case_of(topic)
            if case is not None:
                await confirm.answered(self.desk, case, message, acted=notice is None)
        return notice, notice is not None

    # -- claims ---------------------------------------------------------------------------------
    async def claim(self, user_id: int, case: DeskCase, via: str, update_id: int) -> str | None:
        me = self.operators.digest(user_id)
        now = self.clock()
        result = await self.desk.state.claim(case.key, me, now, update_id)
        match result.status:
            case ClaimStatus.NO_CASE:
                return self.t("desk-no-case")
            case ClaimStatus.NOT_OPEN:
                # closed (or never escalated): there is no one to answer, so nothing to take on
                await self.refuse(user_id, DeskAction.CLAIM, case, "not-open", via)
                return self.t("desk-not-waiting")
            case ClaimStatus.ALREADY_MINE if result.update != update_id:
                return self.t("desk-yours")
            case ClaimStatus.ALREADY_MINE:
                # Telegram delivers the claiming update again: its desk part may not have been
                # committed (Redis failed right after the claim); committed once by update_id
                pass
            case ClaimStatus.TAKEN:
                await self.refuse(user_id, DeskAction.CLAIM, case, "claimed-by-another", via)
                return self.t("desk-taken", operator=self.desk.operator_label(result.claimer))
            case ClaimStatus.CLAIMED:
                pass
            case _:
                assert_never(result.status)
        if result.first:
            # time to claim: the first claim of the escalation, from when it was opened (a
            # claim after a release is not a new wait in the statistics)
            await self.desk.state.record_claim_time(self.desk.local_day(now), now - case.opened)
            metrics.TIME_TO_CLAIM.observe(now - case.opened)
        steps = desk_steps(DeskAction.CLAIM, me, case=case.case, via=via)
        await self._follow_up(case, update_id, steps, OperatorAction(FlowAction.CLAIM))
        return None

    async def release(self, user_id: int, case: DeskCase, via: str, update_id: int) -> str | None:
        me = self.operators.digest(user_id)
        status = await self.desk.state.release(case.key, me, self.clock())
        if status == ReleaseStatus.NO_CASE:
            return self.t("desk-no-case")
        if status == ReleaseStatus.NOT_MINE:
            refusal = await self.claimer_only(user_id, DeskAction.RELEASE, case, via)
            return refusal or self.t("desk-claim-first")
        steps = desk_steps(DeskAction.RELEASE, me, case=case.case, via=via)
        await self._follow_up(case, update_id, steps, OperatorAction(FlowAction.RELEASE))
        return None

    # -- the claimer's actions ------------------------------------------------------------------
    async def details(self, user_id: int, case: DeskCase, via: str) -> str | None:
        store = self.desk.store
        fields: dict[str, str] = {}
        conversation = (await store.load(case.key, -1)).conversation
        if conversation.case_id is not None and not conversation.owns_case:
            owner = await store.conversation_of_case(conversation.case_id)
            if owner is not None:
                fields.update((await store.load(owner, -1)).conversation.fields)
        fields.update(conversation.fields)
        me = self.operators.digest(user_id)
        text = self.desk.details_text(case, fields, me)
        # his private chat with the bot: his Telegram id (never the topic, which all read)
        if not await self.desk.details.reveal(user_id, text):
            await self.refuse(user_id, DeskAction.DETAILS, case, "no-private-chat", via)
            username = (await self.desk.bot.me()).username or ""
            return self.t("desk-details-start-bot", bot=username)
        metrics.REVEALS.inc()
        # the reveal itself is what the audit keeps: who saw which case's details, and when
        await self.audit.record(
            self.operators.who(user_id), DeskAction.DETAILS, case.case, result="ok", via=via
        )
        return self.t("desk-details-sent", minutes=_minutes(self.desk.details.minutes))

    async def verified(self, user_id: int, case: DeskCase, via: str, update_id: int) -> str | None:
        await self.desk.state.update(case.key, {"verified": 1})
        me = self.operators.digest(user_id)
        steps = desk_steps(DeskAction.VERIFIED, me, case=case.case, via=via)
        await self._follow_up(case, update_id, steps)
        return None

    async def _follow_up(
        self,
        case: DeskCase,
        update_id: int,
        steps: list[DeskDone],
        event: OperatorAction | None = None,
    ) -> None:
        """What the group sees of it (the audit line too), from the caller's outbox, a step at
        a time (bot.desk.followups), after what `event` does in his conversation (a claim:
        someone guides him now); with no conversation to carry it (gone already), at once."""
        chat = self.desk.caller_chat(case)
        handled = None
        if chat is not None:
            handled = await self.pipeline.note(case.key, chat, update_id, steps, event=event)
        if handled is None:
            conversation = (await self.desk.store.load(case.key, -1)).conversation
            for step in steps:
                await follow_up(self.desk, self.audit, case.key, conversation, step)

    async def to_flow(
        self,
        user_id: int,
        update_id: int,
        case: DeskCase,
        action: DeskAction,
        args: str,
        via: str,
    ) -> str | None:
        """Meet, met, abort, close, erase: an event in the caller's own conversation."""
        params: dict[str, str | int] = {}
        if action == DeskAction.MEET:
            meeting = parse_meeting(args)
            if meeting is None:
                return self.t("desk-meet-usage")
            params = meeting
        chat = self.desk.caller_chat(case)
        if chat is None or not await self.desk.state.conversation_exists(case.key):
            await self.refuse(user_id, action, case, "case-gone", via)
            return self.t("desk-case-gone")
        event = OperatorAction(FLOW_ACTIONS[action], params)
        # queued with the caller's own updates; the desk's part (its audit line too) leaves
        # from the same outbox, committed with them
        me = self.operators.digest(user_id)
        also = desk_steps(action, me, case=case.case, via=via)
        handled = await self.pipeline.from_desk(case.key, chat, update_id, event, also=also)
        if handled.batch is None:
            return None  # Telegram sent this update again: it was applied the first time
        if not handled.batch.effects:
            await self.refuse(user_id, action, case, "not-now", via)
            return self.t("desk-not-now")
        return None

    # -- the relay (the operator's message to the caller: bot.desk.talk.relay) ------------
    async def relay_edit(self, user_id: int, topic: int, message: Message) -> None:
        if not self.operators.listed(user_id):
            await self.refuse_stranger(user_id, "relay-edit", topic, "edit")
            return
        if _is_note(message):
            return
        case = await self.case_of(topic)
        if case is None or case.claimer != self.operators.digest(user_id):
            return  # not theirs to correct (any more)
        if not await self.desk.state.was_relayed(case.key, message.message_id):
            return  # refused, a note, or written before the claim: he never had it
        if await self.desk.relay_correction(case, message):
            await self.audit.record(
                self.operators.who(user_id), "relay-edit", case.case, result="ok"
            )


def _minutes(value: float) -> int | str:
    return int(value) if float(value).is_integer() else f"{value:g}"


def _is_note(message: Message) -> bool:
    return (message.text or message.caption or "").lstrip().startswith("!")


def _kind(message: Message) -> str:
    content_type = message.content_type
    return str(getattr(content_type, "value", content_type))
