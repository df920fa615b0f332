"""The caller dialogue of dialogue.md, driven through `engine.handle` one event at a time.

A `Caller` sends events with a deterministic context (fixed clock, code K7QM-3P9X, an HMAC
digest with a test key) and checks on every event that `handle` leaves its input untouched.
`PATHS` holds one way from a fresh conversation to every state of the dialogue.
"""

from __future__ import annotations

import copy
import dataclasses
import datetime
import hashlib
import hmac
import itertools
from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar, cast

import pytest

from flows import engine, relatives
from flows import surrender as flow
from flows.catalogue import ALL as CATALOGUE
from flows.model import (
    BirthChecked,
    CaseEvent,
    CaseFound,
    ChooseLanguage,
    Command,
    Contact,
    Context,
    Conversation,
    DeleteInput,
    Edited,
    Effect,
    Erase,
    Escalate,
    Event,
    FlowAction,
    Forwarded,
    LinkNotice,
    Location,
    Lookup,
    Media,
    OperatorAction,
    Press,
    Priority,
    RegisterCase,
    Relay,
    Reply,
    Scrub,
    SilentAlert,
    StaleButton,
    Text,
    VerifyBirth,
)

T = TypeVar("T")

KEY = b"test-key-engine"
CODE = "K7QM-3P9X"
CASE_ID = "case-0001"
OTHER_CASE = "case-0777"
REF = 4242
DECLARATION = "Я иду сдаваться"
BIRTH_ISO = "1990-05-17"
SPOT = Location(48.51234, 37.98765)
SPOT_TEXT = "48.51234,37.98765"


def digest(namespace: str, value: str) -> str:
    return hmac.new(KEY, f"{namespace}\x00{value}".encode(), hashlib.sha256).hexdigest()


CODE_DIGEST = digest("code", CODE)
BIRTH_DIGEST = digest("birth", BIRTH_ISO)

CTX = Context(
    now=1_715_940_000.0,
    today=datetime.date(2024, 5, 17),
    new_code=lambda: CODE,
    new_case_id=lambda: CASE_ID,
    digest=digest,
    message_ref=REF,
)


class Caller:
    """One caller's conversation, fed through `engine.handle`."""

    def __init__(self, conv: Conversation | None = None, ctx: Context = CTX) -> None:
        self.conv = conv if conv is not None else Conversation()
        self.ctx = ctx
        self.effects: list[Effect] = []
        self.changed = False

    def send(self, event: Event, *, ref: int | None = REF) -> list[Effect]:
        before = copy.deepcopy(self.conv)
        outcome = engine.handle(self.conv, event, dataclasses.replace(self.ctx, message_ref=ref))
        assert self.conv == before, f"handle() modified its input on {event!r}"
        assert outcome.conversation is not self.conv
        assert outcome.conversation.fields is not self.conv.fields
        assert outcome.conversation.updated_at == self.ctx.now
        self.conv = outcome.conversation
        self.effects = outcome.effects
        self.changed = outcome.changed
        return outcome.effects

    def run(self, events: Iterable[Event]) -> Caller:
        for event in events:
            self.send(event)
        return self

    def text(self, text: str) -> list[Effect]:
        return self.send(Text(text))

    def press(self, button: str) -> list[Effect]:
        return self.send(Press(button))

    def command(self, name: str) -> list[Effect]:
        return self.send(Command(name))

    @property
    def state(self) -> str:
        return self.conv.state

    @property
    def fields(self) -> dict[str, str]:
        return self.conv.fields

    def of(self, kind: type[T]) -> list[T]:
        return [e for e in self.effects if isinstance(e, kind)]

    @property
    def replies(self) -> list[Reply]:
        return self.of(Reply)

    @property
    def ids(self) -> list[str]:
        return [r.message_id for r in self.replies]

    def reply(self, message_id: str) -> Reply:
        found = [r for r in self.replies if r.message_id == message_id]
        assert len(found) == 1, (message_id, self.ids)
        return found[0]


def prompt(state: str) -> str:
    return flow.SCREENS[state].prompt


def refusal(state: str, message_id: str, params: dict[str, Any] | None = None) -> Reply:
    """What a refused answer gets: one message saying what is expected, with the buttons of
    the step it stays on (never the question again)."""
    screen = flow.SCREENS[state]
    return Reply(message_id, params or {}, screen.buttons, inline=screen.inline, screen=state)


def edit_button(name: str) -> str:
    """The id of the review button that edits the field `name`."""
    (button,) = [b for b, t in flow.BUTTON_TRIGGERS.items() if t == f"edit_{name}"]
    return button


# ---------------------------------------------------------------------------------------------
# One way into every state

# (field, the caller's answer, the stored value)
FORM: list[tuple[str, Event, str]] = [
    ("full_name", Text("Иван Петров-Водкин"), "Иван Петров-Водкин"),
    ("birth_date", Text("17/05/1990"), BIRTH_ISO),
    ("unit", Text("в/ч 12345"), "в/ч 12345"),
    ("rank", Press("rank-sergeant"), "rank-sergeant"),
    ("service_number", Text("аб-123456"), "АБ-123456"),
    ("people", Text("03"), "3"),
    ("area", Press("area-kharkiv"), "area-kharkiv"),
    ("phone", Contact("+7 912 345-67-89", own=True), "+79123456789"),
    ("health", Press("health-light"), "health-light"),
    ("wish", Press("wish-exchange"), "wish-exchange"),
]
FORM_FIELDS = {name: stored for name, _, stored in FORM}
assert [name for name, _, _ in FORM] == [d.name for d in flow.DETAILS]

MENU: list[Event] = [Command("start")]
DECLARE_PATH: list[Event] = [*MENU, Press("menu-surrender")]
FORM_START: list[Event] = [*DECLARE_PATH, Text(DECLARATION)]
REVIEW: list[Event] = [*FORM_START, *(answer for _, answer, _ in FORM)]
REGISTERED: list[Event] = [*REVIEW, Press("confirm")]
RECALL_OWN: list[Event] = [*REGISTERED, Press("ready")]
RECALL_CODE: list[Event] = [*MENU, Press("menu-ready")]
RECALL_LOCATION: list[Event] = [*RECALL_OWN, Text(DECLARATION)]
MEETUP: list[Event] = [*RECALL_LOCATION, SPOT, Text("3"), Press("health-none")]
EMERGENCY: list[Event] = [*MENU, Press("menu-emergency")]
RELATIVES: list[Event] = [*MENU, Press("menu-relative")]
REQUEST_START: list[Event] = [*RELATIVES, Press("rel-volunteers"), Press("request")]
# (field, the relative's answer, the stored value)
REQUEST_FORM: list[tuple[str, Event, str]] = [
    ("sought_name", Text("Петров Пётр Петрович"), "Петров Пётр Петрович"),
    ("sought_birth", Text("3 марта 99"), "1999-03-03"),
    ("sought_unit", Text("в/ч 54321"), "в/ч 54321"),
    ("last_seen", Text("звонил 2 апреля, был под Курском"), "звонил 2 апреля, был под Курском"),
    ("asker", Text("мама, Ольга"), "мама, Ольга"),
    ("reply_to", Press("reply-here"), "reply-here"),
]
assert [name for name, _, _ in REQUEST_FORM] == [d.name for d in relatives.REQUEST]
REQUEST_REVIEW: list[Event] = [*REQUEST_START, *(answer for _, answer, _ in REQUEST_FORM)]

PATHS: dict[str, list[Event]] = {
    "start": [],
    "menu": MENU,
    "premob": [*MENU, Press("menu-premob")],
    "declaration": DECLARE_PATH,
    **{
        d.state: [*FORM_START, *(answer for _, answer, _ in FORM[:i])]
        for i, d in enumerate(flow.DETAILS)
    },
    "review": REVIEW,
    "registered": REGISTERED,
    "safety_word": [*REGISTERED, Press("safety-word")],
    "recall_code": RECALL_CODE,
    "recall_birth": [*RECALL_CODE, Text(CODE), CaseFound(OTHER_CASE)],
    "recall_declare": RECALL_OWN,
    "recall_location": RECALL_LOCATION,
    "recall_people": [*RECALL_LOCATION, SPOT],
    "recall_injuries": [*RECALL_LOCATION, SPOT, Text("3")],
    "meetup": MEETUP,
    "emergency_location": EMERGENCY,
    "emergency_people": [*EMERGENCY, SPOT],
    "emergency_injuries": [*EMERGENCY, SPOT, Text("4")],
    "emergency": [*EMERGENCY, SPOT, Text("4"), Text("ранен в ногу")],
    "relatives": RELATIVES,
    **{
        state: [*RELATIVES, Press(f"rel-{state.removeprefix('relatives_')}")]
        for state in relatives.INFO_STATES
    },
    **{
        d.state: [*REQUEST_START, *(answer for _, answer, _ in REQUEST_FORM[:i])]
        for i, d in enumerate(relatives.REQUEST)
    },
    "request_review": REQUEST_REVIEW,
    "request_sent": [*REQUEST_REVIEW, Press("request-send")],
    "check_channel": [*MENU, Press("menu-check")],
    "sos_confirm": [*MENU, Text("помогите")],
    "legion": [*MENU, Press("menu-legion")],
    "handoff": [*MENU, Press("menu-operator")],
    # a voice note at step 3 brought an operator, who wrote: a live conversation
    "talk": [
        *FORM_START,
        *(a for _, a, _ in FORM[:2]),
        Media("voice"),
        OperatorAction(FlowAction.TALK, {"message": 501}),
    ],
    "meetup_cancel": [*MEETUP, Press("cancel-meetup")],
    "confirm_withdraw": [*REGISTERED, Press("withdraw")],
    "completed": [*MEETUP, OperatorAction(FlowAction.MET)],
    "withdrawn": [*REGISTERED, Press("withdraw"), Press("withdraw-yes")],
}


