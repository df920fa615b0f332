"""The whole caller dialogue as data: states, what each shows (`flows.screens`, re-exported
here), its buttons, and every transition.

The machine (`flows.steps.MACHINE`, `transitions`) reads STATES and TRANSITIONS as they are; a
destination `BackTo` goes back to where a detour (a hand-off, a question) was entered from. The
names in `on_enter`, `before`, `after` and `conditions` are methods and properties of
`flows.turn.Turn`. Message ids name entries of the Fluent packs in `locales/`.
"""

from __future__ import annotations

from typing import Any

from flows import relatives, talking
from flows.parts import (
    BACK,
    DECLARE,
    OPERATOR,
    SHARE_CONTACT,
    SHARE_LOCATION,
    SKIP,
    DetailField,
    Remembered,
    Screen,
    back_to,
    button,
    form_transitions,
)
from flows.parts import t as _t
from flows.reading import Expects
from flows.screens import (
    AREAS,
    DETAIL_BY_STATE,
    DETAILS,
    HEALTH,
    MENU_CHOICES,
    NONE_LISTED,
    RANKS,
    SCREEN_PARAMS,
    SCREENS,
    STEP_OF,
    WISH,
    message_ids,
)

__all__ = [
    "AREAS",
    "BACK",
    "DECLARE",
    "DETAILS",
    "DETAIL_BY_STATE",
    "HEALTH",
    "MENU_CHOICES",
    "NONE_LISTED",
    "OPERATOR",
    "RANKS",
    "SCREENS",
    "SCREEN_PARAMS",
    "SHARE_CONTACT",
    "SHARE_LOCATION",
    "SKIP",
    "STEP_OF",
    "WISH",
    "DetailField",
    "Screen",
    "button",
    "message_ids",
]

TERMINAL = frozenset({"completed", "withdrawn"})


# ---------------------------------------------------------------------------------------------
# The states as `transitions` reads them, with what happens on entering each

_ON_ENTER: dict[str, list[str]] = {
    "menu": ["clear_escalation", "leave_editing"],
    "review": ["leave_editing"],
    "registered": ["clear_escalation"],
    "recall_location": ["escalate_recall"],
    "meetup": ["enter_meetup"],
    "emergency_location": ["escalate_emergency"],
    "handoff": ["escalate_handoff"],
    "completed": ["complete_case"],
    "withdrawn": ["withdraw_case"],
    **relatives.ON_ENTER,
}

STATES: list[dict[str, Any]] = [
    {"name": name, "on_enter": _ON_ENTER.get(name, [])} for name in SCREENS
]

# States a hand-off or a confirmation can come from, and so return to
RESUMABLE = tuple(
    name for name in SCREENS if name not in TERMINAL | {"start", "handoff", "confirm_withdraw"}
)
# States in which the caller is already talking to an operator or being guided
ESCALATED_STATES = frozenset(
    {
        "recall_location",
        "recall_people",
        "recall_injuries",
        "meetup",
        "emergency_location",
        "emergency_people",
        "emergency_injuries",
        "emergency",
        "handoff",
        "meetup_cancel",
        "talk",
    }
)
EMERGENCY_STATES = ["emergency_location", "emergency_people", "emergency_injuries", "emergency"]
RECALLED = ["recall_location", "recall_people", "recall_injuries"]
ABORTABLE = [*RECALLED, "meetup", "meetup_cancel", *EMERGENCY_STATES]
MEETABLE = [*RECALLED, "emergency", "handoff", "meetup", "meetup_cancel"]


def live_relay(state: str) -> bool:
    """An escalated state with no question open: what the caller sends is for the operator."""
    expects = SCREENS[state].expects
    return expects is Expects.NONE or (expects is Expects.CHOICE and state in ESCALATED_STATES)


# Where an operator's message opens a live conversation: every state in which what the caller
# sends would be taken as an answer (a form's step, a menu, a question), not only relayed
TALK_SOURCES = [
    name for name in SCREENS if name not in TERMINAL | {"start"} and not live_relay(name)
]


