"""Stepping aside while a Bot API call waits for its turn under Telegram's limits.

Whoever holds a share of something scarce while it sends (the deliverer: one of its places for
conversations delivered at once, and the conversation's delivery lease) says here how to give
it up and take it back; the throttle (bot.throttle) does so around every wait. In a burst, a
conversation whose menu waits behind a thousand other callers' greetings then holds no place
that one of them needs for its own, and its lease is lengthened once for the whole wait instead
of renewed every few seconds meanwhile.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class _Held:
    task: asyncio.Task[object] | None
    place: asyncio.Semaphore
    lengthen: Callable[[float], Awaitable[None]] | None  # hold on for this many seconds


# what the task that is sending holds (None: nothing to give up)
_HELD: ContextVar[_Held | None] = ContextVar("hotline_turn_held", default=None)


@contextlib.contextmanager
def holding(
    place: asyncio.Semaphore, lengthen: Callable[[float], Awaitable[None]] | None = None
) -> Iterator[None]:
    """Calls this task makes inside, while it has acquired `place`, give it up while they wait,
    after `lengthen` was told how long (tasks started inside inherit the context, not the
    place: they give up nothing)."""
    token = _HELD.set(_Held(asyncio.current_task(), place, lengthen))
    try:
        yield
    finally:
        _HELD.reset(token)


@contextlib.asynccontextmanager
async def stepping_aside(seconds: float) -> AsyncIterator[None]:
    """For a wait of `seconds`: the place held here is free for others meanwhile, and taken
    back afterwards (a wait cancelled while taking it back still takes it: it is released by
    whoever acquired it)."""
    held = _HELD.get()
    if held is None or held.task is not asyncio.current_task():
        yield
        return
    if held.lengthen is not None:
        await held.lengthen(seconds)
    held.place.release()
    try:
        yield
    finally:
        await asyncio.shield(held.place.acquire())