def reach(state: str, ctx: Context = CTX) -> Caller:
    caller = Caller(ctx=ctx).run(PATHS[state])
    assert caller.state == state
    return caller


def test_every_state_of_the_dialogue_has_a_path_from_a_new_conversation() -> None:
    assert set(PATHS) == set(flow.SCREENS)
    for state in PATHS:
        caller = reach(state)
        assert caller.state == state
        if PATHS[state]:
            shown = [r.message_id for r in caller.replies if r.message_id != "code-once"]
            assert shown[-1] == prompt(state)


# ---------------------------------------------------------------------------------------------
# Start and menu


def test_start_greets_and_shows_the_menu_choices() -> None:
    caller = Caller()
    caller.command("start")
    assert caller.state == "menu"
    assert caller.ids == ["greeting", "menu"]
    assert [b.id for b in caller.reply("menu").buttons] == [f"menu-{c}" for c in flow.MENU_CHOICES]


@pytest.mark.parametrize("event", [Text("привет"), Press("menu-surrender"), StaleButton()])
def test_whatever_comes_first_greets_and_shows_the_menu(event: Event) -> None:
    caller = Caller()
    caller.send(event)
    assert caller.state == "menu"
    assert caller.ids[-2:] == ["greeting", "menu"]


def test_start_in_the_middle_resumes_where_the_caller_was() -> None:
    caller = reach("details_unit")
    caller.command("start")
    assert caller.state == "details_unit"
    assert caller.ids == ["resume", "ask-unit"]


def test_help_and_status_answer_without_moving() -> None:
    caller = reach("registered")
    caller.command("help")
    assert caller.state == "registered"
    assert caller.ids == ["help", "registered"]
    caller.command("status")
    assert caller.state == "registered"
    assert caller.replies == [Reply("status", {"phase": "registered"})]  # never the code


def test_language_offers_both_languages_and_a_choice_is_kept() -> None:
    caller = reach("details_unit")
    caller.command("language")
    assert [b.id for b in caller.reply("choose-language").buttons] == ["lang-ru", "lang-uk"]
    caller.send(ChooseLanguage("uk"))
    assert caller.conv.lang == "uk"
    assert caller.state == "details_unit"
    assert caller.ids == ["language-set", "ask-unit"]
    caller.send(ChooseLanguage("en"))
    assert caller.conv.lang == "uk"


def test_an_unknown_command_is_explained() -> None:
    caller = reach("menu")
    caller.command("frobnicate")
    assert caller.state == "menu"
    assert caller.ids == ["unknown-command"]


def test_premob_explains_and_offers_registration() -> None:
    caller = reach("premob")
    assert [b.id for b in caller.reply("premob-info").buttons] == ["register", "operator", "back"]
    caller.press("register")
    assert caller.state == "declaration"
    caller = reach("premob")
    caller.press("back")
    assert caller.state == "menu"


# ---------------------------------------------------------------------------------------------
# Stage 1: declaration, details, review, registered


def test_the_declaration_must_be_in_the_callers_own_words() -> None:
    caller = reach("declaration")
    caller.text("ну может быть")
    assert caller.state == "declaration"
    assert caller.ids == ["declaration-hint"]
    caller.text("Я не сдаюсь")
    assert caller.state == "declaration"
    caller.text("я иду СДАВАТЬСЯ!")
    assert caller.state == "details_full_name"


def test_the_declare_button_and_not_yet() -> None:
    caller = reach("declaration")
    caller.press("declare")
    assert caller.state == "details_full_name"
    caller = reach("declaration")
    caller.press("not-yet")
    assert caller.state == "menu"


def test_the_full_stage_one_path_registers_a_case() -> None:
    caller = reach("details_full_name")
    for k, (name, answer, stored) in enumerate(FORM, start=1):
        state = f"details_{name}"
        assert caller.state == state
        shown = caller.replies[-1]
        assert shown.message_id == prompt(state)
        assert shown.step == (k, len(FORM))
        caller.send(answer)
        assert caller.fields[name] == stored
    assert caller.state == "review"
    review = caller.reply("review")
    assert review.inline
    assert dict(review.params) == {
        "full-name": "Иван Петров-Водкин",
        "birth-date": "17.05.1990",
        "unit": "в/ч 12345",
        "rank": "rank-sergeant",
        "service-number": "АБ-123456",
        "people": "3",
        "area": "area-kharkiv",
        "phone": "+79123456789",
        "health": "health-light",
        "wish": "wish-exchange",
    }
    assert [b.id for b in review.buttons] == [
        "confirm",
        *(edit_button(d.name) for d in flow.DETAILS),
        "withdraw",
    ]

    caller.press("confirm")
    assert caller.state == "registered"
    assert caller.reply("registered").params == {}
    # the code once, after the screen, with its "written down" button; the review goes first
    assert caller.ids == ["registered", "code-once"]
    assert caller.replies[-1].params == {"code": CODE}
    assert caller.replies[-1].inline
    assert [b.id for b in caller.replies[-1].buttons] == ["code-written"]
    assert caller.effects[0] == Scrub()
    assert caller.of(RegisterCase) == [RegisterCase(CASE_ID, CODE_DIGEST)]
    assert caller.of(CaseEvent) == [CaseEvent("registered")]
    assert caller.fields == {**FORM_FIELDS, "case_code": CODE}
    assert caller.conv.case_id == CASE_ID
    assert caller.conv.owns_case
    assert caller.conv.code_digest == CODE_DIGEST
    assert BIRTH_DIGEST not in repr(caller.conv.meta())
    meta = caller.conv.meta()
    assert "fields" not in meta
    assert CODE not in repr(meta)
    assert "K7QM3P9X" not in repr(meta)
    for value in caller.fields.values():
        assert value not in meta.values()


@pytest.mark.parametrize("k", range(1, len(flow.DETAILS) + 1))
def test_every_detail_step_says_step_k_of_n(k: int) -> None:
    detail = flow.DETAILS[k - 1]
    caller = reach(detail.state)
    assert caller.replies[-1].step == (k, 10)
    caller.command("help")  # shown again, still with its step
    assert caller.replies[-1].step == (k, 10)


def test_steps_outside_the_form_say_no_step() -> None:
    for state in ("menu", "declaration", "review", "registered", "recall_people"):
        caller = reach(state)
        assert caller.replies[-1].step is None, state


@pytest.mark.parametrize("detail", [d for d in flow.DETAILS if d.required], ids=lambda d: d.name)
def test_a_required_field_cannot_be_skipped(detail: flow.DetailField) -> None:
    caller = reach(detail.state)
    assert "skip" not in [b.id for b in caller.replies[-1].buttons]
    fields = dict(caller.fields)
    caller.press("skip")
    assert caller.state == detail.state
    assert caller.ids == ["stale-button"]
    assert caller.fields == fields
    assert not caller.changed


@pytest.mark.parametrize(
    "detail", [d for d in flow.DETAILS if not d.required], ids=lambda d: d.name
)
def test_an_optional_field_can_be_skipped(detail: flow.DetailField) -> None:
    caller = reach(detail.state)
    assert "skip" in [b.id for b in caller.replies[-1].buttons]
    caller.press("skip")
    index = flow.DETAILS.index(detail)
    after = flow.DETAILS[index + 1].state if index + 1 < len(flow.DETAILS) else "review"
    assert caller.state == after
    assert detail.name not in caller.fields


def test_skipped_fields_show_as_not_given_on_review() -> None:
    caller = reach("details_unit")
    for _ in range(3):  # unit, rank, service number
        caller.press("skip")
    caller.text("2")
    for _ in range(4):  # area, phone, health, wish
        caller.press("skip")
    assert caller.state == "review"
    params = caller.reply("review").params
    assert params["unit"] == engine.NOT_GIVEN
    assert params["wish"] == engine.NOT_GIVEN
    assert params["people"] == "2"


TEXT_ANSWERS = [(name, answer) for name, answer, _ in FORM if isinstance(answer, Text)]


@pytest.mark.parametrize(("name", "answer"), TEXT_ANSWERS, ids=[n for n, _ in TEXT_ANSWERS])
def test_an_accepted_personal_answer_is_deleted_from_the_chat(name: str, answer: Text) -> None:
    caller = reach(f"details_{name}")
    caller.send(answer)
    assert caller.of(DeleteInput) == [DeleteInput(REF)]


