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
from dataclasses import dataclass
from typing import Final

import structlog

from bot.desk.desk import Desk
from bot.desk.queue import case_line
from bot.desk.records import DeskCase
from bot.group_posts import posting_for
from flows.model import Priority

log = structlog.get_logger("hotline.sla")

# KEYS[1] the last digest's moment; ARGV[1] now, ARGV[2] the interval (s). 1: taken now (the
# time is ours, not Redis's: the ticks pass it in)
_TAKE_DIGEST: Final = """
local last = redis.call('GET', KEYS[1])
if last and tonumber(ARGV[1]) - tonumber(last) < tonumber(ARGV[2]) then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'EX', 86400)
return 1
"""
# the digest taken at ARGV[1] was not sent: the slot is free again, unless taken since
_GIVE_BACK: Final = """
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 1
"""
DIGEST_LINES: Final = 30  # cases a digest names; it counts the rest
MENTIONS_MAX: Final = 20


@dataclass(frozen=True, slots=True)
class ClaimTimeouts:
    """Minutes an escalation may wait unclaimed before it is announced again, by priority."""

    emergency: float = 2
    recall: float = 5
    normal: float = 10

    def seconds(self, priority: int) -> float:
        if priority >= Priority.HIGHEST:
            return self.emergency * 60
        if priority >= Priority.HIGH:
            return self.recall * 60
        return self.normal * 60


class ServiceLevels:
    def __init__(
        self,
        desk: Desk,
        *,
        claim_timeouts: ClaimTimeouts | None = None,
        digest_minutes: float = 5,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.desk = desk
        self.timeouts = claim_timeouts or ClaimTimeouts()
        self.digest_interval = digest_minutes * 60
        self.clock = clock
        self._task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()

    async def tick(self, now: float | None = None) -> int:
        """Re-announce what waits too long, settle what the flow has closed, delete expired
        details; the number of re-announcements. An emergency is announced on its own, the
        operators on duty mentioned; the rest of what is due goes into one digest post, at most
        one per digest interval (by any process: the slot is taken in Redis). One case failing
        (flood control, the network) holds back neither the others nor the clean-up: it is
        logged and tried at the next tick (a re-announcement not sent is not marked as made)."""
        moment = self.clock() if now is None else now
        announced = 0
        waiting: list[DeskCase] = []
        for key in await self.desk.state.open_keys():
            try:
                announced += await self._tick_case(key, moment, waiting)
            except Exception as exc:
                # the type only: an exception's text may quote anything
                log.error("desk tick failed for a case", error=type(exc).__name__)
        if waiting:
            try:
                announced += await self._digest(waiting, moment)
            except Exception as exc:
                log.error("desk tick: digest failed", error=type(exc).__name__)
        try:
            await self.desk.sweep(moment)
        except Exception as exc:
            log.error("desk tick: details clean-up failed", error=type(exc).__name__)
        return announced

    async def _tick_case(self, key: str, moment: float, waiting: list[DeskCase]) -> int:
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
        if case.priority < Priority.HIGHEST:
            waiting.append(case)
            return 0
        previous = await state.take_announcement(key, moment, self.timeouts.seconds(case.priority))
        if previous is None:
            return 0
        text = desk.t(
            "desk-reannounce-emergency",
            code=desk.label(case),
            reason=case.reason or "none",
            minutes=int((moment - case.since) // 60),
            operators=self._on_duty(),
        )
        try:
            with posting_for(case.priority, case.since):
                await desk.announce(text, case)
        except Exception:
            await state.undo_announcement(key, moment, previous)
            raise
        return 1

    def _on_duty(self) -> str:
        """Mentions of the listed operators (a mention notifies him even in a busy group)."""
        desk = self.desk
        return ", ".join(
            f'<a href="tg://user?id={user_id}">{desk.t("desk-operator", n=n)}</a>'
            for n, user_id in enumerate(desk.operators.ids[:MENTIONS_MAX], 1)
        )

    async def _digest(self, waiting: list[DeskCase], moment: float) -> int:
        """One post for every non-emergency case due again, if no digest went out lately."""
        redis = self.desk.state.redis
        self.digest_key = f"{self.desk.store.prefix}:desk:digest"
        self._give_back = redis.register_script(_GIVE_BACK)
        taken = await redis.register_script(_TAKE_DIGEST)(
            keys=[self.digest_key], args=[repr(moment), repr(self.digest_interval)]
        )
        if not int(taken):
            return 0  # a digest went out less than an interval ago
        state = self.desk.state
        due: list[tuple[DeskCase, str]] = []
        for case in waiting:
            previous = await state.take_announcement(
                case.key, moment, self.timeouts.seconds(case.priority)
            )
            if previous is not None:
                due.append((case, previous))
        if not due:
            await self._give_back(keys=[self.digest_key], args=[repr(moment)])
            return 0  # nothing said: the slot stays free
        due.sort(key=lambda item: (-item[0].priority, item[0].since))
        try:
            with posting_for(due[0][0].priority, due[0][0].since):
                await self.desk.announce(self._digest_text([c for c, _ in due], moment))
        except Exception:
            for case, previous in due:
                await state.undo_announcement(case.key, moment, previous)
            await self._give_back(keys=[self.digest_key], args=[repr(moment)])
            raise
        return len(due)

    def _digest_text(self, cases: list[DeskCase], moment: float) -> str:
        desk = self.desk
        lines = [desk.t("desk-digest", count=len(cases))]
        for case in cases[:DIGEST_LINES]:
            lines.append(desk.t("desk-digest-line", **case_line(desk, case, moment)))
        if len(cases) > DIGEST_LINES:
            lines.append(desk.t("desk-digest-more", count=len(cases) - DIGEST_LINES))
        return "\n".join(lines)

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
