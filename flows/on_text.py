"""A text message: a cry for help, or read as the screen he is on says (`Screen.reads`)."""

from __future__ import annotations

from typing import assert_never

from flows import answers, fields, recall, steps, words
from flows import surrender as flow
from flows.model import Text
from flows.reading import Reads
from flows.turn import Turn


def on_text(turn: Turn, event: Text) -> None:
    state = turn.conv.state
    screen = flow.SCREENS[state]
    # the safety word changes nothing the caller sees, even when it is a cry for help
    duress = recall.check_safety_word(turn, event.text)
    if not duress and words.is_sos(event.text) and state not in flow.EMERGENCY_STATES:
        steps.relay_if_escalated(turn, "text")
        answers.sos(turn)
        return
    match screen.reads:
        case Reads.ANSWER:
            assert screen.answer is not None  # a Screen holds one when it reads one
            answers.read_answer(turn, screen.answer, event.text)
        case Reads.DECLARATION:
            _declaration(turn, event.text)
        case Reads.SAFETY_WORD:
            recall.set_safety_word(turn, event.text)
        case Reads.CODE:
            recall.text_code(turn, event.text)
        case Reads.BIRTH_DATE:
            recall.text_birth(turn, event.text)
        case Reads.CHANNELS:
            answers.check_channels(turn, answers.named(event), nothing="check-nothing")
        case Reads.BEGIN:
            steps.move(turn, "begin")
        case Reads.ENDED:
            steps.again(turn, "terminal-hint")
        case Reads.NOTHING:
            _not_asked(turn, event)
        case _:
            assert_never(screen.reads)


def _declaration(turn: Turn, text: str) -> None:
    if fields.is_declaration(text):
        steps.accepted(turn)
        steps.move(turn, "declare")
        steps.relay_if_escalated(turn, "text")
    else:
        steps.relay_if_escalated(turn, "text")
        steps.rejected(turn, fields.Rejected("declaration-hint"))


def _not_asked(turn: Turn, event: Text) -> None:
    """Words where only buttons are offered: the declaration said at once, channels to
    check, or words for the operator (explained, unless he is all the screen is about)."""
    shortcut = flow.DECLARATION_SHORTCUTS.get(turn.conv.state)
    if shortcut is not None and fields.is_declaration(event.text):
        answers.declare_at_once(turn, shortcut)
    elif not turn.conv.escalated and answers.named(event):
        answers.check_channels(turn, answers.named(event))
    else:
        answers.unusable(turn, "text", "use-buttons")