def test_a_shared_contact_and_a_reply_keyboard_answer_are_deleted() -> None:
    caller = reach("details_phone")
    caller.send(Contact("+380671234567", own=True))
    assert caller.fields["phone"] == "+380671234567"
    assert caller.of(DeleteInput) == [DeleteInput(REF)]
    caller.press("health-serious")  # a reply-keyboard label: a message in the chat
    assert caller.of(DeleteInput) == [DeleteInput(REF)]
    caller.send(Press("wish-stay"), ref=None)  # an inline button: no message to delete
    assert caller.fields["wish"] == "wish-stay"
    assert caller.of(DeleteInput) == []


def test_without_a_message_ref_nothing_is_deleted() -> None:
    caller = reach("details_full_name")
    caller.send(Text("Иван Петров"), ref=None)
    assert caller.state == "details_birth_date"
    assert caller.of(DeleteInput) == []


BAD_INPUT = [
    ("full_name", "R2-D2", "invalid-name-chars", {}),
    ("full_name", "И", "invalid-name-length", {"min": 2, "max": 100}),
    ("birth_date", "1990", "invalid-birth-format", {"example": "17.05.1990"}),
    ("birth_date", "31.02.1990", "invalid-birth-date", {"example": "17.05.1990"}),
    ("birth_date", "17.05.2015", "invalid-birth-age", {"min": 16, "max": 70}),
    ("unit", "в/ч " + "1" * 61, "invalid-unit-length", {"max": 64}),
    ("rank", "я" * 41, "invalid-rank-length", {"max": 40}),
    ("service_number", "№ 12/3", "invalid-service-number", {"max": 20}),
    ("people", "три или четыре", "invalid-people-number", {"example": "3"}),
    ("people", "51", "invalid-people-range", {"min": 1, "max": 50}),
    ("area", "x" * 101, "invalid-area-length", {"max": 100}),
    ("phone", "12345", "invalid-phone", {"example": "+79123456789"}),
    ("health", "всё хорошо", "use-buttons", {}),
    ("wish", "обмен", "use-buttons", {}),
]


@pytest.mark.parametrize(
    ("name", "text", "message_id", "params"),
    BAD_INPUT,
    ids=[f"{name}-{message_id}" for name, _, message_id, _ in BAD_INPUT],
)
def test_bad_input_gets_the_fields_message_and_keeps_the_step(
    name: str, text: str, message_id: str, params: dict[str, Any]
) -> None:
    state = f"details_{name}"
    caller = reach(state)
    fields = dict(caller.fields)
    caller.text(text)
    assert caller.state == state
    # one message that says what is expected, with the step's buttons: not the question again
    assert [(r.message_id, dict(r.params)) for r in caller.replies] == [(message_id, params)]
    assert caller.replies[0].buttons == flow.SCREENS[state].buttons
    assert caller.fields == fields
    # refused, and deleted all the same: a bad answer may hold a personal value too
    deleted = [] if message_id == "use-buttons" else [DeleteInput(REF)]
    assert caller.of(DeleteInput) == deleted
    assert not caller.changed


def test_every_text_field_has_bad_input_above() -> None:
    text_fields = {d.name for d in flow.DETAILS}
    assert {name for name, *_ in BAD_INPUT} == text_fields


def test_three_bad_answers_in_a_row_escalate_once() -> None:
    caller = reach("details_birth_date")
    escalations: list[Effect] = []
    for attempt in range(1, 7):
        caller.text("когда-то давно")
        assert caller.state == "details_birth_date"
        assert caller.ids[0] == "invalid-birth-format"
        escalations += [e for e in caller.effects if isinstance(e, Escalate | CaseEvent)]
        if attempt == 3:
            assert caller.of(Escalate) == [Escalate(Priority.NORMAL, "invalid")]
    assert escalations == [Escalate(Priority.NORMAL, "invalid"), CaseEvent("escalated")]
    assert caller.conv.escalated


def test_a_good_answer_ends_the_streak_of_bad_ones() -> None:
    caller = reach("details_birth_date")
    caller.text("вчера")
    caller.text("позавчера")
    caller.text("17.05.1990")
    assert caller.conv.invalid_streak == 0
    caller.text("в/ч " + "9" * 80)
    caller.text("в/ч " + "9" * 80)
    assert caller.of(Escalate) == []
    assert not caller.conv.escalated


def test_back_goes_one_step_back_and_keeps_the_answers() -> None:
    caller = reach("details_unit")
    caller.press("back")
    assert caller.state == "details_birth_date"
    assert caller.fields == {"full_name": "Иван Петров-Водкин", "birth_date": BIRTH_ISO}
    caller.press("back")
    assert caller.state == "details_full_name"
    caller.press("back")
    assert caller.state == "declaration"


def test_editing_a_field_from_review_returns_to_review() -> None:
    caller = reach("review")
    caller.press(edit_button("unit"))
    assert caller.state == "details_unit"
    assert caller.conv.editing
    caller.text("в/ч 54321")
    assert caller.state == "review"
    assert not caller.conv.editing
    assert caller.reply("review").params["unit"] == "в/ч 54321"
    assert caller.fields == {**FORM_FIELDS, "unit": "в/ч 54321"}


def test_back_while_editing_returns_to_review_unchanged() -> None:
    caller = reach("review")
    caller.press(edit_button("birth_date"))
    assert caller.state == "details_birth_date"
    caller.press("back")
    assert caller.state == "review"
    assert not caller.conv.editing
    assert caller.fields == FORM_FIELDS


def test_skip_while_editing_clears_the_field_and_returns_to_review() -> None:
    caller = reach("review")
    caller.press(edit_button("phone"))
    caller.press("skip")
    assert caller.state == "review"
    assert "phone" not in caller.fields
    assert caller.reply("review").params["phone"] == engine.NOT_GIVEN


def test_registered_offers_ready_update_safety_word_withdraw_and_the_menu() -> None:
    caller = reach("registered")
    assert [b.id for b in caller.reply("registered").buttons] == [
        "ready",
        "update",
        "safety-word",
        "withdraw",
        "back",
    ]
    caller.press("update")
    assert caller.state == "review"
    # which fields are given, never their values: a seized phone shows nothing
    given = caller.reply("review-given").params
    assert given["full-name"] == given["birth-date"] == "given"
    assert given["unit"] == "given"
    assert "Иван Петров-Водкин" not in repr(caller.effects)


# ---------------------------------------------------------------------------------------------
# Safety word


def test_a_safety_word_is_kept_with_the_sealed_fields_never_as_a_digest() -> None:
    caller = reach("safety_word")
    caller.text("  Ромашка ")
    assert caller.state == "registered"
    assert caller.ids == ["safety-word-saved", "registered"]
    assert caller.effects[0] == Scrub()  # the prompt leaves the chat
    assert caller.of(DeleteInput) == [DeleteInput(REF)]
    assert caller.fields["safety_word"] == "ромашка"
    assert "омашка" not in repr(caller.conv.meta())
    assert digest("safety", "ромашка") not in repr(caller.conv.meta())


def test_an_overlong_safety_word_is_refused() -> None:
    caller = reach("safety_word")
    caller.text("ы" * 41)
    assert caller.state == "safety_word"
    assert caller.replies[0] == refusal("safety_word", "invalid-safety-word", {"max": 40})
    assert "safety_word" not in caller.fields
    assert caller.of(DeleteInput) == [DeleteInput(REF)]  # refused, and deleted all the same


# the word in the declaration, the location, a refused answer and the injuries
RECALL_WITH_WORD: list[Event] = [
    Press("ready"),
    Text("Я иду сдаваться ромашка"),
    Text("у леса ромашка"),
    Text("ромашка 3"),
    Text("3"),
    Text("ромашка"),
]


def _recall(safety_word: str | None) -> tuple[list[list[Reply]], list[SilentAlert]]:
    caller = reach("registered")
    if safety_word is not None:
        caller.press("safety-word")
        caller.text(safety_word)
    replies, alerts = [], []
    for event in RECALL_WITH_WORD:
        caller.send(event)
        replies.append(caller.replies)
        alerts += caller.of(SilentAlert)
    assert caller.state == "meetup"
    return replies, alerts


def test_the_safety_word_alerts_silently_and_the_caller_sees_the_usual_flow() -> None:
    with_word, alerts = _recall("ромашка")
    without_word, no_alerts = _recall(None)
    other_word, other_alerts = _recall("василёк")
    assert with_word == without_word == other_word
    assert no_alerts == other_alerts == []
    assert alerts == [SilentAlert("safety-word")] * 4


@pytest.mark.parametrize(
    "text",
    ["Я иду сдаваться, ромашка.", "ромашка!", "(ромашка)"],
    ids=["comma-and-period", "exclamation", "parentheses"],
)
def test_the_safety_word_is_noticed_next_to_punctuation(text: str) -> None:
    caller = reach("registered")
    caller.press("safety-word")
    caller.text("ромашка")
    caller.press("ready")
    caller.press("declare")
    caller.text(text)
    assert caller.of(SilentAlert) == [SilentAlert("safety-word")]


# ---------------------------------------------------------------------------------------------
# Stage 2: the re-call from the registering account