# A cry for help («SOS», «помогите», /sos) from a state where no operator follows yet: asked
# once whether the danger is now, then the emergency path, with what the form held kept
SOS_SOURCES = [name for name in SCREENS if name not in ESCALATED_STATES | {"sos_confirm"}]
SOS_RETURNS = [name for name in SOS_SOURCES if name not in TERMINAL | {"start"}]
# buttons whose words, typed (or tapped on an old keyboard) anywhere, are a cry for help
SOS_BUTTONS = frozenset({"menu-emergency", "help-now", "sos-yes"})

_GLOBAL_SOURCES = list(RESUMABLE)

TRANSITIONS: list[dict[str, Any]] = [
    _t("begin", ["start", "completed", "withdrawn"], "menu", before="greet"),
    # menu
    _t("premob", "menu", "premob"),
    # a relative's request is the case of this conversation: not a form of his own on top
    _t("surrender", "menu", "request_sent", conditions="relative_case"),
    _t("surrender", "menu", "declaration"),
    _t("ready", "menu", "request_sent", conditions="relative_case"),
    _t("ready", "menu", "recall_declare", conditions="has_case"),
    _t("ready", "menu", "recall_code"),
    _t("emergency", "menu", "emergency_location"),
    _t("relative", "menu", "relatives"),
    _t("legion", "menu", "legion"),
    _t("check", "menu", "check_channel"),
    _t("operator", ["menu", "premob", "relatives", "legion"], "handoff", before="remember_return"),
    _t("back", ["premob", "relatives", "legion", "check_channel"], "menu"),
    *relatives.TRANSITIONS,
    # stage 1: declaration, details, review
    _t("register", "premob", "request_sent", conditions="relative_case"),
    _t("register", "premob", "declaration"),
    _t("declare", "declaration", DETAILS[0].state),
    _t("not_yet", "declaration", "menu"),
    *form_transitions(DETAILS, before="declaration", review="review"),
    *(_t(f"edit_{d.name}", "review", d.state, after="start_editing") for d in DETAILS),
    _t("confirm", "review", "registered", conditions="form_complete", after="register_case"),
    _t("confirm", "review", DETAILS[0].state),  # required answers missing: the form again
    _t("withdraw", ["review", "registered"], "confirm_withdraw", before="remember_confirm"),
    # registered: keep the code, come back when ready
    _t("ready", "registered", "recall_declare"),
    _t("back", "registered", "menu"),
    # only the phone that registered holds the details; a linked one asks an operator
    _t("update", "registered", "review", conditions="owns_case"),
    # the safety word belongs to the case: set from the phone that registered it
    _t("safety_word", "registered", "safety_word", conditions="owns_case"),
    _t("answer", "safety_word", "registered"),
    _t("back", "safety_word", "registered"),
    # stage 2: the arrival re-call
    _t("found", "recall_code", "recall_birth"),
    _t("no_code", "recall_code", "recall_declare"),
    _t("verified", "recall_birth", "recall_declare", after="link_case"),
    _t("retry", "recall_birth", "recall_code"),  # code or date wrong: which is not said
    _t("locked", ["recall_code", "recall_birth"], "handoff", before="remember_return"),
    _t("back", ["recall_code", "recall_birth"], "menu"),
    _t("declare", "recall_declare", "recall_location"),
    _t("back", "recall_declare", "registered", conditions="has_case"),  # pressed by mistake
    _t("back", "recall_declare", "menu"),
    _t("answer", "recall_location", "recall_people"),
    _t("answer", "recall_people", "recall_injuries"),
    _t("answer", "recall_injuries", "meetup"),
    *talking.meetup_cancel_transitions(),
    # emergency: only location, people, injuries, each skippable
    _t("answer", "emergency_location", "emergency_people"),
    _t("skip", "emergency_location", "emergency_people"),
    _t("answer", "emergency_people", "emergency_injuries"),
    _t("skip", "emergency_people", "emergency_injuries"),
    _t("answer", "emergency_injuries", "emergency"),
    _t("skip", "emergency_injuries", "emergency"),
    # operators decide how escalated cases go on
    _t("op_meet", MEETABLE, "meetup", before="send_instructions"),
    _t("op_met", ["meetup", "meetup_cancel", "emergency", "handoff"], "completed"),
    # Abort also ends a re-call or an emergency whose caller fell silent mid-questions
    _t("op_abort", ABORTABLE, "request_sent", conditions="relative_case"),
    _t("op_abort", ABORTABLE, "registered", conditions="has_case"),
    _t("op_abort", ABORTABLE, "menu"),
    _t("op_end", EMERGENCY_STATES, "menu"),
    # an operator writing opens a live conversation (flows.talking)
    *talking.talk_transitions(TALK_SOURCES),
    # commands that work everywhere
    _t(
        "call_operator",
        [s for s in _GLOBAL_SOURCES if s not in ESCALATED_STATES],
        "handoff",
        before="remember_return",
    ),
    _t("cancel", [*_GLOBAL_SOURCES, "handoff"], "confirm_withdraw", before="remember_confirm"),
    _t("withdraw_yes", "confirm_withdraw", "withdrawn"),
    _t("sos", SOS_SOURCES, "sos_confirm", before="remember_sos"),
    _t("sos_yes", "sos_confirm", "emergency_location"),
    _t("sos_no", "sos_confirm", back_to(Remembered.SOS, SOS_RETURNS), before="resuming"),
    _t("sos_no", "sos_confirm", "menu"),
    _t("forget", [*SCREENS], "start", after="forget_everything"),
    _t("op_erase", [*SCREENS], "start", after="erase_by_operator"),
    # back to where a hand-off or a confirmation came from (each remembers its own origin, so
    # "no" to a withdrawal asked during a hand-off goes back to the hand-off)
    # (the hand-off is over: so is its escalation, or the next one would never reach the desk)
    _t(
        "leave",
        "handoff",
        back_to(Remembered.RETURN, RESUMABLE),
        before=["resuming", "caller_left"],
        after="clear_escalation",
    ),
    _t(
        "op_end",
        "handoff",
        back_to(Remembered.RETURN, RESUMABLE),
        before="resuming",
        after="clear_escalation",
    ),
    _t(
        "withdraw_no",
        "confirm_withdraw",
        back_to(Remembered.CONFIRM, (*RESUMABLE, "handoff")),
        before="resuming",
    ),
    _t("leave", "handoff", "menu", before="caller_left"),
    _t("op_end", "handoff", "menu"),
    _t("withdraw_no", "confirm_withdraw", "menu"),
]

