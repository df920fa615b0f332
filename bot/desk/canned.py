"""Canned replies: short messages the claiming operator sends a caller in the caller's language
("are you safe?", "send your location", "stay where you are", "walk towards the drone", "white
cloth and no weapon", "we will contact you at TIME"), by a button under the case card or by
`/say NAME [ARGS]` in the case's topic; `/say` alone lists them. The meeting instructions are one
of them too (`/say meet TIME | PLACE`), which is the `/meet` flow action: the caller's dialogue
moves to the meetup.

A canned reply goes the way an operator's own message does (bot.desk.talk): only from the
operator who claimed the case, to a conversation that still exists, as an event of it (where a
step of his reads answers, a live conversation opens: "are you safe?" is not answered into the
form), delivered once from its outbox with protect_content, remembered among the bot's messages
in his chat (a /forget wipes it), told in the topic (so the shift sees what he was sent) and
audited by its name only. The texts are in locales/ (`canned-*`, names and labels in
the operators' language: `desk-canned-*`); flows.catalogue_shift lists them.
"""

from __future__ import annotations

import html
from collections.abc import Callable

import structlog
from aiogram.exceptions import TelegramAPIError

from bot.desk.actions import MEET_TIME_MAX, DeskActions
from bot.desk.at_topic import case_at
from bot.desk.audit import Audit
from bot.desk.desk import Desk
from bot.desk.kinds import DeskAction
from bot.desk.records import DeskCase
from flows import fields as field_rules
from flows.catalogue_shift import CANNED, CANNED_ARGS
from flows.model import FlowAction, OperatorAction

log = structlog.get_logger("hotline.desk.canned")


class CannedReplies:
    def __init__(self, desk: Desk, actions: DeskActions, audit: Audit) -> None:
        self.desk = desk
        self.actions = actions
        self.audit = audit

    @property
    def t(self) -> Callable[..., str]:
        return self.desk.t

    # -- what operators see ---------------------------------------------------------------
    def listing(self) -> str:
        lines = [self.t("desk-canned-list")]
        for name in CANNED:
            word = self.t("desk-canned-word", name=name)
            label = self.t("desk-canned-label", name=name)
            if name in CANNED_ARGS:
                args = self.t("desk-canned-args", name=name)
                lines.append(self.t("desk-canned-line-args", word=word, args=args, label=label))
            else:
                lines.append(self.t("desk-canned-line", word=word, label=label))
        return "\n".join(lines)

    def find(self, word: str) -> str | None:
        """A reply by its word in the operators' language, or by its own (Latin) name."""
        wanted = word.casefold()
        for name in CANNED:
            if wanted in (name, self.t("desk-canned-word", name=name).casefold()):
                return name
        return None

    def usage(self, name: str) -> str:
        word = self.t("desk-canned-word", name=name)
        return self.t("desk-canned-usage", word=word, args=self.t("desk-canned-args", name=name))

    # -- picking one ------------------------------------------------------------------------
    async def say(
        self, user_id: int, update_id: int, topic: int | None, args: str, *, via: str
    ) -> str | None:
        """`/say`, `/say NAME [ARGS]`: the notice for the operator (None: nothing to say)."""
        actions = self.actions
        if not actions.operators.listed(user_id):
            return await actions.refuse_stranger(user_id, "say", topic, via)
        word, _, rest = args.strip().partition(" ")
        if not word:
            return self.listing()
        name = self.find(word)
        if name is None:
            return self.t("desk-canned-unknown")
        if name == "meet":  # the flow's own action: the dialogue moves to the meetup
            if not rest.strip():
                return self.usage(name)
            return await actions.run(user_id, update_id, topic, DeskAction.MEET, rest, via=via)
        return await self.send(user_id, update_id, topic, name, rest, via=via)

    async def press(
        self, user_id: int, update_id: int, topic: int, name: str
    ) -> tuple[str | None, bool]:
        """A canned-reply button: the notice, and whether to show it as an alert."""
        if not self.actions.operators.listed(user_id):
            return await self.actions.refuse_stranger(user_id, "say", topic, "button"), True
        if name not in CANNED:
            return self.t("desk-stale"), True
        if name in CANNED_ARGS:  # a value must be typed: the button says how
            return self.usage(name), True
        notice = await self.send(user_id, update_id, topic, name, "", via="button")
        return notice, notice is not None

    async def send(
        self, user_id: int, update_id: int, topic: int | None, name: str, rest: str, *, via: str
    ) -> str | None:
        actions, desk = self.actions, self.desk
        case = await case_at(desk, topic, ended=True)
        if isinstance(case, str):
            return case
        refusal = await actions.claimer_only(user_id, "say", case, via)
        if refusal is not None:
            return refusal
        params: dict[str, str | int] = {}
        value = ""
        if name in CANNED_ARGS:
            value = field_rules.clean_text(rest)
            if not value or len(value) > MEET_TIME_MAX:
                return self.usage(name)
            params = {"time": html.escape(value)}
        chat = desk.caller_chat(case)
        if chat is None or not await desk.state.conversation_exists(case.key):
            await actions.refuse(user_id, "say", case, "case-gone", via)
            return self.t("desk-case-gone")
        # the operator writing, as his own message: an event of the caller's conversation
        # (a live conversation opens where a step reads answers), delivered from its outbox
        # once, in his language, protected, and wiped by a /forget (bot.desk.talk)
        words = {"time": value} if name in CANNED_ARGS else {}
        event = OperatorAction(FlowAction.SAY, {"canned": name, **words})
        handled = await actions.pipeline.from_desk(case.key, chat, update_id, event)
        if handled.batch is None:
            return None  # Telegram sent this update again: he has the message once
        text = desk.translator.text(case.lang, f"canned-{name}", params)
        await self._tell_topic(case, user_id, name, text)
        await self.audit.record(
            actions.operators.who(user_id), "say", case.case, result="ok", reply=name, via=via
        )
        return None

    async def _tell_topic(self, case: DeskCase, user_id: int, name: str, text: str) -> None:
        """The shift sees what the caller was sent (our own words: nothing of his)."""
        desk = self.desk
        operator = desk.operator_label(desk.operators.digest(user_id))
        head = self.t(
            "desk-canned-sent", operator=operator, label=self.t("desk-canned-label", name=name)
        )
        try:
            await desk.post(case, f"{head}\n<blockquote>{text}</blockquote>")
        except TelegramAPIError as exc:  # he has it; the topic's copy is a courtesy
            log.info("canned reply not shown in the topic", error=type(exc).__name__)