def test_recall_from_the_registering_account_skips_the_code() -> None:
    caller = reach("registered")
    caller.press("ready")
    assert caller.state == "recall_declare"
    assert caller.of(Escalate) == []

    caller.text("Я иду сдаваться")
    assert caller.state == "recall_location"
    assert caller.of(Escalate) == [Escalate(Priority.HIGH, "recall")]
    assert CaseEvent("recall") in caller.effects
    assert [b.kind for b in caller.reply("ask-location").buttons] == ["location"]

    caller.send(SPOT)
    assert caller.state == "recall_people"
    assert caller.fields["recall_location"] == SPOT_TEXT
    assert caller.of(Relay) == [Relay(REF, "location")]
    assert caller.of(Escalate) == []

    caller.text("4")
    assert caller.state == "recall_injuries"
    assert caller.fields["recall_people"] == "4"
    assert caller.of(Relay) == [Relay(REF, "text")]

    caller.text("царапина на руке")
    assert caller.state == "meetup"
    assert caller.fields["recall_injuries"] == "царапина на руке"
    assert caller.of(CaseEvent) == [CaseEvent("meetup")]
    assert [b.id for b in caller.reply("meetup").buttons] == [
        "at-point",
        "help-now",
        "cancel-meetup",
    ]
    assert caller.conv.escalated
    assert caller.conv.priority == Priority.HIGH
    assert caller.conv.case_id == CASE_ID


def test_a_location_may_be_described_in_words() -> None:
    caller = reach("recall_location")
    caller.text("у разрушенного моста")
    assert caller.state == "recall_people"
    assert caller.fields["recall_location"] == "у разрушенного моста"


def test_bad_answers_in_the_recall_are_relayed_and_asked_again() -> None:
    caller = reach("recall_people")
    caller.text("много")
    assert caller.state == "recall_people"
    assert caller.of(Relay) == [Relay(REF, "text")]
    assert caller.ids == ["invalid-people-number"]


def test_messages_while_escalated_are_relayed() -> None:
    caller = reach("meetup")
    caller.text("я у дороги")
    assert caller.state == "meetup"
    assert caller.effects == [Relay(REF, "text")]


def test_meetup_buttons_alert_without_moving() -> None:
    caller = reach("meetup")
    caller.press("at-point")
    assert caller.state == "meetup"
    assert caller.ids == ["at-point-noted"]
    # the case is HIGH already, but the desk must hear it: "at the point" is news
    assert caller.of(Escalate) == [Escalate(Priority.HIGH, "at-point")]
    caller.press("help-now")
    assert caller.state == "meetup"
    assert caller.ids == ["help-coming"]
    assert caller.of(Escalate) == [Escalate(Priority.HIGHEST, "help-now")]
    caller.press("help-now")
    assert caller.of(Escalate) == [Escalate(Priority.HIGHEST, "help-now")]  # each time


def test_cancelling_a_meetup_asks_once_then_goes_back_to_the_case() -> None:
    caller = reach("meetup")
    caller.press("cancel-meetup")  # next to "I need help now": one tap must not end it
    assert caller.state == "meetup_cancel"
    assert caller.conv.escalated
    assert caller.of(CaseEvent) == []
    (question,) = caller.replies
    assert question.message_id == "confirm-cancel-meetup"
    assert question.inline
    assert [b.id for b in question.buttons] == ["cancel-meetup-yes", "cancel-meetup-no"]
    caller.press("cancel-meetup-no")
    assert caller.state == "meetup"
    assert caller.conv.escalated
    assert caller.of(CaseEvent) == []  # the meeting goes on: nothing for the desk
    caller.press("cancel-meetup")
    caller.press("cancel-meetup-yes")
    assert caller.state == "registered"
    assert not caller.conv.escalated
    assert caller.reply("registered").params == {}


# ---------------------------------------------------------------------------------------------
# Stage 2 from another account: code, then date of birth


def test_recall_from_another_account_links_after_code_and_birth_date() -> None:
    caller = reach("menu")
    caller.press("menu-ready")
    assert caller.state == "recall_code"
    assert [b.id for b in caller.reply("ask-code").buttons] == ["no-code", "back"]

    caller.text("k7qm 3p9x")
    assert caller.state == "recall_code"
    assert caller.effects == [DeleteInput(REF), Lookup(CODE_DIGEST)]
    assert not caller.changed

    caller.send(CaseFound(OTHER_CASE))
    assert caller.state == "recall_birth"
    assert caller.conv.case_id is None
    assert caller.conv.pending_case_id == OTHER_CASE
    assert caller.ids == ["ask-code-birth-date"]

    caller.text("17.05.1990")
    assert caller.state == "recall_birth"
    assert caller.effects == [DeleteInput(REF), VerifyBirth(BIRTH_ISO)]
    caller.send(BirthChecked(True, 5))
    assert caller.state == "recall_declare"
    assert caller.of(LinkNotice) == [LinkNotice("linked", OTHER_CASE)]
    assert caller.conv.case_id == OTHER_CASE
    assert caller.conv.owns_case is False
    assert caller.conv.pending_case_id is None
    assert caller.fields == {}

    caller.text("иду сдаваться")
    assert caller.state == "recall_location"
    assert caller.of(Escalate) == [Escalate(Priority.HIGH, "recall")]


@pytest.mark.parametrize("typed", ["К7QМ-3Р9Х", "k7qm3p9x", " K7QM 3P9X ", "ｋ７ｑｍ－３ｐ９ｘ"])
def test_a_code_typed_loosely_is_looked_up_as_the_same_code(typed: str) -> None:
    caller = reach("recall_code")
    caller.text(typed)
    assert caller.of(Lookup) == [Lookup(CODE_DIGEST)]


def test_a_malformed_code_is_refused_without_a_lookup() -> None:
    caller = reach("recall_code")
    caller.text("1234")
    assert caller.state == "recall_code"
    assert caller.of(Lookup) == []
    assert caller.replies[0] == refusal("recall_code", "invalid-code-format", {"example": CODE})
    assert not caller.conv.code_locked


@pytest.mark.parametrize("found", [None, OTHER_CASE])
def test_a_missing_and_an_existing_code_are_answered_alike(found: str | None) -> None:
    """No oracle: the date is asked for either way, and a wrong one gets the same words."""
    caller = reach("recall_code")
    caller.text("AAAA-BBBB")
    caller.send(CaseFound(found, 4))
    assert caller.state == "recall_birth"
    assert caller.ids == ["ask-code-birth-date"]
    caller.text("18.05.1990")
    caller.send(BirthChecked(False, 3, case_failures=1 if found else 0))
    assert caller.state == "recall_code"
    assert caller.ids == ["code-or-date-mismatch"]  # one message, the code step's buttons
    assert caller.replies[0] == refusal("recall_code", "code-or-date-mismatch", {"left": 3})
    assert caller.of(Escalate) == []
    assert caller.conv.pending_case_id is None
    notices = [LinkNotice("failed", OTHER_CASE, 1)] if found else []
    assert caller.of(LinkNotice) == notices


def test_the_last_try_of_an_account_locks_and_alerts() -> None:
    caller = reach("recall_birth")
    caller.text("18.05.1990")
    caller.send(BirthChecked(False, 0, case_failures=3, locked_now=True, campaign=25))
    assert caller.state == "handoff"
    assert caller.ids == ["code-locked", "handoff"]
    assert caller.of(Escalate) == [Escalate(Priority.HIGH, "code")]
    assert caller.of(LinkNotice) == [
        LinkNotice("failed", OTHER_CASE, 3),
        LinkNotice("locked", OTHER_CASE, 3),
        LinkNotice("campaign", None, 25),
    ]
    assert caller.conv.case_id is None
    assert caller.conv.code_locked
    assert caller.conv.return_to == "recall_code"  # a hand-off left asks for a code again


def test_an_account_out_of_tries_is_locked_at_the_lookup() -> None:
    caller = reach("recall_code")
    caller.text("AAAA-BBBB")
    caller.send(CaseFound(OTHER_CASE, 0))
    assert caller.state == "handoff"
    assert caller.ids == ["code-locked", "handoff"]
    assert caller.conv.pending_case_id is None


def test_a_badly_typed_birth_date_is_not_a_wrong_one() -> None:
    caller = reach("recall_birth")
    caller.text("в мае")
    assert caller.state == "recall_birth"
    assert caller.ids == ["invalid-birth-format"]
    assert caller.of(VerifyBirth) == []
    assert caller.of(DeleteInput) == [DeleteInput(REF)]  # refused, but it may be his date


def test_a_case_found_outside_the_code_step_is_ignored() -> None:
    for state in ("menu", "recall_birth", "registered"):
        caller = reach(state)
        before = caller.conv
        caller.send(CaseFound(OTHER_CASE))
        assert caller.effects == []
        assert caller.conv.pending_case_id == before.pending_case_id
        assert caller.state == state


def test_a_birth_check_outside_the_date_step_is_ignored() -> None:
    for state in ("menu", "recall_code", "registered"):
        caller = reach(state)
        caller.send(BirthChecked(True, 5))
        assert caller.effects == []
        assert caller.conv.case_id == reach(state).conv.case_id


def test_after_a_code_lock_leaving_the_handoff_gives_no_new_tries() -> None:
    caller = reach("recall_code")
    caller.send(CaseFound(None, 0))
    assert caller.state == "handoff"
    caller.press("leave")
    caller.text("AAAA-CCCC")
    assert caller.of(Lookup) == []


