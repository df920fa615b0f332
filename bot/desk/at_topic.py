"""The case an operator's command in a topic acts on, or what he is told when there is none:
one answer for every command that names no case but the topic it is typed in."""

from __future__ import annotations

from bot.desk.desk import Desk
from bot.desk.records import DeskCase


async def case_of(desk: Desk, topic: int | None) -> DeskCase | None:
    """The case the topic talks to now, if any."""
    if topic is None:
        return None
    key = await desk.state.of_topic(topic)
    return await desk.state.load(key) if key is not None else None


async def case_at(desk: Desk, topic: int | None, *, ended: bool = False) -> DeskCase | str:
    """The topic's case; else the notice (typed outside a topic, no case there, or with
    `ended`: the caller's case there is over, he cannot be written to)."""
    if topic is None:
        return desk.t("desk-topic-only")
    case = await case_of(desk, topic)
    if case is not None:
        return case
    if ended and await desk.state.topic_ended(topic):
        return desk.t("desk-relay-ended")
    return desk.t("desk-no-case")
