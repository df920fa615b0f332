"""The canned-reply buttons under a case card (bot.desk.canned sends what they pick)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton

# two a row ("meet" has its own button on the card already)
BUTTON_ROWS: Final = (("safe", "location"), ("stay", "drone"), ("cloth", "contact"))


class SayData(CallbackData, prefix="say"):
    """A canned-reply button under a card: which reply, and the card's topic."""

    name: str
    topic: int


def canned_rows(t: Callable[..., str], topic: int) -> list[list[InlineKeyboardButton]]:
    """The rows of canned-reply buttons under the card of `topic`, labelled by `t`."""
    return [
        [
            InlineKeyboardButton(
                text=t("desk-canned-label", name=name),
                callback_data=SayData(name=name, topic=topic).pack(),
            )
            for name in row
        ]
        for row in BUTTON_ROWS
    ]