def test_i_have_no_code_gives_the_short_declaration() -> None:
    caller = reach("recall_code")
    caller.press("no-code")
    assert caller.state == "recall_declare"
    caller.text("Я иду сдаваться")
    assert caller.state == "recall_location"
    assert caller.of(Escalate) == [Escalate(Priority.HIGH, "recall")]
    caller.send(SPOT)
    caller.text("1")
    caller.press("health-serious")
    assert caller.state == "meetup"
    assert caller.fields == {
        "recall_location": SPOT_TEXT,
        "recall_people": "1",
        "recall_injuries": "health-serious",
    }
    caller.press("cancel-meetup")
    caller.press("cancel-meetup-yes")
    assert caller.state == "menu"
    assert not caller.conv.escalated


def test_ready_from_the_menu_with_a_case_skips_the_code() -> None:
    caller = Caller(dataclasses.replace(reach("registered").conv, state="menu"))
    caller.press("menu-ready")
    assert caller.state == "recall_declare"


# ---------------------------------------------------------------------------------------------
# Emergency


def test_emergency_escalates_at_once_with_the_highest_priority() -> None:
    caller = reach("menu")
    caller.press("menu-emergency")
    assert caller.state == "emergency_location"
    assert caller.of(Escalate) == [Escalate(Priority.HIGHEST, "emergency")]
    assert CaseEvent("escalated") in caller.effects
    assert [b.id for b in caller.reply("emergency-location").buttons] == [
        "share-location",
        "skip",
    ]


def test_every_emergency_question_can_be_skipped() -> None:
    caller = reach("emergency_location")
    for state in ("emergency_location", "emergency_people", "emergency_injuries"):
        assert caller.state == state
        assert "skip" in [b.id for b in caller.replies[-1].buttons]
        caller.press("skip")
    assert caller.state == "emergency"
    assert caller.ids == ["emergency-wait"]
    assert caller.fields == {}


def test_emergency_answers_are_kept_and_relayed() -> None:
    caller = reach("emergency_location")
    caller.send(SPOT)
    assert caller.of(Relay) == [Relay(REF, "location")]
    caller.text("4")
    assert caller.of(Relay) == [Relay(REF, "text")]
    caller.press("health-serious")
    assert caller.state == "emergency"
    assert caller.of(Relay) == [Relay(REF, "button")]
    assert caller.fields == {
        "emergency_location": SPOT_TEXT,
        "emergency_people": "4",
        "emergency_injuries": "health-serious",
    }


def test_texts_in_the_emergency_are_relayed_and_the_state_stays() -> None:
    caller = reach("emergency")
    for text in ("нас обстреливают", "двое ранены"):
        caller.text(text)
        assert caller.state == "emergency"
        assert caller.effects == [Relay(REF, "text")]


def test_operators_decide_how_an_emergency_goes_on() -> None:
    caller = reach("emergency")
    caller.send(OperatorAction(FlowAction.MEET))
    assert caller.state == "meetup"
    caller = reach("emergency")
    caller.send(OperatorAction(FlowAction.END))
    assert caller.state == "menu"
    assert not caller.conv.escalated
    caller = reach("emergency")
    caller.send(OperatorAction(FlowAction.ABORT))
    assert caller.state == "menu"


# ---------------------------------------------------------------------------------------------
# Relatives, legion, operator


@pytest.mark.parametrize(
    ("choice", "state", "prompt_id"),
    [("relative", "relatives", "relatives-ask"), ("legion", "legion", "legion-info")],
)
def test_relatives_and_legion_hand_off_and_come_back(
    choice: str, state: str, prompt_id: str
) -> None:
    caller = reach("menu")
    caller.press(f"menu-{choice}")
    assert caller.state == state
    assert [b.id for b in caller.reply(prompt_id).buttons][-2:] == ["operator", "back"]
    caller.press("operator")
    assert caller.state == "handoff"
    assert caller.of(Escalate) == [Escalate(Priority.NORMAL, state)]
    caller.text("мой сын в плену")
    assert caller.effects == [Relay(REF, "text")]
    caller.press("leave")
    assert caller.state == state
    assert caller.ids == [prompt_id]
    caller.press("back")
    assert caller.state == "menu"


def test_an_operator_ending_the_handoff_returns_to_where_it_came_from() -> None:
    caller = reach("relatives")
    caller.press("operator")
    caller.send(OperatorAction(FlowAction.END))
    assert caller.state == "relatives"


@pytest.mark.parametrize("state", ["menu", "premob", "details_unit", "review", "registered"])
def test_the_operator_command_hands_off_and_leave_comes_back(state: str) -> None:
    caller = reach(state)
    fields = dict(caller.fields)
    caller.command("operator")
    assert caller.state == "handoff"
    assert caller.of(Escalate) == [Escalate(Priority.NORMAL, "operator")]
    caller.command("operator")
    assert caller.state == "handoff"
    assert caller.ids == ["already-with-operator", "handoff"]
    caller.press("leave")
    assert caller.state == state
    assert caller.fields == fields


@pytest.mark.parametrize("state", ["recall_people", "emergency", "meetup"])
def test_the_operator_command_while_escalated_says_already_with_operator(state: str) -> None:
    caller = reach(state)
    caller.command("operator")
    assert caller.state == state
    assert caller.ids[0] == "already-with-operator"


@pytest.mark.parametrize("state", ["start", "completed", "withdrawn"])
def test_the_operator_command_from_a_fresh_conversation_goes_through_the_menu(state: str) -> None:
    caller = reach(state)
    caller.command("operator")
    assert caller.state == "handoff"
    assert caller.ids == ["greeting", "menu", "handoff"]
    assert caller.of(Escalate) == [Escalate(Priority.NORMAL, "operator")]
    caller.press("leave")
    assert caller.state == "menu"


@pytest.mark.parametrize("command", ["cancel", "help", "start"])
def test_a_command_while_confirming_a_withdrawal_asks_the_question_again(command: str) -> None:
    caller = reach("confirm_withdraw")
    caller.command(command)
    assert caller.state == "confirm_withdraw"
    assert caller.ids[-1] == "confirm-withdraw"
    assert "already-with-operator" not in caller.ids
    assert caller.of(Erase) == []
    caller.press("withdraw-no")
    assert caller.state == "registered"


# ---------------------------------------------------------------------------------------------
# Withdrawal and panic erase

RESUMABLE = list(flow.RESUMABLE)


@pytest.mark.parametrize("state", RESUMABLE)
def test_cancel_asks_first_and_no_returns_to_the_exact_state(state: str) -> None:
    caller = reach(state)
    if state.startswith("details_"):
        caller = reach("review")
        caller.press(edit_button(state.removeprefix("details_")))
    before = caller.conv
    caller.command("cancel")
    assert caller.state == "confirm_withdraw"
    confirm = caller.reply("confirm-withdraw")
    assert confirm.inline
    assert [b.id for b in confirm.buttons] == ["withdraw-yes", "withdraw-no"]
    assert caller.of(Erase) == []
    caller.press("withdraw-no")
    assert caller.state == state
    assert caller.fields == before.fields
    assert caller.conv.editing == before.editing
    assert caller.conv.case_id == before.case_id
    assert caller.conv.escalated == before.escalated
    assert caller.of(Erase) == []


def test_withdrawing_erases_the_case_and_every_field() -> None:
    caller = reach("registered")
    caller.command("cancel")
    caller.press("withdraw-yes")
    assert caller.state == "withdrawn"
    # the chat is wiped like /forget: a seized phone shows nothing of it
    assert caller.of(Erase) == [Erase(wipe_chat=True, case_id=CASE_ID, code_digest=CODE_DIGEST)]
    assert CaseEvent("withdrawn") in caller.effects
    assert caller.ids == ["withdrawn"]
    assert caller.fields == {}
    assert caller.conv == Conversation(state="withdrawn", updated_at=CTX.now)
    caller.command("start")
    assert caller.state == "menu"
    assert caller.ids == ["greeting", "menu"]


def test_withdrawing_from_a_linked_account_erases_only_it_and_asks_the_desk() -> None:
    caller = reach("recall_birth")
    caller.text("17.05.1990")
    caller.send(BirthChecked(True, 5))
    caller.command("cancel")
    caller.press("withdraw-yes")
    # not its owner: only this conversation and its link go; the case's withdrawal is a
    # request the desk confirms
    assert caller.of(Erase) == [Erase(wipe_chat=True)]
    assert caller.of(LinkNotice) == [LinkNotice("withdraw-request", OTHER_CASE)]
    assert caller.of(CaseEvent) == [CaseEvent("unlinked")]


def test_forget_from_a_linked_account_erases_only_it() -> None:
    caller = reach("recall_birth")
    caller.text("17.05.1990")
    caller.send(BirthChecked(True, 5))
    caller.command("forget")
    assert caller.of(Erase) == [Erase(wipe_chat=True)]
    assert caller.of(LinkNotice) == [LinkNotice("unlinked", OTHER_CASE)]
    assert caller.of(CaseEvent) == [CaseEvent("unlinked")]


def test_an_operator_ending_a_case_from_a_linked_account_ends_the_whole_case() -> None:
    caller = reach("recall_birth")
    caller.text("17.05.1990")
    caller.send(BirthChecked(True, 5))
    caller.send(OperatorAction(FlowAction.ERASE))
    assert caller.of(Erase) == [Erase(case_id=OTHER_CASE, linked=True)]


