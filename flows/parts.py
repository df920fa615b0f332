"""The pieces the dialogue data is written with: buttons, screens, form fields and transitions.

`flows.surrender` (the caller's own dialogue) and `flows.relatives` (a relative's request)
are both built from these; `flows.surrender` joins them into the one table the machine reads.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from flows.model import Button, Conversation
from flows.reading import Answer, Deletes, Expects, Reads, Validator


def button(button_id: str, kind: str = "choice") -> Button:
    return Button(id=button_id, label=f"btn-{button_id}", kind=kind)


BACK = button("back")
SKIP = button("skip")
DECLARE = button("declare")
OPERATOR = button("operator")
SHARE_LOCATION = button("share-location", kind="location")
SHARE_CONTACT = button("share-contact", kind="contact")


@dataclass(frozen=True, slots=True)
class DetailField:
    """One question of a form; its answer is kept (sealed) under `name`."""

    name: str
    required: bool
    validate: Validator | None  # None: only the buttons are accepted
    choices: tuple[str, ...] = ()
    contact: bool = False  # offer Telegram's "share contact" button
    form: str = "details"  # the form it belongs to: its states are named `<form>_<name>`

    @property
    def state(self) -> str:
        return f"{self.form}_{self.name}"

    @property
    def param(self) -> str:
        """Its name as a Fluent variable and in message ids."""
        return self.name.replace("_", "-")


class Phase(StrEnum):
    """What /status says (a Fluent variant key). RECALL_START is a re-call not yet at the desk
    (the code or the declaration still to come), so the caller is never told an operator has a
    signal too early. It never shows the code."""

    NONE = "none"
    FORM = "form"
    REGISTERED = "registered"
    RECALL_START = "recall-start"
    RECALL = "recall"
    EMERGENCY = "emergency"
    MEETUP = "meetup"
    HANDOFF = "handoff"
    RELATIVES_FORM = "relatives-form"
    RELATIVES = "relatives"


@dataclass(frozen=True, slots=True)
class Screen:
    """What a state shows, and how it reads what he sends (`flows.reading`)."""

    prompt: str
    buttons: tuple[Button, ...] = ()
    expects: Expects = Expects.CHOICE  # the kind of input it asks for
    inline: bool = False
    reads: Reads = Reads.NOTHING  # who takes typed text
    answer: Answer | None = None  # the question's answer, when `reads` is ANSWER
    deletes: Deletes = Deletes.NEVER  # when his message leaves his chat
    phase: Phase | None = None  # what /status says here (None: what his case is)
    given: str | None = None  # the prompt instead once his case is registered: never values

    def __post_init__(self) -> None:
        if (self.answer is not None) != (self.reads is Reads.ANSWER):
            raise ValueError(f"screen {self.prompt}: an answer, and only one, is read as one")


def detail_screen(detail: DetailField, *, phase: Phase) -> Screen:
    buttons = [button(choice) for choice in detail.choices]
    if detail.contact:
        buttons.append(SHARE_CONTACT)
    if not detail.required:
        buttons.append(SKIP)
    buttons.append(BACK)
    return Screen(
        prompt=f"ask-{detail.param}",
        buttons=tuple(buttons),
        expects=Expects.CHOICE if detail.validate is None else Expects.TEXT,
        reads=Reads.ANSWER,
        answer=Answer(detail.name, detail.validate, detail.choices, contact=detail.contact),
        deletes=Deletes.ALWAYS,  # a personal value, refused or not
        phase=phase,
    )


class Remembered(StrEnum):
    """Where a conversation keeps the state a detour was entered from (the attribute of
    `Conversation`, written by the `remember_*` callbacks on the way in)."""

    RETURN = "return_to"  # a hand-off
    CONFIRM = "confirm_from"  # the question "withdraw, sure?"
    SOS = "sos_from"  # the question "is the danger now?"
    TALK = "talk_from"  # the step an operator's message paused (flows.talking)


@dataclass(frozen=True, slots=True)
class BackTo:
    """A destination the engine resolves as the row fires: the state remembered in `slot`,
    when it is one of `to`. When it is not, the row does not fire and the next row for the
    trigger is tried, as a row whose condition is false."""

    slot: Remembered
    to: frozenset[str]

    def resolve(self, conv: Conversation) -> str | None:
        remembered: str | None = getattr(conv, self.slot)
        return remembered if remembered in self.to else None


def back_to(slot: Remembered, to: Collection[str]) -> BackTo:
    return BackTo(slot, frozenset(to))


Dest = str | BackTo


def destinations(dest: Dest) -> tuple[str, ...]:
    """Every state a row can lead to (a `BackTo`: each it may go back to)."""
    return tuple(sorted(dest.to)) if isinstance(dest, BackTo) else (dest,)


def review_screen(
    prompt: str, send: str, form: Sequence[DetailField], *, phase: Phase, given: str | None = None
) -> Screen:
    """A form's answers shown at once: sent with `send`, each corrected with its edit button,
    or the whole withdrawn; its buttons stay on its message."""
    edits = (button(f"edit-{d.param}") for d in form)
    buttons = (button(send), *edits, button("withdraw"))
    return Screen(prompt, buttons, inline=True, phase=phase, given=given)


def t(trigger: str, source: str | list[str], dest: Dest, **extra: Any) -> dict[str, Any]:
    return {"trigger": trigger, "source": source, "dest": dest, **extra}


def form_transitions(
    form: Sequence[DetailField], *, before: str, review: str
) -> list[dict[str, Any]]:
    """One question after the other, Back to the one before (the first goes to `before`);
    asked again from the review (editing), an answer or Back goes straight back to it."""
    out: list[dict[str, Any]] = []
    states = [d.state for d in form]
    for i, detail in enumerate(form):
        nxt = states[i + 1] if i + 1 < len(states) else review
        prev = states[i - 1] if i > 0 else before
        triggers = ["answer"] if detail.required else ["answer", "skip"]
        for trigger in triggers:
            out.append(t(trigger, detail.state, review, conditions="editing"))
            out.append(t(trigger, detail.state, nxt))
        out.append(t("back", detail.state, review, conditions="editing"))
        out.append(t("back", detail.state, prev))
    return out
