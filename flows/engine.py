"""The one shared state machine: an event in, the new conversation and its effects out.

The `Machine` is built once from `flows.surrender` (model=None, no auto transitions). Each event
fires on a throw-away `Turn` that wraps a copy of the conversation, so the engine stays pure and
costs microseconds per event instead of a Machine per conversation.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flows import channels, fields, recall, relatives, steps, words
from flows import surrender as flow
from flows.model import (
    BirthChecked,
    CaseEvent,
    CaseFound,
    ChooseLanguage,
    Command,
    Contact,
    Context,
    Conversation,
    Edited,
    Effect,
    Erase,
    Escalate,
    Event,
    Forwarded,
    LinkNotice,
    Location,
    Media,
    OperatorAction,
    Params,
    Press,
    Priority,
    RegisterCase,
    Reply,
    Scrub,
    StaleButton,
    Text,
)
from flows.relaying import relay_of
from flows.screens import NOT_GIVEN, STATUS_PHASES, review_params, screen_reply, status_params

HEARD_KINDS = frozenset({"voice", "video_note"})  # relayed even outside a hand-off

__all__ = [
    "MACHINE",
    "NOT_GIVEN",
    "STATUS_PHASES",
    "handle",
    "review_params",
    "screen_reply",
    "status_params",
]

# the moves every handler makes, and what each state shows (flows.steps)
MACHINE = steps.MACHINE
CODE_EXAMPLE = recall.CODE_EXAMPLE
can_fire = steps.can_fire
fire = steps.fire
_move = steps.move
_again = steps.again
_relay_if_escalated = steps.relay_if_escalated
_delete_input = steps.delete_input
_rejected = steps.rejected
_refuse = steps.refuse
_accepted = steps.accepted


# Notices the engine itself shows, beside the screens of flow.SCREENS
NOTICES = frozenset(
    {
        "help",
        "status",
        "resume",
        "choose-language",
        "language-set",
        "unknown-command",
        "use-buttons",
        "stale-button",
        "operator-aborted",
        "update-from-first-phone",
        "wrong-content",
        "edit-ignored",
        "forward-refused",
        "voice-relayed",
        "declaration-hint",
        "invalid-code-format",
        "code-or-date-mismatch",
        "code-locked",
        "already-with-operator",
        "nothing-to-cancel",
        "safety-word-saved",
        "code-once",
        "at-point-noted",
        "help-coming",
        "forget-done",
        "terminal-hint",
        "operator-ended",
        "channel-genuine",
        "channel-unknown",
        "check-nothing",
    }
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

    def __getattr__(self, name: str) -> Any:
        if name.startswith("returns_to_"):
            return self.conv.return_to == name.removeprefix("returns_to_")
        if name.startswith("confirms_to_"):
            return self.conv.confirm_from == name.removeprefix("confirms_to_")
        if name.startswith("sos_to_"):
            return self.conv.sos_from == name.removeprefix("sos_to_")
        raise AttributeError(name)

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
        self.conv.escalated = False
        self.conv.priority = 0

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
        self.effects.append(CaseEvent("completed"))
        self._erase(wipe_chat=True, whole_case=True)  # met: nothing of it stays on his phone

    def withdraw_case(self) -> None:
        if self.linked:
            # only the owner's phone withdraws the case: from here it is a request to the desk
            self.effects.append(CaseEvent("unlinked"))
            self.effects.append(LinkNotice("withdraw-request", self.conv.case_id))
        else:
            self.effects.append(CaseEvent("withdrawn"))
        self._erase(wipe_chat=True)

    def forget_everything(self) -> None:
        if self.linked:
            self.effects.append(CaseEvent("unlinked"))
            self.effects.append(LinkNotice("unlinked", self.conv.case_id))
        else:
            self.effects.append(CaseEvent("erased"))
        self._erase(wipe_chat=True)
        self.say("forget-done")

    def erase_by_operator(self) -> None:
        self.effects.append(CaseEvent("erased"))
        self._erase(wipe_chat=False, whole_case=True)

    def send_instructions(self) -> None:
        params = self.pending_params
        if params:
            self.say(
                "meeting-instructions",
                {"time": params.get("time", ""), "place": params.get("place", "")},
            )

    def greet(self) -> None:
        self.say("greeting")

    def _erase(self, *, wipe_chat: bool, whole_case: bool = False) -> None:
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
            )
        )


# ---------------------------------------------------------------------------------------------
# The engine

# Screens a seized phone must not show: their messages are deleted once he has moved on
SCRUBBED_ON_LEAVING = frozenset({"review", "request_review", "safety_word"})
CODE_SCREEN = "code"  # the message with the code, deleted once he has written it down


def handle(conversation: Conversation, event: Event, ctx: Context) -> Outcome:
    """Apply one event. Never raises on caller input; the input conversation is not modified."""
    turn = Turn(conversation.copy(), ctx)
    turn.event = event
    before = turn.conv.state
    _dispatch(turn, event)
    conv = turn.conv
    conv.updated_at = ctx.now
    if before in SCRUBBED_ON_LEAVING and conv.state != before:
        turn.effects.insert(0, Scrub())  # what that screen showed leaves the chat first
    if turn.new_code is not None:
        turn.effects.append(
            Reply(
                "code-once",
                {"code": turn.new_code},
                (flow.button("code-written"),),
                inline=True,
                screen=CODE_SCREEN,
            )
        )
    return Outcome(conv, turn.effects, changed=turn.erased or conv.state != before)


def _dispatch(turn: Turn, event: Event) -> None:
    handler = _HANDLERS.get(type(event))
    if handler is not None:
        handler(turn, event)


# -- commands ---------------------------------------------------------------------------------


def _on_command(turn: Turn, event: Command) -> None:
    conv = turn.conv
    name = event.name
    if name == "start":
        if conv.state == "start" or conv.state in flow.TERMINAL:
            _move(turn, "begin")
        else:
            _again(turn, "resume")
    elif name == "help":
        _again(turn, "help")
    elif name == "status":
        turn.say("status", status_params(conv))
    elif name == "sos":
        _sos(turn)
    elif name == "language":
        turn.effects.append(
            Reply(
                "choose-language",
                buttons=tuple(flow.button(f"lang-{lang}") for lang in flow.LANGUAGES),
                inline=True,
            )
        )
    elif name in flow.COMMAND_TRIGGERS:
        if name == "operator" and (conv.state == "start" or conv.state in flow.TERMINAL):
            _move(turn, "begin")  # a fresh conversation: through the menu to an operator
        if conv.state == "confirm_withdraw" and name == "operator":
            fire(turn, "withdraw_no")  # he wants a person rather than an answer: ask one
            if not _move(turn, "call_operator"):
                _again(turn, "already-with-operator")
        elif conv.state == "confirm_withdraw" and name != "forget":
            _again(turn)
        elif not _move(turn, flow.COMMAND_TRIGGERS[name]):
            notice = "already-with-operator" if name == "operator" else "nothing-to-cancel"
            _again(turn, notice)
    else:
        _refuse(turn, "unknown-command")


def _on_language(turn: Turn, event: ChooseLanguage) -> None:
    if event.lang in flow.LANGUAGES:
        turn.conv.lang = event.lang
    _again(turn, "language-set")


# -- buttons ----------------------------------------------------------------------------------


def _on_press(turn: Turn, event: Press) -> None:
    conv = turn.conv
    if event.button == "code-written" and event.screen == CODE_SCREEN:
        turn.effects.append(Scrub())  # written down: the message with the code goes
        return
    screen = flow.SCREENS[conv.state]
    if event.screen is None:
        event = Press(_twin_on(screen, event.button))
    stale_message = event.screen is not None and event.screen != conv.state
    shortcut = flow.DECLARATION_SHORTCUTS.get(conv.state)
    if event.button == "declare" and shortcut is not None and not stale_message:
        _declare_at_once(turn, shortcut)
        return
    on_screen = event.button in {b.id for b in screen.buttons}
    alarm = event.button in flow.SOS_BUTTONS and conv.state not in flow.EMERGENCY_STATES
    if event.screen is None and not on_screen and alarm:
        _relay_if_escalated(turn, "text")
        _sos(turn)  # «Срочно: мы в опасности» typed where the menu is not shown
        return
    if stale_message or not on_screen:
        _not_on_this_screen(turn, typed=event.screen is None)
        return
    detail = flow.DETAIL_BY_STATE.get(conv.state)
    if detail is not None and event.button in detail.choices:
        _delete_input(turn)  # an answer typed with a reply-keyboard button is a message too
        _answer_detail(turn, detail.name, event.button)
        return
    if conv.state in {"recall_injuries", "emergency_injuries"} and event.button in flow.HEALTH:
        conv.fields[conv.state] = event.button
        _accepted(turn)
        _relay_if_escalated(turn, "button")
        _delete_input(turn)  # after the relay: the desk copies it first
        _move(turn, "answer")
        return
    if event.button == "at-point":
        # every press reaches the desk, also at the priority the case has already
        turn.escalate(Priority.HIGH, "at-point", always=True)
        turn.say("at-point-noted")
        return
    if event.button == "help-now":
        turn.escalate(Priority.HIGHEST, "help-now", always=True)
        turn.say("help-coming")
        return
    if event.button == "skip":
        turn.conv.fields.pop(_field_of(conv.state), None)
    trigger = flow.trigger_of(event.button)
    if _move(turn, trigger):
        return
    if trigger in ("update", "safety_word") and conv.state == "registered":
        _again(turn, "update-from-first-phone")  # linked: his details stay with the first phone
    else:
        _refuse(turn, "stale-button")


def _twin_on(screen: flow.Screen, button: str) -> str:
    """A label typed (or a reply-keyboard button) names a button by its words; where two
    buttons read alike («Связаться с оператором» in the menu and on a screen), the one of this
    screen that does the same is meant."""
    trigger = flow.trigger_of(button)
    ids = [b.id for b in screen.buttons]
    if button in ids:
        return button
    return next((b for b in ids if flow.trigger_of(b) == trigger), button)


def _not_on_this_screen(turn: Turn, *, typed: bool) -> None:
    """A button the current screen does not have. Typed (or tapped on a reply keyboard) while
    an operator follows the chat, it is words for him like any text; asked for a code, the
    code is what is missing."""
    conv = turn.conv
    if typed and conv.escalated and _live_relay(conv.state):
        _relay_if_escalated(turn, "text")
    elif typed and conv.state == "recall_code":
        _rejected(turn, fields.Rejected("invalid-code-format", {"example": CODE_EXAMPLE}))
    else:
        if typed:
            _relay_if_escalated(turn, "text")
        _refuse(turn, "stale-button")


def _declare_at_once(turn: Turn, trigger: str) -> None:
    """«Я иду сдаваться» said at the menu or after registration: open the declaration and take
    these words as it, instead of asking for them again."""
    if not fire(turn, trigger):
        _refuse(turn, "stale-button")
        return
    if not can_fire(turn.conv.state, "declare"):  # "ready" led to the code question first
        turn.effects.append(screen_reply(turn.conv, turn.ctx.genuine))
        return
    _move(turn, "declare")


def _field_of(state: str) -> str:
    detail = flow.DETAIL_BY_STATE.get(state)
    return detail.name if detail is not None else state


def _answer_detail(turn: Turn, name: str, value: str) -> None:
    turn.conv.fields[name] = value
    _accepted(turn)
    _move(turn, "answer")


# -- text -------------------------------------------------------------------------------------

_STEP_VALIDATORS: dict[str, Callable[[str], fields.Outcome]] = {
    "recall_location": fields.location_text,
    "emergency_location": fields.location_text,
    "recall_people": fields.people_count,
    "emergency_people": fields.people_count,
    "recall_injuries": fields.injuries,
    "emergency_injuries": fields.injuries,
}


def _on_text(turn: Turn, event: Text) -> None:
    conv = turn.conv
    state = conv.state
    # the safety word changes nothing the caller sees, even when it is a cry for help
    duress = recall.check_safety_word(turn, event.text)
    if not duress and words.is_sos(event.text) and state not in flow.EMERGENCY_STATES:
        _relay_if_escalated(turn, "text")
        _sos(turn)
    elif state == "check_channel":
        _check_channels(turn, _named(event), nothing="check-nothing")
    elif state == "start":
        _move(turn, "begin")
    elif state in flow.TERMINAL:
        _again(turn, "terminal-hint")
    elif state in {"declaration", "recall_declare"}:
        if fields.is_declaration(event.text):
            _accepted(turn)
            _move(turn, "declare")
            _relay_if_escalated(turn, "text")
        else:
            _relay_if_escalated(turn, "text")
            _rejected(turn, fields.Rejected("declaration-hint"))
    elif state in flow.DETAIL_BY_STATE:
        _text_detail(turn, event.text)
    elif state == "safety_word":
        recall.set_safety_word(turn, event.text)
    elif state == "recall_code":
        recall.text_code(turn, event.text)
    elif state == "recall_birth":
        recall.text_birth(turn, event.text)
    elif state in _STEP_VALIDATORS:
        _relay_if_escalated(turn, "text")
        outcome = _STEP_VALIDATORS[state](event.text)
        if isinstance(outcome, fields.Rejected):
            _rejected(turn, outcome)
        else:
            conv.fields[state] = outcome.value
            _accepted(turn)
            _delete_input(turn)  # after the relay: the desk copies it first
            _move(turn, "answer")
    elif state in flow.DECLARATION_SHORTCUTS and fields.is_declaration(event.text):
        _declare_at_once(turn, flow.DECLARATION_SHORTCUTS[state])
    elif not conv.escalated and _named(event):
        _check_channels(turn, _named(event))
    else:
        _unusable(turn, "text", "use-buttons")


def _named(event: Text) -> list[channels.Candidate]:
    """The channels, bots and sites a message names. Words with a link hidden under them
    name where the link goes, not what they say: only the links are checked then."""
    return channels.candidates(" ".join(event.links) if event.links else event.text)


def _sos(turn: Turn) -> None:
    """«SOS», «помогите», /sos: is the danger now? Asked once; a second cry is the answer.
    Where an operator already follows the chat, the desk hears it at once, at the top."""
    state = turn.conv.state
    if state == "sos_confirm":
        _move(turn, "sos_yes")
    elif state in flow.ESCALATED_STATES:
        turn.escalate(Priority.HIGHEST, "help-now", always=True)
        turn.say("help-coming")
    else:
        _move(turn, "sos")


def _check_channels(
    turn: Turn, found: list[channels.Candidate], *, nothing: str | None = None
) -> None:
    """Whether each channel, bot or site named is on the team's list; the state stays."""
    if not found and nothing is not None:
        _refuse(turn, nothing)
        return
    for candidate in found:
        entry = turn.ctx.genuine.find(candidate)
        if entry is not None:
            turn.say("channel-genuine", {"name": entry.name, "address": entry.address})
        else:
            turn.say("channel-unknown", {"address": candidate.value})