def test_withdraw_from_review_asks_first() -> None:
    caller = reach("review")
    caller.press("withdraw")
    assert caller.state == "confirm_withdraw"
    caller.press("withdraw-yes")
    assert caller.state == "withdrawn"
    assert caller.of(Erase) == [Erase(wipe_chat=True)]
    assert caller.fields == {}


@pytest.mark.parametrize("state", ["start", "completed", "withdrawn"])
def test_cancel_with_nothing_to_cancel_says_so(state: str) -> None:
    caller = reach(state)
    caller.command("cancel")
    assert caller.ids[0] == "nothing-to-cancel"
    assert caller.state == ("menu" if state == "start" else state)
    assert caller.of(Erase) == []


@pytest.mark.parametrize("before", ["menu", "relatives", "registered", "details_unit"])
def test_cancel_during_a_handoff_asks_first(before: str) -> None:
    caller = reach(before)
    caller.command("operator")
    caller.command("cancel")
    assert caller.state == "confirm_withdraw"
    assert caller.ids == ["confirm-withdraw"]
    caller.press("withdraw-yes")
    assert caller.state == "withdrawn"
    assert caller.fields == {}


@pytest.mark.parametrize("before", ["menu", "relatives"])
def test_cancel_during_a_handoff_then_no_stays_with_the_operator(before: str) -> None:
    caller = reach(before)
    caller.command("operator")
    caller.command("cancel")
    caller.press("withdraw-no")
    assert caller.state == "handoff"
    caller.press("leave")
    assert caller.state == before


@pytest.mark.parametrize("state", sorted(flow.SCREENS))
def test_forget_erases_everything_from_any_state(state: str) -> None:
    caller = reach(state)
    owned = caller.conv.owns_case
    caller.command("forget")
    assert caller.state == "start"
    assert caller.of(Erase) == [
        Erase(
            wipe_chat=True,
            case_id=CASE_ID if owned else None,
            code_digest=CODE_DIGEST if owned else None,
        )
    ]
    assert CaseEvent("erased") in caller.effects
    assert caller.ids == ["forget-done"]
    assert caller.conv == Conversation(state="start", updated_at=CTX.now)
    assert caller.changed


# ---------------------------------------------------------------------------------------------
# Content the current step cannot use

MEDIA_KINDS = ["sticker", "photo", "document", "video", "animation", "audio"]


def _foreign_press(state: str) -> Press:
    own = {b.id for b in flow.SCREENS[state].buttons}
    return Press(next(b for b in ("confirm", "menu-premob", "leave") if b not in own))


CODE_HINT = ("invalid-code-format", {"example": engine.CODE_EXAMPLE})


def unusable(state: str) -> list[tuple[str, Event, str, dict[str, Any], str | None]]:
    """(id, event, notice, notice params, relay kind while escalated) the state cannot use."""
    cases: list[tuple[str, Event, str, dict[str, Any], str | None]] = [
        (kind, Media(kind), "wrong-content", {"kind": kind}, kind) for kind in MEDIA_KINDS
    ]
    if flow.SCREENS[state].expects != "location" and state not in flow.ESCALATED_STATES:
        cases.append(("location", SPOT, "wrong-content", {"kind": "location"}, "location"))
    if state != "details_phone" and state not in flow.ESCALATED_STATES:
        # escalated, a contact or a location is for the operator: kept sealed for his reveal
        # (test_what_is_shared_for_the_operator_is_sealed_never_copied)
        contact = Contact("+79123456789", own=True)
        cases.append(("contact", contact, "wrong-content", {"kind": "contact"}, "contact"))
    cases += [
        ("edited", Edited(), "edit-ignored", {}, "edit"),
        ("forwarded", Forwarded(), "forward-refused", {}, "forward"),
        ("stale", StaleButton(), "stale-button", {}, None),
    ]
    # a label of another screen's button, typed (or tapped on an old reply keyboard): words
    # for the operator once escalated; asked for a code, the code's shape is explained
    if state == "recall_code":
        cases.append(("foreign-press", _foreign_press(state), *CODE_HINT, "text"))
    else:
        cases.append(("foreign-press", _foreign_press(state), "stale-button", {}, "text"))
    return cases


# Not escalated: explained, and the step shown again
QUIET = {
    "choice": ["menu", "premob", "review", "registered", "details_health", "confirm_withdraw"],
    "text": [
        "declaration",
        "details_full_name",
        "details_birth_date",
        "details_phone",
        "safety_word",
        "recall_code",
        "recall_birth",
        "recall_declare",
    ],
    "none": ["completed", "withdrawn"],
}
# Escalated: the live relay is open
LIVE = {
    "choice": ["meetup"],
    "text": ["recall_people", "emergency_injuries"],
    "location": ["recall_location", "emergency_location"],
    "none": ["handoff", "emergency"],
}


def test_the_samples_cover_every_kind_of_screen() -> None:
    kinds = {screen.expects for screen in flow.SCREENS.values()}
    assert set(QUIET) | set(LIVE) == kinds
    for group in (QUIET, LIVE):
        for expects, states in group.items():
            assert all(flow.SCREENS[s].expects == expects for s in states), expects
    assert not any(s in flow.ESCALATED_STATES for states in QUIET.values() for s in states)
    assert all(s in flow.ESCALATED_STATES for states in LIVE.values() for s in states)


def _cases(group: dict[str, list[str]]) -> list[Any]:
    return [
        pytest.param(state, event, notice, params, relay, id=f"{state}-{name}")
        for states in group.values()
        for state in states
        for name, event, notice, params, relay in unusable(state)
    ]


@pytest.mark.parametrize(("state", "event", "notice", "params", "relay"), _cases(QUIET))
def test_unusable_content_is_explained_and_the_step_stays(
    state: str, event: Event, notice: str, params: dict[str, Any], relay: str | None
) -> None:
    caller = reach(state)
    before = caller.conv
    caller.send(event)
    assert caller.state == state
    assert caller.fields == before.fields
    screen = flow.SCREENS[state]
    if screen.inline or state == "start":  # inline buttons belong to their screen: shown again
        assert [(r.message_id, dict(r.params)) for r in caller.replies] == [
            (notice, params),
            (prompt(state), dict(engine.screen_reply(before).params)),
        ]
    else:  # one message saying what is expected, with the step's buttons
        assert caller.replies == [refusal(state, notice, params)]
    assert notice in CATALOGUE
    assert caller.of(Relay) == []
    assert caller.of(Escalate) == []
    assert not caller.changed


@pytest.mark.parametrize(("state", "event", "notice", "params", "relay"), _cases(LIVE))
def test_unusable_content_in_a_live_relay_goes_to_the_operator(
    state: str, event: Event, notice: str, params: dict[str, Any], relay: str | None
) -> None:
    caller = reach(state)
    before = caller.conv
    caller.send(event)
    assert caller.state == state
    assert caller.fields == before.fields
    assert caller.of(Escalate) == []
    if relay is None:  # a button from an old message
        assert caller.replies == [refusal(state, notice, params)]
        assert caller.of(Relay) == []
        return
    assert caller.of(Relay) == [Relay(REF, relay)]
    if flow.SCREENS[state].expects in {"text", "location"}:
        # a question is open: he is told, in one message, that it went to the operator and
        # that the question still waits (never "not needed here" for what was relayed)
        assert caller.replies == [refusal(state, "relayed-to-operator", {})]
    else:
        # the operator relay is all the state is about: nothing comes back
        assert caller.replies == []


@pytest.mark.parametrize("state", ["recall_people", "recall_location", "emergency_people"])
@pytest.mark.parametrize("kind", ["sticker", "photo"])
def test_content_relayed_at_an_escalated_question_is_not_called_unneeded(
    state: str, kind: str
) -> None:
    caller = reach(state)
    caller.send(Media(kind))
    assert caller.of(Relay) == [Relay(REF, kind)]
    assert caller.ids == ["relayed-to-operator"]


@pytest.mark.parametrize("state", ["details_unit", "details_health", "menu", "registered"])
def test_the_operator_sees_this_is_said_only_of_what_was_relayed(state: str) -> None:
    caller = reach(state)
    caller.send(Media("photo"))  # nobody follows the chat: nothing relayed, nothing promised
    assert caller.of(Relay) == []
    assert caller.ids == ["wrong-content"]
    caller.send(Media("voice"))  # a voice note always reaches the desk: from now on he is heard
    caller.send(Media("photo"))
    assert caller.of(Relay) == [Relay(REF, "photo")]
    assert caller.ids == ["relayed-to-operator"]


SHARED = [
    (Contact("+7 912 345-67-89", own=True), "shared_phone", "+7 912 345-67-89", "contact"),
    (Contact("+7 912 345-67-89", own=False), "shared_contact", "+7 912 345-67-89", "contact"),
    (SPOT, "shared_location", SPOT_TEXT, "location"),
]


