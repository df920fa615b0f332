"""What several kinds of input share: an answer taken, the declaration said at once, a cry
for help, the channel check, content the step cannot use.
"""

from __future__ import annotations

from flows import channels, steps
from flows import surrender as flow
from flows.model import (
    Params,
    Priority,
    Text,
)
from flows.screens import screen_reply
from flows.turn import Turn


def answer_detail(turn: Turn, name: str, value: str) -> None:
    turn.conv.fields[name] = value
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


def live_relay(state: str) -> bool:
    """An escalated state with no question open: what the caller sends is for the operator."""
    expects = flow.SCREENS[state].expects
    return expects == "none" or (expects == "choice" and state in flow.ESCALATED_STATES)


def unusable(turn: Turn, relay_kind: str, notice: str, params: Params | None = None) -> None:
    """Content the step cannot use: relayed once escalated; explained (with the step shown
    again) unless the operator relay is all the state is about."""
    steps.relay_if_escalated(turn, relay_kind)
    if not turn.conv.escalated or not live_relay(turn.conv.state):
        steps.refuse(turn, notice, params)
