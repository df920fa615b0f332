"""A stop never waits on a library that swallows its cancel (redis-py can, inside a command):
the desk's tick stops on a flag, and what does not stop in time is left behind, not waited for.
The limits below bound each wait (the test fails rather than hangs); they time nothing."""

from __future__ import annotations

import asyncio
from typing import Any

from bot.desk.service_levels import ServiceLevels
from bot.serve import finished_within


async def stubborn(release: asyncio.Event) -> None:
    """Work that ignores every cancel, as a blocking read that swallows CancelledError (until
    the test releases it, so that the test's own loop can close)."""
    while not release.is_set():
        try:
            await release.wait()
        except asyncio.CancelledError:
            continue


async def test_the_desk_tick_stops_on_its_flag_between_ticks() -> None:
    ticks = 0

    async def tick(now: float | None = None) -> int:
        nonlocal ticks
        ticks += 1
        return 0

    levels = ServiceLevels(desk=Any)  # type: ignore[arg-type]
    levels.tick = tick  # type: ignore[method-assign]
    levels.start(every=3600)
    await asyncio.sleep(0)
    assert levels.running
    await asyncio.wait_for(levels.stop(), timeout=5)
    assert not levels.running
    assert ticks == 1  # the first tick at start, then it waited on its flag, not a sleep


async def test_a_tick_that_swallows_its_cancel_does_not_hold_the_stop() -> None:
    release = asyncio.Event()
    levels = ServiceLevels(desk=Any)  # type: ignore[arg-type]

    async def tick(now: float | None = None) -> int:
        await stubborn(release)
        return 0

    levels.tick = tick  # type: ignore[method-assign]
    levels.start(every=3600)
    await asyncio.sleep(0)
    task = levels._task
    assert task is not None
    await asyncio.wait_for(levels.stop(grace=0.1), timeout=5)  # returns: left behind
    assert not levels.running
    assert not task.done()
    release.set()
    await asyncio.wait_for(task, timeout=5)


async def test_finished_within_leaves_stubborn_work_behind() -> None:
    assert await asyncio.wait_for(finished_within(asyncio.sleep(0), 1), timeout=5)
    release = asyncio.Event()
    task = asyncio.ensure_future(stubborn(release))
    assert not await asyncio.wait_for(finished_within(task, 0.05), timeout=5)
    assert not task.done()  # still running: nothing waits for it
    release.set()
    await asyncio.wait_for(task, timeout=5)


async def test_finished_within_reports_a_failure_as_finished() -> None:
    async def failing() -> None:
        raise RuntimeError("boom")

    assert await asyncio.wait_for(finished_within(failing(), 1), timeout=5)
