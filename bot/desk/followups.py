"""The desk's part of what an operator did, delivered from the caller's outbox (`DeskDone`).

An operator's claim, release, "verified" or flow action is committed first (the desk record,
or the caller's conversation), and what the group should see of it is committed with it, in
the conversation's outbox under the operator's update_id, as one `DeskDone` per step: the
audit line, the card refreshed, the escalation closed, the line in the topic, the hook event,
a card's buttons swapped. The deliverer applies them after what the conversation committed
before, one at a time, recording each before the next: a network error (or a restart) after
the commit never loses a step, a step done is not done again, and Telegram's redelivery of
the operator's update doubles nothing.

A step's Telegram call that fails for good (the card or the topic is gone, the message is not
modified) is logged and the step counts as done; one that fails for now (the network, flood
control past its retries, Telegram's servers) raises, and the step is tried again.
"""

from __future__ import annotations

from typing import Final

from bot.desk.audit import Audit
from bot.desk.desk import Desk
from bot.desk.kinds import CONFIRMED, DeskAction, desk_action
from bot.desk.operators import DIGEST_CHARS, LISTED
from flows.model import Conversation, DeskDone

AUDIT, CARD, CLOSE, POST, HOOK, KEYS = "audit", "card", "close", "post", "hook", "keys"

# the steps of each action, in order; met and erase end the case on the desk through the
# caller's own effects (they only need their audit line here)
STEPS: Final[dict[DeskAction, tuple[str, ...]]] = {
    DeskAction.CLAIM: (AUDIT, CARD, POST, HOOK),
    DeskAction.RELEASE: (AUDIT, CARD, POST),
    DeskAction.VERIFIED: (AUDIT, CARD, POST),
    DeskAction.MEET: (AUDIT, POST),
    DeskAction.ABORT: (AUDIT, CLOSE, POST),
    DeskAction.CLOSE: (AUDIT, CLOSE, POST),
    DeskAction.MET: (AUDIT,),
    DeskAction.ERASE: (AUDIT,),
}
# what each step was, for batches committed before there were steps (all at once)
_ALL_AT_ONCE: Final[dict[DeskAction, tuple[str, ...]]] = {
    DeskAction.CLAIM: (CARD, POST, HOOK),
    DeskAction.RELEASE: (CARD, POST),
    DeskAction.VERIFIED: (CARD, POST),
    DeskAction.MEET: (POST,),
    DeskAction.ABORT: (CLOSE, POST),
    DeskAction.CLOSE: (CLOSE, POST),
}


def desk_steps(action: DeskAction, operator: str, *, case: str, via: str) -> list[DeskDone]:
    """The desk's part of `action` by the operator of this digest, one effect per step."""
    return [
        DeskDone(action, operator, step=step, case=case, via=via) for step in STEPS.get(action, ())
    ]


def keys_step(action: DeskAction, operator: str) -> DeskDone:
    """The card's buttons swapped for a confirmation of `action` (or back: CANCEL)."""
    return DeskDone(action, operator, step=KEYS)


async def follow_up(
    desk: Desk, audit: Audit, key: str, conversation: Conversation, effect: DeskDone
) -> None:
    action = desk_action(effect.action)  # read back from the outbox as the string it is
    if action is None:
        return
    steps = (effect.step,) if effect.step else _ALL_AT_ONCE.get(action, ())
    for step in steps:
        await _step(desk, audit, key, conversation, action, effect, step)


async def _step(
    desk: Desk,
    audit: Audit,
    key: str,
    conversation: Conversation,
    action: DeskAction,
    effect: DeskDone,
    step: str,
) -> None:
    if step == AUDIT:
        who = LISTED + effect.operator[:DIGEST_CHARS]
        await audit.record(who, action, effect.case or "-", result="ok", via=effect.via)
        return
    if step == CLOSE:
        await desk.close_escalation(key, conversation, durable=True)
        return
    case = await desk.state.load(key)
    if case is None:
        return
    label = desk.operator_label(effect.operator)
    if step == CARD:
        await desk.refresh_card(case, durable=True)
    elif step == KEYS:
        confirm = action if action in CONFIRMED else None
        await desk.show_keys(case, confirm=confirm)
    elif step == HOOK:
        await desk.emit("claimed", case)
    elif step == POST and action == DeskAction.CLAIM:
        await desk.post(case, desk.t("desk-claimed", operator=label))
    elif step == POST and action == DeskAction.RELEASE:
        await desk.post(case, desk.t("desk-released", operator=label))
    elif step == POST:
        await desk.post(case, desk.t("desk-done", operator=label, action=action))
