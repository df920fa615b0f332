"""The desk's part of what an operator did, delivered from the caller's outbox (`DeskDone`).

An operator's claim, release, "verified" or flow action is committed first (the desk record,
or the caller's conversation), and what the group should see of it (the card refreshed, a line
in the topic, the escalation closed, the hook event) is committed with it as a `DeskDone` in
the conversation's outbox, under the operator's update_id. The deliverer applies it after what
the conversation committed before, once, and again after a network error or a restart: a
failure after the commit never loses the step, and Telegram's redelivery never doubles it.
"""

from __future__ import annotations

from bot.desk.desk import Desk
from bot.desk.kinds import DeskAction, desk_action
from flows.model import Conversation, DeskDone


async def follow_up(desk: Desk, key: str, conversation: Conversation, effect: DeskDone) -> None:
    """Met and erase need nothing here: the caller's effects of them end the case on the
    desk themselves."""
    action = desk_action(effect.action)  # read back from the outbox as the string it is
    label = desk.operator_label(effect.operator)
    if action in (DeskAction.ABORT, DeskAction.CLOSE):
        await desk.close_escalation(key, conversation)
    case = await desk.state.load(key)
    if case is None:
        return
    if action in (DeskAction.CLAIM, DeskAction.RELEASE, DeskAction.VERIFIED):
        await desk.refresh_card(case)
    if action == DeskAction.CLAIM:
        await desk.post(case, desk.t("desk-claimed", operator=label))
        await desk.emit("claimed", case)
    elif action == DeskAction.RELEASE:
        await desk.post(case, desk.t("desk-released", operator=label))
    elif action in (DeskAction.MEET, DeskAction.ABORT, DeskAction.CLOSE, DeskAction.VERIFIED):
        await desk.post(case, desk.t("desk-done", operator=label, action=action))
