"""Message ids of the shift's own tools (canned replies, /queue, /handover, /probe and /block,
strangers in the group), with their variables: part of `flows.catalogue`."""

from __future__ import annotations

from typing import Final

# Canned replies: the name an operator picks, the message the caller gets, what it needs typed
# after the name. "meet" is the flow's own meeting instructions (the dialogue moves to the
# meetup), the others are messages to the caller, whatever his state.
CANNED: Final = ("safe", "location", "stay", "drone", "cloth", "contact", "meet")
CANNED_ARGS: Final = {"contact": ("time",), "meet": ("time", "place")}
CANNED_TO_CALLER: Final = {
    f"canned-{name}": frozenset(CANNED_ARGS.get(name, ())) for name in CANNED if name != "meet"
}
SHIFT_MENU: Final = ("say", "queue", "handover", "probe", "unprobe", "block", "unblock")


def _vars(*names: str) -> frozenset[str]:
    return frozenset(names)


SHIFT_DESK: Final[dict[str, frozenset[str]]] = {
    "desk-canned-word": _vars("name"),
    "desk-canned-label": _vars("name"),
    "desk-canned-args": _vars("name"),
    "desk-canned-list": _vars(),
    "desk-canned-line": _vars("word", "label"),
    "desk-canned-line-args": _vars("word", "args", "label"),
    "desk-canned-unknown": _vars(),
    "desk-canned-usage": _vars("word", "args"),
    "desk-canned-sent": _vars("operator", "label"),
    "desk-queue-head": _vars("count"),
    "desk-queue-empty": _vars(),
    "desk-queue-line": _vars("code", "priority", "reason", "state", "operator", "minutes", "mark"),
    "desk-queue-more": _vars("count"),
    "desk-handover-usage": _vars("count"),
    "desk-handover-done": _vars("from", "to"),
    "desk-mark-probe": _vars("operator"),
    "desk-mark-unprobe": _vars("operator"),
    "desk-mark-block": _vars("operator", "code"),
    "desk-mark-unblock": _vars("operator", "code"),
    "desk-mark-none": _vars(),
    "desk-mark-already": _vars(),
    "desk-mark-unknown": _vars("code"),
    "desk-card-mark": _vars("mark", "operator", "when"),
    "desk-stranger-removed": _vars("name"),
    "desk-stranger-not-removed": _vars("name"),
    "desk-stranger-joined": _vars("name"),
    "desk-card-profile": _vars("language", "people", "injuries", "via"),
    "desk-priority-raised": _vars("priority", "why", "people"),
    "desk-topic-now": _vars("via"),
}