@pytest.mark.parametrize(("event", "name", "value", "kind"), SHARED)
@pytest.mark.parametrize(
    "state", ["handoff", "meetup", "recall_people", "emergency", "talk", "details_unit"]
)
def test_what_is_shared_for_the_operator_is_sealed_never_copied(
    state: str, event: Event, name: str, value: str, kind: str
) -> None:
    caller = reach(state)
    if not caller.conv.escalated:
        caller.send(Media("voice"))
    before = caller.conv
    caller.send(event)
    assert caller.state == state
    # sealed with his details, for the claiming operator's private reveal; nothing else moves
    assert caller.fields == {**before.fields, name: value}
    # the topic hears only that something came: the relay carries no number, no place
    (relay,) = caller.of(Relay)
    assert relay == Relay(REF, kind)
    assert relay.text is None
    assert DeleteInput(REF) in caller.effects  # it leaves his chat, as his phone answer does
    assert caller.ids == [f"{kind}-passed"]  # his message vanished: he is told why


def test_nothing_shared_is_kept_where_no_operator_follows() -> None:
    caller = reach("details_unit")
    caller.send(Contact("+79123456789", own=True))
    caller.send(SPOT)
    assert caller.fields == reach("details_unit").fields
    assert caller.of(Relay) == []
    assert caller.ids == ["wrong-content"]


def test_a_location_is_refused_in_the_form_where_no_coordinates_are_asked() -> None:
    caller = reach("details_area")
    caller.send(SPOT)
    assert caller.state == "details_area"
    assert "area" not in caller.fields
    assert caller.replies[0] == refusal("details_area", "wrong-content", {"kind": "location"})


def test_a_contact_card_of_someone_else_is_not_taken_as_the_callers_phone() -> None:
    caller = reach("details_phone")
    caller.send(Contact("+79001112233", own=False))
    assert caller.state == "details_phone"
    assert "phone" not in caller.fields


VOICE_STATES = [
    "menu",
    "details_full_name",
    "review",
    "registered",
    "recall_code",
    "recall_people",
    "recall_location",
    "emergency",
    "handoff",
    "withdrawn",
]


@pytest.mark.parametrize("kind", ["voice", "video_note"])
@pytest.mark.parametrize("state", VOICE_STATES)
def test_voice_and_video_notes_are_relayed_and_heard(state: str, kind: str) -> None:
    caller = reach(state)
    was_escalated = caller.conv.escalated
    fields = dict(caller.fields)
    caller.send(Media(kind))
    assert caller.state == state
    assert caller.fields == fields
    assert caller.of(Relay) == [Relay(REF, kind)]
    assert caller.ids == ["voice-relayed", prompt(state)]
    if was_escalated:
        assert caller.of(Escalate) == []
    else:
        assert caller.of(Escalate) == [Escalate(Priority.NORMAL, "voice")]
    assert caller.conv.escalated
    caller.send(Media(kind))
    assert caller.of(Escalate) == []


def test_every_screen_message_names_the_state_its_buttons_belong_to() -> None:
    for state, path in PATHS.items():
        if path:
            caller = reach(state)
            shown = [r for r in caller.replies if r.message_id != "code-once"]
            assert shown[-1].screen == state


def test_an_inline_button_from_an_older_message_is_stale() -> None:
    caller = reach("registered")
    caller.send(Press("withdraw", screen="review"))  # the review message had "withdraw" too
    assert caller.state == "registered"
    assert caller.ids == ["stale-button"]
    caller.send(Press("withdraw", screen="registered"))
    assert caller.state == "confirm_withdraw"


def test_a_declaration_typed_in_the_menu_or_at_registered_is_taken_as_the_declaration() -> None:
    caller = reach("menu")
    caller.text("Я иду сдаваться")
    assert caller.state == "details_full_name"  # not asked for the same words again
    caller = reach("registered")
    caller.text("я иду сдаваться")
    assert caller.state == "recall_location"
    assert any(isinstance(e, Escalate) and e.reason == "recall" for e in caller.effects)
    caller = reach("registered")
    caller.text("что дальше?")
    assert caller.state == "registered"
    assert caller.replies == [refusal("registered", "use-buttons")]


def test_a_repeated_press_changes_nothing_twice() -> None:
    caller = reach("review")
    caller.press("confirm")
    assert caller.of(RegisterCase)
    conv = caller.conv
    caller.press("confirm")
    assert caller.state == "registered"
    assert caller.of(RegisterCase) == []
    assert caller.ids == ["stale-button"]
    assert caller.conv.meta() | {"updated_at": 0} == conv.meta() | {"updated_at": 0}


# ---------------------------------------------------------------------------------------------
# Operator actions


def test_op_meet_brings_an_escalated_caller_to_the_meetup() -> None:
    for state in ("recall_location", "recall_people", "recall_injuries", "emergency", "handoff"):
        caller = reach(state)
        caller.send(OperatorAction(FlowAction.MEET))
        assert caller.state == "meetup", state
        assert caller.of(CaseEvent) == [CaseEvent("meetup")]
        assert caller.ids == ["meetup"]


def test_op_met_completes_the_case_and_erases_it() -> None:
    caller = reach("meetup")
    caller.send(OperatorAction(FlowAction.MET))
    assert caller.state == "completed"
    assert caller.of(CaseEvent) == [CaseEvent("completed")]
    # met: nothing of it stays on his phone; the desk keeps its topic closed a while
    assert caller.of(Erase) == [
        Erase(wipe_chat=True, case_id=CASE_ID, code_digest=CODE_DIGEST, met=True)
    ]
    assert caller.ids == ["completed"]
    assert caller.fields == {}
    caller.text("спасибо")
    assert caller.ids == ["terminal-hint", "completed"]


def test_op_abort_returns_to_the_case_or_to_the_menu() -> None:
    caller = reach("meetup")
    caller.send(OperatorAction(FlowAction.ABORT))
    assert caller.state == "registered"
    assert caller.conv.escalated is False
    assert caller.fields["case_code"] == CODE
    caller = reach("recall_code")
    caller.press("no-code")
    caller.run([Text(DECLARATION), SPOT, Text("2"), Press("health-none")])
    caller.send(OperatorAction(FlowAction.ABORT))
    assert caller.state == "menu"


def test_meeting_instructions_reach_the_caller_with_the_meeting() -> None:
    caller = reach("recall_injuries")
    caller.send(OperatorAction(FlowAction.MEET, {"time": "05:30", "place": "мост у Кременной"}))
    assert caller.state == "meetup"
    assert [(r.message_id, dict(r.params)) for r in caller.replies] == [
        ("meeting-instructions", {"time": "05:30", "place": "мост у Кременной"}),
        ("meetup", {"guided": "yes"}),  # an operator who sends instructions guides him
    ]
    caller.send(OperatorAction(FlowAction.MEET, {"time": "06:00", "place": "мост у Кременной"}))
    assert caller.state == "meetup"
    assert caller.replies[0].params["time"] == "06:00"


@pytest.mark.parametrize("state", ["menu", "details_unit", "registered", "meetup", "emergency"])
def test_an_operator_can_erase_a_conversation(state: str) -> None:
    caller = reach(state)
    owned = caller.conv.owns_case
    caller.send(OperatorAction(FlowAction.ERASE))
    assert caller.state == "start"
    assert caller.of(Erase) == [
        Erase(
            wipe_chat=False,
            case_id=CASE_ID if owned else None,
            code_digest=CODE_DIGEST if owned else None,
        )
    ]
    assert CaseEvent("erased") in caller.effects
    assert caller.conv == Conversation(state="start", updated_at=CTX.now)


@pytest.mark.parametrize(
    ("state", "action"),
    [
        ("menu", "met"),
        ("registered", "meet"),
        ("details_unit", "abort"),
        ("review", "end"),
        ("registered", "claim"),
        ("menu", "release"),
        ("recall_code", "met"),
    ],
)
def test_operator_actions_that_do_not_apply_change_nothing(state: str, action: str) -> None:
    caller = reach(state)
    before = caller.conv
    caller.send(OperatorAction(cast(FlowAction, action)))  # "claim" is no flow action at all
    assert caller.effects == []
    assert caller.conv.meta() | {"updated_at": 0} == before.meta() | {"updated_at": 0}
    assert caller.fields == before.fields


# ---------------------------------------------------------------------------------------------
# Purity


EVERY_KIND: Sequence[Event] = [
    Text("Иван"),
    Text("Я иду сдаваться"),
    Press("back"),
    Press("skip"),
    Press("confirm"),
    Command("cancel"),
    Command("forget"),
    Command("operator"),
    Command("status"),
    SPOT,
    Contact("+79123456789", own=True),
    Media("voice"),
    Media("sticker"),
    Edited(),
    Forwarded(),
    StaleButton(),
    ChooseLanguage("uk"),
    OperatorAction(FlowAction.MET),
    OperatorAction(FlowAction.ABORT),
    CaseFound(OTHER_CASE),
    BirthChecked(True, 5),
]


@pytest.mark.parametrize(
    "state",
    [
        "details_phone",
        "review",
        "registered",
        "recall_code",
        "meetup",
        "emergency",
        "confirm_withdraw",
    ],
)
def test_handle_never_modifies_the_conversation_it_is_given(state: str) -> None:
    base = reach(state).conv
    for event in EVERY_KIND:
        conv = copy.deepcopy(base)
        fields = conv.fields
        outcome = engine.handle(conv, event, CTX)
        assert conv == base, event
        assert conv.fields is fields, event
        assert outcome.conversation is not conv


