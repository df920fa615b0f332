"""What several kinds of input share: a question's answer read and taken, the declaration said
at once, a cry for help, the channel check, content the step cannot use.
"""

from __future__ import annotations

from flows import channels, fields, steps
from flows import surrender as flow
from flows.model import Params, Priority, Text
from flows.reading import Answer
from flows.screens import screen_reply
from flows.turn import Turn


def read_answer(turn: Turn, answer: Answer, text: str) -> None:
    """Typed text where a question is open: checked, then taken or refused."""
    if answer.relay:
        steps.relay_if_escalated(turn, "text")  # before it is judged: he sees what was written
    if answer.validate is None:
        steps.refuse(turn, "use-buttons")
        return
    outcome = answer.validate(text, turn.ctx.today)
    if isinstance(outcome, fields.Rejected):
        steps.rejected(turn, outcome)
        return
    take(turn, answer, outcome.value)


def take(turn: Turn, answer: Answer, value: str, *, relay: str | None = None) -> None:
    """An answer taken: shown to the desk first (the `relay` kind, where the question relays),
    out of his chat (unless the screen keeps it), kept under its field; then the next step."""
    if relay is not None and answer.relay:
        steps.relay_if_escalated(turn, relay)
    steps.delete_taken(turn)  # after the relay: the desk copies it first
    turn.conv.fields[answer.field] = value
    steps.accepted(turn)
    steps.move(turn, "answer")


def declare_at_once(turn: Turn, trigger: str) -> None:
    """«Я иду сдаваться» said at the menu or after registration: open the declaration and take
    these words as it, instead of asking for them again."""
    if not steps.fire(turn, trigger):
        steps.refuse(turn, "stale-button")
        return
    if not steps.can_fire(turn.conv.state, "declare"):  # "ready" led to the code question first
        turn.effects.append(screen_reply(turn.conv, turn.ctx.genuine))
        return
    steps.move(turn, "declare")


def sos(turn: Turn) -> None:
    """«SOS», «помогите», /sos: is the danger now? Asked once; a second cry is the answer.
    Where an operator already follows the chat, the desk hears it at once, at the top."""
    state = turn.conv.state
    if state == "sos_confirm":
        steps.move(turn, "sos_yes")
    elif state in flow.ESCALATED_STATES:
        turn.escalate(Priority.HIGHEST, "help-now", always=True)
        turn.say("help-coming")
    else:
        steps.move(turn, "sos")


def check_channels(
    turn: Turn, found: list[channels.Candidate], *, nothing: str | None = None
) -> None:
    """Whether each channel, bot or site named is on the team's list; the state stays."""
    if not found and nothing is not None:
        steps.refuse(turn, nothing)
        return
    for candidate in found:
        entry = turn.ctx.genuine.find(candidate)
        if entry is not None:
            turn.say("channel-genuine", {"name": entry.name, "address": entry.address})
        else:
            turn.say("channel-unknown", {"address": candidate.value})


def named(event: Text) -> list[channels.Candidate]:
    """The channels, bots and sites a message names. Words with a link hidden under them
    name where the link goes, not what they say: only the links are checked then."""
    return channels.candidates(" ".join(event.links) if event.links else event.text)


live_relay = flow.live_relay


def unusable(turn: Turn, relay_kind: str, notice: str, params: Params | None = None) -> None:
    """Content the step cannot use: relayed once escalated; explained (with the step shown
    again) unless the operator relay is all the state is about. What reached the operator is
    not called "not needed here": he is told it went, and what the step still waits for."""
    relayed = steps.relay_if_escalated(turn, relay_kind)
    if relayed and live_relay(turn.conv.state):
        return
    steps.refuse(turn, "relayed-to-operator" if relayed else notice, None if relayed else params)
