"""Which buttons a case card offers: only the actions its case allows now.

A waiting case can only be claimed; a claimed one is released, revealed, verified, and moved on
by the flow actions its caller's stage takes. Which flow actions a stage takes is read from the
dialogue's own table (flows.surrender), not written here a second time: every state of the
stage is asked which operator triggers it accepts. A card shows a stage's actions as a whole
(the card is redrawn when the stage changes, not at every step inside it); an action of the
stage that the very step does not take is still refused, and said so, by the flow.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from typing import Final

from bot.desk.kinds import DeskAction
from bot.desk.records import DeskCase
from flows import steps
from flows import surrender as flow
from flows.model import Conversation
from flows.screens import status_params

# The card's actions that move the caller's dialogue, and the trigger each fires
FLOW_TRIGGERS: Final = {
    DeskAction.MEET: "op_meet",
    DeskAction.MET: "op_met",
    DeskAction.ABORT: "op_abort",
    DeskAction.CLOSE: "op_end",
}
# The card's layout; a row keeps only what the case allows (an empty row is left out)
CARD_ROWS: Final = (
    (DeskAction.CLAIM, DeskAction.RELEASE),
    (DeskAction.DETAILS, DeskAction.VERIFIED),
    (DeskAction.MEET,),
    (DeskAction.MET, DeskAction.ABORT),
    (DeskAction.CLOSE, DeskAction.ERASE),
)
_GONE: Final = frozenset({"start", "talk", *flow.TERMINAL})  # no case, or the stage of another


def accepted_in(state: str) -> frozenset[DeskAction]:
    """The flow actions an escalated conversation in `state` takes (erase: any)."""
    found = {DeskAction.ERASE}
    found |= {a for a, trigger in FLOW_TRIGGERS.items() if steps.can_fire(state, trigger)}
    if state not in flow.ESCALATED_STATES:
        # an escalation raised here (bad input, a voice note): Close ends it
        found.add(DeskAction.CLOSE)
    return frozenset(found)


def accepted_talking(talk_from: str) -> frozenset[DeskAction]:
    """The flow actions of a live conversation opened at `talk_from`."""
    found = {DeskAction.ERASE, DeskAction.CLOSE}
    if talk_from in flow.MEETABLE:
        found.add(DeskAction.MEET)
    if talk_from in flow.ABORTABLE:
        found.add(DeskAction.ABORT)
    return frozenset(found)


def _phases(state: str) -> set[str]:
    """The stages a conversation in `state` can show (a relative's case and a registered one
    name some states differently)."""
    return {
        str(status_params(Conversation(state=state, **kind))["phase"])
        for kind in (
            {},
            {"case_id": "case"},
            {"case_id": "case", "fields": {"sought_name": "-"}},
        )
    }


def _by_stage(
    states: Iterable[str], accepted: Callable[[str], frozenset[DeskAction]]
) -> Mapping[str, frozenset[DeskAction]]:
    found: dict[str, set[DeskAction]] = defaultdict(set)
    for state in states:
        for phase in _phases(state):
            found[phase] |= accepted(state)
    return {phase: frozenset(actions) for phase, actions in found.items()}


BY_STAGE: Final = _by_stage((s for s in flow.SCREENS if s not in _GONE), accepted_in)
BY_STAGE_TALKING: Final = _by_stage(flow.TALK_SOURCES, accepted_talking)


def valid_actions(case: DeskCase) -> frozenset[DeskAction]:
    """What the card offers for the case as it is now."""
    if not case.open:
        return frozenset()  # nothing waits: no one to claim, nothing to act on
    if case.claimer is None:
        return frozenset({DeskAction.CLAIM})
    found = {DeskAction.RELEASE, DeskAction.DETAILS}
    if not case.verified:
        found.add(DeskAction.VERIFIED)
    # (a stage no live conversation is opened at: the talk has ended on the way there)
    table = BY_STAGE_TALKING if case.talk and case.stage in BY_STAGE_TALKING else BY_STAGE
    found |= table.get(case.stage, {DeskAction.ERASE, DeskAction.CLOSE})
    return frozenset(found)


def card_rows(case: DeskCase) -> list[tuple[DeskAction, ...]]:
    allowed = valid_actions(case)
    rows = [tuple(action for action in row if action in allowed) for row in CARD_ROWS]
    return [row for row in rows if row]
