"""The one shared state machine: an event in, the new conversation and its effects out.

The `Machine` is built once from `flows.surrender` (model=None, no auto transitions). Each event
fires on a throw-away `Turn` that wraps a copy of the conversation, so the engine stays pure and
costs microseconds per event instead of a Machine per conversation.
"""

from __future__ import annotations

from typing import assert_never

from flows import (
    answers,
    fields,
    on_content,
    on_operator,
    on_text,
    recall,
    steps,
)
from flows import surrender as flow
from flows.model import (
    BirthChecked,
    CaseFound,
    ChooseLanguage,
    Command,
    Contact,
    Context,
    Conversation,
    Edited,
    Event,
    Forwarded,
    Location,
    Media,
    OperatorAction,
    Press,
    Priority,
    Reply,
    Scrub,
    StaleButton,
    Text,
)
from flows.reading import Reads
from flows.screens import NOT_GIVEN, STATUS_PHASES, review_params, screen_reply, status_params
from flows.turn import Outcome, Turn

__all__ = [
    "MACHINE",
    "NOT_GIVEN",
    "STATUS_PHASES",
    "Outcome",
    "Turn",
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
_rejected = steps.rejected
_refuse = steps.refuse


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
        "operator-claimed",
        "relayed-to-operator",
        "contact-passed",
        "location-passed",
        "channel-genuine",
        "channel-unknown",
        "check-nothing",
    }
)


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
    match event:
        case Command():
            _on_command(turn, event)
        case ChooseLanguage():
            _on_language(turn, event)
        case Press():
            _on_press(turn, event)
        case Text():
            on_text.on_text(turn, event)
        case Location():
            on_content.on_location(turn, event)
        case Contact():
            on_content.on_contact(turn, event)
        case Media():
            on_content.on_media(turn, event)
        case Edited():
            on_content.on_edited(turn, event)
        case Forwarded():
            on_content.on_forwarded(turn, event)
        case StaleButton():
            on_content.on_stale(turn, event)
        case OperatorAction():
            on_operator.on_operator(turn, event)
        case CaseFound():
            recall.on_case_found(turn, event)
        case BirthChecked():
            recall.on_birth_checked(turn, event)
        case _:
            assert_never(event)


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
        # in a live conversation he is with an operator, whatever step waits for him
        turn.say("status", {"phase": "handoff"} if conv.state == "talk" else status_params(conv))
    elif name == "sos":
        answers.sos(turn)
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
        answers.declare_at_once(turn, shortcut)
        return
    on_screen = event.button in {b.id for b in screen.buttons}
    alarm = event.button in flow.SOS_BUTTONS and conv.state not in flow.EMERGENCY_STATES
    if event.screen is None and not on_screen and alarm:
        _relay_if_escalated(turn, "text")
        answers.sos(turn)  # «Срочно: мы в опасности» typed where the menu is not shown
        return
    if stale_message or not on_screen:
        _not_on_this_screen(turn, typed=event.screen is None)
        return
    answer = screen.answer
    if answer is not None and event.button in answer.choices:
        # an answer typed with a reply-keyboard button is a message too: deleted as typed
        answers.take(turn, answer, event.button, relay="button")
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
        turn.conv.fields.pop(answer.field if answer is not None else conv.state, None)
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
    if typed and conv.escalated and answers.live_relay(conv.state):
        _relay_if_escalated(turn, "text")
    elif typed and flow.SCREENS[conv.state].reads is Reads.CODE:
        _rejected(turn, fields.Rejected("invalid-code-format", {"example": CODE_EXAMPLE}))
    else:
        relayed = typed and _relay_if_escalated(turn, "text")
        _refuse(turn, "relayed-to-operator" if relayed else "stale-button")
