"""Every BACK lands where it did before `BackTo`.

The table used to generate one row per state a detour may go back to, with a condition
`returns_to_<state>` / `confirms_to_<state>` / `sos_to_<state>` that `Turn.__getattr__` answered.
Those rows are rebuilt here as they were written (the generator and the condition, copied), in
the place of each `BackTo` row, into a machine of their own; both machines are then fired from
every state with every state (or none) remembered, and must agree on the move, the conversation
and the effects. The same is checked through `engine.handle` for the events that go back.
"""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Iterator
from typing import Any

import pytest
from transitions import Machine

from flows import analysis, engine, steps
from flows import surrender as flow
from flows.model import (
    Command,
    Context,
    Conversation,
    Event,
    FlowAction,
    OperatorAction,
    Press,
    Text,
)
from flows.parts import BackTo, Remembered
from flows.turn import Turn

CTX = Context(
    now=1_715_940_000.0,
    today=datetime.date(2024, 5, 17),
    new_code=lambda: "K7QM-3P9X",
    new_case_id=lambda: "case-new",
    digest=lambda namespace, value: f"{namespace}:{len(value)}",
    message_ref=42,
)


class OldTurn(Turn):
    """The Turn as it answered the generated conditions (copied from flows/turn.py)."""

    def __getattr__(self, name: str) -> Any:
        if name.startswith("returns_to_"):
            return self.conv.return_to == name.removeprefix("returns_to_")
        if name.startswith("confirms_to_"):
            return self.conv.confirm_from == name.removeprefix("confirms_to_")
        if name.startswith("sos_to_"):
            return self.conv.sos_from == name.removeprefix("sos_to_")
        if name.startswith("talks_to_"):
            return self.conv.talk_from == name.removeprefix("talks_to_")
        raise AttributeError(name)


def _t(trigger: str, source: str, dest: str, **extra: Any) -> dict[str, Any]:
    return {"trigger": trigger, "source": source, "dest": dest, **extra}


# The generated rows, as flows/surrender.py wrote them
OLD_ROWS: dict[tuple[str, str], list[dict[str, Any]]] = {
    ("sos_no", "sos_confirm"): [
        _t("sos_no", "sos_confirm", dest, conditions=f"sos_to_{dest}", before="resuming")
        for dest in flow.SOS_RETURNS
    ],
    **{
        (trigger, "handoff"): [
            _t(
                trigger,
                "handoff",
                dest,
                conditions=f"returns_to_{dest}",
                before=["resuming", "caller_left"] if trigger == "leave" else "resuming",
                after="clear_escalation",
            )
            for dest in flow.RESUMABLE
        ]
        for trigger in ("leave", "op_end")
    },
    # the live conversation an operator's message opens (flows.talking), as first written
    **{
        (trigger, "talk"): [
            _t(
                trigger,
                "talk",
                dest,
                conditions=f"talks_to_{dest}",
                before="back_from_talk" if trigger == "talk_back" else "resuming",
                after="forget_talk" if trigger == "talk_back" else "end_talk",
            )
            for dest in flow.TALK_SOURCES
        ]
        for trigger in ("talk_back", "op_end")
    },
    ("withdraw_no", "confirm_withdraw"): [
        _t(
            "withdraw_no",
            "confirm_withdraw",
            dest,
            conditions=f"confirms_to_{dest}",
            before="resuming",
        )
        for dest in (*flow.RESUMABLE, "handoff")
    ],
}


def _old_table() -> list[dict[str, Any]]:
    table: list[dict[str, Any]] = []
    replaced = set()
    for row in flow.TRANSITIONS:
        if isinstance(row["dest"], BackTo):
            key = (row["trigger"], row["source"])
            table.extend(OLD_ROWS[key])
            replaced.add(key)
        else:
            table.append(row)
    assert replaced == set(OLD_ROWS), "every generated family is one BackTo row now"
    return table


OLD_MACHINE = Machine(
    model=None,
    states=flow.STATES,
    transitions=_old_table(),
    initial="start",
    auto_transitions=False,
    send_event=False,
)
BACK_TRIGGERS = sorted({trigger for trigger, _ in OLD_ROWS})
REMEMBERED = [None, *flow.SCREENS]


def _conversations(state: str) -> Iterator[Conversation]:
    """`state` with every state (or none) remembered: in one slot, and in all four."""
    plain = Conversation(state=state)
    with_case = Conversation(
        state=state, case_id="c-1", owns_case=True, escalated=True, priority=2
    )
    for base in (plain, with_case):
        for remembered in REMEMBERED:
            yield dataclasses.replace(base, return_to=remembered)
            yield dataclasses.replace(base, confirm_from=remembered)
            yield dataclasses.replace(base, sos_from=remembered)
            yield dataclasses.replace(base, talk_from=remembered)
            yield dataclasses.replace(
                base,
                return_to=remembered,
                confirm_from=remembered,
                sos_from=remembered,
                talk_from=remembered,
            )
            yield dataclasses.replace(base, return_to=remembered, confirm_from="handoff")


