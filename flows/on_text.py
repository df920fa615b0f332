"""A text message: the answer to the step he is on, a cry for help, a channel to check."""

from __future__ import annotations

from collections.abc import Callable

from flows import answers, fields, recall, steps, words
from flows import surrender as flow
from flows.model import (
    Text,
)
from flows.turn import Turn

_STEP_VALIDATORS: dict[str, Callable[[str], fields.Outcome]] = {
    "recall_location": fields.location_text,
    "emergency_location": fields.location_text,
    "recall_people": fields.people_count,
    "emergency_people": fields.people_count,
    "recall_injuries": fields.injuries,
    "emergency_injuries": fields.injuries,
}


def on_text(turn: Turn, event: Text) -> None:
    conv = turn.conv
    state = conv.state
    # the safety word changes nothing the caller sees, even when it is a cry for help
    duress = recall.check_safety_word(turn, event.text)
    if not duress and words.is_sos(event.text) and state not in flow.EMERGENCY_STATES:
        steps.relay_if_escalated(turn, "text")
        answers.sos(turn)
    elif state == "check_channel":
        answers.check_channels(turn, answers.named(event), nothing="check-nothing")
    elif state == "start":
        steps.move(turn, "begin")
    elif state in flow.TERMINAL:
        steps.again(turn, "terminal-hint")
    elif state in {"declaration", "recall_declare"}:
        if fields.is_declaration(event.text):
            steps.accepted(turn)
            steps.move(turn, "declare")
            steps.relay_if_escalated(turn, "text")
        else:
            steps.relay_if_escalated(turn, "text")
            steps.rejected(turn, fields.Rejected("declaration-hint"))
    elif state in flow.DETAIL_BY_STATE:
        _text_detail(turn, event.text)
    elif state == "safety_word":
        recall.set_safety_word(turn, event.text)
    elif state == "recall_code":
        recall.text_code(turn, event.text)
    elif state == "recall_birth":
        recall.text_birth(turn, event.text)
    elif state in _STEP_VALIDATORS:
        steps.relay_if_escalated(turn, "text")
        outcome = _STEP_VALIDATORS[state](event.text)
        if isinstance(outcome, fields.Rejected):
            steps.rejected(turn, outcome)
        else:
            conv.fields[state] = outcome.value
            steps.accepted(turn)
            steps.delete_input(turn)  # after the relay: the desk copies it first
            steps.move(turn, "answer")
    elif state in flow.DECLARATION_SHORTCUTS and fields.is_declaration(event.text):
        answers.declare_at_once(turn, flow.DECLARATION_SHORTCUTS[state])
    elif not conv.escalated and answers.named(event):
        answers.check_channels(turn, answers.named(event))
    else:
        answers.unusable(turn, "text", "use-buttons")


def _text_detail(turn: Turn, text: str) -> None:
    detail = flow.DETAIL_BY_STATE[turn.conv.state]
    if detail.validate is None:
        steps.refuse(turn, "use-buttons")
        return
    outcome = detail.validate(text, turn.ctx.today)
    if isinstance(outcome, fields.Rejected):
        steps.rejected(turn, outcome)
        return
    steps.delete_input(turn)
    answers.answer_detail(turn, detail.name, outcome.value)
