"""What each state shows: its screen (prompt, buttons, how it reads what he sends, the /status
phase), the questions of the details form, and the values a screen's text takes (the review,
the genuine channels, what /status says).

The machine (`flows.surrender`, `flows.steps`) moves between these screens; `flows.surrender`
re-exports the tables so the dialogue reads as one piece of data.
"""

from __future__ import annotations

from collections.abc import Callable

from flows import channels, dates, fields, relatives, talking
from flows.channels import GenuineList
from flows.model import Button, Conversation, Params, Reply
from flows.parts import (
    BACK,
    DECLARE,
    OPERATOR,
    SHARE_LOCATION,
    SKIP,
    DetailField,
    Phase,
    Screen,
    button,
    detail_screen,
    review_screen,
)
from flows.reading import Answer, Deletes, Expects, Reads, ignoring_date
from flows.typed import Outcome

# ---------------------------------------------------------------------------------------------
# Buttons


MENU_CHOICES = (
    "premob",
    "surrender",
    "ready",
    "emergency",
    "relative",
    "legion",
    "check",
    "operator",
)
HEALTH = ("health-none", "health-light", "health-serious")
WISH = ("wish-exchange", "wish-stay", "wish-emigrate", "wish-undecided")
RANKS = ("rank-private", "rank-sergeant", "rank-warrant", "rank-officer")
AREAS = (
    "area-kharkiv",
    "area-luhansk",
    "area-donetsk",
    "area-zaporizhzhia",
    "area-kherson",
    "area-border",
)


# ---------------------------------------------------------------------------------------------
# Details of stage 1: one state per field, asked in this order

DETAILS: tuple[DetailField, ...] = (
    DetailField("full_name", True, ignoring_date(fields.full_name)),
    DetailField("birth_date", True, dates.birth_date),
    DetailField("unit", False, ignoring_date(fields.military_unit)),
    DetailField("rank", False, ignoring_date(fields.rank), choices=RANKS),
    DetailField("service_number", False, ignoring_date(fields.service_number)),
    DetailField("people", True, ignoring_date(fields.people_count)),
    DetailField("area", False, ignoring_date(fields.area), choices=AREAS),
    DetailField("phone", False, ignoring_date(fields.phone), contact=True),
    DetailField("health", False, None, choices=HEALTH),
    DetailField("wish", False, None, choices=WISH),
)
# every question of every form, by its state
DETAIL_BY_STATE = {f.state: f for f in (*DETAILS, *relatives.REQUEST)}


# ---------------------------------------------------------------------------------------------
# What each state shows, and how it reads what he sends (`flows.reading`): `expects` is the kind
# of input it asks for, `reads` who takes typed text, `answer` the question's, `phase` /status


def _step(
    prompt: str,
    state: str,
    check: Callable[[str], Outcome],
    buttons: tuple[Button, ...],
    *,
    phase: Phase,
    expects: Expects = Expects.TEXT,
    deletes: Deletes = Deletes.ALWAYS,
) -> Screen:
    """A question of the re-call or the emergency: an operator follows the chat (the desk sees
    each answer as it is sent); kept under the state's name, out of the chat once taken."""
    choices = tuple(b.id for b in buttons if b.id in HEALTH)
    answer = Answer(state, ignoring_date(check), choices, relay=True)
    return Screen(
        prompt, buttons, expects, reads=Reads.ANSWER, answer=answer, deletes=deletes, phase=phase
    )


def _whereabouts(
    path: str, prompts: tuple[str, str, str], phase: Phase, skip: tuple[Button, ...] = ()
) -> dict[str, Screen]:
    """Where he is, how many are with him, how they are hurt: asked on the re-call and in an
    emergency (there, each can be skipped). A count holds no personal value: it is deleted
    once taken, and left when refused."""
    location, people, injuries = prompts
    health = tuple(button(h) for h in HEALTH)
    return {
        f"{path}_location": _step(
            location,
            f"{path}_location",
            fields.location_text,
            (SHARE_LOCATION, *skip),
            phase=phase,
            expects=Expects.LOCATION,
        ),
        f"{path}_people": _step(
            people, f"{path}_people", fields.people_count, skip, phase=phase, deletes=Deletes.TAKEN
        ),
        f"{path}_injuries": _step(
            injuries, f"{path}_injuries", fields.injuries, (*health, *skip), phase=phase
        ),
    }


