"""The desk's closed sets are the ones the scripts, the cards and the flow use."""

from __future__ import annotations

import re

from bot.desk import record_scripts
from bot.desk.card_actions import CARD_ROWS
from bot.desk.kinds import (
    CASE_ACTIONS,
    CONFIRMED,
    FLOW_ACTIONS,
    ClaimStatus,
    DeskAction,
    ReleaseStatus,
    desk_action,
)
from flows import engine
from flows.model import FlowAction


def _returned(script: str) -> set[int]:
    return {int(n) for n in re.findall(r"return \{?(-?\d+)", script)}


def test_claim_and_release_statuses_are_exactly_what_their_scripts_return() -> None:
    assert _returned(record_scripts.CLAIM) == {int(s) for s in ClaimStatus}
    assert _returned(record_scripts.RELEASE) == {int(s) for s in ReleaseStatus}


def test_every_card_button_and_confirmation_is_a_case_action_or_leads_to_one() -> None:
    on_card = {action for row in CARD_ROWS for action in row}
    assert on_card <= CASE_ACTIONS
    assert set(CONFIRMED) <= on_card
    assert {desk_action(yes.value) for yes in CONFIRMED.values()} == set(CONFIRMED.values())


# told to the conversation by a claim, a release and an operator's message, not by a command
NOT_COMMANDS = {FlowAction.CLAIM, FlowAction.RELEASE, FlowAction.TALK, FlowAction.SAY}


def test_every_flow_action_is_a_trigger_of_the_machine_and_reached_from_the_desk() -> None:
    assert set(FLOW_ACTIONS.values()) == set(FlowAction) - NOT_COMMANDS
    moves_nothing = {FlowAction.CLAIM, FlowAction.RELEASE, FlowAction.SAY}
    for action in set(FlowAction) - moves_nothing:
        assert f"op_{action}" in engine.MACHINE.events
    # whether someone has the case, a canned reply: no state of their own (a canned reply
    # opens the live conversation, op_talk, as an operator's own message does)
    for action in moves_nothing:
        assert f"op_{action}" not in engine.MACHINE.events


def test_an_unknown_name_is_no_action() -> None:
    assert desk_action("claim") is DeskAction.CLAIM
    assert desk_action("Claim") is None
    assert desk_action("drop table") is None
