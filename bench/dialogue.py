"""The dialogue both bots of the benchmark go through, as real aiogram `Update`s.

A full registration in 17 updates, as a caller in Russian answers the project's flow: /start,
the menu, the declaration in his own words, every detail field (typed or tapped on the reply
keyboard), the review (he corrects his phone from it), the confirmation, and /status.
`CALLS` is what the bot must send in answer to each, checked for both bots before anything is
timed (and by tests/unit/test_bench_baseline.py), so neither can do less work than the other.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from bot.events import ButtonData
from bot.i18n import Translator
from bot.offline.session import BOT_USER

LANG = "ru"
FIRST_USER = 7_000_000_000
_T = Translator()


def label(button_id: str) -> str:
    return _T.text(LANG, f"btn-{button_id}")


@dataclass(frozen=True, slots=True)
class Step:
    kind: str  # "text": a message with this text; "button": an inline button of the review
    value: str
    calls: tuple[str, ...]  # Bot API methods the bot sends in answer, in order


_ASK = ("SendMessage",)
_DETAIL = ("DeleteMessages", "SendMessage")  # his answer is personal: deleted, next asked
# a button of the review: the review (his details) leaves the chat, the next screen comes
_PRESS = ("AnswerCallbackQuery", "DeleteMessages", "SendMessage")

REGISTRATION: tuple[Step, ...] = (
    Step("text", "/start", ("SendMessage", "SendMessage")),  # greeting, menu
    Step("text", label("menu-surrender"), _ASK),
    Step("text", "Я иду сдаваться", _ASK),
    Step("text", "Петренко Иван Сергеевич", _DETAIL),
    Step("text", "03.02.1994", _DETAIL),
    Step("text", "в/ч 12345", _DETAIL),
    Step("text", label("rank-sergeant"), _DETAIL),
    Step("text", "АВ-123456", _DETAIL),
    Step("text", "2", _DETAIL),
    Step("text", label("area-kharkiv"), _DETAIL),
    Step("text", "+79991234567", _DETAIL),
    Step("text", label("health-light"), _DETAIL),
    Step("text", label("wish-exchange"), _DETAIL),  # -> the review
    Step("button", ButtonData(screen="review", button="edit-phone").pack(), _PRESS),
    Step("text", "+79991234568", _DETAIL),  # -> the review again
    # the registered screen, then the code once in a message of its own
    Step("button", ButtonData(screen="review", button="confirm").pack(), (*_PRESS, "SendMessage")),
    Step("text", "/status", _ASK),
)
START = REGISTRATION[:1]
# After the registration: he asks for an operator (/operator, the bot's menu button) and writes
# twice, each message relayed into his case's topic (the desk's share: bench/escalation.py)
ESCALATION: tuple[Step, ...] = (
    Step("text", "/operator", _ASK),  # the hand-off screen
    Step("text", "Я на месте, жду", ()),  # relayed into the topic; he is not answered
    Step("text", "Со мной ещё двое", ()),
)
# what the group is sent for each (the topic with its card, the queue post; each relay)
ESCALATION_DESK: tuple[tuple[str, ...], ...] = (
    ("CreateForumTopic", "SendMessage", "SendMessage"),
    ("SendMessage",),
    ("SendMessage",),
)
CALLS_PER_UPDATE = sum(len(s.calls) for s in REGISTRATION) / len(REGISTRATION)


class Updates:
    """Numbers updates across callers, as Telegram does for one bot; each update is the JSON
    Telegram would send (the bot parses it, as its polling or webhook would)."""

    def __init__(self, first: int = 1) -> None:
        self.next_id = first
        self._date = int(time.time())

    def of(
        self, user_id: int, steps: tuple[Step, ...] = REGISTRATION, first_message: int = 1
    ) -> list[dict[str, Any]]:
        """One caller's updates for these steps (his message ids count from `first_message`)."""
        user = {"id": user_id, "is_bot": False, "first_name": "Caller", "language_code": LANG}
        chat = {"id": user_id, "type": "private", "first_name": "Caller"}
        updates: list[dict[str, Any]] = []
        for message_id, step in enumerate(steps, start=first_message):
            update_id, self.next_id = self.next_id, self.next_id + 1
            if step.kind == "text":
                message = {
                    "message_id": message_id, "date": self._date, "chat": chat, "from": user,
                    "text": step.value,
                }  # fmt: skip
                updates.append({"update_id": update_id, "message": message})
                continue
            shown = {
                "message_id": 10_000 + message_id, "date": self._date, "chat": chat,
                "from": BOT_USER.model_dump(exclude_none=True), "text": "(the review)",
            }  # fmt: skip
            query = {
                "id": f"q{update_id}", "from": user, "chat_instance": "bench",
                "data": step.value, "message": shown,
            }  # fmt: skip
            updates.append({"update_id": update_id, "callback_query": query})
        return updates


def chat_of(update: dict[str, Any]) -> int:
    if "callback_query" in update:
        return int(update["callback_query"]["from"]["id"])
    return int(update["message"]["chat"]["id"])


def callers(count: int, first: int = FIRST_USER) -> Iterator[int]:
    return iter(range(first, first + count))