def _text_detail(turn: Turn, text: str) -> None:
    detail = flow.DETAIL_BY_STATE[turn.conv.state]
    if detail.validate is None:
        _refuse(turn, "use-buttons")
        return
    outcome = detail.validate(text, turn.ctx.today)
    if isinstance(outcome, fields.Rejected):
        _rejected(turn, outcome)
        return
    _delete_input(turn)
    _answer_detail(turn, detail.name, outcome.value)


# -- other content ----------------------------------------------------------------------------


def _on_location(turn: Turn, event: Location) -> None:
    state = turn.conv.state
    if flow.SCREENS[state].expects == "location":
        _relay_if_escalated(turn, "location")
        _delete_input(turn)  # where he is must not stay on his phone
        turn.conv.fields[state] = f"{event.latitude:.5f},{event.longitude:.5f}"
        _accepted(turn)
        _move(turn, "answer")
    else:
        _unusable(turn, "location", "wrong-content", {"kind": "location"})


def _on_contact(turn: Turn, event: Contact) -> None:
    if turn.conv.state == "details_phone":
        if not event.own:
            _rejected(turn, fields.Rejected("contact-not-own"))
            return
        outcome = fields.shared_phone(event.phone)
        if isinstance(outcome, fields.Rejected):
            _rejected(turn, outcome)
            return
        _delete_input(turn)
        _answer_detail(turn, "phone", outcome.value)
        return
    _unusable(turn, "contact", "wrong-content", {"kind": "contact"})


