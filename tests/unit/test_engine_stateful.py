"""Random callers against `engine.handle`: whatever arrives, in whatever order, the dialogue holds.

A hypothesis state machine sends commands, button presses (of the current screen or of any
screen), valid answers and arbitrary text (control and bidi characters, up to 5,000 characters),
locations, contacts, media, edits, forwards, stale buttons, operator actions, store answers, and
repeats of the previous event. Runs start from a new conversation or from one part-way through
the dialogue. After every event (`Dialogue.send`): handle() did not raise nor touch its input;
the state is a screen, reached only by rows of TRANSITIONS; escalated states are escalated;
answers disappear only through an Erase or a skip of that step, and change only at their own
step; every reply and button label is in the catalogue; meta() holds no answer; the safety word
changes nothing the caller sees.
"""

from __future__ import annotations

import copy
import datetime
import hashlib
import hmac
import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import cast

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, precondition, rule

from flows import engine, on_content, relatives, steps
from flows import surrender as flow
from flows.catalogue import ALL as CATALOGUE
from flows.model import (
    BirthChecked,
    CaseFound,
    ChooseLanguage,
    Command,
    Contact,
    Context,
    Conversation,
    Edited,
    Effect,
    Erase,
    Event,
    FlowAction,
    Forwarded,
    Location,
    Media,
    OperatorAction,
    Press,
    Reply,
    StaleButton,
    Text,
)
from flows.parts import destinations
from tests.exploration import examples

KEY = b"test-key-stateful"
CODE = "K7QM-3P9X"


def digest(namespace: str, value: str) -> str:
    return hmac.new(KEY, f"{namespace}\x00{value}".encode(), hashlib.sha256).hexdigest()


CTX = Context(
    now=1_715_940_000.0,
    today=datetime.date(2024, 5, 17),
    new_code=lambda: CODE,
    new_case_id=lambda: "case-0001",
    digest=digest,
    message_ref=None,
)

ROWS = {
    (row["trigger"], source, dest)
    for row in flow.TRANSITIONS
    for source in ([row["source"]] if isinstance(row["source"], str) else row["source"])
    for dest in destinations(row["dest"])  # going back: each state it may go back to
}
EDGES = {(source, dest) for _, source, dest in ROWS}
ALL_BUTTONS = sorted(
    {b.id for screen in flow.SCREENS.values() for b in screen.buttons} | {"lang-ru", "nope"}
)
# the questions of both forms, each with its own count of steps
DETAIL_PROMPTS = {
    flow.SCREENS[d.state].prompt: len(form)
    for form in (flow.DETAILS, relatives.REQUEST)
    for d in form
}
# Values a caller may type that are also ordinary words of the meta data (a state, a language)
VOCABULARY = set(flow.SCREENS) | set(flow.LANGUAGES)

DECLARATIONS = ["Я иду сдаваться", "здаюся", "не сдаюсь"]
VALID: dict[str, list[str]] = {
    "start": ["привет"],
    "declaration": DECLARATIONS,
    "recall_declare": [*DECLARATIONS, "иду сдаваться ромашка"],
    "details_full_name": ["Иван Петров", "O'Neil-Smith"],
    "details_birth_date": ["17.05.1990", "1990-05-17", "01/01/1970"],
    "details_unit": ["в/ч 12345"],
    "details_rank": ["майор"],
    "details_service_number": ["АБ-123456"],
    "details_people": ["1", "50"],
    "details_area": ["Купянск"],
    "details_phone": ["+79123456789", "067 123 45 67"],
    "request_sought_name": ["Петров Пётр"],
    "request_sought_birth": ["17 мая 1990", "17.05.90"],
    "request_last_seen": ["звонил в марте"],
    "request_asker": ["мама"],
    "request_reply_to": ["+79123456789"],
    "check_channel": ["@some_channel", "t.me/hotline_bot"],
    "safety_word": ["ромашка"],
    "recall_code": [CODE, "AAAA-BBBB"],
    "recall_birth": ["17.05.1990", "18.05.1990"],
    "recall_location": ["у моста", "ромашка"],
    "recall_people": ["3"],
    "recall_injuries": ["нет", "ромашка"],
    "emergency_location": ["в подвале"],
    "emergency_people": ["7"],
    "emergency_injuries": ["тяжело ранен"],
    "emergency": ["помогите"],
    "handoff": ["алло"],
}
EVERY_VALID = sorted({text for texts in VALID.values() for text in texts})