def test_every_reply_of_these_tests_is_in_the_catalogue() -> None:
    seen: set[str] = set()
    for state in PATHS:
        caller = Caller()
        for event in itertools.chain(PATHS[state], EVERY_KIND):
            caller.send(event)
            for reply in caller.replies:
                seen.add(reply.message_id)
                seen.update(b.label for b in reply.buttons)
    assert seen - set(CATALOGUE) == set()
    assert len(seen) > 40


# ---------------------------------------------------------------------------------------------
# Updating details after registration


def _counting(prefix: str) -> Callable[[], str]:
    counter = itertools.count(1)
    return lambda: f"{prefix}{next(counter)}"


def test_updating_details_after_registration_keeps_the_case_and_its_code() -> None:
    ctx = dataclasses.replace(CTX, new_code=_counting("CODE-"), new_case_id=_counting("case-"))
    caller = reach("registered", ctx)
    first_case, first_code = caller.conv.case_id, caller.fields["case_code"]
    assert (first_case, first_code) == ("case-1", "CODE-1")
    caller.press("update")
    caller.press(edit_button("birth_date"))
    caller.text("18.05.1990")
    caller.press("confirm")
    assert caller.state == "registered"
    assert caller.of(RegisterCase) == []
    assert caller.of(CaseEvent) == [CaseEvent("updated")]
    assert caller.conv.case_id == first_case
    assert caller.fields["case_code"] == first_code
    assert caller.fields["birth_date"] == "1990-05-18"
    assert "code-once" not in caller.ids  # the code is not shown again


# ---------------------------------------------------------------------------------------------
# Bugs found while writing these tests, fixed since


def test_a_form_started_anew_after_an_interrupted_edit_asks_every_step() -> None:
    caller = reach("review")
    caller.press(edit_button("unit"))
    caller.command("operator")
    caller.send(OperatorAction(FlowAction.MEET))
    caller.press("cancel-meetup")
    caller.press("cancel-meetup-yes")
    assert caller.state == "menu"
    caller.run([Press("menu-surrender"), Press("declare"), Text("Пётр Сидоров")])
    assert caller.state == "details_birth_date"


def test_an_operator_closes_an_escalation_raised_outside_a_hand_off() -> None:
    caller = reach("details_full_name")
    for _ in range(3):
        caller.text("12345")  # three bad names in a row: the desk is asked to help
    assert caller.conv.escalated
    caller.send(OperatorAction(FlowAction.END))
    assert caller.state == "details_full_name"  # he goes on where he was
    assert not caller.conv.escalated
    assert caller.ids == ["operator-ended", "ask-full-name"]


def test_close_while_a_recall_waits_for_a_withdrawal_answer_keeps_the_recall() -> None:
    caller = reach("recall_location")
    caller.command("cancel")
    assert caller.state == "confirm_withdraw"
    caller.send(OperatorAction(FlowAction.END))  # a re-call is ended by Abort or Met, not Close
    assert caller.effects == []
    caller.press("withdraw-no")
    assert caller.state == "recall_location"
    assert caller.conv.escalated


@pytest.mark.parametrize(("origin", "back_to"), [("handoff", "relatives"), ("emergency", "menu")])
def test_close_while_a_withdrawal_is_asked_ends_what_it_interrupted(
    origin: str, back_to: str
) -> None:
    caller = reach("relatives")
    caller.press("operator")
    if origin == "emergency":
        caller = reach("emergency")
    caller.command("cancel")
    caller.send(OperatorAction(FlowAction.END))
    assert caller.state == "confirm_withdraw"
    assert not caller.conv.escalated
    assert caller.ids[0] == "operator-ended"
    caller.press("withdraw-no")
    assert caller.state == back_to
    assert not caller.conv.escalated


# ---------------------------------------------------------------------------------------------
# Review fixes: what the caller is told, and what the desk hears


@pytest.mark.parametrize(
    ("path", "phase"),
    [
        (RECALL_CODE, "recall-start"),  # no signal at the desk yet: never say there is
        (RECALL_OWN, "recall-start"),
        (RECALL_LOCATION, "recall"),
        ([*REGISTERED, Press("back")], "registered"),  # the menu, with a case
        ([*REGISTERED, Press("withdraw")], "registered"),  # asked to confirm a withdrawal
        (MENU, "none"),
    ],
)
def test_status_says_where_the_caller_really_is(path: list[Event], phase: str) -> None:
    caller = Caller().run(path)
    caller.command("status")
    assert [(r.message_id, r.params["phase"]) for r in caller.replies] == [("status", phase)]


@pytest.mark.parametrize(("path", "back_to"), [(RECALL_OWN, "registered")])
def test_a_recall_started_by_mistake_has_a_way_back(path: list[Event], back_to: str) -> None:
    caller = Caller().run(path)
    assert "back" in [b.id for b in caller.reply("recall-declare").buttons]
    caller.press("back")
    assert caller.state == back_to
    assert not caller.conv.escalated
    assert caller.of(Escalate) == []


def test_a_recall_from_another_account_without_a_case_goes_back_to_the_menu() -> None:
    caller = reach("recall_code")
    caller.press("no-code")
    caller.press("back")
    assert caller.state == "menu"


@pytest.mark.parametrize(
    ("state", "back_to"),
    [
        ("recall_location", "registered"),
        ("recall_people", "registered"),
        ("recall_injuries", "registered"),
        ("emergency_location", "menu"),
        ("emergency_people", "menu"),
    ],
)
def test_abort_ends_a_recall_or_emergency_whose_caller_fell_silent(
    state: str, back_to: str
) -> None:
    caller = reach(state)
    caller.send(OperatorAction(FlowAction.ABORT))
    assert caller.state == back_to
    assert not caller.conv.escalated
    # told first, then shown where he is; an emergency had no meeting to cancel
    told = "operator-ended" if state.startswith("emergency") else "operator-aborted"
    assert caller.ids[0] == told


@pytest.mark.parametrize("state", ["emergency_location", "emergency_people", "emergency"])
def test_close_ends_an_emergency_at_any_of_its_steps(state: str) -> None:
    caller = reach(state)
    caller.send(OperatorAction(FlowAction.END))
    assert caller.state == "menu"
    assert caller.ids == ["operator-ended", "menu"]


def test_an_operator_ending_a_handoff_tells_the_caller() -> None:
    caller = reach("relatives")
    caller.press("operator")
    caller.send(OperatorAction(FlowAction.END))
    assert caller.ids == ["operator-ended", "relatives-ask"]
    assert CaseEvent("left") not in caller.effects  # the desk ended it: it knows


@pytest.mark.parametrize(
    ("path", "button", "back_to"),
    [
        (PATHS["handoff"], "leave", "menu"),
        ([*PATHS["relatives"], Press("operator")], "leave", "relatives"),
        ([*MEETUP, Press("cancel-meetup")], "cancel-meetup-yes", "registered"),
    ],
)
def test_the_desk_hears_when_the_caller_leaves_himself(
    path: list[Event], button: str, back_to: str
) -> None:
    caller = Caller().run(path)
    caller.press(button)
    assert caller.state == back_to
    assert caller.of(CaseEvent) == [CaseEvent("left")]
    assert not caller.conv.escalated


def test_operator_on_the_withdrawal_question_means_no_and_a_person() -> None:
    caller = reach("confirm_withdraw")
    caller.command("operator")
    assert caller.state == "handoff"
    assert caller.of(Escalate) == [Escalate(Priority.NORMAL, "operator")]
    assert caller.fields == reach("registered").fields  # nothing withdrawn
    caller.press("leave")
    assert caller.state == "registered"


def test_operator_on_the_withdrawal_question_during_a_handoff_stays_with_him() -> None:
    caller = reach("handoff")
    caller.command("cancel")
    caller.command("operator")
    assert caller.state == "handoff"
    assert caller.ids == ["already-with-operator", "handoff"]


@pytest.mark.parametrize("state", ["handoff", "emergency", "meetup"])
def test_a_typed_button_label_in_a_live_relay_reaches_the_operator(state: str) -> None:
    caller = reach(state)
    caller.press("declare")  # «Я иду сдаваться» typed again: words for the operator
    caller.press("back")
    assert caller.effects == [Relay(REF, "text")]
    assert caller.replies == []
    assert caller.state == state


def test_the_declaration_typed_where_the_code_is_asked_explains_the_code() -> None:
    caller = reach("recall_code")
    caller.press("declare")
    assert caller.ids == ["invalid-code-format"]
    assert caller.of(Lookup) == []  # not a wrong code: no try used up


@pytest.mark.parametrize("state", ["emergency_location", "emergency_people", "emergency_injuries"])
def test_close_behind_the_withdrawal_question_ends_any_emergency_step(state: str) -> None:
    caller = reach(state)
    caller.command("cancel")
    caller.send(OperatorAction(FlowAction.END))
    assert caller.ids[0] == "operator-ended"
    caller.press("withdraw-no")
    assert caller.state == "menu"
    assert not caller.conv.escalated


def test_a_linked_phone_cannot_open_a_second_case_by_updating_details() -> None:
    caller = reach("recall_birth")
    caller.text("17.05.1990")  # the second factor: linked to the case of another phone
    caller.send(BirthChecked(True, 5))
    caller.press("back")
    assert caller.state == "registered"
    assert not caller.conv.owns_case
    caller.press("update")
    assert caller.state == "registered"
    assert caller.ids == ["update-from-first-phone", "registered"]
