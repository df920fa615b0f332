"""What an operator's action does to the caller's conversation."""

from __future__ import annotations

from flows import steps
from flows import surrender as flow
from flows.catalogue_shift import CANNED_TO_CALLER
from flows.model import Conversation, FlowAction, FromOperator, OperatorAction, Reply
from flows.turn import Turn

# What the caller is told when an operator ends what he was in, before the screen he is back on
# (an aborted emergency had no meeting to cancel: it was a conversation that ended)
_ENDED_BY_OPERATOR = {FlowAction.END: "operator-ended", FlowAction.ABORT: "operator-aborted"}


# Screens that tell the caller an operator guides him: told when one takes the case there
_GUIDED_SCREENS = frozenset({"meetup"})


def _ended_notice(conv: Conversation, action: FlowAction) -> str | None:
    state = conv.talk_from if conv.state == "talk" and conv.talk_from else conv.state
    if action == FlowAction.ABORT and state in flow.EMERGENCY_STATES:
        return "operator-ended"
    return _ENDED_BY_OPERATOR.get(action)


def on_operator(turn: Turn, event: OperatorAction) -> None:
    if event.action in (FlowAction.CLAIM, FlowAction.RELEASE):
        _claimed(turn, event.action == FlowAction.CLAIM)
        return
    if event.action == FlowAction.TALK:
        _talk(turn, event)
        return
    if event.action == FlowAction.SAY:
        _say(turn, event)
        return
    turn.pending_params = event.params
    if event.action == FlowAction.MEET and turn.conv.escalated:
        turn.conv.claimed = True  # whoever sends the instructions guides him
    trigger = f"op_{event.action}"
    notice = _ended_notice(turn.conv, event.action)
    before = len(turn.effects)
    if steps.move(turn, trigger):
        # told first, and only once it happened (a row's condition may refuse it)
        if notice is not None:
            turn.effects.insert(before, Reply(notice))
        return
    if event.action != FlowAction.END or not turn.conv.escalated:
        return
    if turn.conv.state == "confirm_withdraw" and not _end_behind_confirmation(turn.conv):
        return
    if turn.conv.state not in flow.ESCALATED_STATES:  # a re-call or meetup: Abort or Met it
        # an escalation raised outside a hand-off (bad input, a voice note, a failed code):
        # the operator closes it and the caller goes on where he was
        turn.clear_escalation()
        steps.again(turn, "operator-ended")


def _end_behind_confirmation(conv: Conversation) -> bool:
    """Close while the caller is asked to confirm a withdrawal: ends what the question
    interrupted, so "no" goes back to where that would have led. False when Close cannot
    end it (a re-call or meetup, which Abort or Met end)."""
    origin = conv.confirm_from
    if origin == "handoff":
        conv.confirm_from = conv.return_to if conv.return_to in flow.RESUMABLE else "menu"
    elif origin in flow.EMERGENCY_STATES:
        conv.confirm_from = "menu"
    elif origin in flow.ESCALATED_STATES:
        return False
    return True


def _claimed(turn: Turn, claimed: bool) -> None:
    """Whether an operator has the case: what "the operator is guiding you" waits for."""
    conv = turn.conv
    if conv.claimed == claimed or not conv.escalated:
        return
    conv.claimed = claimed
    if claimed and conv.state in _GUIDED_SCREENS:
        turn.say("operator-claimed")


def _talk(turn: Turn, event: OperatorAction) -> None:
    """The operator's message goes to the caller; wherever his own messages would have been
    answers (a form's step, the menu, a question), a live conversation opens first, so what
    he sends next reaches the operator and the step waits with what he had answered."""
    message = event.params.get("message")
    if not isinstance(message, int):
        return
    turn.effects.append(FromOperator(message))
    _open_talk(turn)


def _say(turn: Turn, event: OperatorAction) -> None:
    """A canned reply is the operator writing too ("are you safe?" must not be answered into
    the form): his language's text, then the live conversation where a step reads answers."""
    name = event.params.get("canned")
    message_id = f"canned-{name}"
    if not isinstance(name, str) or message_id not in CANNED_TO_CALLER:
        return
    takes = CANNED_TO_CALLER[message_id]
    turn.say(message_id, {k: v for k, v in event.params.items() if k in takes})
    _open_talk(turn)


def _open_talk(turn: Turn) -> None:
    turn.conv.claimed = turn.conv.claimed or turn.conv.escalated  # only a claimer writes
    if steps.can_fire(turn.conv.state, "op_talk"):
        steps.move(turn, "op_talk")
