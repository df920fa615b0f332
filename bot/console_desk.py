"""The console's view of the operator group: what the desk receives, as `desk>` lines, and the
last case card's buttons (what `op: [LABEL]` presses)."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiogram.methods import (
    AnswerCallbackQuery,
    CloseForumTopic,
    CopyMessage,
    CreateForumTopic,
    DeleteForumTopic,
    DeleteMessage,
    EditForumTopic,
    EditMessageReplyMarkup,
    EditMessageText,
    ReopenForumTopic,
    SendMessage,
    TelegramMethod,
)
from aiogram.types import InlineKeyboardMarkup

from bot.desk.desk import DeskData
from bot.offline.session import Sent

_ALL_TAGS = re.compile(r"<[^>]+>")


@dataclass(slots=True)
class Key:
    label: str
    callback: str | None = None  # inline button data
    kind: str = "choice"  # choice | contact | location
    message_id: int = 0  # the bot's message the inline button is attached to


@dataclass(slots=True)
class DeskTranscript:
    print: Callable[[str], None]
    topic: int | None = None  # the case's topic (where `op:` lines are written)
    card_keys: list[Key] = field(default_factory=list)  # the buttons of the last case card
    card_message: int = 0
    # the buttons of a typed command's question ("yes" / "no, back"), until it is answered
    question_keys: list[Key] = field(default_factory=list)
    queries: set[str] = field(default_factory=set)  # card presses of `op:` lines

    def answers(self, method: TelegramMethod[Any]) -> bool:
        """An answer to a card button an `op:` line pressed."""
        return isinstance(method, AnswerCallbackQuery) and method.callback_query_id in self.queries

    def write(self, line: str) -> None:
        text = html.unescape(_ALL_TAGS.sub("", line))
        self.print("desk> " + text.replace("\n", "\n      "))

    def show(self, sent: Sent) -> None:
        """What the operator group receives: posts, the cards and their edits, topics."""
        method: TelegramMethod[Any] = sent.method
        if isinstance(method, SendMessage):
            if method.message_thread_id is not None:
                self.topic = method.message_thread_id
            actions = _desk_actions(method.reply_markup)
            # a typed /met's question carries only "yes" and "no, back": pressed like the card's
            question = bool(actions) and all(
                a.startswith("confirm-") or a == "cancel" for a in actions
            )
            card = bool(actions) and not question
            where = "" if method.message_thread_id is not None else "(queue) "
            self.write(("(card) " if card else where) + method.text)
            if card:
                self.card_message = sent.result.message_id
                self._show_card_keys(self._card_keys(method.reply_markup))
            elif question:
                self.question_keys = self._card_keys(method.reply_markup, sent.result.message_id)
                self.print("desk>   " + " ".join(f"[{k.label}]" for k in self.question_keys))
        elif isinstance(method, EditMessageText):
            self.write("(card) " + (method.text or ""))
            self._show_card_keys(self._card_keys(method.reply_markup))
        elif isinstance(method, EditMessageReplyMarkup):
            self._show_card_keys(self._card_keys(method.reply_markup))
        elif isinstance(method, CopyMessage):
            self.topic = method.message_thread_id or self.topic
            caption = method.caption if isinstance(method.caption, str) else ""
            self.write(f"(the caller's message, copied) {caption}".rstrip())
        elif isinstance(method, CreateForumTopic):
            self.topic = sent.result.message_thread_id
            self.write(f"(topic opened) {method.name}")
        elif isinstance(method, EditForumTopic):
            self.write(f"(topic renamed) {method.name}")
        elif isinstance(method, CloseForumTopic | ReopenForumTopic | DeleteForumTopic):
            what = {
                CloseForumTopic: "closed",
                ReopenForumTopic: "reopened",
                DeleteForumTopic: "deleted",
            }[type(method)]
            self.write(f"(topic {what})")
        elif isinstance(method, DeleteMessage):
            if any(k.message_id == method.message_id for k in self.question_keys):
                self.question_keys = []
            self.write("(message deleted)")
        elif isinstance(method, AnswerCallbackQuery) and method.text:
            self.write(f"(notice) {method.text}")

    def _card_keys(self, markup: Any, message_id: int | None = None) -> list[Key]:
        if not isinstance(markup, InlineKeyboardMarkup):
            return []
        on = self.card_message if message_id is None else message_id
        return [
            Key(b.text, callback=b.callback_data, message_id=on)
            for row in markup.inline_keyboard
            for b in row
            if b.callback_data is not None
        ]

    def _show_card_keys(self, keys: list[Key]) -> None:
        if keys:
            self.card_keys = keys
            self.print("desk>   " + " ".join(f"[{k.label}]" for k in keys))


def _desk_actions(markup: Any) -> list[str]:
    """The desk actions of a message's buttons (none: not a card's, nor a question's)."""
    if not isinstance(markup, InlineKeyboardMarkup):
        return []
    found = []
    for row in markup.inline_keyboard:
        for b in row:
            data = b.callback_data or ""
            if data.startswith(DeskData.__prefix__ + ":"):
                found.append(DeskData.unpack(data).action)
    return found