SCREENS: dict[str, Screen] = {
    "start": Screen("greeting", expects=Expects.NONE, reads=Reads.BEGIN),
    "menu": Screen("menu", tuple(button(f"menu-{choice}") for choice in MENU_CHOICES)),
    "premob": Screen("premob-info", (button("register"), OPERATOR, BACK)),
    "declaration": Screen(
        "declaration-ask",
        (DECLARE, button("not-yet")),
        Expects.TEXT,
        reads=Reads.DECLARATION,
        phase=Phase.FORM,
    ),
    **{d.state: detail_screen(d, phase=Phase.FORM) for d in DETAILS},
    # updating a registered case, it shows which fields were given, never their values
    "review": review_screen("review", "confirm", DETAILS, phase=Phase.FORM, given="review-given"),
    "registered": Screen(
        "registered",
        (button("ready"), button("update"), button("safety-word"), button("withdraw"), BACK),
    ),
    "safety_word": Screen(
        "ask-safety-word", (BACK,), Expects.TEXT, reads=Reads.SAFETY_WORD, deletes=Deletes.ALWAYS
    ),
    # the code and the date: asked before the desk hears of the re-call
    "recall_code": Screen(
        "ask-code",
        (button("no-code"), BACK),
        Expects.TEXT,
        reads=Reads.CODE,
        deletes=Deletes.ALWAYS,
        phase=Phase.RECALL_START,
    ),
    "recall_birth": Screen(
        "ask-code-birth-date",
        (BACK,),
        Expects.TEXT,
        reads=Reads.BIRTH_DATE,
        deletes=Deletes.ALWAYS,
        phase=Phase.RECALL_START,
    ),
    "recall_declare": Screen(
        "recall-declare",
        (DECLARE, BACK),
        Expects.TEXT,
        reads=Reads.DECLARATION,
        phase=Phase.RECALL_START,
    ),
    **_whereabouts("recall", ("ask-location", "ask-people-now", "ask-injuries"), Phase.RECALL),
    "meetup": Screen(
        "meetup",
        (button("at-point"), button("help-now"), button("cancel-meetup")),
        phase=Phase.MEETUP,
    ),
    **_whereabouts(
        "emergency",
        ("emergency-location", "emergency-people", "emergency-injuries"),
        Phase.EMERGENCY,
        skip=(SKIP,),
    ),
    "emergency": Screen("emergency-wait", expects=Expects.NONE, phase=Phase.EMERGENCY),
    **relatives.SCREENS,
    "legion": Screen("legion-info", (OPERATOR, BACK)),
    "check_channel": Screen("check-info", (BACK,), Expects.TEXT, reads=Reads.CHANNELS),
    "sos_confirm": Screen("sos-ask", (button("sos-yes"), button("sos-no"))),
    "handoff": Screen("handoff", (button("leave"),), expects=Expects.NONE, phase=Phase.HANDOFF),
    "confirm_withdraw": Screen(
        "confirm-withdraw", (button("withdraw-yes"), button("withdraw-no")), inline=True
    ),
    **talking.SCREENS,
    "completed": Screen("completed", expects=Expects.NONE, reads=Reads.ENDED),
    "withdrawn": Screen("withdrawn", expects=Expects.NONE, reads=Reads.ENDED),
}

# States whose prompt shows "step k of n"
STEP_OF = {
    d.state: (i + 1, len(form))
    for form in (DETAILS, relatives.REQUEST)
    for i, d in enumerate(form)
}


# ---------------------------------------------------------------------------------------------
# The values a screen's text takes


NONE_LISTED = "none"  # a Fluent variant key: the packs say it in words
NOT_GIVEN = "not-given"  # a Fluent variant key: the packs say it in words
GIVEN = "given"  # shown instead of a stored value once the case is registered


def _genuine(genuine: GenuineList, role: str) -> str:
    """The team's genuine entries of a role, one a line; "none" when it lists none yet."""
    lines = [f"• {entry.name}: {entry.address}" for entry in genuine.by_role(role)]
    return "\n".join(lines) or NONE_LISTED


def review_params(conv: Conversation) -> Params:
    params: dict[str, str | int] = {}
    for detail in DETAILS:
        value = conv.fields.get(detail.name, NOT_GIVEN)
        if value != NOT_GIVEN and conv.owns_case:
            value = GIVEN  # a seized phone must not get the dossier back in one tap
        elif detail.name == "birth_date" and value != NOT_GIVEN:
            year, month, day = value.split("-")
            value = f"{day}.{month}.{year}"
        params[detail.name.replace("_", "-")] = value
    return params


# The code is shown once, in a message of its own: never on a screen again
SCREEN_PARAMS: dict[str, Callable[[Conversation, GenuineList], Params]] = {
    **relatives.SCREEN_PARAMS,
    "review": lambda conv, _genuine: review_params(conv),
    "legion": lambda _conv, genuine: {"apply": _genuine(genuine, "legion-apply")},
    "check_channel": lambda _conv, genuine: {"hotline": _genuine(genuine, "hotline")},
    # "the operator is guiding you" only once one has taken the case
    "meetup": lambda conv, _genuine: {"guided": "yes" if conv.claimed else "no"},
}


def screen_reply(conv: Conversation, genuine: GenuineList = channels.EMPTY) -> Reply:
    screen = SCREENS[conv.state]
    maker = SCREEN_PARAMS.get(conv.state)
    return Reply(
        screen.given if screen.given is not None and conv.owns_case else screen.prompt,
        maker(conv, genuine) if maker is not None else {},
        screen.buttons,
        inline=screen.inline,
        step=STEP_OF.get(conv.state),
        screen=conv.state,
    )


def message_ids() -> set[str]:
    """Every message id the flow itself can show (the engine adds its fixed notices)."""
    ids = {screen.prompt for screen in SCREENS.values()}
    ids |= {screen.given for screen in SCREENS.values() if screen.given is not None}
    ids |= {b.label for screen in SCREENS.values() for b in screen.buttons}
    return ids


STATUS_PHASES = tuple(Phase)  # what /status can say


def status_params(conv: Conversation) -> Params:
    state = conv.state
    if state == "confirm_withdraw" and conv.confirm_from is not None:
        state = conv.confirm_from  # the question interrupted this: that is where he is
    if state == "talk" and conv.talk_from is not None:
        state = conv.talk_from  # an operator's words paused that step: still its stage
    screen = SCREENS.get(state)
    if screen is not None and screen.phase is not None:
        phase = screen.phase  # the step he is on says it
    elif relatives.is_relative_case(conv):
        phase = Phase.RELATIVES
    elif conv.case_id is not None:
        phase = Phase.REGISTERED
    else:
        phase = Phase.NONE
    return {"phase": phase.value}  # never the code: a phone checked at a checkpoint gives nothing
