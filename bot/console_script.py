"""The console's script language: what a line typed (or replayed) asks for. README.md lists
every form; `bot.console` plays them on the real Dispatcher.

This module builds the content of the caller's special messages (`@location`, `@contact`,
`@voice`...) and reads who an `op` line speaks as; it knows nothing of the app.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiogram.types import (
    Contact,
    Document,
    Location,
    MessageOriginHiddenUser,
    PhotoSize,
    Sticker,
    VideoNote,
    Voice,
)

TELEGRAM_TEXT_MAX = 4096
STRANGER_ID = 777_999_999  # a member of the operator group who is not a listed operator
# `op: TEXT` the first listed operator, `op2: TEXT` the second, `op?: TEXT` a stranger
_OPERATOR_LINE = re.compile(r"op(?P<who>[1-9][0-9]*|\?)?:\s?(?P<text>.*)", re.S)


@dataclass(frozen=True, slots=True)
class OperatorLine:
    place: int | None  # 1-based place in OPERATOR_IDS; None for the stranger
    text: str


def operator_line(line: str) -> OperatorLine | None:
    """`op: /claim` -> (1, "/claim"); `op3: hi` -> (3, "hi"); `op?: /claim` -> (None, ...)."""
    match = _OPERATOR_LINE.fullmatch(line)
    if match is None:
        return None
    who = match["who"]
    place = None if who == "?" else int(who or 1)
    return OperatorLine(place, match["text"].strip())


def special_content(word: str, rest: str, user_id: int) -> dict[str, Any] | None:
    """The message fields of `@WORD REST` for the caller `user_id`; None when it is not one
    of the kinds below (`@edit`, `@old` and `@user` are the console's own)."""
    args = rest.split()
    if word == "location" and len(args) == 2:
        return {"location": Location(latitude=float(args[0]), longitude=float(args[1]))}
    if word == "contact" and args:
        own = args[1:] != ["other"]
        contact = Contact(
            phone_number=args[0], first_name="Caller", user_id=user_id if own else user_id + 1
        )
        return {"contact": contact}
    if word in _MEDIA:
        return _MEDIA[word]()
    if word == "text":
        return {"text": rest}
    if word == "long":
        return {"text": "я" * (int(args[0]) if args else TELEGRAM_TEXT_MAX)}
    if word == "forward":
        origin = MessageOriginHiddenUser(
            date=datetime.datetime.now(datetime.UTC), sender_user_name="Someone"
        )
        return {"text": rest or "...", "forward_origin": origin}
    return None


def _sticker() -> dict[str, Any]:
    sticker = Sticker(
        file_id="st",
        file_unique_id="st",
        type="regular",
        width=512,
        height=512,
        is_animated=False,
        is_video=False,
    )
    return {"sticker": sticker}


_MEDIA: dict[str, Callable[[], dict[str, Any]]] = {
    "sticker": _sticker,
    "photo": lambda: {"photo": [PhotoSize(file_id="ph", file_unique_id="ph", width=9, height=9)]},
    "voice": lambda: {"voice": Voice(file_id="vo", file_unique_id="vo", duration=3)},
    "videonote": lambda: {
        "video_note": VideoNote(file_id="vn", file_unique_id="vn", length=240, duration=3)
    },
    "document": lambda: {"document": Document(file_id="do", file_unique_id="do")},
}
