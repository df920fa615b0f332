"""Posts to the operator group in order of priority, under the group's budget.

Telegram lets a bot post about 20 messages a minute into one group. First come, first served,
30 probe accounts asking for an operator delayed a real emergency's first post by two minutes.
Here every post into a group waits for its turn in a queue ordered by priority (emergency,
re-call, normal), then by how long its case has waited, then by arrival; and the normal ones may
use only part of the minute's budget, so an emergency always finds a few slots free: its topic,
its card and its queue post go out at once, whatever waits.

What a post is for is said by whoever makes it (`posting_for`), and reaches the Bot API call
through a context variable: the desk's work for a case runs under the case's priority and the
time it started waiting. A post made outside (an answer to an operator's command) counts as a
re-call's, made now: an operator who asked waits for no backlog of normal cases.

`GroupGate.turn` is called by the throttle (bot.throttle) for every posting call into a group;
private chats never wait here, so a caller's own replies never queue behind group posts.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Final

from flows.model import Priority

PER_WINDOW: Final = 20  # posts a group takes in any WINDOW
WINDOW: Final = 60.0
RESERVED: Final = 3  # of them, kept for emergencies: a topic, a card and a queue post
UNSAID: Final = int(Priority.HIGH)  # a post nobody ranked: an operator is waiting for it
# after an emergency's post, others wait this long: its next posts (the card after the topic,
# the queue post after the card) follow it, not a post of lower priority
TOGETHER: Final = 1.0

# (priority, since): the rank of the posts made in this context
POST_RANK: ContextVar[tuple[int, float] | None] = ContextVar("hotline_post_rank", default=None)


@contextlib.contextmanager
def posting_for(priority: int, since: float) -> Iterator[None]:
    """Posts made inside go out with this priority, as old as `since`."""
    token = POST_RANK.set((int(priority), float(since)))
    try:
        yield
    finally:
        POST_RANK.reset(token)


def posting_urgently() -> bool:
    """Whether the posts made here are an emergency's (they go before anything else)."""
    rank = POST_RANK.get()
    return rank is not None and rank[0] >= Priority.HIGHEST


@dataclass(slots=True)
class _Group:
    waiting: list[tuple[int, float, int, asyncio.Future[None]]] = field(default_factory=list)
    sent: deque[float] = field(default_factory=deque)  # when the last window's posts went
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    pump: asyncio.Task[None] | None = None
    held_until: float = 0.0  # lower priorities wait while an emergency's posts go out


class GroupGate:
    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        per_window: int = PER_WINDOW,
        window: float = WINDOW,
        reserved: int = RESERVED,
    ) -> None:
        self._clock = clock
        self._sleep = sleep
        self.per_window = per_window
        self.window = window
        self.reserved = min(reserved, per_window - 1)
        self._groups: dict[int | str, _Group] = {}
        self._order = itertools.count()

    def waiting(self, chat_id: int | str) -> int:
        group = self._groups.get(chat_id)
        return len(group.waiting) if group is not None else 0

    async def turn(self, chat_id: int | str) -> None:
        """Wait until a post into this group may go: its slot is booked when this returns."""
        priority, since = POST_RANK.get() or (UNSAID, self._clock())
        group = self._groups.setdefault(chat_id, _Group())
        ready: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(group.waiting, (-priority, since, next(self._order), ready))
        group.wake.set()
        if group.pump is None or group.pump.done():
            group.pump = asyncio.create_task(self._pump(group))
        await ready  # cancelled: the pump skips it

    def _allowed(self, priority: int) -> int:
        if priority >= Priority.HIGHEST:
            return self.per_window
        return self.per_window - self.reserved

    async def _pump(self, group: _Group) -> None:
        while group.waiting:
            rank, _, _, ready = group.waiting[0]
            if ready.done():
                heapq.heappop(group.waiting)
                continue
            now = self._clock()
            while group.sent and group.sent[0] <= now - self.window:
                group.sent.popleft()
            allowed = self._allowed(-rank)
            urgent = -rank >= Priority.HIGHEST
            if len(group.sent) < allowed and (urgent or now >= group.held_until):
                heapq.heappop(group.waiting)
                group.sent.append(now)
                if urgent:
                    group.held_until = now + TOGETHER
                ready.set_result(None)
                await asyncio.sleep(0)  # let it send before the next is let through
                continue
            free_at = group.held_until
            if len(group.sent) >= allowed:
                free_at = max(free_at, group.sent[len(group.sent) - allowed] + self.window)
            group.wake.clear()
            await _first(self._sleep(free_at - now), group.wake.wait())


async def _first(*waits: Awaitable[object]) -> None:
    """Until the first of these is done; the others are cancelled."""
    tasks = [asyncio.ensure_future(w) for w in waits]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
