"""The Redis side of the desk lane (bot.desk.lane): its jobs pushed, by a round trip of their
own or riding on the records of his delivery (the deliverer's Riders, flows.outbox.Push); the
lane's worker takes them out (bot.desk.lane).

    {prefix}:{<conv key>}:desklane  list  sealed jobs (bot.desk.lane_jobs)
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, Final

from bot.desk import record_scripts
from bot.desk.desk import Desk
from flows.outbox import Push, Recorded

KEPT: Final = 2 * 86400  # a lane nobody works on goes after this long (as an outbox would)
LANE: Final = "desklane"
# The conversation whose delivery records take this task's jobs for it (`riding`)
RIDING: ContextVar[str | None] = ContextVar("desk_lane_riding", default=None)


class LaneRedis:
    def __init__(self, desk: Desk) -> None:
        self.desk = desk
        self.store = desk.store
        self.redis = desk.store.redis
        self._running: dict[str, bool] = {}  # key -> kicked again while running
        self._pushed: dict[str, list[str]] = {}  # key -> the jobs a worker about to start has
        self._riding: dict[str, list[str]] = {}  # key -> jobs waiting for his delivery's record
        self._topics: dict[str, int] = {}  # key -> the topic his record named, while it works
        # key -> what the job done last leaves to remember as it leaves, with the next one's read
        self._leaving: dict[str, list[int]] = {}
        self._leave = self.redis.register_script(record_scripts.LEAVE_LANE)

    def lane_key(self, key: str) -> str:
        return self.store.key(key, LANE)

    def _context(self, key: str) -> bytes:
        return key.encode() + b"|desklane"

    def kick(self, key: str) -> None:
        """Start the conversation's worker, or tell it more came (bot.desk.lane)."""
        raise NotImplementedError

    # -- riding on the records of his delivery (the deliverer's Riders) -------------------------
    @contextmanager
    def riding(self, key: str) -> Iterator[None]:
        token = RIDING.set(key)
        try:
            yield
        finally:
            RIDING.reset(token)
            self._riding.pop(key, None)  # its effect stopped short: applied again, made again

    def left(self, key: str) -> bool:
        return bool(self._riding.get(key))

    def waiting(self, key: str) -> bool:
        """Work of his is at work in this process, or waits for his delivery's record."""
        return key in self._running or self.left(key)

    def take(self, key: str) -> Push | None:
        records = self._riding.pop(key, None)
        if not records:
            return None
        return Push(LANE, tuple(records), KEPT, peek=("desk", "topic"))

    def landed(self, key: str, push: Push, recorded: Recorded) -> None:
        if recorded.pushed == len(push.records) and key not in self._running:
            self._pushed[key] = list(push.records)  # all the lane holds: its worker starts there
        if recorded.peeked is not None and recorded.peeked.isdigit():
            self._topics[key] = int(recorded.peeked)
        self.kick(key)

    async def _store(self, key: str, jobs: list[dict[str, Any]]) -> None:
        records = [self.store.sealer.seal_json(job, self._context(key)) for job in jobs]
        if RIDING.get() == key:
            self._riding.setdefault(key, []).extend(records)  # pushed with his progress
            return
        name = self.lane_key(key)
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.rpush(name, *records)
            pipe.expire(name, KEPT)
            length, _ = await pipe.execute()
        if int(length) == len(records) and key not in self._running:
            self._pushed[key] = records  # all the lane holds: its worker starts from them
        self.kick(key)
