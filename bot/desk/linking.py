"""What the desk sees of the links to a case: every link, unlink and failed second-factor check,
on the case's card and in its topic; the lock after too many failed checks and the operator's
unlock; a probing campaign across all cases, in the queue view.

The case's topic is its owner's (the conversation that registered it): a check that failed from
any account is posted there, the topic made if the case had none yet. What the desk counts of
it is kept beside the owner's conversation (nothing personal, no account named):

    {prefix}:{<owner conv key>}:links   hash  linked, unlinked, failed, locked (0/1)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

import structlog
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from bot.desk.audit import Audit
from bot.desk.desk import Desk, DeskData
from bot.desk.kinds import DeskAction
from bot.desk.records import DeskCase
from bot.desk.shared_topics import registered
from flows.linking import LOCK_AFTER, LinkGuard
from flows.model import LinkNotice

log = structlog.get_logger("hotline.desk.links")

COUNTED: Final = {"linked": "linked", "unlinked": "unlinked", "withdraw-request": "unlinked"}


class CaseLinks:
    def __init__(self, desk: Desk, guard: LinkGuard, audit: Audit) -> None:
        self.desk = desk
        self.guard = guard
        self.audit = audit
        self.redis = desk.store.redis

    def links_key(self, owner: str) -> str:
        return self.desk.store.key(owner, "links")

    async def drop(self, owner: str) -> None:
        """The case's record goes: so does what the desk counted of its links."""
        await self.redis.delete(self.links_key(owner))

    async def counts(self, owner: str) -> dict[str, int]:
        raw = await self.redis.hgetall(self.links_key(owner))
        return {_s(k): int(_s(v)) for k, v in raw.items()}

    async def card_line(
        self, case: DeskCase, counted: Mapping[str, str] | None = None
    ) -> str | None:
        """The card's line on links and checks, once there is anything to say (a case with no
        registered id has no links to count; `counted`: its hash, read already)."""
        if not registered(case):
            return None
        if counted is None:
            counts = await self.counts(case.key)
        else:
            counts = {k: int(v) for k, v in counted.items()}
        if not counts:
            return None
        return self.desk.t(
            "desk-card-links",
            linked=counts.get("linked", 0),
            unlinked=counts.get("unlinked", 0),
            failed=counts.get("failed", 0),
            locked="yes" if counts.get("locked") else "no",
        )

    # -- from the flow (the renderer, while it delivers the account's effects) --------------
    async def notice(self, effect: LinkNotice) -> None:
        desk = self.desk
        if effect.kind == "campaign":
            minutes = round(self.guard.limits.campaign_window / 60)
            await desk.announce(desk.t("desk-probe-campaign", count=effect.count, minutes=minutes))
            log.warning("probing campaign", failures=effect.count)
            return
        if effect.case_id is None:
            return
        owner = await desk.store.conversation_of_case(effect.case_id)
        if owner is None:
            return  # the case is gone: nobody's topic to tell
        conversation = (await desk.store.load(owner, -1)).conversation
        await self._count(owner, effect)
        case = await desk.show_case(owner, conversation)
        markup = None
        if effect.kind == "locked":
            markup = self.unlock_markup(case)
            text = desk.t("desk-queue-locked", code=desk.label(case), count=effect.count)
            await desk.announce(text, case)
        await desk.refresh_card(case)
        params: dict[str, str | int] = {}
        if effect.kind == "failed":
            params = {"count": effect.count, "limit": LOCK_AFTER}
        elif effect.kind == "locked":
            params = {"count": effect.count}
        await desk.post(case, desk.t(f"desk-link-{effect.kind}", **params), markup)
        log.info("link notice", kind=effect.kind)

    async def _count(self, owner: str, effect: LinkNotice) -> None:
        name = self.links_key(owner)
        ttl = int(self.desk.store.retention.registered * 1000)
        async with self.redis.pipeline(transaction=True) as pipe:
            if effect.kind in COUNTED:
                pipe.hincrby(name, COUNTED[effect.kind], 1)
            elif effect.kind == "failed":
                pipe.hset(name, "failed", effect.count)
            elif effect.kind == "locked":
                pipe.hset(name, "locked", 1)
            pipe.pexpire(name, ttl)
            await pipe.execute()

    def unlock_markup(self, case: DeskCase) -> InlineKeyboardMarkup:
        data = DeskData(action=DeskAction.UNLOCK, topic=case.topic or 0).pack()
        button = InlineKeyboardButton(text=self.desk.t("desk-btn-unlock"), callback_data=data)
        return InlineKeyboardMarkup(inline_keyboard=[[button]])

    # -- the operator's answer ---------------------------------------------------------------
    async def unlock(self, user_id: int, case: DeskCase, via: str) -> None:
        """A listed operator's /unlock: linking the case is possible again (its failed checks
        forgotten); the card and the topic say who, the audit keeps it."""
        operators = self.desk.operators
        was = await self.guard.unlock(case.case)
        await self.redis.hset(self.links_key(case.key), mapping={"locked": 0, "failed": 0})
        await self.desk.refresh_card(case)
        label = self.desk.operator_label(operators.digest(user_id))
        await self.desk.post(case, self.desk.t("desk-link-unlocked", operator=label))
        result = "ok" if was else "none"
        await self.audit.record(
            operators.who(user_id), DeskAction.UNLOCK, case.case, result=result, via=via
        )


def _s(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
