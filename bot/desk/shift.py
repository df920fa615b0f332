"""The shift's own commands in the operator group: `/say` (canned replies, bot.desk.canned),
`/queue` (bot.desk.queue), `/handover N`, and `/probe` `/unprobe` `/block` `/unblock`
(bot.desk.marks). Only listed operators act; a stranger is refused as for every desk command.

`/handover N`: the operator who has a case hands it to operator N (his place in OPERATOR_IDS),
in one compare-and-set on the record (nobody else's claim is ever taken over); the card names
the new claimer, the topic tells him with a mention (Telegram notifies him), the audit keeps
both, as digests.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Final

import structlog

from bot.desk.actions import DeskActions
from bot.desk.at_topic import case_at
from bot.desk.audit import Audit
from bot.desk.canned import CannedReplies
from bot.desk.desk import Desk
from bot.desk.kinds import MARK_ACTIONS, DeskAction
from bot.desk.marks import CaseMarks
from bot.desk.queue import queue_text
from bot.desk.records import DeskCase

log = structlog.get_logger("hotline.desk.shift")

# KEYS[1] record; ARGV[1] the claimer handing over, ARGV[2] the one taking over.
# 1 handed over | 0 not the claimer's (any more) | -1 no record
_HANDOVER: Final = """
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
if redis.call('HGET', KEYS[1], 'claimer') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'claimer', ARGV[2])
return 1
"""


class ShiftTools:
    def __init__(
        self,
        desk: Desk,
        actions: DeskActions,
        audit: Audit,
        canned: CannedReplies,
        marks: CaseMarks,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.desk = desk
        self.actions = actions
        self.audit = audit
        self.canned = canned
        self.marks = marks
        self.clock = clock
        self._handover = desk.state.redis.register_script(_HANDOVER)

    async def run(
        self, user_id: int, update_id: int, topic: int | None, name: str, args: str, *, via: str
    ) -> str | None:
        actions = self.actions
        if not actions.operators.listed(user_id):
            return await actions.refuse_stranger(user_id, name, topic, via)
        if name == DeskAction.SAY:
            return await self.canned.say(user_id, update_id, topic, args, via=via)
        if name == DeskAction.QUEUE:
            return await queue_text(self.desk, self.marks, self.clock())
        if name == DeskAction.HANDOVER:
            return await self.handover(user_id, topic, args, via=via)
        if name in MARK_ACTIONS:
            return await self.marks.run(user_id, topic, name, args, via=via)
        return None

    # -- /handover N ---------------------------------------------------------------------------
    async def handover(
        self, user_id: int, topic: int | None, args: str, *, via: str
    ) -> str | None:
        desk, operators = self.desk, self.desk.operators
        count = len(operators.ids)
        case = await case_at(desk, topic)
        if isinstance(case, str):
            return case
        refusal = await self.actions.claimer_only(user_id, "handover", case, via)
        if refusal is not None:
            return refusal
        place = args.strip().lstrip("#")
        if not place.isdigit() or not 1 <= int(place) <= count:
            return desk.t("desk-handover-usage", count=count)
        target = operators.ids[int(place) - 1]
        me, them = operators.digest(user_id), operators.digest(target)
        if target == user_id:
            return desk.t("desk-yours")
        done = int(await self._handover(keys=[desk.state.record_key(case.key)], args=[me, them]))
        if done != 1:
            # released or handed over meanwhile: said as for any action of someone else's case
            fresh = await desk.state.load(case.key)
            if fresh is None:
                return desk.t("desk-no-case")
            return await self.actions.claimer_only(user_id, "handover", fresh, via)
        await self.audit.record(
            operators.who(user_id),
            "handover",
            case.case,
            result="ok",
            to=operators.who(target),
            via=via,
        )
        await self._told(case, me, target, them)
        return None

    async def _told(self, case: DeskCase, me: str, target: int, them: str) -> None:
        desk = self.desk
        fresh = await desk.state.load(case.key) or case
        await desk.refresh_card(fresh)
        mention = f'<a href="tg://user?id={int(target)}">{desk.operator_label(them)}</a>'
        await desk.post(
            case, desk.t("desk-handover-done", **{"from": desk.operator_label(me), "to": mention})
        )
        log.info("case handed over")