def _fire_old(conv: Conversation, trigger: str) -> tuple[bool, Turn]:
    turn = OldTurn(conv, CTX)
    event = OLD_MACHINE.events.get(trigger)
    if event is None or conv.state not in event.transitions:
        return False, turn
    return bool(event.trigger(turn)), turn


def _fire_new(conv: Conversation, trigger: str) -> tuple[bool, Turn]:
    turn = Turn(conv, CTX)
    return steps.fire(turn, trigger), turn


def _seen(fired: bool, turn: Turn) -> tuple[Any, ...]:
    return fired, dataclasses.asdict(turn.conv), turn.effects, turn.resumed


def test_the_old_rows_are_the_ones_the_table_had() -> None:
    old = _old_table()
    assert len(old) == len(flow.TRANSITIONS) - len(OLD_ROWS) + sum(map(len, OLD_ROWS.values()))
    # the BackTo rows go back to exactly the states the generated rows went to
    for row in flow.TRANSITIONS:
        if isinstance(row["dest"], BackTo):
            rows = OLD_ROWS[row["trigger"], row["source"]]
            assert row["dest"].to == {r["dest"] for r in rows}
            assert row.get("before") == rows[0].get("before")
            assert row.get("after") == rows[0].get("after")


@pytest.mark.parametrize("trigger", BACK_TRIGGERS)
def test_going_back_lands_where_the_generated_rows_did(trigger: str) -> None:
    compared = moved = 0
    for state in flow.SCREENS:
        for conv in _conversations(state):
            old = _seen(*_fire_old(conv.copy(), trigger))
            new = _seen(*_fire_new(conv.copy(), trigger))
            assert new == old, (trigger, state, conv)
            compared += 1
            moved += bool(old[0]) and conv.state != old[1]["state"]
    assert compared == len(flow.SCREENS) * len(REMEMBERED) * 12
    assert moved > len(flow.RESUMABLE)  # the table's states were gone back to, not only menu


EVENTS: list[Event] = [
    Press("leave"),
    Press("withdraw-no"),
    Press("sos-no"),
    Press("withdraw-no", screen="confirm_withdraw"),
    Press("talk-back"),
    OperatorAction(FlowAction.END),
    Command("operator"),
    Text("нет"),
]


@pytest.mark.parametrize("event", EVENTS, ids=repr)
def test_the_engine_goes_back_as_it_did(event: Event, monkeypatch: pytest.MonkeyPatch) -> None:
    for state in flow.SCREENS:
        for remembered in REMEMBERED:
            conv = Conversation(
                state=state,
                return_to=remembered,
                confirm_from=remembered,
                sos_from=remembered,
                talk_from=remembered,
                escalated=state in flow.ESCALATED_STATES,
            )
            new = engine.handle(conv, event, CTX)
            with monkeypatch.context() as old_engine:
                old_engine.setattr(engine, "Turn", OldTurn)
                old_engine.setattr(steps, "MACHINE", OLD_MACHINE)
                old = engine.handle(conv, event, CTX)
            assert (new.conversation, new.effects, new.changed) == (
                old.conversation,
                old.effects,
                old.changed,
            ), (event, state, remembered)


def test_each_slot_is_written_on_the_way_in_and_read_on_the_way_back() -> None:
    backs = {row["dest"].slot for row in flow.TRANSITIONS if isinstance(row["dest"], BackTo)}
    assert backs == set(Remembered)
    for slot in Remembered:
        assert hasattr(Conversation(), slot)


def test_the_diagram_draws_going_back_as_one_edge_to_where_it_came_from() -> None:
    drawing = analysis.mermaid().splitlines()
    for row in flow.TRANSITIONS:
        dest = row["dest"]
        if not isinstance(dest, BackTo):
            continue
        edges = [
            line
            for line in drawing
            if line.startswith(f"    {row['source']} --> ") and row["trigger"] in line
        ]
        back = [line for line in edges if f"--> {dest.slot}:" in line]
        assert len(back) == 1, edges
        # besides it, only the row it falls through to (no edge per state it may go back to)
        assert len(edges) <= 2, edges
        node = f" as {dest.slot}"
        assert any(line.startswith("    state ") and line.endswith(node) for line in drawing)
