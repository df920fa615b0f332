"""Stepping aside while a Bot API call waits for its turn under Telegram's limits.

Whoever holds a share of something scarce while it sends (the deliverer: one of its places for
conversations delivered at once) says here how to give it up and take it back; the throttle
(bot.throttle) does so around every wait. In a burst, a conversation whose menu waits behind
a thousand other callers' greetings then holds no place that one of them needs for its own.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator
from contextvars import ContextVar

# the place held by the task that is sending (None: nothing to give up)
_HELD: ContextVar[tuple[asyncio.Task[object] | None, asyncio.Semaphore] | None] = ContextVar(
    "hotline_turn_held", default=None
)


@contextlib.contextmanager
def holding(place: asyncio.Semaphore) -> Iterator[None]:
    """Calls this task makes inside, while it has acquired `place`, give it up while they wait
    (tasks started inside inherit the context, not the place: they give up nothing)."""
    token = _HELD.set((asyncio.current_task(), place))
    try:
        yield
    finally:
        _HELD.reset(token)


@contextlib.asynccontextmanager
async def stepping_aside() -> AsyncIterator[None]:
    """The place held here is free for others meanwhile, and taken back afterwards (a wait
    cancelled while taking it back still takes it: it is released by whoever acquired it)."""
    held = _HELD.get()
    if held is None or held[0] is not asyncio.current_task():
        yield
        return
    place = held[1]
    place.release()
    try:
        yield
    finally:
        await asyncio.shield(place.acquire())
