"""How a screen reads what the caller sends: which reader takes typed text, and for a question
its answer (the check, the field it is kept under, the buttons that are answers); whether the
desk sees it once escalated, and when his message leaves his chat.

Declared per screen in the dialogue data (`flows.surrender.SCREENS`), read by the engine's
handlers (`flows.on_text`, `flows.on_content`, `flows.engine`) instead of asking which state
they are in.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from flows.typed import Outcome

Validator = Callable[[str, datetime.date], Outcome]


def ignoring_date(check: Callable[[str], Outcome]) -> Validator:
    return lambda text, _today: check(text)


class Expects(StrEnum):
    """The kind of input a screen asks for."""

    CHOICE = "choice"  # one of its buttons
    TEXT = "text"  # words typed (its buttons as well, where it has them)
    LOCATION = "location"  # a shared location (or typed coordinates)
    NONE = "none"  # nothing: what he sends is for the operator (relay only)


class Reads(StrEnum):
    """What a screen does with typed text (a cry for help aside, which every screen hears)."""

    NOTHING = "nothing"  # its buttons only: the words are explained, relayed, or checked
    ANSWER = "answer"  # the screen's `Answer`
    DECLARATION = "declaration"  # «я иду сдаваться» and its like open the next step
    SAFETY_WORD = "safety-word"
    CODE = "code"  # a case code, looked up
    BIRTH_DATE = "birth-date"  # checked against the case the code found
    CHANNELS = "channels"  # channels, bots and sites, checked against the team's list
    BEGIN = "begin"  # anything begins the conversation
    ENDED = "ended"  # the conversation is over: how to begin anew


class Deletes(StrEnum):
    """When the caller's message leaves his chat (a seized phone must not show it)."""

    NEVER = "never"
    TAKEN = "taken"  # once it is taken as the answer
    ALWAYS = "always"  # taken or refused: it may hold a personal value either way


@dataclass(frozen=True, slots=True)
class Answer:
    """A question: typed text checked by `validate` (None: only the buttons answer it), a
    button of `choices`, a shared location (a screen that expects one) or, with `contact`, his
    own phone shared; kept (sealed) under `field`, then the `answer` trigger fires. With `relay`
    the desk sees what he sent once an operator follows the chat, before it is judged."""

    field: str
    validate: Validator | None = None
    choices: tuple[str, ...] = ()
    relay: bool = False
    contact: bool = False