# Buttons whose press fires a trigger of another name
BUTTON_TRIGGERS = {
    **{f"menu-{choice}": choice for choice in MENU_CHOICES},
    "not-yet": "not_yet",
    "no-code": "no_code",
    "safety-word": "safety_word",
    "cancel-meetup": "cancel_meetup",
    "withdraw-yes": "withdraw_yes",
    "withdraw-no": "withdraw_no",
    "sos-yes": "sos_yes",
    "sos-no": "sos_no",
    **{f"edit-{d.param}": f"edit_{d.name}" for d in DETAILS},
    **relatives.BUTTON_TRIGGERS,
    **talking.BUTTON_TRIGGERS,
}


def trigger_of(button_id: str) -> str:
    return BUTTON_TRIGGERS.get(button_id, button_id)


# A declaration typed (or the declare button pressed) where no declaration step is open yet
DECLARATION_SHORTCUTS = {"menu": "surrender", "registered": "ready"}
# then the declaration itself, so he is not asked for the words he just said

# Commands that are triggers of the machine (the rest are answered without a state change)
COMMAND_TRIGGERS = {"operator": "call_operator", "cancel": "cancel", "forget": "forget"}
COMMANDS = ("start", "help", "status", "sos", "operator", "language", "cancel", "forget")
# what a hand-off from these states is about, for the desk (the rest: "operator")
HANDOFF_REASONS = {**relatives.HANDOFF_REASON, "legion": "legion"}
LANGUAGES = ("ru", "uk")
