"""The throw-away model one event is fired on: the conditions and callbacks the flow data
names, and the effects one turn collects.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from flows import relatives
from flows import surrender as flow
from flows.model import (
    CaseEvent,
    Context,
    Conversation,
    Effect,
    Erase,
    Escalate,
    Event,
    LinkNotice,
    Params,
    Priority,
    RegisterCase,
    Reply,
)


@dataclass(slots=True)
class Outcome:
    conversation: Conversation
    effects: list[Effect] = field(default_factory=list)
    changed: bool = False  # the state moved


class Turn:
    """The throw-away model one event is fired on: conditions and callbacks of the flow data."""

    def __init__(self, conversation: Conversation, ctx: Context) -> None:
        self.conv = conversation
        self.ctx = ctx
        self.effects: list[Effect] = []
        self.erased = False
        self.resumed = False
        # back from a live conversation: the operator is still there, his escalation stays
        self.keeps_escalation = False
        self.new_code: str | None = None  # registered now: shown once, after the screen
        self.pending_params: Params = {}
        self.event: Event | None = None  # what is relayed, should the desk follow the chat

    # `transitions` reads and writes the model's state through this attribute
    @property
    def state(self) -> str:
        return self.conv.state

    @state.setter
    def state(self, value: str) -> None:
        self.conv.state = value

    # -- conditions --------------------------------------------------------------------------
    @property
    def editing(self) -> bool:
        return self.conv.editing

    @property
    def form_complete(self) -> bool:
        return all(d.name in self.conv.fields for d in flow.DETAILS if d.required)

    @property
    def has_case(self) -> bool:
        return self.conv.case_id is not None

    @property
    def owns_case(self) -> bool:
        return self.conv.case_id is not None and self.conv.owns_case

    @property
    def relative_case(self) -> bool:
        return relatives.is_relative_case(self.conv)

    @property
    def talk_from_meetable(self) -> bool:
        return self.conv.talk_from in flow.MEETABLE

    @property
    def talk_from_abortable(self) -> bool:
        return self.conv.talk_from in flow.ABORTABLE

    # -- callbacks named in the flow data ----------------------------------------------------
    def say(self, message_id: str, params: Params | None = None) -> None:
        self.effects.append(Reply(message_id, params or {}))

    def escalate(self, priority: Priority, reason: str, *, always: bool = False) -> None:
        first = not self.conv.escalated
        self.conv.escalated = True
        if priority > self.conv.priority or first or always:
            self.conv.priority = max(self.conv.priority, int(priority))
            self.effects.append(Escalate(priority, reason))
        if first:
            self.effects.append(CaseEvent("escalated"))

    def remember_return(self) -> None:
        self.conv.return_to = self.conv.state

    def remember_confirm(self) -> None:
        self.conv.confirm_from = self.conv.state

    def remember_sos(self) -> None:
        self.conv.sos_from = self.conv.state

    def note_situation(self) -> None:
        """Where the relative believes the one he looks for is: the screen he asks from."""
        self.conv.fields["sought_where"] = "rel-" + self.conv.state.removeprefix("relatives_")

    def resuming(self) -> None:
        """Going back to a state already entered: its entry actions were done then."""
        self.resumed = True

    def start_editing(self) -> None:
        self.conv.editing = True

    def leave_editing(self) -> None:
        self.conv.editing = False

    def caller_left(self) -> None:
        """He ended the hand-off or the meeting himself: the desk must hear it, not find out."""
        if self.conv.escalated:
            self.effects.append(CaseEvent("left"))

    def clear_escalation(self) -> None:
        if self.keeps_escalation:
            return
        self.conv.escalated = False
        self.conv.priority = 0
        self.conv.claimed = False

    def remember_talk(self) -> None:
        """An operator wrote: what the caller sends now is for him. (The operator has claimed
        an open escalation to write at all; the conversation says so too, so what comes is
        relayed.)"""
        conv = self.conv
        conv.talk_from = conv.state
        conv.escalated = True
        conv.priority = max(conv.priority, int(Priority.NORMAL))
        self.effects.append(CaseEvent("talk"))

    def back_from_talk(self) -> None:
        """He goes on where he was: that step's entry was done then, and the operator who
        wrote is still there (only the operator's Close ends the escalation)."""
        self.resumed = True
        self.keeps_escalation = True
        self.effects.append(CaseEvent("talk-back"))

    def forget_talk(self) -> None:
        """Out of the live conversation (once its row has read where it goes back to)."""
        self.conv.talk_from = None

    def end_talk(self) -> None:
        """The operator ended the live conversation (Close: the caller is back where he was;
        the meeting instructions, Abort: where those lead); the escalation ends unless he is
        where an operator follows (a re-call's step, the meetup)."""
        self.conv.talk_from = None
        self.effects.append(CaseEvent("talk-ended"))
        if self.conv.state not in flow.ESCALATED_STATES:
            self.clear_escalation()

    def escalate_recall(self) -> None:
        if self.resumed:
            return
        self.escalate(Priority.HIGH, "recall")
        self.effects.append(CaseEvent("recall"))

    def enter_meetup(self) -> None:
        if self.resumed:
            return
        self.effects.append(CaseEvent("meetup"))

    def escalate_emergency(self) -> None:
        self.escalate(Priority.HIGHEST, "emergency")

    def escalate_handoff(self) -> None:
        locked = self.conv.code_locked
        origin = self.conv.return_to or ""
        reason = "code" if locked else flow.HANDOFF_REASONS.get(origin, "operator")
        self.escalate(Priority.HIGH if locked else Priority.NORMAL, reason, always=locked)

    def register_case(self) -> None:
        conv = self.conv
        if conv.owns_case and conv.case_id is not None:
            self.effects.append(CaseEvent("updated"))  # details updated: same case, same code
            return
        self.new_code = self._new_case()  # shown once, after the screen

    def register_request(self) -> None:
        """A relative's request: a case of its own, at the desk at once. Its code can never
        link another account to it (flows.linking checks only a serviceman's own case)."""
        self._new_case()
        self.escalate(Priority.NORMAL, "relatives")

    def _new_case(self) -> str:
        conv = self.conv
        code = self.ctx.new_code()
        conv.case_id = self.ctx.new_case_id()
        conv.owns_case = True
        conv.fields["case_code"] = code  # sealed; only its digest finds the case
        conv.code_digest = self.ctx.digest("code", code)
        self.effects.append(RegisterCase(conv.case_id, conv.code_digest))
        self.effects.append(CaseEvent("registered"))
        return code

    def link_case(self) -> None:
        self.conv.case_id = self.conv.pending_case_id
        self.conv.owns_case = False
        self.conv.pending_case_id = None
        self.effects.append(LinkNotice("linked", self.conv.case_id))

    @property
    def linked(self) -> bool:
        return self.conv.case_id is not None and not self.conv.owns_case

    def complete_case(self) -> None:
        self._ending("completed")
        self._erase(wipe_chat=True, whole_case=True, met=True)  # nothing stays on his phone

    def withdraw_case(self) -> None:
        if self.linked:
            # only the owner's phone withdraws the case: from here it is a request to the desk
            self.effects.append(CaseEvent("unlinked"))
            self.effects.append(LinkNotice("withdraw-request", self.conv.case_id))
        else:
            self._ending("withdrawn")
        self._erase(wipe_chat=True)

    def forget_everything(self) -> None:
        if self.linked:
            self.effects.append(CaseEvent("unlinked"))
            self.effects.append(LinkNotice("unlinked", self.conv.case_id))
        else:
            self._ending("erased")
        self._erase(wipe_chat=True)
        self.say("forget-done")

    def erase_by_operator(self) -> None:
        self._ending("erased")
        self._erase(wipe_chat=False, whole_case=True)

    def _ending(self, kind: str) -> None:
        """The case event of an ending names the case: the conversation is fresh by then."""
        self.effects.append(CaseEvent(kind, case=self.conv.case_id))

    def send_instructions(self) -> None:
        params = self.pending_params
        if params:
            self.say(
                "meeting-instructions",
                {"time": params.get("time", ""), "place": params.get("place", "")},
            )

    def greet(self) -> None:
        self.say("greeting")

    def _erase(self, *, wipe_chat: bool, whole_case: bool = False, met: bool = False) -> None:
        """The conversation starts afresh; the effect says which case goes with it. An owned
        case goes with its owner's conversation. A linked conversation takes only itself and
        its link, unless an operator ended the case from it (`whole_case`: met, erase): then
        the owner's side goes too."""
        old = self.conv
        owned = old.owns_case
        linked = old.case_id is not None and not owned
        self.conv = Conversation(state=old.state, lang=old.lang, version=old.version)
        self.erased = True
        self.effects.append(
            Erase(
                wipe_chat=wipe_chat,
                case_id=old.case_id if owned or whole_case else None,
                code_digest=old.code_digest if owned else None,
                linked=linked and whole_case,
                met=met,
            )
        )
