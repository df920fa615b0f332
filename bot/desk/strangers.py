"""Strangers in the operator group: anyone not on OPERATOR_IDS.

One who joins is removed at once (DESK_REMOVE_STRANGERS, on by default: banned and unbanned,
so the group's admins can still add him once he is listed) and the queue view names him, so the
shift knows who tried. The audit and the logs keep only the keyed digest of his id. A
stranger's commands and buttons are refused and audited every time, but answered in the group
once per DESK_STRANGER_REFUSAL_MINUTES: a flood of commands cannot spend the group's 20
messages a minute. Keys (nothing personal):

    {prefix}:desk:refused:<digest>:<window>   string  a refusal was shown to this stranger in
                                                      this window (the time's, counted from 0)
"""

from __future__ import annotations

import html
import time
from collections.abc import Callable
from typing import Any, Final

import structlog
from aiogram.types import User

from bot.desk.audit import Audit
from bot.desk.cards import REFUSED_FOR_GOOD
from bot.desk.desk import Desk
from bot.desk.lane import DeskLane

log = structlog.get_logger("hotline.desk.strangers")

NAME_MAX: Final = 64
JOINS_LANE: Final = "joins"  # the desk lane of joins (about no conversation)
REMOVE: Final = "join-remove"


def shown_name(user: User) -> str:
    """His name as the group may read it (his own words: escaped), a mention of his account."""
    name = " ".join(p for p in (user.first_name, user.last_name) if p)[:NAME_MAX] or "?"
    text = html.escape(name, quote=False)
    if user.username:
        text += f" (@{html.escape(user.username[:NAME_MAX], quote=False)})"
    return f'<a href="tg://user?id={int(user.id)}">{text}</a>'


class Strangers:
    def __init__(
        self,
        desk: Desk,
        audit: Audit,
        lane: DeskLane,
        *,
        remove: bool = True,
        refusal_window: float = 600.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.desk = desk
        self.clock = clock
        self.audit = audit
        self.remove = remove
        self.refusal_window = max(1, round(refusal_window))
        self.prefix = desk.store.prefix
        self.lane = lane
        lane.steps[REMOVE] = self._remove_step

    async def first_refusal(self, user_id: int) -> bool:
        """Whether this stranger is shown a refusal now (the first in the window)."""
        digest = self.desk.operators.digest(user_id)
        window = int(self.clock() // self.refusal_window)
        name = f"{self.prefix}:desk:refused:{digest}:{window}"
        redis = self.desk.state.redis
        return bool(await redis.set(name, "1", nx=True, ex=self.refusal_window))

    async def joined(self, user: User) -> None:
        """Someone joined the group (the service message and the chat_member update may both
        say so: one alert). What is done of it (removing him, the audit line, the alert in the
        queue view) goes through the desk lane, a step at a time (bot.desk.lane): a network
        error after the first update took the alert delays a step, never loses it."""
        desk = self.desk
        operators = desk.operators
        if not await desk.state.first_join_alert(operators.digest(user.id)):
            return
        listed = operators.listed(user.id)
        who = operators.who(user.id)
        log.warning("someone joined the operator group", listed=listed, who=who)
        if listed:
            steps = self._told(who, "listed", desk.t("desk-member-joined", listed="yes"))
        elif self.remove:
            steps = [{"op": REMOVE, "user": user.id, "who": who, "name": shown_name(user)}]
        else:
            steps = self._told(
                who, "unlisted", desk.t("desk-stranger-joined", name=shown_name(user))
            )
        await self.lane.queue(JOINS_LANE, steps)

    @staticmethod
    def _told(who: str, result: str, text: str) -> list[dict[str, Any]]:
        return [
            {"op": "audit", "who": who, "what": "joined", "extra": {"result": result}},
            {"op": "announce", "text": text},
        ]

    async def _remove_step(self, job: dict[str, Any]) -> list[dict[str, Any]]:
        """The lane's step: remove him; what follows says whether he was."""
        desk = self.desk
        removed = await self._remove(int(job["user"]))
        message = "desk-stranger-removed" if removed else "desk-stranger-not-removed"
        result = "removed" if removed else "unlisted"
        return self._told(str(job["who"]), result, desk.t(message, name=str(job["name"])))

    async def _remove(self, user_id: int) -> bool:
        desk = self.desk
        try:
            await desk.bot.ban_chat_member(desk.chat_id, user_id, revoke_messages=True)
        except REFUSED_FOR_GOOD as exc:  # no right to ban members, or he left already
            log.warning("stranger not removed", error=type(exc).__name__)
            return False
        try:  # removed, not banned for good: once listed he can be added again
            await desk.bot.unban_chat_member(desk.chat_id, user_id, only_if_banned=True)
        except REFUSED_FOR_GOOD as exc:
            log.info("stranger not unbanned after removal", error=type(exc).__name__)
        return True
