"""Every row of flows.surrender.TRANSITIONS, fired one by one through the shared machine.

The table is expanded to one row per source state. For each row a conversation is built in its
source state with the row's condition true and the conditions of every earlier row for the same
trigger and source false (transitions tries them in table order), the trigger is fired through
`engine.fire` on a throw-away `Turn`, and the destination is checked. Rows with a condition are
also fired with the condition false: the first unconditional row for that trigger wins.

A row that goes back (`BackTo`) is expanded to one row per state it may go back to, with the
condition `<slot>=<state>`: the conversation remembers that state in that slot.
"""

from __future__ import annotations

import dataclasses
import datetime
import hashlib
import hmac
from collections.abc import Iterable, Mapping
from typing import Any

import pytest

from flows import engine
from flows import surrender as flow
from flows.model import (
    CaseEvent,
    Context,
    Conversation,
    Erase,
    Escalate,
    LinkNotice,
    RegisterCase,
    Reply,
)
from flows.parts import BackTo, Remembered

KEY = b"test-key-flow-table"
CASE_ID = "case-0001"
PENDING_CASE_ID = "case-0002"


def digest(namespace: str, value: str) -> str:
    return hmac.new(KEY, f"{namespace}\x00{value}".encode(), hashlib.sha256).hexdigest()


CTX = Context(
    now=1_715_940_000.0,
    today=datetime.date(2024, 5, 17),
    new_code=lambda: "K7QM-3P9X",
    new_case_id=lambda: "case-new",
    digest=digest,
    message_ref=42,
)

# Not every required answer: `form_complete` holds only when a row needs it
FIELDS = {"full_name": "Иван Петров", "birth_date": "1990-05-17", "unit": "в/ч 12345"}
MISSING = {"people": "3"}
# what makes the conversation's case a relative's request
RELATIVE = {"sought_name": "Пётр Петров"}


