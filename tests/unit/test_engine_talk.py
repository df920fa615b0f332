"""Talk in any state, through `engine.handle`: from every step whose input is read as an answer,
an operator's message opens a live conversation; what the caller sends then is only relayed;
"go on where I was" and the operator's Close bring him back to that very step with what he had
answered."""

from __future__ import annotations

import pytest

from flows import engine
from flows import surrender as flow
from flows.model import (
    CaseEvent,
    FlowAction,
    FromOperator,
    Media,
    OperatorAction,
    Press,
    Priority,
    Relay,
    Reply,
    Scrub,
    Text,
)
from tests.unit.test_engine import PATHS, REF, Caller, prompt, reach

MESSAGE = 7001  # the operator's message, by its id in the group


def talk(message: int = MESSAGE) -> OperatorAction:
    return OperatorAction(FlowAction.TALK, {"message": message})


def heard(state: str) -> Caller:
    """At `state`, with an operator following (a voice note brings the desk, wherever)."""
    caller = reach(state)
    if not caller.conv.escalated:
        caller.send(Media("voice"))
    assert caller.state == state
    assert caller.conv.escalated
    return caller


SOURCES = sorted(set(flow.TALK_SOURCES) & set(PATHS) - {"confirm_withdraw", "sos_confirm"})


def test_every_step_that_reads_answers_opens_a_live_conversation() -> None:
    # every state but those where his input is already only relayed (or there is no case)
    live = {s for s in flow.SCREENS if flow.live_relay(s)}
    assert set(flow.TALK_SOURCES) == set(flow.SCREENS) - live - {"start", *flow.TERMINAL}
    assert {"handoff", "emergency", "meetup", "talk"} <= live
    assert {"details_unit", "menu", "review", "recall_people"} <= set(flow.TALK_SOURCES)


@pytest.mark.parametrize("state", SOURCES)
def test_an_operator_writing_pauses_the_step_and_the_caller_comes_back_to_it(state: str) -> None:
    caller = heard(state)
    before = caller.conv

    caller.send(talk())
    assert caller.state == "talk"
    # his words first (after what a screen left behind must not show: the review's values)
    assert next(e for e in caller.effects if not isinstance(e, Scrub)) == FromOperator(MESSAGE)
    assert CaseEvent("talk") in caller.effects
    assert caller.ids == ["talk"]
    assert [b.id for b in caller.reply("talk").buttons] == ["talk-back"]
    assert caller.fields == before.fields

    caller.send(Text("я здесь, слышу вас"))  # words for the operator, not an answer
    assert caller.state == "talk"
    assert caller.of(Relay) == [Relay(REF, "text")]
    assert caller.replies == []
    assert caller.fields == before.fields

    caller.send(Press("talk-back"))
    assert caller.state == state
    assert caller.fields == before.fields
    assert caller.conv.escalated  # the operator is still with him
    assert caller.conv.talk_from is None
    assert CaseEvent("talk-back") in caller.effects
    shown = [r for r in caller.replies if r.screen == state]
    assert [r.message_id for r in shown] == [prompt(state)]
    assert shown[0].step == flow.STEP_OF.get(state)  # "step k of n" where the form has it


def test_a_message_where_his_words_are_only_relayed_changes_no_state() -> None:
    for state in ("handoff", "meetup", "emergency"):
        caller = reach(state)
        caller.send(talk())
        assert caller.state == state
        assert caller.effects == [FromOperator(MESSAGE)]
    caller = reach("details_unit")
    caller.send(talk())  # the bot's own state after the talk: nothing opened twice
    assert caller.state == "talk"
    caller.send(talk(MESSAGE + 1))
    assert caller.effects == [FromOperator(MESSAGE + 1)]


def test_the_operators_close_brings_him_back_and_ends_the_escalation() -> None:
    caller = heard("details_unit")
    caller.send(talk())
    caller.send(OperatorAction(FlowAction.END))
    assert caller.state == "details_unit"
    assert caller.ids == ["operator-ended", prompt("details_unit")]
    assert not caller.conv.escalated
    assert CaseEvent("talk-ended") in caller.effects


def test_close_of_a_talk_at_a_re_call_keeps_the_re_call_going() -> None:
    caller = reach("recall_people")
    caller.send(talk())
    caller.send(OperatorAction(FlowAction.END))
    assert caller.state == "recall_people"
    assert caller.conv.escalated  # a re-call is met or aborted
    assert caller.conv.priority == Priority.HIGH


def test_a_re_calls_meeting_and_abort_still_apply_while_they_talk() -> None:
    caller = reach("recall_people")
    caller.send(talk())
    caller.send(OperatorAction(FlowAction.MEET, {"time": "05:30", "place": "мост"}))
    assert caller.state == "meetup"
    assert caller.ids == ["meeting-instructions", "meetup"]
    assert caller.reply("meetup").params == {"guided": "yes"}

    caller = reach("recall_people")
    caller.send(talk())
    caller.send(OperatorAction(FlowAction.ABORT))
    assert caller.state == "registered"
    assert caller.ids == ["operator-aborted", "registered"]


def test_an_abort_the_paused_step_does_not_allow_tells_him_nothing() -> None:
    caller = heard("details_unit")
    caller.send(talk())
    caller.send(OperatorAction(FlowAction.ABORT))  # a form has no meeting to cancel
    assert caller.state == "talk"
    assert caller.effects == []


def test_the_meetup_says_an_operator_guides_him_only_once_one_has_the_case() -> None:
    caller = reach("meetup")
    assert caller.reply("meetup").params == {"guided": "no"}
    caller.send(OperatorAction(FlowAction.CLAIM))
    assert caller.ids == ["operator-claimed"]
    assert caller.conv.claimed
    caller.send(OperatorAction(FlowAction.CLAIM))  # a second claim (a handover) says nothing
    assert caller.effects == []
    caller.command("start")
    assert caller.reply("meetup").params == {"guided": "yes"}
    caller.send(OperatorAction(FlowAction.RELEASE))
    assert not caller.conv.claimed
    caller.command("start")
    assert caller.reply("meetup").params == {"guided": "no"}


def test_status_in_a_live_conversation_says_he_is_with_an_operator() -> None:
    caller = heard("details_unit")
    caller.send(talk())
    caller.command("status")
    assert caller.replies == [Reply("status", {"phase": "handoff"})]
    # while the desk keeps the stage he paused (the topic is not retitled for a talk)
    assert engine.status_params(caller.conv) == {"phase": "form"}


def test_a_canned_reply_is_the_operator_writing_too() -> None:
    caller = heard("details_unit")
    caller.send(OperatorAction(FlowAction.SAY, {"canned": "safe"}))
    assert caller.state == "talk"  # "are you safe?" is not answered into the form
    assert caller.ids == ["canned-safe", "talk"]
    caller.send(OperatorAction(FlowAction.SAY, {"canned": "contact", "time": "05:30"}))
    assert caller.replies == [Reply("canned-contact", {"time": "05:30"})]
    caller.send(OperatorAction(FlowAction.SAY, {"canned": "no-such", "time": "x"}))
    assert caller.effects == []  # none of the team's replies: nothing sent
