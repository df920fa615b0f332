"""Outgoing limits as an aiogram request middleware: every Bot API call waits for its slot.

Telegram allows about one message a second per private chat, 20 a minute per group and 30 a
second overall; past that it answers 429 with `retry_after`. Waiting here keeps us under the
limits, and a 429 that still comes is honoured by sleeping and sending again: nothing is dropped.

A group (the operator desk) may take its 20 at once: it is limited by a sliding minute, not by a
message every 3 s, so the posts of one escalation do not hold back the caller's answer behind
them while the desk is quiet.

Telegram counts per bot, not per process: with `shared` (bot.shared_slots) every call waits for
its turn in Redis, so N processes together stay under the limits, a 429's pause closes the chat
for all of them, and the calls of all processes wait in one line, by rank: a caller's first
answer before other callers' follow-ups, a message refused with a 429 in the place it had.
While a call waits, whoever made it may step aside (bot.turns: the deliverer lets another
conversation deliver meanwhile). While Redis does not answer, this process books its slots in
its own memory, in order of arrival. With a `GroupGate` (bot.group_posts, as the app builds it)
a group's posts first wait in its queue, in order of priority, not of arrival.
"""

from __future__ import annotations

import asyncio
import bisect
import time
from collections import deque
from collections.abc import Awaitable, Callable
from contextlib import suppress
from typing import Any

from aiogram import Bot
from aiogram.client.session.middlewares.base import BaseRequestMiddleware
from aiogram.exceptions import TelegramRetryAfter
from aiogram.methods import Response

from bot.group_posts import GroupGate, posting_urgently
from bot.middlewares.chain import Method, NextRequest, R
from bot.shared_slots import (
    GROUP_WINDOW,
    OVERALL,
    PER_GROUP,
    PER_PRIVATE_CHAT,
    SharedSlots,
    Ticket,
)
from bot.turns import stepping_aside
from flows.unavailable import StoreUnavailable

__all__ = ["GROUP_WINDOW", "OVERALL", "PER_GROUP", "PER_PRIVATE_CHAT", "Throttle"]
MAX_RETRIES = 8  # 429s in a row before the call fails (the outbox then delivers it later)

# Methods that post something to a chat and so count against its limit (a new topic posts its
# service message)
_POSTING = ("Send", "Copy", "Forward", "Edit", "CreateForumTopic")