def _on_media(turn: Turn, event: Media) -> None:
    ref = turn.ctx.message_ref
    if event.kind in HEARD_KINDS and ref is not None:
        # a caller who cannot type must still be heard
        if not turn.conv.escalated:
            turn.escalate(Priority.NORMAL, "voice")
        turn.effects.append(relay_of(event, ref, event.kind))
        _again(turn, "voice-relayed")
        return
    _unusable(turn, event.kind, "wrong-content", {"kind": event.kind})


def _on_edited(turn: Turn, event: Edited) -> None:
    _unusable(turn, "edit", "edit-ignored")


def _on_forwarded(turn: Turn, event: Forwarded) -> None:
    """A post forwarded from a channel or a bot is a question: is this one genuine?"""
    origin = event.origin
    # a person's message forwarded is not a question about a channel (and may be an answer)
    if origin is None or origin.kind not in {"channel", "bot", "chat"}:
        _unusable(turn, "forward", "forward-refused")
        return
    _relay_if_escalated(turn, "forward")
    entry = channels.check_forward(turn.ctx.genuine, origin)
    if entry is not None:
        turn.say("channel-genuine", {"name": entry.name, "address": entry.address})
    else:
        turn.say("channel-unknown", {"address": origin.shown or NOT_GIVEN})


