"""What each state shows: the screen's message with its values, and what /status says.

Apart from the machine (`flows.engine`) so a reader looking for a text's values finds them in
one place; the engine re-exports `screen_reply`, `review_params` and `status_params`.
"""

from __future__ import annotations

from flows import channels, relatives
from flows import surrender as flow
from flows.model import Conversation, Params, Reply

NOT_GIVEN = "not-given"  # a Fluent variant key: the packs say it in words
GIVEN = "given"  # shown instead of a stored value once the case is registered


def screen_reply(conv: Conversation, genuine: channels.GenuineList = channels.EMPTY) -> Reply:
    screen = flow.SCREENS[conv.state]
    prompt = screen.prompt
    if conv.state == "review" and conv.owns_case:
        prompt = "review-given"  # updating a registered case: which fields, never their values
    return Reply(
        prompt,
        _screen_params(conv, genuine),
        screen.buttons,
        inline=screen.inline,
        step=flow.STEP_OF.get(conv.state),
        screen=conv.state,
    )


def _screen_params(conv: Conversation, genuine: channels.GenuineList) -> Params:
    maker = flow.SCREEN_PARAMS.get(conv.state)
    if maker is not None:
        return maker(conv, genuine)
    if conv.state == "review":
        return review_params(conv)
    return {}  # the code is shown once, in a message of its own (never on a screen again)


def review_params(conv: Conversation) -> Params:
    params: dict[str, str | int] = {}
    for detail in flow.DETAILS:
        value = conv.fields.get(detail.name, NOT_GIVEN)
        if value != NOT_GIVEN and conv.owns_case:
            value = GIVEN  # a seized phone must not get the dossier back in one tap
        elif detail.name == "birth_date" and value != NOT_GIVEN:
            year, month, day = value.split("-")
            value = f"{day}.{month}.{year}"
        params[detail.name.replace("_", "-")] = value
    return params


# What /status can say; "recall-start" is a re-call not yet at the desk (the code or the
# declaration still to come), so the caller is never told an operator has a signal too early.
# It never shows the code.
STATUS_PHASES = (
    "none",
    "form",
    "registered",
    "recall-start",
    "recall",
    "emergency",
    "meetup",
    "handoff",
    "relatives-form",
    "relatives",
)


def status_params(conv: Conversation) -> Params:
    state = conv.state
    if state == "confirm_withdraw" and conv.confirm_from is not None:
        state = conv.confirm_from  # the question interrupted this: that is where he is
    if state.startswith("details_") or state in {"declaration", "review"}:
        phase = "form"
    elif state.startswith("recall_"):
        phase = "recall" if state in flow.ESCALATED_STATES else "recall-start"
    elif state.startswith("emergency"):
        phase = "emergency"
    elif state in {"meetup", "handoff"}:
        phase = state
    elif state.startswith("request_") and state != "request_sent":
        phase = "relatives-form"
    elif relatives.is_relative_case(conv):
        phase = "relatives"
    elif conv.case_id is not None:
        phase = "registered"
    else:
        phase = "none"
    return {"phase": phase}  # never the code: a phone checked at a checkpoint gives nothing