class Throttle(BaseRequestMiddleware):
    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        max_chats: int = 100_000,
        shared: SharedSlots | None = None,
        gate: GroupGate | None = None,
    ) -> None:
        self.shared = shared
        self._clock = clock
        self.gate = gate
        self._sleep = sleep
        self._next_by_chat: dict[int | str, float] = {}  # not before (private; a 429's pause)
        self._group_sent: dict[int | str, deque[float]] = {}  # slots of the last minute
        self._overall_booked: list[float] = []  # slots booked, from now on, sorted
        self._max_chats = max_chats
        # sweep idle chats only when the table doubled since the last sweep: a flood of chats
        # that all still wait costs one pass per doubling, not one pass per message
        self._sweep_at = max_chats
        self.waited = 0.0  # seconds spent waiting, for metrics and benches
        self.retries = 0

    def reserve(self, chat_id: int | str | None, *, gated: bool = False) -> float:
        """Book the next free slot for this chat (`gated`: the group's own slot came from the
        gate already); returns how long to wait for it."""
        now = self._clock()
        slot = now
        if chat_id is not None:
            slot = max(slot, self._next_by_chat.get(chat_id, 0.0))
            if _is_group(chat_id) and not gated:
                slot = self._group_slot(chat_id, slot)
        slot = self._overall_slot(now, slot)
        if chat_id is not None:
            if _is_group(chat_id):
                if not gated:  # booked in order: the deque is sorted
                    self._group_sent[chat_id].append(slot)
            else:
                self._next_by_chat[chat_id] = slot + PER_PRIVATE_CHAT
            if len(self._next_by_chat) > self._sweep_at:
                self._forget_idle(now)
                self._sweep_at = max(self._max_chats, 2 * len(self._next_by_chat))
        return slot - now

    def _overall_slot(self, now: float, slot: float) -> float:
        """The first free place from `slot` on in the overall line, a 30th of a second from any
        booked one (a chat that must wait books far ahead and holds nobody else back)."""
        booked = self._overall_booked
        del booked[: bisect.bisect_right(booked, now - OVERALL)]
        for taken in booked[bisect.bisect_right(booked, slot - OVERALL) :]:
            if taken - slot >= OVERALL:
                break  # a gap before it
            slot = taken + OVERALL
        bisect.insort(booked, slot)
        return slot

    def _group_slot(self, chat_id: int | str, slot: float) -> float:
        """The first slot from `slot` on with fewer than PER_GROUP sends in the minute before,
        and not before the group's last booking (a group's posts go in the order booked)."""
        sent = self._group_sent.setdefault(chat_id, deque())
        if sent:
            slot = max(slot, sent[-1])
        if len(sent) >= PER_GROUP:
            slot = max(slot, sent[0] + GROUP_WINDOW)
        while sent and sent[0] <= slot - GROUP_WINDOW:
            sent.popleft()
        return slot

    def __len__(self) -> int:
        """Chats whose next slot is remembered."""
        return len(self._next_by_chat)

    def _forget_idle(self, now: float) -> None:
        # chats whose next slot is already past have nothing to remember: memory stays bounded
        self._next_by_chat = {k: v for k, v in self._next_by_chat.items() if v > now}
        self._group_sent = {
            k: v for k, v in self._group_sent.items() if v and v[-1] > now - GROUP_WINDOW
        }

    async def __call__(
        self, make_request: NextRequest[R], bot: Bot, method: Method[R]
    ) -> Response[R]:
        chat_id: Any = getattr(method, "chat_id", None)
        posting = type(method).__name__.startswith(_POSTING)
        gated = posting and self.gate is not None and chat_id is not None and _is_group(chat_id)
        if gated and self.gate is not None:
            await self.gate.turn(chat_id)
        ticket = Ticket(chat_id, _is_group(chat_id), urgent=gated and posting_urgently())
        for attempt in range(MAX_RETRIES + 1):
            if posting:
                await self._turn(ticket, gated=gated)
            try:
                return await make_request(bot, method)
            except TelegramRetryAfter as exc:
                if attempt == MAX_RETRIES:
                    raise
                self.retries += 1
                if posting and chat_id is not None:
                    # the chat is closed until then, for this call (which keeps its ticket, so
                    # its place in the line) and for those queued behind it
                    self._pause_chat(chat_id, exc.retry_after)
                    if self.shared is not None:
                        with suppress(StoreUnavailable):
                            await self.shared.pause(chat_id, exc.retry_after)
                else:
                    self.waited += exc.retry_after
                    await self._sleep(exc.retry_after)
            finally:
                if self.shared is not None:
                    self.shared.done(ticket)  # it counts until a second after its answer
        raise AssertionError("unreachable")  # pragma: no cover

    async def _turn(self, ticket: Ticket, *, gated: bool) -> None:
        """Until this call may go: asked in Redis as often as told, or booked here."""
        while True:
            delay, booked = await self._book(ticket, gated=gated)
            if delay > 0:
                self.waited += delay
                async with stepping_aside(delay):
                    await self._sleep(delay)
            if delay <= 0 or booked:
                return  # let through, or booked here: its slot has come

    async def _book(self, ticket: Ticket, *, gated: bool) -> tuple[float, bool]:
        """Seconds to wait, and whether that is a slot booked here (not a question again)."""
        if self.shared is not None:
            try:
                return await self.shared.take(ticket), False
            except StoreUnavailable:
                pass  # booked here until Redis answers again
        return self.reserve(ticket.chat_id, gated=gated), True

    async def aclose(self) -> None:
        """Tell Redis which calls are done before the client closes."""
        if self.shared is not None:
            await self.shared.flush()

    def _pause_chat(self, chat_id: int | str, seconds: float) -> None:
        resume = self._clock() + seconds
        self._next_by_chat[chat_id] = max(self._next_by_chat.get(chat_id, 0.0), resume)


def _is_group(chat_id: int | str | None) -> bool:
    return chat_id is not None and (
        isinstance(chat_id, str) or chat_id < 0
    )  # "@channel" names and negative ids