def _live_relay(state: str) -> bool:
    """An escalated state with no question open: what the caller sends is for the operator."""
    expects = flow.SCREENS[state].expects
    return expects == "none" or (expects == "choice" and state in flow.ESCALATED_STATES)


def _unusable(turn: Turn, relay_kind: str, notice: str, params: Params | None = None) -> None:
    """Content the step cannot use: relayed once escalated; explained (with the step shown
    again) unless the operator relay is all the state is about."""
    _relay_if_escalated(turn, relay_kind)
    if not turn.conv.escalated or not _live_relay(turn.conv.state):
        _refuse(turn, notice, params)


def _on_stale(turn: Turn, event: StaleButton) -> None:
    _refuse(turn, "stale-button")


# What the caller is told when an operator ends what he was in, before the screen he is back on
# (an aborted emergency had no meeting to cancel: it was a conversation that ended)
_ENDED_BY_OPERATOR = {"end": "operator-ended", "abort": "operator-aborted"}


def _ended_notice(state: str, action: str) -> str | None:
    if action == "abort" and state in flow.EMERGENCY_STATES:
        return "operator-ended"
    return _ENDED_BY_OPERATOR.get(action)


def _on_operator(turn: Turn, event: OperatorAction) -> None:
    turn.pending_params = event.params
    trigger = f"op_{event.action}"
    notice = _ended_notice(turn.conv.state, event.action)
    if notice is not None and can_fire(turn.conv.state, trigger):
        turn.say(notice)
    if _move(turn, trigger):
        return
    if event.action != "end" or not turn.conv.escalated:
        return
    if turn.conv.state == "confirm_withdraw" and not _end_behind_confirmation(turn.conv):
        return
    if turn.conv.state not in flow.ESCALATED_STATES:  # a re-call or meetup: Abort or Met it
        # an escalation raised outside a hand-off (bad input, a voice note, a failed code):
        # the operator closes it and the caller goes on where he was
        turn.clear_escalation()
        _again(turn, "operator-ended")


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


_HANDLERS: dict[type, Callable[[Turn, Any], None]] = {
    Command: _on_command,
    ChooseLanguage: _on_language,
    Press: _on_press,
    Text: _on_text,
    Location: _on_location,
    Contact: _on_contact,
    Media: _on_media,
    Edited: _on_edited,
    Forwarded: _on_forwarded,
    StaleButton: _on_stale,
    OperatorAction: _on_operator,
    CaseFound: recall.on_case_found,
    BirthChecked: recall.on_birth_checked,
}
