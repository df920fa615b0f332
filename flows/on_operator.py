"""What an operator's action does to the caller's conversation."""

from __future__ import annotations

from flows import steps
from flows import surrender as flow
from flows.model import Conversation, FlowAction, OperatorAction
from flows.turn import Turn

# What the caller is told when an operator ends what he was in, before the screen he is back on
# (an aborted emergency had no meeting to cancel: it was a conversation that ended)
_ENDED_BY_OPERATOR = {FlowAction.END: "operator-ended", FlowAction.ABORT: "operator-aborted"}


def _ended_notice(state: str, action: FlowAction) -> str | None:
    if action == FlowAction.ABORT and state in flow.EMERGENCY_STATES:
        return "operator-ended"
    return _ENDED_BY_OPERATOR.get(action)


def on_operator(turn: Turn, event: OperatorAction) -> None:
    turn.pending_params = event.params
    trigger = f"op_{event.action}"
    notice = _ended_notice(turn.conv.state, event.action)
    if notice is not None and steps.can_fire(turn.conv.state, trigger):
        turn.say(notice)
    if steps.move(turn, trigger):
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
