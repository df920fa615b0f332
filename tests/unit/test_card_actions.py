"""The card offers exactly what the case allows: each flow action it shows for a stage is one the
engine takes in some state of that stage, and each it hides is one the engine refuses in every
state of it (asked of the engine itself, event by event, not of the table the card reads)."""

from __future__ import annotations

import dataclasses
import datetime
from typing import Any

import pytest

from bot.desk.card_actions import BY_STAGE, BY_STAGE_TALKING, card_rows, valid_actions
from bot.desk.kinds import FLOW_ACTIONS, DeskAction
from bot.desk.records import DeskCase
from flows import engine
from flows import surrender as flow
from flows.model import Context, Conversation, OperatorAction

CTX = Context(
    now=1_715_940_000.0,
    today=datetime.date(2024, 5, 17),
    new_code=lambda: "K7QM-3P9X",
    new_case_id=lambda: "case-new",
    digest=lambda namespace, value: f"{namespace}:{value}",
    message_ref=None,
)
# the kinds of conversation a stage is seen in: none yet, a registered case, a relative's
KINDS: list[dict[str, Any]] = [
    {},
    {"case_id": "case", "owns_case": True},
    {"case_id": "case", "owns_case": True, "fields": {"sought_name": "Пётр Петров"}},
]
MEETING = {"time": "05:30", "place": "мост"}


def _conversations(talking: bool) -> list[Conversation]:
    found = []
    for kind in KINDS:
        if talking:
            for source in flow.TALK_SOURCES:
                found.append(
                    Conversation(
                        state="talk", talk_from=source, escalated=True, priority=1, **kind
                    )
                )
        else:
            for state in flow.SCREENS:
                if state not in {"start", "talk", *flow.TERMINAL}:
                    found.append(Conversation(state=state, escalated=True, priority=1, **kind))
    return found


def _stage(conv: Conversation) -> str:
    return str(engine.status_params(conv)["phase"])


def _accepts(conv: Conversation, action: DeskAction) -> bool:
    params = MEETING if action == DeskAction.MEET else {}
    outcome = engine.handle(conv, OperatorAction(FLOW_ACTIONS[action], params), CTX)
    return bool(outcome.effects)


@pytest.mark.parametrize("talking", [False, True], ids=["at-a-step", "talking"])
def test_the_card_shows_a_flow_action_exactly_where_the_engine_takes_it(talking: bool) -> None:
    table = BY_STAGE_TALKING if talking else BY_STAGE
    by_stage: dict[str, list[Conversation]] = {}
    for conv in _conversations(talking):
        by_stage.setdefault(_stage(conv), []).append(conv)
    assert set(by_stage) == set(table)
    for stage, conversations in by_stage.items():
        for action in FLOW_ACTIONS:
            taken = any(_accepts(conv, action) for conv in conversations)
            assert (action in table[stage]) == taken, (stage, action, talking)


def _case(**changes: Any) -> DeskCase:
    base = DeskCase(key="k", ref="r", case="c", topic=7, card=8, stage="meetup", open=True)
    return dataclasses.replace(base, **changes)


def test_a_waiting_case_can_only_be_claimed_and_a_closed_one_not_at_all() -> None:
    assert card_rows(_case()) == [(DeskAction.CLAIM,)]
    assert card_rows(_case(open=False, claimer="op")) == []
    assert valid_actions(_case(open=False)) == frozenset()


def test_a_claimed_case_offers_what_its_stage_allows() -> None:
    meetup = card_rows(_case(claimer="op"))
    assert meetup == [
        (DeskAction.RELEASE,),
        (DeskAction.DETAILS, DeskAction.VERIFIED),
        (DeskAction.MEET,),
        (DeskAction.MET, DeskAction.ABORT),
        (DeskAction.ERASE,),
    ]
    form = valid_actions(_case(claimer="op", stage="form", verified=True))
    assert form == {DeskAction.RELEASE, DeskAction.DETAILS, DeskAction.CLOSE, DeskAction.ERASE}
    recall = valid_actions(_case(claimer="op", stage="recall"))
    assert DeskAction.MET not in recall  # no meeting yet to have happened
    assert DeskAction.CLOSE not in recall  # a re-call is met or aborted, not closed
    assert DeskAction.CLOSE in valid_actions(_case(claimer="op", stage="recall", talk=True))
