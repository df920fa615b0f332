"""The console's script language: what a line typed (or replayed) asks for. README.md lists
every form; `bot.console` plays them on the real Dispatcher.

This module reads the caller's special messages (`@location`, `@contact`, `@voice`...) into
the update his account sends, and who an `op` line speaks as; it knows nothing of the app.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from types import MappingProxyType

from aiogram.types import Update

from bot.offline import content
from bot.offline.client import Account

STRANGER_ID = 777_999_999  # a member of the operator group who is not a listed operator
# `op: TEXT` the first listed operator, `op2: TEXT` the second, `op?: TEXT` a stranger
_OPERATOR_LINE = re.compile(r"op(?P<who>[1-9][0-9]*|\?)?:\s?(?P<text>.*)", re.S)
# `@WORD` of each kind of media, and its field in the Bot API
MEDIA_WORDS = MappingProxyType({word.replace("_", ""): word for word in content.MEDIA})


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


def special_update(caller: Account, word: str, rest: str) -> Update | None:
    """What `@WORD REST` has the caller send; None when it is not one of the kinds below
    (`@edit`, `@old` and `@user` are the console's own)."""
    args = rest.split()
    if word == "location" and len(args) == 2:
        return caller.location(float(args[0]), float(args[1]))
    if word == "contact" and args:
        return caller.contact(args[0], own=args[1:] != ["other"])
    if word in MEDIA_WORDS:
        return caller.media(MEDIA_WORDS[word])
    if word == "text":
        return caller.text(rest)
    if word == "long":
        return caller.text("я" * (int(args[0]) if args else content.TELEGRAM_TEXT_MAX))
    if word == "forward":
        return caller.forward(rest or "...", content.from_hidden(caller.telegram.now()))
    return None
