"""The relatives' branch as data: where the one they look for is believed to be, a text for
each case, and a short request form of its own.

A relatives request is a case like a caller's (sealed fields, a case code as its reference, a
topic at normal priority, the same retention and /forget) but it can never be linked from
another account: it has no birth-date check to pass. `flows.surrender` joins this into the one
table of the machine.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flows import dates, fields
from flows.channels import GenuineList
from flows.model import Conversation, Params
from flows.parts import (
    BACK,
    OPERATOR,
    DetailField,
    Phase,
    Screen,
    button,
    detail_screen,
    form_transitions,
    review_screen,
    t,
)
from flows.reading import Expects, ignoring_date
from flows.typed import Accepted, Outcome, clean_text, reject

NOT_GIVEN = "not-given"

# Where the one sought is believed to be; each has its own text
SITUATIONS = ("ukraine", "volunteers", "missing", "serving")
INFO_STATES = [f"relatives_{s}" for s in SITUATIONS]
# A serving relative contacts the hotline himself: nothing about him is collected from others
REQUESTABLE = [f"relatives_{s}" for s in SITUATIONS if s != "serving"]

NOTE_MIN = 2
NOTE_MAX = 300
ASKER_MAX = 100
REPLY_MAX = 100


def _note(text: str) -> Outcome:
    value = clean_text(text)
    if NOTE_MIN <= len(value) <= NOTE_MAX:
        return Accepted(value)
    return reject("invalid-note-length", min=NOTE_MIN, max=NOTE_MAX)


def _short(limit: int) -> Callable[[str], Outcome]:
    def check(text: str) -> Outcome:
        value = clean_text(text)
        if 1 <= len(value) <= limit:
            return Accepted(value)
        return reject("invalid-answer-length", max=limit)

    return check


REQUEST: tuple[DetailField, ...] = (
    DetailField("sought_name", True, ignoring_date(fields.full_name), form="request"),
    DetailField("sought_birth", False, dates.birth_date, form="request"),
    DetailField("sought_unit", False, ignoring_date(fields.military_unit), form="request"),
    DetailField("last_seen", False, ignoring_date(_note), form="request"),
    DetailField("asker", False, ignoring_date(_short(ASKER_MAX)), form="request"),
    DetailField(
        "reply_to", True, ignoring_date(_short(REPLY_MAX)), choices=("reply-here",), form="request"
    ),
)
FIRST = REQUEST[0].state

SCREENS: dict[str, Screen] = {
    "relatives": Screen(
        "relatives-ask", (*(button(f"rel-{s}") for s in SITUATIONS), OPERATOR, BACK)
    ),
    **{
        state: Screen(
            f"relatives-{state.removeprefix('relatives_')}",
            (button("request"), OPERATOR, BACK) if state in REQUESTABLE else (OPERATOR, BACK),
        )
        for state in INFO_STATES
    },
    **{d.state: detail_screen(d, phase=Phase.RELATIVES_FORM) for d in REQUEST},
    "request_review": review_screen(
        "request-review", "request-send", REQUEST, phase=Phase.RELATIVES_FORM
    ),
    # while the request waits at the desk, what he writes goes to its topic as well
    "request_sent": Screen(
        "request-sent", (OPERATOR, button("withdraw"), BACK), expects=Expects.NONE
    ),
}

ON_ENTER: dict[str, list[str]] = {"request_review": ["leave_editing"]}

# Buttons whose press fires a trigger of another name
BUTTON_TRIGGERS = {
    **{f"rel-{s}": f"rel_{s}" for s in SITUATIONS},
    "request-send": "send_request",
    **{f"edit-{d.param}": f"edit_{d.name}" for d in REQUEST},
}

TRANSITIONS: list[dict[str, Any]] = [
    *(t(f"rel_{s}", "relatives", f"relatives_{s}") for s in SITUATIONS),
    t("back", INFO_STATES, "relatives"),
    t("operator", [*INFO_STATES, "request_sent"], "handoff", before="remember_return"),
    # one conversation holds one case: a request already sent is shown, not sent again; a
    # caller with a case of his own asks an operator
    t("request", REQUESTABLE, "request_sent", conditions="relative_case"),
    t("request", REQUESTABLE, "handoff", conditions="has_case", before="remember_return"),
    t("request", REQUESTABLE, FIRST, before="note_situation"),
    *form_transitions(REQUEST, before="relatives", review="request_review"),
    *(t(f"edit_{d.name}", "request_review", d.state, after="start_editing") for d in REQUEST),
    t("send_request", "request_review", "request_sent", after="register_request"),
    t(
        "withdraw",
        ["request_review", "request_sent"],
        "confirm_withdraw",
        before="remember_confirm",
    ),
    t("back", "request_sent", "menu"),
]

# States whose hand-off reaches the desk as a relatives' matter
HANDOFF_REASON = dict.fromkeys(SCREENS, "relatives")


def is_relative_case(conv: Conversation) -> bool:
    return conv.case_id is not None and "sought_name" in conv.fields


def review_params(conv: Conversation, _genuine: GenuineList) -> Params:
    params: dict[str, str | int] = {"where": conv.fields.get("sought_where", NOT_GIVEN)}
    for detail in REQUEST:
        value = conv.fields.get(detail.name, NOT_GIVEN)
        if detail.name == "sought_birth" and value != NOT_GIVEN:
            year, month, day = value.split("-")
            value = f"{day}.{month}.{year}"
        params[detail.param] = value
    return params


def sent_params(conv: Conversation, _genuine: GenuineList) -> Params:
    return {"code": conv.fields.get("case_code", NOT_GIVEN)}


SCREEN_PARAMS: dict[str, Callable[[Conversation, GenuineList], Params]] = {
    "request_review": review_params,
    "request_sent": sent_params,
}
