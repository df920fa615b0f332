"""Service levels of the desk: unclaimed escalations re-announced, /stats, and the periodic task
that also deletes expired details messages.

`tick(now)` is the whole periodic job, with the time passed in (tests drive it with a clock of
their own). Several bot processes may tick at once: a re-announcement is a compare-and-set on
the case's record (at most once per interval), a details deletion is taken by one of them only.
What /stats counts is kept in Redis without personal data: the set of open escalations and, per
day, the seconds each claim took.
"""

from __future__ import annotations

import asyncio
import contextlib
import statistics
import time
from collections import Counter
from collections.abc import Awaitable, Callable

import structlog

from bot.desk.desk import Desk, priority_name

log = structlog.get_logger("hotline.sla")


class ServiceLevels:
    def __init__(
        self,
        desk: Desk,
        *,
        claim_timeout_minutes: float,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.desk = desk
        self.interval = claim_timeout_minutes * 60
        self.clock = clock
        self._task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()

    async def tick(self, now: float | None = None) -> int:
        """Re-announce what waits too long, settle what the flow has closed, delete expired
        details; the number of re-announcements. One case failing (flood control, the network)
        holds back neither the others nor the clean-up: it is logged and tried at the next
        tick (a re-announcement not sent is not marked as made)."""
        moment = self.clock() if now is None else now
        announced = 0
        for key in await self.desk.state.open_keys():
            try:
                announced += await self._tick_case(key, moment)
            except Exception as exc:
                # the type only: an exception's text may quote anything
                log.error("desk tick failed for a case", error=type(exc).__name__)
        try:
            await self.desk.sweep(moment)
        except Exception as exc:
            log.error("desk tick: details clean-up failed", error=type(exc).__name__)
        return announced

    async def _tick_case(self, key: str, moment: float) -> int:
        desk, state = self.desk, self.desk.state
        case = await state.load(key)
        if case is None or not case.open:
            await state.mark_closed(key)
            return 0
        escalated = await state.conversation_escalated(key)
        if escalated is None:
            await desk.forget(key)  # the conversation expired
            return 0
        if not escalated:
            # the caller left the hand-off, or the flow closed it: so does the desk
            await desk.close_escalation(key)
            return 0
        if case.claimer is not None:
            return 0
        previous = await state.take_announcement(key, moment, self.interval)
        if previous is None:
            return 0
        minutes = int((moment - case.since) // 60)
        text = desk.t(
            "desk-reannounce",
            code=desk.label(case),
            priority=priority_name(case.priority),
            reason=case.reason or "none",
            minutes=minutes,
        )
        try:
            await desk.announce(text, case)
        except Exception:
            await state.undo_announcement(key, moment, previous)
            raise
        return 1

    async def stats_text(self, now: float | None = None) -> str:
        moment = self.clock() if now is None else now
        desk, state = self.desk, self.desk.state
        states: Counter[str] = Counter()
        stages: Counter[str] = Counter()
        for key in await state.open_keys():
            case = await state.load(key)
            if case is None or not case.open:
                continue
            states[desk.card_state(case)] += 1
            stages[case.stage] += 1
        times = await state.claim_times(desk.local_day(moment))
        median = round(statistics.median(times)) if times else 0
        lines = [
            desk.t(
                "desk-stats",
                open=sum(states.values()),
                waiting=states["waiting"],
                claimed=states["claimed"],
                claims=len(times),
                minutes=median // 60,
                seconds=median % 60,
            )
        ]
        for stage, count in sorted(stages.items()):
            lines.append(desk.t("desk-stats-stage", stage=stage, count=count))
        return "\n".join(lines)

    # -- the periodic task --------------------------------------------------------------------
    def start(self, every: float, leader: Callable[[], Awaitable[bool]] | None = None) -> None:
        """Tick every `every` seconds; with `leader`, only while it says this process leads
        (several processes on one Redis: one of them does the desk's periodic work)."""
        if self._task is None or self._task.done():
            self._stopping = asyncio.Event()
            self._task = asyncio.create_task(self._run(every, leader), name="hotline-desk-tick")

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    async def _run(self, every: float, leader: Callable[[], Awaitable[bool]] | None) -> None:
        stopping = self._stopping
        while not stopping.is_set():  # the first tick at start-up: details left get deleted
            try:
                if leader is None or await leader():
                    await self.tick()
            except Exception as exc:
                log.error("desk tick failed", error=type(exc).__name__)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stopping.wait(), every)

    async def stop(self, grace: float = 2.0) -> None:
        """Stop after the tick under way, or within `grace` seconds: a cancel is tried then,
        but not waited for past a moment (a Redis call may swallow it)."""
        task, self._task = self._task, None
        if task is None:
            return
        self._stopping.set()
        done, _ = await asyncio.wait({task}, timeout=grace)
        if not done:
            task.cancel()
            await asyncio.wait({task}, timeout=0.5)
            log.warning("desk tick stopped without finishing its tick")
