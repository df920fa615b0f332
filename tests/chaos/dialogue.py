"""The dialogue the fault tests play, and what the caller must receive for it.

The reference is played first in this process, on the e2e harness (the real Dispatcher, a
recording session, fakeredis): each update is kept as the JSON Telegram would send, with the
texts the caller received for it. The fault tests feed the same JSON to `hotline run` and
compare what reached the emulator with the reference (case codes masked: each run draws its
own).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import fakeredis
from aiogram.methods import SendMessage
from aiogram.types import Update

from bot.app import build_app
from bot.offline.client import as_json
from bot.offline.session import RecordingSession
from tests.e2e.conftest import Caller, Clock, Hotline, T, register, settings

USER = 100_990_001
CODE = re.compile(r"[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}")


@dataclass(frozen=True)
class Step:
    update: dict[str, Any]  # as Telegram posts it
    texts: tuple[str, ...]  # what the caller receives for it, codes masked


def masked(text: str) -> str:
    return CODE.sub("<code>", text)


async def reference(user_id: int = USER, *, first_update_id: int = 1) -> list[Step]:
    """A whole registration in Russian, then /status."""
    session = RecordingSession()
    app = build_app(
        settings(), session=session, redis=fakeredis.FakeAsyncRedis(), throttle=False,
        translator=T, clock=Clock(),
    )  # fmt: skip
    hotline = Hotline(app, session, Clock(), first_update_id=first_update_id)
    steps: list[Step] = []
    feed = hotline.feed

    async def recorded(update: Update) -> list[Any]:
        sent = await feed(update)
        texts = tuple(
            masked(s.method.text)
            for s in sent
            if isinstance(s.method, SendMessage) and s.method.chat_id == user_id
        )
        steps.append(Step(as_json(update), texts))
        return sent

    hotline.feed = recorded  # type: ignore[method-assign]
    caller = Caller(hotline, user_id, "ru")
    hotline.callers.append(caller)
    await register(caller)
    await caller.command("status")
    app.deliverer.stop()
    await app.deliverer.drain()
    return steps


def expected_texts(steps: list[Step]) -> list[str]:
    return [text for step in steps for text in step.texts]


@dataclass
class Comparison:
    lost: list[str]
    duplicates: int
    foreign: list[str]  # received but neither expected nor a repeat of the one before


def compare(received: list[str], expected: list[str]) -> Comparison:
    """Walk both in order: a received text is the next expected one, or a repeat of the one
    just received (a message re-sent after a kill in its send)."""
    got = [masked(text) for text in received]
    j = 0
    duplicates = 0
    foreign: list[str] = []
    for i, text in enumerate(got):
        if j < len(expected) and text == expected[j]:
            j += 1
        elif i > 0 and text == got[i - 1]:
            duplicates += 1
        else:
            foreign.append(text)
    return Comparison(expected[j:], duplicates, foreign)
