"""The desk's share of a caller's effects, done in a lane of its own per conversation.

A caller's batch is rendered in order: his replies, and what the desk must do (escalate, relay,
alert, case events, erase). Group posts wait for the group's budget (bot.group_posts), which a
flood of probes can fill for many minutes; were the desk's work done in the caller's own
delivery, his next answer would wait behind it. So the renderer hands the desk's effects to this
lane (it is the renderer's DeskPort) and goes on at once: each is written to a Redis list of the
conversation (sealed: a relay holds his words), and a worker per conversation applies them to
the desk in the order they came, under the priority of the case (`posting_for`).

Durable: the batch leaves the outbox once its desk effects are in the lane, and a job leaves the
lane once applied (at least once; a stopped process's lane is resumed at start: a lane that
holds jobs is a key of its own, found by its name). Key:

    {prefix}:{<conv key>}:desklane  list  sealed jobs: the effect, the chat, the conversation's
                                          meta, the names of the details given and the case
                                          code, as the effect saw them

A job the caller's delivery makes rides on the record of its effect's progress (it is the
deliverer's `Riders`; bot.desk.lane_redis): pushed in the same step, exactly when that progress
is recorded, so no round trip of its own, and a process killed between the two neither loses
nor doubles it (effects that go to the desk alone, one after the other, share one record). That
step also reads the topic his record names, so the job's first read checks at once whom the
topic talks to. A job leaves the lane once done: with the next job's read when it leaves
nothing to remember, else by one script (the jobs waiting are read at once, a batch at a time;
the jobs just pushed into an empty lane are not read back); a worker ends when its lane is
empty and nothing was pushed meanwhile (every push in this process kicks it). Other desk work
(no delivery of his under way) is pushed by a round trip of its own.

A job for a conversation that is gone by then (he erased it) is dropped, but for case events and
the erase itself, which end what the desk holds of it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping
from contextvars import ContextVar
from typing import Any, Final, Protocol

import structlog

from bot.desk.audit import Audit
from bot.desk.desk import Desk
from bot.desk.events import HEARD
from bot.desk.lane_jobs import job_of, read_job
from bot.desk.lane_redis import RIDING, LaneRedis
from bot.group_posts import posting_for
from flows import codec
from flows.model import (
    CaseEvent,
    Conversation,
    Effect,
    Escalate,
    LinkNotice,
    Priority,
    Relay,
    SilentAlert,
)
from flows.sealing import SealError

log = structlog.get_logger("hotline.desk")

RETRY_FIRST: Final = 1.0
RETRY_MAX: Final = 60.0
LINKS_LANE: Final = "links"  # link notices name a case, not a conversation
# The conversation whose effects the renderer hands over in this task (its deliverer's: one
# conversation's batches, in order), once one of them named it
DELIVERING: ContextVar[str | None] = ContextVar("desk_lane_delivering", default=None)
BATCH: Final = 50  # jobs read at once
LEGACY_INDEX: Final = "desk:lanes"  # the zset of lanes earlier releases kept
SCREENED: Final = frozenset({"escalate", "relay", "alert"})  # what a mark holds back


class Marks(Protocol):
    """Suspected probes and blocked accounts (bot.desk.marks)."""

    def mark_key(self, key: str) -> str: ...

    async def of_conversation(
        self, key: str, conversation: Conversation | None, own: Mapping[str, str] | None = None
    ) -> Marked | None: ...


class Marked(Protocol):
    @property
    def kind(self) -> str: ...


class DeskLane(LaneRedis):
    def __init__(self, desk: Desk, *, clock: Callable[[], float] = time.time) -> None:
        super().__init__(desk)
        self.marks: Marks | None = None
        self.audit: Audit | None = None  # for the steps of desk work that write its line
        # desk work of no conversation, by op: the handler of one step, returning the steps
        # that follow from what it found (bot.desk.strangers)
        self.steps: dict[str, Callable[[dict[str, Any]], Awaitable[list[dict[str, Any]]]]] = {}
        self.clock = clock
        self._tasks: set[asyncio.Task[None]] = set()
        self._timers: dict[str, asyncio.TimerHandle] = {}
        self._backoff: dict[str, float] = {}

    # -- the renderer's DeskPort --------------------------------------------------------------
    async def escalate(
        self, key: str, conversation: Conversation, chat_id: int, effect: Escalate
    ) -> None:
        await self._push(key, "escalate", conversation, effect, chat_id)

    async def relay_from_caller(
        self, key: str, conversation: Conversation, chat_id: int, effect: Relay
    ) -> None:
        await self._push(key, "relay", conversation, effect, chat_id)

    async def alert(self, key: str, conversation: Conversation, effect: SilentAlert) -> None:
        await self._push(key, "alert", conversation, effect)

    async def case_event(self, key: str, conversation: Conversation, effect: CaseEvent) -> None:
        DELIVERING.set(key)
        if effect.kind not in HEARD:
            return
        # (his lane at work in this process holds work of his: no need to ask)
        if not self.waiting(key) and not await self.desk.state.holds_anything(key):
            # he never reached the desk (registered and left, say) and no work of his waits in
            # the lane: no job, no record; the hooks hear of it at once
            await self.desk.unheld_event(conversation, effect)
            return
        await self._push(key, "event", conversation, effect)

    async def link_notice(self, effect: LinkNotice) -> None:
        # about a case as a whole (a link made, a check failed): after what the desk does for
        # the conversation it came from (his own ending: his record leaves the topic first),
        # else in a lane of their own
        await self._push(DELIVERING.get() or LINKS_LANE, "link", None, effect)

    async def erase(self, key: str) -> None:
        DELIVERING.set(key)
        if self.waiting(key) or await self.desk.state.holds_anything(key):  # else nothing
            await self._push(key, "erase", None, None)

    async def erase_owner(self, key: str, *, keep_topic: bool) -> None:
        """The owner's record of a case ended from a linked phone: erased with its
        conversation right after this, so at once, while its topic is found (no post is made).
        The case's topic goes with it unless the case was met: that one stays closed until
        bot.desk.retention deletes it, as any met case's."""
        await self.desk.erase(key, topic=not keep_topic)

    # -- the lane -----------------------------------------------------------------------------
    async def _push(
        self,
        key: str,
        op: str,
        conversation: Conversation | None,
        effect: Effect | None,
        chat_id: int | None = None,
    ) -> None:
        if conversation is not None:
            DELIVERING.set(key)
        await self._store(key, [job_of(op, conversation, effect, chat_id, self.clock())])

    async def queue(self, lane: str, jobs: list[dict[str, Any]]) -> None:
        """Desk work about no conversation (someone joined the group), one job per step, all
        pushed at once: each step leaves the lane once done, so a network error repeats none
        that was done and loses none that was not. A job's op is one of `steps` (or "audit",
        "announce"); its handler may queue the steps that follow from what it found."""
        at = self.clock()
        await self._store(lane, [{"at": at, "p": int(Priority.HIGH), **job} for job in jobs])

    def kick(self, key: str) -> None:
        timer = self._timers.pop(key, None)
        if timer is not None:
            timer.cancel()
        if key in self._running:
            self._running[key] = True
            return
        self._running[key] = False
        task = asyncio.create_task(self._work(key))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def resume(self) -> int:
        """Take up the lanes a stopped process left (every node of a cluster is scanned);
        how many."""
        head, tail = self.lane_key("\0").split("\0")
        keys: set[str] = set()
        async for raw in self.redis.scan_iter(match=f"{head}*{tail}", count=1000, _type="list"):
            name = raw.decode() if isinstance(raw, bytes) else str(raw)
            keys.add(name.removeprefix(head).removesuffix(tail))
        for key in sorted(keys):
            self.kick(key)
        await self.redis.delete(f"{self.store.prefix}:{LEGACY_INDEX}")
        return len(keys)

    async def _work(self, key: str) -> None:
        RIDING.set(None)  # (a worker kicked from a delivery pushes its own jobs)
        failed = False
        name = self.lane_key(key)
        try:
            pushed: list[Any] | None = self._pushed.pop(key, None)
            while True:
                self._running[key] = False
                # (only the commands the deployment's Redis ACL grants: LRANGE and LTRIM)
                jobs = pushed or await self.redis.lrange(name, 0, BATCH - 1)
                pushed = None
                while jobs:
                    for raw in jobs:
                        # (it leaves the lane with the next job's read, or by itself below)
                        self._leaving[key] = await self._apply(
                            key, raw.decode() if isinstance(raw, bytes) else raw
                        )
                    await self._done(key)
                    if len(jobs) < BATCH:
                        break
                    jobs = await self.redis.lrange(name, 0, BATCH - 1)
                if not self._running[key]:
                    break  # nothing pushed meanwhile (a push kicks this worker again)
        except Exception as exc:
            failed = True
            log.error("desk lane failed, tried again later", error=type(exc).__name__)
        finally:
            del self._running[key]
            self._topics.pop(key, None)
            self._leaving.pop(key, None)  # (not known to have left: done again, at least once)
        if failed:
            delay = min(RETRY_MAX, self._backoff.get(key, RETRY_FIRST / 2) * 2)
            self._backoff[key] = delay
            loop = asyncio.get_running_loop()
            self._timers[key] = loop.call_later(delay, self._retry, key)
        else:
            self._backoff.pop(key, None)

    async def _done(self, key: str) -> None:
        """The job done last leaves the lane (if it has not yet), with what it leaves to
        remember (in the same slot, one script)."""
        shown = self._leaving.pop(key, None)
        if shown is None:
            return
        name = self.lane_key(key)
        if not shown:
            await self.redis.ltrim(name, 1, -1)
            return
        posts = self.desk.shared.posts_key(key)  # what showed him in the group
        await self._leave(keys=[name, posts], args=[self.desk.state.ttl_ms, *shown])

    async def _leaving_in(self, pipe: Any, key: str) -> int:
        """The job done last leaves the lane in `pipe`, the round trip of the next one's read,
        when it has nothing to remember (else on its own: a script in a pipeline costs a round
        trip more); how many commands it queued there."""
        if self._leaving.get(key):
            await self._done(key)
        if self._leaving.pop(key, None) is None:
            return 0
        pipe.ltrim(self.lane_key(key), 1, -1)
        return 1

    def _retry(self, key: str) -> None:
        self._timers.pop(key, None)
        self.kick(key)

    async def _apply(self, key: str, record: str) -> list[int]:
        """Do one job; the group's messages it posted that show what he sent."""
        try:
            job = self.store.sealer.unseal_json(record, self._context(key))
            read = read_job(job)
        except (SealError, codec.CodecError, KeyError, TypeError, ValueError) as exc:
            log.error("desk lane job unreadable: dropped", error=type(exc).__name__)
            return []
        op, effect, conversation, chat = read.op, read.effect, read.conversation, read.chat
        priority, since = read.priority, read.since
        if op in self.steps or op in ("audit", "announce") or op == "erase" or op == "link":
            await self._done(key)  # (no read of his to take the job before out with)
        if op in self.steps or op in ("audit", "announce"):
            with posting_for(priority, since):
                await self._desk_step(key, op, job)
            return []
        if op == "erase" or op == "link":
            # what ends what the desk holds, or is about a case as a whole: also done when
            # his conversation is gone
            with posting_for(priority, since):
                if op == "erase":
                    await self.desk.erase(key)
                elif isinstance(effect, LinkNotice):
                    await self.desk.link_notice(effect)
            return []
        screened = op in SCREENED and self.marks is not None
        names = [self.marks.mark_key(key)] if self.marks is not None and screened else []
        # his conversation, his record, his mark and whom his topic talks to: what the work
        # starts from, at once
        hint = self._topics.get(key)
        exists, current, found, speaking = await self.desk.state.at_work(
            key, *names, topic=hint, first=lambda pipe: self._leaving_in(pipe, key)
        )
        if current is not None and current.topic is not None:
            self._topics[key] = current.topic  # for his next job in this run
        if op != "event" and not exists:
            return []  # he erased it meanwhile: nothing of it goes to the group any more
        if screened and self.marks is not None:
            mark = await self.marks.of_conversation(key, conversation, found[0])
            if mark is not None and mark.kind == "block":
                return []  # nothing of a blocked account reaches the group; he sees no change
            if mark is not None:  # a suspected probe: normal priority, the card says why
                priority = int(Priority.NORMAL)
                if isinstance(effect, Escalate):
                    effect = Escalate(Priority.NORMAL, effect.reason)
        desk = self.desk
        with posting_for(priority, since):
            if op == "escalate" and isinstance(effect, Escalate) and isinstance(chat, int):
                await desk.escalate(key, conversation, chat, effect, current=current, loaded=True)
            elif op == "relay" and isinstance(effect, Relay) and isinstance(chat, int):
                return await desk.relay_from_caller(
                    key,
                    conversation,
                    chat,
                    effect,
                    current=current,
                    loaded=True,
                    remember=False,
                    speaking=speaking,
                )
            elif op == "alert" and isinstance(effect, SilentAlert):
                await desk.alert(key, conversation, effect, current=current, loaded=True)
            elif op == "event" and isinstance(effect, CaseEvent):
                await desk.case_event(key, conversation, effect, current=current, loaded=True)
            else:
                log.error("desk lane job of an unknown kind: dropped", op=op)
        return []

    async def _desk_step(self, lane: str, op: str, job: dict[str, Any]) -> None:
        if op == "audit":
            if self.audit is not None:
                extra = {str(k): str(v) for k, v in (job.get("extra") or {}).items()}
                await self.audit.record(str(job["who"]), str(job["what"]), "-", **extra)
        elif op == "announce":
            await self.desk.announce(str(job["text"]))
        else:
            # what follows from what it found goes into the lane before the job leaves it
            following = await self.steps[op](job)
            if following:
                await self._store(lane, [{"at": self.clock(), **j} for j in following])

    async def drain(self) -> None:
        """Until every lane kicked so far is done (tests, the console)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def stop(self) -> None:
        """Shutdown: what waits stays in Redis for the next start."""
        for timer in self._timers.values():
            timer.cancel()
        self._timers.clear()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
