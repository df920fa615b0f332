"""The desk's closed sets: what an operator can do, and what a claim or a release answers."""

from __future__ import annotations

from enum import IntEnum, StrEnum
from typing import Final

from flows.model import FlowAction


class DeskAction(StrEnum):
    """A slash command in the group or a card button (its value is what the operator types and
    what the button's callback data carries)."""

    CLAIM = "claim"
    RELEASE = "release"
    DETAILS = "details"
    VERIFIED = "verified"
    UNLOCK = "unlock"
    MEET = "meet"
    MET = "met"
    ABORT = "abort"
    CLOSE = "close"
    ERASE = "erase"
    STATS = "stats"
    HELP = "help"
    # the shift's own commands (bot.desk.shift)
    SAY = "say"
    QUEUE = "queue"
    HANDOVER = "handover"
    PROBE = "probe"
    UNPROBE = "unprobe"
    BLOCK = "block"
    UNBLOCK = "unblock"
    # card buttons only: the second press of a confirmation, and going back from it
    CONFIRM_MET = "confirm-met"
    CONFIRM_ERASE = "confirm-erase"
    CONFIRM_ABORT = "confirm-abort"
    CANCEL = "cancel"


# Desk actions that move the caller's dialogue, and the flow's name for each
FLOW_ACTIONS: Final = {
    DeskAction.MEET: FlowAction.MEET,
    DeskAction.MET: FlowAction.MET,
    DeskAction.ABORT: FlowAction.ABORT,
    DeskAction.CLOSE: FlowAction.END,
    DeskAction.ERASE: FlowAction.ERASE,
}
# Actions on the case of a topic
CASE_ACTIONS: Final = frozenset(
    {
        DeskAction.CLAIM,
        DeskAction.RELEASE,
        DeskAction.DETAILS,
        DeskAction.VERIFIED,
        DeskAction.UNLOCK,
        *FLOW_ACTIONS,
    }
)
COMMANDS: Final = frozenset({*CASE_ACTIONS, DeskAction.STATS, DeskAction.HELP})
# /probe and /block, their undoing (bot.desk.marks)
MARK_ACTIONS: Final = frozenset(
    {DeskAction.PROBE, DeskAction.UNPROBE, DeskAction.BLOCK, DeskAction.UNBLOCK}
)
# the shift's own commands, which bot.desk.shift answers
SHIFT_COMMANDS: Final = frozenset(
    {DeskAction.SAY, DeskAction.QUEUE, DeskAction.HANDOVER, *MARK_ACTIONS}
)
# Buttons that ask "sure?" first, and the button that says yes
CONFIRMED: Final = {
    DeskAction.MET: DeskAction.CONFIRM_MET,
    DeskAction.ERASE: DeskAction.CONFIRM_ERASE,
    DeskAction.ABORT: DeskAction.CONFIRM_ABORT,
}


def desk_action(value: str) -> DeskAction | None:
    """The action a command or a button names; None for anything else (an old card's button)."""
    try:
        return DeskAction(value)
    except ValueError:
        return None


class ClaimStatus(IntEnum):
    """What the claim script answers (the numbers are the script's)."""

    CLAIMED = 1  # claimed now
    ALREADY_MINE = 2
    TAKEN = 0  # someone else's
    NOT_OPEN = -2  # no escalation open
    NO_CASE = -1  # no desk record


class ReleaseStatus(IntEnum):
    """What the release script answers (the numbers are the script's)."""

    RELEASED = 1
    NOT_MINE = 0
    NO_CASE = -1