ODD_CHARS = [
    *"яЯіїєґЁё abcXYZ0123456789-'./,!?()",
    *"\n\t\r\x00\x1b\x7f\x85",
    *"\u202e\u202d\u2066\u2069\u200e\u200f\u061c",
    *"\u200b\u200d\ufeff\u0301\u0308\ud800\U0001f600",
]
TEXTS = st.one_of(
    st.text(max_size=40),
    st.text(alphabet=st.sampled_from(ODD_CHARS), max_size=60),
    st.builds(
        lambda part, times: (part * times)[:5000],
        st.text(min_size=1, max_size=8),
        st.integers(min_value=1, max_value=5000),
    ),
    st.sampled_from(EVERY_VALID),
)
REFS = st.sampled_from([7, 8, None])
MEDIA_KINDS = [
    "sticker",
    "photo",
    "document",
    "video",
    "animation",
    "audio",
    "voice",
    "video_note",
]
ACTIONS = st.one_of(
    st.sampled_from(["meet", "met", "abort", "end", "erase", "claim", "release"]),
    st.text(max_size=10),
)


# Presses that move a caller forward, so that random runs get deep into the dialogue
FORWARD: dict[str, list[Event]] = {
    state: [Text(text) for text in texts] for state, texts in VALID.items()
}
for _state, _buttons in {
    "menu": [f"menu-{choice}" for choice in flow.MENU_CHOICES],
    "premob": ["register"],
    "declaration": ["declare"],
    "details_rank": ["rank-officer", "skip"],
    "details_service_number": ["skip"],
    "details_area": ["area-donetsk", "skip"],
    "details_phone": ["skip"],
    "details_health": ["health-serious", "skip"],
    "details_wish": ["wish-stay", "skip"],
    "review": ["confirm", "edit-unit", "edit-people"],
    "registered": ["ready", "safety-word", "update"],
    "recall_code": ["no-code"],
    "recall_declare": ["declare"],
    "recall_injuries": ["health-light"],
    "meetup": ["at-point", "help-now"],
    "emergency_location": ["skip"],
    "emergency_people": ["skip"],
    "relatives": ["operator"],
    "legion": ["operator"],
    "handoff": ["leave"],
    "confirm_withdraw": ["withdraw-no"],
}.items():
    FORWARD.setdefault(_state, []).extend(Press(b) for b in _buttons)
FORWARD["recall_location"].append(Location(48.5, 37.9))
FORWARD["emergency_location"].append(Location(48.5, 37.9))
FORWARD["details_phone"].append(Contact("+79123456789", own=True))
FORWARD["recall_code"].append(CaseFound("case-0777"))
FORWARD.setdefault("recall_birth", []).append(BirthChecked(True, 5))


def _snapshots() -> list[Conversation]:
    """Conversations part-way through the dialogue, for runs that start deep inside it."""
    form = ["Иван Петров", "17.05.1990", "в/ч 1", "майор", "АБ-1", "3", "Купянск"]
    paths: list[list[Event]] = [
        [
            Command("start"),
            Press("menu-surrender"),
            Text("Я иду сдаваться"),
            *(Text(t) for t in form),
            Press("share-contact"),
            Contact("+79123456789", own=True),
            Press("health-none"),
            Press("wish-exchange"),
            Press("confirm"),
            Press("safety-word"),
            Text("ромашка"),
            Press("ready"),
            Text("Я иду сдаваться"),
            Location(48.5, 37.9),
            Text("2"),
            Text("нет"),
        ],
        [
            Command("start"),
            Press("menu-ready"),
            Text(CODE),
            CaseFound("case-0777"),
            Text("17.05.1990"),
            BirthChecked(True, 5),
            Text("Я иду сдаваться"),
            Location(48.5, 37.9),
            Text("2"),
            Text("нет"),
            Press("cancel-meetup"),
        ],
    ]
    snapshots = [Conversation()]
    for path in paths:
        conv = Conversation()
        for event in path:
            conv = engine.handle(conv, event, CTX).conversation
            snapshots.append(conv)
    return snapshots


SNAPSHOTS = _snapshots()


@contextmanager
def recording_fires() -> Iterator[list[tuple[str, str, str]]]:
    """Record every transition `engine.fire` runs as (trigger, source, dest)."""
    fired: list[tuple[str, str, str]] = []
    real_fire = steps.fire

    def fire(turn: steps.Step, trigger: str) -> bool:
        source = turn.conv.state
        done = real_fire(turn, trigger)
        if done:
            fired.append((trigger, source, turn.conv.state))
        return done

    engine.fire = steps.fire = fire  # the engine's own calls, and those of its moves
    try:
        yield fired
    finally:
        engine.fire = steps.fire = real_fire


