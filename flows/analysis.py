"""Reading the dialogue data as a graph: reachability, dead ends, and a mermaid drawing."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Set
from typing import Any

from flows import engine
from flows import surrender as flow
from flows.parts import BackTo, destinations

# A transition from this many states or more is drawn once as a note, not as an edge from each
GLOBAL_FAN_IN = 10
# Conditions of the rows that go back to where something came from: drawn once per source
RETURNS = ("returns_to_", "talks_to_")


def _sources(row: Mapping[str, Any]) -> list[str]:
    source = row["source"]
    return [source] if isinstance(source, str) else list(source)


def edges() -> dict[str, set[str]]:
    """Where each state leads. A row that goes back (`BackTo`) leads nowhere new: it lands on
    the state the detour was entered from, reached before."""
    graph: dict[str, set[str]] = defaultdict(set)
    for row in flow.TRANSITIONS:
        if isinstance(row["dest"], BackTo):
            continue
        for source in _sources(row):
            graph[source].add(row["dest"])
    return graph


def ways_out() -> dict[str, set[str]]:
    """Where each state can go, going back included."""
    graph: dict[str, set[str]] = defaultdict(set)
    for row in flow.TRANSITIONS:
        for source in _sources(row):
            graph[source].update(destinations(row["dest"]))
    return graph


def reachable(start: str = "start") -> set[str]:
    graph = edges()
    seen = {start}
    todo = [start]
    while todo:
        for dest in graph.get(todo.pop(), ()):
            if dest not in seen:
                seen.add(dest)
                todo.append(dest)
    return seen


def flow_message_ids() -> set[str]:
    """Every message id the flow and the engine can show."""
    return flow.message_ids() | set(engine.NOTICES) | {"step"}


def problems(catalogue: Set[str], packs: Mapping[str, Set[str]]) -> list[str]:
    """What `hotline flow check` reports; empty when the dialogue is sound."""
    found: list[str] = []
    states = set(flow.SCREENS)
    for state in sorted(states - reachable()):
        found.append(f"state {state} is unreachable from start")
    graph = ways_out()
    for state in sorted(states - flow.TERMINAL):
        if not graph.get(state, set()) - {state}:
            found.append(f"state {state} is not terminal but has no way out")
    for row in flow.TRANSITIONS:
        for name in (*destinations(row["dest"]), *_sources(row)):
            if name not in states:
                found.append(f"transition {row['trigger']} names unknown state {name}")
    for message_id in sorted(flow_message_ids() - catalogue):
        found.append(f"message {message_id} is used by the flow but not in the catalogue")
    for lang, ids in sorted(packs.items()):
        for message_id in sorted(flow_message_ids() - ids):
            found.append(f"message {message_id} is missing from the {lang} pack")
    return found


def _label(row: Mapping[str, Any]) -> str:
    label = str(row["trigger"])
    conditions = row.get("conditions")
    if conditions:
        label += f" [{conditions}]"
    return label


# What a `BackTo` is drawn as: one state of the drawing per place a detour is remembered
_BACK_NODES = {
    "return_to": "where the hand-off came from",
    "confirm_from": "where the question came from",
    "sos_from": "where the cry for help came from",
    "talk_from": "the step an operator's message paused",
}


def mermaid() -> str:
    """The machine as a mermaid state diagram, drawn from the same data the engine runs. A row
    that goes back (`BackTo`) is one edge, to a node that stands for where it came from."""
    lines = ["stateDiagram-v2", "    [*] --> start"]
    notes: list[str] = []
    backs: dict[tuple[str, str], list[str]] = defaultdict(list)
    for row in flow.TRANSITIONS:
        sources = _sources(row)
        dest = row["dest"]
        if isinstance(dest, BackTo):
            for source in sources:
                backs[source, dest.slot].append(_label(row))
            continue
        if len(sources) >= GLOBAL_FAN_IN:
            notes.append(f"{row['trigger']}: from {len(sources)} states to {dest}")
            continue
        for source in sources:
            lines.append(f"    {source} --> {dest}: {_label(row)}")
    for slot in sorted({slot for _, slot in backs}):
        lines.append(f'    state "{_BACK_NODES[slot]}" as {slot}')
    for (source, slot), labels in sorted(backs.items()):
        lines.append(f"    {source} --> {slot}: {' / '.join(labels)}")
    for state in sorted(flow.TERMINAL):
        lines.append(f"    {state} --> [*]")
    for note in notes:
        lines.append(f"    %% {note}")
    return "\n".join(lines) + "\n"


def markdown(notes: Iterable[str] = ()) -> str:
    """docs/flow.md: generated, never edited by hand (`make docs`)."""
    globals_ = [
        f"- `{row['trigger']}` from {len(_sources(row))} states to `{row['dest']}`"
        for row in flow.TRANSITIONS
        if len(_sources(row)) >= GLOBAL_FAN_IN
    ]
    parts = [
        "# The caller dialogue",
        "",
        "Generated by `hotline flow diagram --markdown` from `flows/surrender.py`; "
        "`make test` fails when this file is stale.",
        "",
        "```mermaid",
        mermaid().rstrip("\n"),
        "```",
        "",
        "Transitions from (almost) every state, left out of the drawing:",
        "",
        *globals_,
        "",
        "`leave` / `op_end` (a hand-off), `withdraw_no` and `sos_no` (a question) go back to the "
        "state the detour was entered from, remembered on the way in; where that state is not "
        "one they may go back to, the next row for the trigger is taken. `talk_back` / `op_end` "
        "(a live conversation an operator's message opened) go back to the step it paused.",
        *notes,
        "",
    ]
    return "\n".join(parts)