def _names(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    return tuple(value)


@dataclasses.dataclass(frozen=True)
class Row:
    index: int  # position of the row in TRANSITIONS
    trigger: str
    source: str
    dest: str
    conditions: tuple[str, ...]
    before: tuple[str, ...]
    after: tuple[str, ...]

    @property
    def key(self) -> tuple[str, str]:
        return self.trigger, self.source

    @property
    def id(self) -> str:
        suffix = f"[{','.join(self.conditions)}]" if self.conditions else ""
        return f"{self.trigger}:{self.source}->{self.dest}{suffix}"


def _destinations(dest: str | BackTo) -> list[tuple[str, tuple[str, ...]]]:
    """Each state a row leads to, with the condition that takes it there."""
    if isinstance(dest, BackTo):
        return [(state, (f"{dest.slot}={state}",)) for state in sorted(dest.to)]
    return [(dest, ())]


def expand(table: Iterable[Mapping[str, Any]]) -> list[Row]:
    rows = []
    for index, data in enumerate(table):
        for source in _names(data["source"]):
            for dest, back in _destinations(data["dest"]):
                rows.append(
                    Row(
                        index=index,
                        trigger=data["trigger"],
                        source=source,
                        dest=dest,
                        conditions=(*back, *_names(data.get("conditions"))),
                        before=_names(data.get("before")),
                        after=_names(data.get("after")),
                    )
                )
    return rows


ROWS = expand(flow.TRANSITIONS)
CONDITIONAL = [row for row in ROWS if row.conditions]
KEYS = sorted({row.key for row in ROWS})
ALLOWED = {row.key for row in ROWS}


def earlier(row: Row) -> list[Row]:
    return [other for other in ROWS if other.key == row.key and other.index < row.index]


def holds(row: Row, true: set[str]) -> bool:
    return all(condition in true for condition in row.conditions)


def conversation_for(source: str, true: Iterable[str] = ()) -> Conversation:
    """A conversation in `source` where exactly the conditions named in `true` hold."""
    true = set(true)
    remembered = [(c.partition("=")[0], c.partition("=")[2]) for c in true if "=" in c]
    unknown = {
        c
        for c in true
        if c
        not in {
            "editing",
            "has_case",
            "owns_case",
            "form_complete",
            "relative_case",
            "talk_from_meetable",
            "talk_from_abortable",
        }
        and "=" not in c
    }
    assert not unknown, f"the table uses a condition this test cannot set: {unknown}"
    if true & {"talk_from_meetable", "talk_from_abortable"}:
        # a live conversation opened at a re-call's question: both meetable and abortable
        remembered.append((Remembered.TALK, "recall_people"))
    slots = dict(remembered)
    assert len(slots) == len(remembered), "one state remembered per slot"
    assert set(slots) <= set(Remembered)
    return Conversation(
        state=source,
        fields={
            **FIELDS,
            **(MISSING if "form_complete" in true else {}),
            **(RELATIVE if "relative_case" in true else {}),
        },
        editing="editing" in true,
        case_id=CASE_ID if true & {"has_case", "owns_case", "relative_case"} else None,
        owns_case=bool(true & {"has_case", "owns_case", "relative_case"}),
        return_to=slots.get(Remembered.RETURN),
        confirm_from=slots.get(Remembered.CONFIRM),
        sos_from=slots.get(Remembered.SOS),
        talk_from=slots.get(Remembered.TALK),
        pending_case_id=PENDING_CASE_ID,
    )


def fire(conv: Conversation, trigger: str) -> tuple[bool, engine.Turn]:
    turn = engine.Turn(conv, CTX)
    return engine.fire(turn, trigger), turn


# ---------------------------------------------------------------------------------------------
# The table itself


def test_the_table_is_expanded_into_rows_with_unique_ids() -> None:
    ids = [row.id for row in ROWS]
    assert len(ROWS) > len(flow.TRANSITIONS)
    assert len(ids) == len(set(ids))


def test_every_state_of_the_screens_is_a_state_of_the_machine_and_back() -> None:
    assert set(flow.SCREENS) == set(engine.MACHINE.states)
    assert {s["name"] for s in flow.STATES} == set(flow.SCREENS)


def test_the_machine_has_no_auto_transitions() -> None:
    assert engine.MACHINE.auto_transitions is False
    assert not [name for name in engine.MACHINE.events if name.startswith("to_")]
    assert not engine.fire(engine.Turn(Conversation(state="start"), CTX), "to_menu")


def test_the_machine_is_shared_and_holds_no_model() -> None:
    assert engine.MACHINE.models == []
    conv = conversation_for("menu")
    fire(conv, "premob")
    assert engine.MACHINE.models == []


def test_the_machine_holds_exactly_the_rows_of_the_table_in_order() -> None:
    from_machine = []
    for trigger, event in engine.MACHINE.events.items():
        for source, transitions in event.transitions.items():
            for transition in transitions:
                conditions = tuple(c.func for c in transition.conditions)
                assert all(c.target for c in transition.conditions)
                from_machine.append((trigger, source, transition.dest, conditions))
    from_table = [
        (data["trigger"], source, data["dest"], _names(data.get("conditions")))
        for data in flow.TRANSITIONS
        for source in _names(data["source"])
    ]
    assert sorted(from_machine, key=repr) == sorted(from_table, key=repr)
    for trigger, source in KEYS:
        in_machine = [t[2:] for t in from_machine if t[:2] == (trigger, source)]
        in_table = [t[2:] for t in from_table if t[:2] == (trigger, source)]
        assert in_machine == in_table, (trigger, source)


def test_every_row_names_known_states_and_callbacks_of_the_turn() -> None:
    for row in ROWS:
        assert row.source in flow.SCREENS, row.id
        assert row.dest in flow.SCREENS, row.id
        for name in (*row.before, *row.after):
            assert callable(getattr(engine.Turn, name, None)), (row.id, name)
        for condition in row.conditions:
            if "=" in condition:  # going back: a state remembered in a slot of the conversation
                slot, _, remembered = condition.partition("=")
                assert slot in set(Remembered), row.id
                assert remembered in flow.SCREENS, row.id
            else:
                assert isinstance(getattr(engine.Turn, condition, None), property), row.id
    for state in flow.STATES:
        for name in state["on_enter"]:
            assert callable(getattr(engine.Turn, name, None)), (state["name"], name)


def test_no_row_is_shadowed_by_an_earlier_row_for_the_same_trigger_and_source() -> None:
    for row in ROWS:
        true = set(row.conditions)
        shadows = [other.id for other in earlier(row) if holds(other, true)]
        assert not shadows, f"{row.id} can never fire: {shadows} come first"


def test_every_state_is_reachable_from_start() -> None:
    seen, todo = {"start"}, ["start"]
    while todo:
        state = todo.pop()
        for row in ROWS:
            if row.source == state and row.dest not in seen:
                seen.add(row.dest)
                todo.append(row.dest)
    assert seen == set(flow.SCREENS)


def test_every_state_but_the_terminal_ones_has_a_way_to_another_state() -> None:
    for state in set(flow.SCREENS) - flow.TERMINAL:
        assert any(r.source == state and r.dest != state for r in ROWS), state
    for state in flow.TERMINAL:
        # begin anew, /forget, or a cry for help
        assert {r.dest for r in ROWS if r.source == state} == {"menu", "start", "sos_confirm"}


def test_the_triggers_the_engine_fires_are_events_of_the_machine() -> None:
    fired = {*flow.BUTTON_TRIGGERS.values(), *flow.COMMAND_TRIGGERS.values()}
    fired |= {"begin", "answer", "skip", "declare", "found", "verified", "locked"}
    fired |= {"op_meet", "op_met", "op_abort", "op_end", "op_erase"}
    assert fired <= set(engine.MACHINE.events)


def _handled_without_trigger(state: str, button_id: str) -> bool:
    detail = flow.DETAIL_BY_STATE.get(state)
    if detail is not None and button_id in detail.choices:
        return True  # an answer
    if state in {"recall_injuries", "emergency_injuries"} and button_id in flow.HEALTH:
        return True  # an answer
    return state == "meetup" and button_id in {"at-point", "help-now"}  # alerts, no move


@pytest.mark.parametrize("state", sorted(flow.SCREENS))
def test_every_choice_button_of_a_screen_can_fire_from_that_screen(state: str) -> None:
    for button in flow.SCREENS[state].buttons:
        if button.kind != "choice" or _handled_without_trigger(state, button.id):
            continue
        trigger = flow.BUTTON_TRIGGERS.get(button.id, button.id)
        assert engine.can_fire(state, trigger), (state, button.id, trigger)


# ---------------------------------------------------------------------------------------------
# Each row, fired


def _check_callbacks(row: Row, before: Conversation, turn: engine.Turn) -> None:
    conv = turn.conv
    if "remember_return" in row.before:
        assert conv.return_to == row.source
    if "start_editing" in row.after:
        assert conv.editing is True
    if row.dest == "review":
        assert conv.editing is False
    if row.dest in {"menu", "registered"} and "back_from_talk" not in row.before:
        assert conv.escalated is False
        assert conv.priority == 0
    if "remember_talk" in row.before:
        assert conv.talk_from == row.source
        assert conv.escalated is True  # what he sends now is relayed
        assert CaseEvent("talk") in turn.effects
    if "back_from_talk" in row.before:
        # he goes on where he was; the operator who wrote is still with him
        assert conv.talk_from is None
        assert conv.escalated or not before.escalated
        assert CaseEvent("talk-back") in turn.effects
    if row.dest in {"recall_location", "emergency_location", "handoff"} and not (
        {"resuming", "back_from_talk"} & set(row.before)  # going back: raised on the way in
    ):
        assert conv.escalated is True
        assert any(isinstance(e, Escalate) for e in turn.effects)
    if row.dest in flow.TERMINAL or {"forget_everything", "erase_by_operator"} & set(row.after):
        assert conv.fields == {}
        # an operator's ending (met, erase) takes a linked account's whole case; the
        # account's own (/forget, withdrawal) only itself and its link; all but an operator's
        # Erase wipe the chat
        by_operator = row.dest == "completed" or "erase_by_operator" in row.after
        linked = before.case_id is not None and not before.owns_case
        assert [e for e in turn.effects if isinstance(e, Erase)] == [
            Erase(
                wipe_chat="erase_by_operator" not in row.after,
                case_id=before.case_id if before.owns_case or by_operator else None,
                code_digest=before.code_digest if before.owns_case else None,
                linked=linked and by_operator,
                met=row.dest == "completed",  # its desk topic stays closed a while
            )
        ]
        assert turn.erased
    if "register_case" in row.after:
        assert conv.fields["case_code"] == "K7QM-3P9X"
        assert conv.case_id == "case-new"
        assert conv.owns_case
        assert RegisterCase("case-new", digest("code", "K7QM-3P9X")) in turn.effects
        assert CaseEvent("registered") in turn.effects
    if "link_case" in row.after:
        assert conv.case_id == PENDING_CASE_ID
        assert conv.owns_case is False
        assert conv.pending_case_id is None
        assert LinkNotice("linked", PENDING_CASE_ID) in turn.effects
    if "greet" in row.before:
        assert [e.message_id for e in turn.effects if isinstance(e, Reply)] == ["greeting"]


@pytest.mark.parametrize("row", [pytest.param(r, id=r.id) for r in ROWS])
def test_row_fires_to_its_destination(row: Row) -> None:
    conv = conversation_for(row.source, row.conditions)
    snapshot = conv.copy()
    fired, turn = fire(conv, row.trigger)
    assert fired is True
    assert turn.conv.state == row.dest
    _check_callbacks(row, snapshot, turn)


def _fallback(row: Row) -> Row | None:
    return next((other for other in ROWS if other.key == row.key and not other.conditions), None)


def _violated_id(row: Row) -> str:
    fallback = _fallback(row)
    dest = fallback.dest if fallback is not None else row.source
    return f"{row.trigger}:{row.source}->{dest}[not {','.join(row.conditions)}]"


@pytest.mark.parametrize("row", [pytest.param(r, id=_violated_id(r)) for r in CONDITIONAL])
def test_row_with_its_condition_false_falls_through_to_the_unconditional_row(row: Row) -> None:
    conv = conversation_for(row.source)  # no condition holds
    if row.conditions == ("has_case",):
        assert conv.case_id is None
    fired, turn = fire(conv, row.trigger)
    fallback = _fallback(row)
    if fallback is None:
        assert fired is False
        assert turn.conv.state == row.source
        return
    assert fired is True
    assert turn.conv.state == fallback.dest


def test_a_return_to_another_state_does_not_satisfy_returns_to() -> None:
    conv = conversation_for("handoff", ["return_to=relatives"])
    _, turn = fire(conv, "leave")
    assert turn.conv.state == "relatives"
    conv = conversation_for("handoff", ["return_to=legion"])
    _, turn = fire(conv, "leave")
    assert turn.conv.state == "legion"


# ---------------------------------------------------------------------------------------------
# Triggers a state does not allow


@pytest.mark.parametrize("state", sorted(flow.SCREENS))
def test_triggers_not_allowed_from_a_state_leave_it_unchanged(state: str) -> None:
    refused = [t for t in engine.MACHINE.events if (t, state) not in ALLOWED]
    assert refused, state
    for trigger in [*refused, "no_such_trigger", f"to_{state}"]:
        conv = conversation_for(state, ["editing", "has_case"])
        snapshot = conv.copy()
        assert engine.can_fire(state, trigger) is False, trigger
        fired, turn = fire(conv, trigger)
        assert fired is False, trigger
        assert turn.conv == snapshot, trigger
        assert turn.effects == [], trigger


@pytest.mark.parametrize("key", [pytest.param(k, id=f"{k[0]}:{k[1]}") for k in KEYS])
def test_an_allowed_trigger_can_fire(key: tuple[str, str]) -> None:
    trigger, source = key
    assert engine.can_fire(source, trigger)
