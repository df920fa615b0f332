"""The machine and the small moves every handler of the engine makes: fire a trigger and show
the screen it leads to, explain and ask again, reject an answer (what each state shows is in
`flows.screens`); and which of the bot's messages must not stay on a seized phone.

Split from `flows.engine` so that handlers of their own modules (`flows.recall`) use the same
moves; they work on anything shaped like the engine's `Turn` (the `Step` protocol).
"""

from __future__ import annotations

from typing import Any, Protocol

from transitions import Machine, Transition

from flows import fields
from flows import surrender as flow
from flows.model import (
    Context,
    Conversation,
    DeleteInput,
    Effect,
    Event,
    Params,
    Priority,
    Reply,
)
from flows.parts import BackTo
from flows.reading import Deletes
from flows.relaying import relay_of
from flows.screens import screen_reply

INVALID_STREAK_ALERT = 3  # consecutive bad answers before an operator is asked to help


class _Transition(Transition):
    """A row of the table whose destination may be a `BackTo`, resolved as it fires from the
    conversation of the turn (the model): one row instead of one per state it may go back to."""

    def _eval_conditions(self, event_data: Any) -> bool:
        if isinstance(self.dest, BackTo) and self.dest.resolve(event_data.model.conv) is None:
            return False  # nothing it may go back to: the next row for the trigger is tried
        return bool(super()._eval_conditions(event_data))

    def _change_state(self, event_data: Any) -> None:
        if isinstance(self.dest, BackTo):
            dest = self.dest.resolve(event_data.model.conv)
            Transition(self.source, dest)._change_state(event_data)
        else:
            super()._change_state(event_data)


class FlowMachine(Machine):
    """`transitions`' Machine, with rows that may go back to where a detour came from."""

    transition_cls = _Transition


MACHINE = FlowMachine(
    model=None,
    states=flow.STATES,
    transitions=flow.TRANSITIONS,
    initial="start",
    auto_transitions=False,
    send_event=False,
)


class Step(Protocol):
    """What the moves need of the engine's `Turn`."""

    conv: Conversation
    ctx: Context
    effects: list[Effect]
    event: Event | None

    def say(self, message_id: str, params: Params | None = None) -> None: ...

    def escalate(self, priority: Priority, reason: str, *, always: bool = False) -> None: ...


def can_fire(state: str, trigger: str) -> bool:
    event = MACHINE.events.get(trigger)
    return event is not None and state in event.transitions


def fire(turn: Step, trigger: str) -> bool:
    """Fire `trigger` if the table allows it from the current state; True when a transition ran."""
    if not can_fire(turn.conv.state, trigger):
        return False
    return bool(MACHINE.events[trigger].trigger(turn))


def move(turn: Step, trigger: str) -> bool:
    """Fire a trigger and show the screen of the state it leads to."""
    if not fire(turn, trigger):
        return False
    if turn.conv.state != "start":
        turn.effects.append(screen_reply(turn.conv, turn.ctx.genuine))
    return True


def again(turn: Step, notice: str | None = None, params: Params | None = None) -> None:
    """Explain, and show the current step once more; the state does not change."""
    if notice is not None:
        turn.say(notice, params)
    if turn.conv.state == "start":
        move(turn, "begin")
    else:
        turn.effects.append(screen_reply(turn.conv, turn.ctx.genuine))


def relay_if_escalated(turn: Step, kind: str) -> bool:
    """Show the caller's message in the case topic, if an operator follows; whether it was."""
    ref = turn.ctx.message_ref
    if turn.conv.escalated and ref is not None:
        turn.effects.append(relay_of(turn.event, ref, kind))
        return True
    return False


def delete_input(turn: Step) -> None:
    if turn.ctx.message_ref is not None:
        turn.effects.append(DeleteInput(turn.ctx.message_ref))


def delete_taken(turn: Step) -> None:
    """His message, taken as the answer: out of his chat unless the screen keeps it."""
    if flow.SCREENS[turn.conv.state].deletes is not Deletes.NEVER:
        delete_input(turn)


def rejected(turn: Step, rejection: fields.Rejected) -> None:
    turn.conv.invalid_streak += 1
    if turn.conv.invalid_streak == INVALID_STREAK_ALERT and not turn.conv.escalated:
        turn.escalate(Priority.NORMAL, "invalid")
    if flow.SCREENS[turn.conv.state].deletes is Deletes.ALWAYS:
        delete_input(turn)  # a refused answer may hold a personal value too
    refuse(turn, rejection.message_id, rejection.params)


def refuse(turn: Step, notice: str, params: Params | None = None) -> None:
    """One message that says what is expected, not the error and then the whole question
    again; it carries the step's buttons, so nothing has to be scrolled back to."""
    screen = flow.SCREENS[turn.conv.state]
    if turn.conv.state == "start" or screen.inline:  # inline buttons belong to their screen
        again(turn, notice, params)
        return
    turn.effects.append(
        Reply(notice, params or {}, screen.buttons, inline=screen.inline, screen=turn.conv.state)
    )


def accepted(turn: Step) -> None:
    turn.conv.invalid_streak = 0


# ---------------------------------------------------------------------------------------------
# What must not stay on a seized phone

# The bot's messages a seized phone must not show: deleted when he leaves their screen (`Scrub`),
# or at any erasure; the timed ones after a configured time at most
SECRET_MESSAGES = frozenset(
    {
        "review",
        "review-given",
        "request-review",
        "code-once",
        "ask-safety-word",
        "safety-word-saved",
        "meeting-instructions",
    }
)
TIMED_MESSAGES = frozenset({"code-once", "safety-word-saved"})