def field_of(state: str) -> str:
    detail = flow.DETAIL_BY_STATE.get(state)
    return detail.name if detail is not None else state


class Dialogue(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.conv = Conversation()
        self.last: tuple[Event, int | None] | None = None

    # -- the one place events go through ----------------------------------------------------
    def send(self, event: Event, ref: int | None) -> None:
        self.last = (event, ref)
        before = copy.deepcopy(self.conv)
        ctx = Context(
            now=CTX.now,
            today=CTX.today,
            new_code=CTX.new_code,
            new_case_id=CTX.new_case_id,
            digest=CTX.digest,
            message_ref=ref,
        )
        with recording_fires() as fired:
            outcome = engine.handle(self.conv, event, ctx)  # never raises
        after = outcome.conversation
        assert self.conv == before, "handle() modified its input"

        # the state is a state of the dialogue, reached by rows of the table
        assert after.state in flow.SCREENS
        for fire in fired:
            assert fire in ROWS, fire
        path = [before.state, *(dest for _, _, dest in fired)]
        assert [source for _, source, _ in fired] == path[:-1], (fired, event)
        assert path[-1] == after.state, (fired, event)
        if after.state != before.state and len(fired) == 1:
            assert (before.state, after.state) in EDGES
        erased = [e for e in outcome.effects if isinstance(e, Erase)]
        assert outcome.changed == (after.state != before.state or bool(erased))
        if after.state in flow.ESCALATED_STATES:
            assert after.escalated, (after.state, event)

        self.check_fields(before, after, event, bool(erased))
        self.check_replies(outcome.effects)
        self.check_meta(after)
        if "safety_word" in before.fields:
            # the duress word changes nothing the caller sees
            plain = copy.deepcopy(before)
            del plain.fields["safety_word"]
            unaware = engine.handle(plain, event, ctx)
            assert replies(unaware.effects) == replies(outcome.effects)
        self.conv = after

    def check_fields(
        self, before: Conversation, after: Conversation, event: Event, erased: bool
    ) -> None:
        if erased:
            assert after.fields == {}
            assert after.case_id is None
            assert not after.escalated
            return
        step = field_of(before.state)
        removed = before.fields.keys() - after.fields.keys()
        if removed:
            assert isinstance(event, Press), (removed, event)
            assert event.button == "skip", (removed, event)
            assert removed == {step}, (removed, before.state)
        added = after.fields.keys() - before.fields.keys()
        replaced = {
            k
            for k in before.fields.keys() & after.fields.keys()
            if before.fields[k] != after.fields[k]
        }
        for name in added | replaced:
            if name == "case_code":
                # a caller's case, or a relative's request: each registered once
                assert (before.state, after.state) in {
                    ("review", "registered"),
                    ("request_review", "request_sent"),
                }
            elif name == "safety_word":
                assert before.state == "safety_word"
            elif name in on_content.SHARED_CONTACT_FIELDS.values():
                # a contact shared for the operator who follows the chat: kept for the reveal
                assert isinstance(event, Contact), (name, event)
                assert before.escalated, (name, event)
            elif name == on_content.SHARED_LOCATION:
                assert isinstance(event, Location), (name, event)
                assert before.escalated, (name, event)
            elif name == "sought_where":  # where a relative's request starts from
                assert before.state in relatives.REQUESTABLE
                assert after.state == relatives.FIRST
            else:
                assert name == step, (name, before.state, event)

    @staticmethod
    def check_replies(effects: list[Effect]) -> None:
        for reply in replies(effects):
            assert reply.message_id in CATALOGUE, reply.message_id
            for button in reply.buttons:
                assert button.label in CATALOGUE, button.label
            if reply.step is not None:
                assert reply.message_id in DETAIL_PROMPTS
                k, n = reply.step
                assert 1 <= k <= n == DETAIL_PROMPTS[reply.message_id]

    @staticmethod
    def check_meta(conv: Conversation) -> None:
        meta = conv.meta()
        json.dumps(meta)
        assert "fields" not in meta
        meta_strings = {v for v in meta.values() if isinstance(v, str)}
        for value in conv.fields.values():
            if value not in VOCABULARY:
                assert value not in meta_strings, value

    # -- rules -------------------------------------------------------------------------------
    @initialize(conv=st.sampled_from(SNAPSHOTS))
    def begin_somewhere(self, conv: Conversation) -> None:
        self.conv = copy.deepcopy(conv)

    @precondition(lambda self: self.conv.state in FORWARD)
    @rule(data=st.data(), ref=REFS)
    def advance(self, data: st.DataObject, ref: int | None) -> None:
        self.send(data.draw(st.sampled_from(FORWARD[self.conv.state])), ref)

    @rule(name=st.sampled_from([*flow.COMMANDS, "frobnicate"]), ref=REFS)
    def command(self, name: str, ref: int | None) -> None:
        self.send(Command(name), ref)

    @rule(
        button=st.sampled_from(ALL_BUTTONS),
        screen=st.one_of(st.none(), st.sampled_from(sorted(flow.SCREENS))),
        ref=REFS,
    )
    def press_any(self, button: str, screen: str | None, ref: int | None) -> None:
        self.send(Press(button, screen), ref)

    @precondition(lambda self: bool(flow.SCREENS[self.conv.state].buttons))
    @rule(data=st.data(), ref=REFS)
    def press_current(self, data: st.DataObject, ref: int | None) -> None:
        buttons = [b.id for b in flow.SCREENS[self.conv.state].buttons]
        screen = data.draw(st.sampled_from([None, self.conv.state]))
        self.send(Press(data.draw(st.sampled_from(buttons)), screen), ref)

    @precondition(lambda self: self.conv.state in VALID)
    @rule(data=st.data(), ref=REFS)
    def answer(self, data: st.DataObject, ref: int | None) -> None:
        self.send(Text(data.draw(st.sampled_from(VALID[self.conv.state]))), ref)

    @rule(text=TEXTS, ref=REFS)
    def text(self, text: str, ref: int | None) -> None:
        self.send(Text(text), ref)

    @rule(
        latitude=st.floats(-90, 90, allow_nan=False),
        longitude=st.floats(-180, 180, allow_nan=False),
        ref=REFS,
    )
    def location(self, latitude: float, longitude: float, ref: int | None) -> None:
        self.send(Location(latitude, longitude), ref)

    @rule(
        phone=st.one_of(st.sampled_from(["+79123456789", "+380671234567"]), st.text(max_size=30)),
        own=st.booleans(),
        ref=REFS,
    )
    def contact(self, phone: str, own: bool, ref: int | None) -> None:
        self.send(Contact(phone, own), ref)

    @rule(kind=st.sampled_from(MEDIA_KINDS), ref=REFS)
    def media(self, kind: str, ref: int | None) -> None:
        self.send(Media(kind), ref)

    @rule(
        event=st.sampled_from([Edited(), Edited("photo"), Forwarded(), StaleButton()]),
        ref=REFS,
    )
    def other_content(self, event: Event, ref: int | None) -> None:
        self.send(event, ref)

    @rule(lang=st.sampled_from(["ru", "uk", "en"]))
    def language(self, lang: str) -> None:
        self.send(ChooseLanguage(lang), None)

    @rule(
        action=ACTIONS,
        params=st.sampled_from([{}, {"time": "05:30", "place": "у моста"}, {"time": ""}]),
    )
    def operator(self, action: str, params: dict[str, str]) -> None:
        # also actions that are no FlowAction: whatever the desk sends, the engine stays sound
        self.send(OperatorAction(cast(FlowAction, action), params), None)

    @rule(
        case_id=st.sampled_from([None, "case-0001", "case-0777"]),
        left=st.integers(0, 5),
    )
    def case_found(self, case_id: str | None, left: int) -> None:
        self.send(CaseFound(case_id, left), None)

    @rule(matched=st.booleans(), left=st.integers(0, 5), failures=st.integers(0, 4))
    def birth_checked(self, matched: bool, left: int, failures: int) -> None:
        self.send(BirthChecked(matched, left, failures, failures == 3), None)

    @precondition(lambda self: self.last is not None)
    @rule()
    def repeat(self) -> None:
        assert self.last is not None
        self.send(*self.last)


def replies(effects: list[Effect]) -> list[Reply]:
    return [e for e in effects if isinstance(e, Reply)]


Dialogue.TestCase.settings = settings(
    max_examples=examples(200),
    stateful_step_count=40,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestDialogue = Dialogue.TestCase
