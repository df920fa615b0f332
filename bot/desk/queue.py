"""`/queue`: the open cases of the desk, by priority, then by how long they have waited, each a
link to its topic. Nothing personal: the short reference, the priority and reason, who has it
("operator N"), the minutes waited and a suspected probe's mark, as the cards show them.
"""

from __future__ import annotations

import html
from typing import Final, Protocol

from bot.desk.desk import Desk, priority_name, topic_link
from bot.desk.records import DeskCase

QUEUE_LINES: Final = 30  # a post stays well under Telegram's 4096 characters


class Marked(Protocol):
    async def kind_of(self, case: DeskCase) -> str | None: ...


async def open_cases(desk: Desk) -> list[DeskCase]:
    """The open escalations, highest priority first, then the longest waiting."""
    cases = []
    for key in await desk.state.open_keys():
        case = await desk.state.load(key)
        if case is not None and case.open:
            cases.append(case)
    cases.sort(key=lambda case: (-case.priority, case.since))
    return cases


def case_line(desk: Desk, case: DeskCase, now: float) -> dict[str, str | int]:
    """What a list of cases (the queue, the digest) says of each: its reference as a link to
    its topic, the priority and reason, the whole minutes it has waited."""
    code = html.escape(desk.label(case))
    link = topic_link(desk.chat_id, case.topic) if case.topic else None
    return {
        "code": f'<a href="{html.escape(link)}">{code}</a>' if link else code,
        "priority": priority_name(case.priority),
        "reason": case.reason or "none",
        "minutes": max(0, int((now - case.since) // 60)),
    }


async def queue_text(desk: Desk, marks: Marked | None, now: float) -> str:
    cases = await open_cases(desk)
    if not cases:
        return desk.t("desk-queue-empty")
    lines = [desk.t("desk-queue-head", count=len(cases))]
    for case in cases[:QUEUE_LINES]:
        mark = await marks.kind_of(case) if marks is not None else None
        lines.append(
            desk.t(
                "desk-queue-line",
                **case_line(desk, case, now),
                state=desk.card_state(case),
                operator=desk.operator_label(case.claimer),
                mark="probe" if mark == "probe" else "none",
            )
        )
    if len(cases) > QUEUE_LINES:
        lines.append(desk.t("desk-queue-more", count=len(cases) - QUEUE_LINES))
    return "\n".join(lines)
