"""Consumers of hook events (flows.hooks): an HTTP webhook, and the wiring chosen by HOOKS.

The webhook consumer never blocks the caller's flow: `handle` only queues the event, and one
background task posts it, retrying with exponential backoff on a network error or a non-2xx
answer, a bounded number of times. The queue is a Redis stream read through a consumer group
when the app has Redis (an event queued survives a restart; one a dead process had taken is
taken over after `claim_idle` seconds), else a bounded in-memory queue.

The body is JSON; `X-Hotline-Signature: sha256=<hex>` is HMAC-SHA256 of the raw body under
HOOK_WEBHOOK_SECRET, `X-Hotline-Timestamp` the Unix time of the attempt (also in the signed
body as `sent_at`, so a receiver can refuse replays).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import os
import random
import secrets
import time
from collections.abc import Awaitable, Callable
from typing import Any, Final, Protocol

import aiohttp
import redis.exceptions
import structlog
from redis.asyncio import Redis

from flows.hooks import HookConsumer, HookEvent, Hooks, LogConsumer

log = structlog.get_logger("hotline.hooks")

SIGNATURE_HEADER: Final = "X-Hotline-Signature"
TIMESTAMP_HEADER: Final = "X-Hotline-Timestamp"
EVENT_HEADER: Final = "X-Hotline-Event"


def sign(secret: bytes, body: bytes) -> str:
    """The signature header's value for this body."""
    return "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()


def verify(secret: bytes, body: bytes, header: str) -> bool:
    """What a receiver does (and the tests): compare in constant time."""
    return hmac.compare_digest(sign(secret, body), header)


class EventQueue(Protocol):
    """Where events wait for the worker: `take` waits a little for some, `done` forgets one."""

    dropped: int

    async def put(self, event: HookEvent) -> None: ...

    async def take(self) -> list[tuple[str, HookEvent]]: ...

    async def done(self, entry: str) -> None: ...

    async def join(self) -> None: ...

    async def length(self) -> int: ...


class MemoryQueue:
    """Bounded: when the receiver is down for long, the oldest event goes."""

    def __init__(self, size: int) -> None:
        self._queue: asyncio.Queue[HookEvent] = asyncio.Queue(maxsize=size)
        self.dropped = 0

    async def put(self, event: HookEvent) -> None:
        if self._queue.full():
            self._queue.get_nowait()
            self._queue.task_done()
            self.dropped += 1
            log.error("webhook queue full: oldest event dropped")
        self._queue.put_nowait(event)

    async def take(self) -> list[tuple[str, HookEvent]]:
        return [("", await self._queue.get())]

    async def done(self, entry: str) -> None:
        self._queue.task_done()

    async def join(self) -> None:
        await self._queue.join()

    async def length(self) -> int:
        return self._queue.qsize()


class StreamQueue:
    """A Redis stream and a consumer group: at least once, across restarts and processes.
    Entries hold hook events only (nothing personal, by HookEvent's own checks); the stream is
    capped near `size` entries, the oldest going first, like the memory queue."""

    GROUP: Final = "webhook"

    def __init__(self, redis: Redis, key: str, size: int, *, claim_idle: float = 300.0) -> None:
        self.redis = redis
        self.key = key
        self.size = size
        self.claim_idle_ms = int(claim_idle * 1000)
        self.consumer = f"{os.getpid()}-{secrets.token_hex(4)}"
        self.dropped = 0  # the cap trims inside Redis: not counted here
        self._ready = False
        self._claimed_at = 0.0

    async def _ensure_group(self) -> None:
        if self._ready:
            return
        with contextlib.suppress(redis.exceptions.ResponseError):  # BUSYGROUP: it exists
            await self.redis.xgroup_create(self.key, self.GROUP, id="0", mkstream=True)
        self._ready = True

    async def put(self, event: HookEvent) -> None:
        body = json.dumps(event.as_dict(), separators=(",", ":"))
        await self.redis.xadd(self.key, {"e": body}, maxlen=self.size, approximate=True)

    async def take(self) -> list[tuple[str, HookEvent]]:
        await self._ensure_group()
        entries: list[Any] = []
        now = time.monotonic()
        if now - self._claimed_at >= self.claim_idle_ms / 1000:
            # what a process that died had taken and never finished
            self._claimed_at = now
            try:
                _, entries, *_ = await self.redis.xautoclaim(
                    self.key, self.GROUP, self.consumer, self.claim_idle_ms, "0-0", count=100
                )
            except redis.exceptions.ResponseError as exc:
                if "NOGROUP" in str(exc):
                    self._ready = False
                raise
        if not entries:
            try:
                answer: Any = await self.redis.xreadgroup(
                    self.GROUP, self.consumer, {self.key: ">"}, count=50, block=1000
                )
            except redis.exceptions.ResponseError as exc:
                if "NOGROUP" in str(exc):  # Redis lost the group (a restart, a flush): anew
                    self._ready = False
                raise
            entries = answer[0][1] if answer else []
        if not entries:
            await asyncio.sleep(0.05)  # a backend that does not block (fakeredis) must not spin
        taken: list[tuple[str, HookEvent]] = []
        for raw_id, fields in entries:
            entry = raw_id.decode() if isinstance(raw_id, bytes) else str(raw_id)
            event = _event_of(fields)
            if event is None:
                await self.done(entry)  # unreadable: dropping it is all that can be done
            else:
                taken.append((entry, event))
        return taken

    async def done(self, entry: str) -> None:
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.xack(self.key, self.GROUP, entry)
            pipe.xdel(self.key, entry)
            await pipe.execute()

    async def length(self) -> int:
        return int(await self.redis.xlen(self.key))

    async def join(self) -> None:
        # the queue lives in Redis, shared with other processes: only asking it can tell
        while await self.redis.xlen(self.key):  # noqa: ASYNC110
            await asyncio.sleep(0.01)


def _event_of(fields: Any) -> HookEvent | None:
    try:
        raw = fields.get(b"e", fields.get("e"))
        data = json.loads(raw)
        return HookEvent(
            data["kind"],
            data["case"],
            float(data["at"]),
            priority=data.get("priority"),
            reason=data.get("reason"),
            id=data["id"],
        )
    except (TypeError, ValueError, KeyError, AttributeError) as exc:
        log.error("unreadable webhook queue entry dropped", error=type(exc).__name__)
        return None


class WebhookConsumer:
    """Posts each event, signed, to one URL; a queue and a worker keep it off the caller's path."""

    def __init__(
        self,
        url: str,
        secret: bytes,
        *,
        attempts: int = 6,
        backoff: float = 1.0,
        max_backoff: float = 60.0,
        timeout: float = 10.0,
        queue_size: int = 10_000,
        queue: EventQueue | None = None,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        if not secret:
            raise ValueError("a webhook consumer needs a secret to sign with")
        if attempts < 1:
            raise ValueError("at least one attempt")
        self.url = url
        self._secret = secret
        self.attempts = attempts
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.timeout = aiohttp.ClientTimeout(total=timeout)
        self.clock = clock
        self.sleep = sleep
        self._queue: EventQueue = queue if queue is not None else MemoryQueue(queue_size)
        self._worker: asyncio.Task[None] | None = None
        self._session: aiohttp.ClientSession | None = None
        self.delivered = 0
        self.failed = 0

    @property
    def dropped(self) -> int:
        return self._queue.dropped

    async def queue_length(self) -> int:
        """Events waiting to be posted (a Redis stream counts other processes' too)."""
        return await self._queue.length()

    def __repr__(self) -> str:
        return "WebhookConsumer(<url and secret hidden>)"

    async def handle(self, event: HookEvent) -> None:
        await self._queue.put(event)
        self.start()

    def start(self) -> None:
        """Run the worker (also at start-up: a durable queue may hold events from before)."""
        if self._worker is None or self._worker.done():
            self._worker = asyncio.create_task(self._work(), name="hotline-webhook")

    def body(self, event: HookEvent, sent_at: float) -> bytes:
        data = {**event.as_dict(), "sent_at": round(sent_at, 3)}
        return json.dumps(data, separators=(",", ":"), sort_keys=True).encode()

    async def _work(self) -> None:
        while True:
            try:
                taken = await self._queue.take()
            except redis.exceptions.RedisError as exc:
                log.error("webhook queue unavailable", error=type(exc).__name__)
                await self.sleep(self.backoff)
                continue
            for entry, event in taken:
                await self._deliver(event)
                # delivered or given up: either way it leaves the queue (a crash before this
                # line delivers it again: receivers drop repeats by event id)
                with contextlib.suppress(redis.exceptions.RedisError):
                    await self._queue.done(entry)

    async def _deliver(self, event: HookEvent) -> bool:
        for attempt in range(1, self.attempts + 1):
            outcome = await self._post(event)
            if outcome is None:
                self.delivered += 1
                return True
            log.warning("webhook attempt failed", attempt=attempt, outcome=outcome)
            if attempt < self.attempts:
                delay = min(self.max_backoff, self.backoff * 2 ** (attempt - 1))
                await self.sleep(delay * (0.5 + random.random() / 2))  # jitter
        self.failed += 1
        log.error("webhook gave up", kind=event.kind, case=event.case, attempts=self.attempts)
        return False

    async def _post(self, event: HookEvent) -> str | None:
        """None when delivered, else what went wrong (a status or an error type)."""
        sent_at = self.clock()
        body = self.body(event, sent_at)
        headers = {
            "Content-Type": "application/json",
            SIGNATURE_HEADER: sign(self._secret, body),
            TIMESTAMP_HEADER: str(int(sent_at)),
            EVENT_HEADER: event.kind,
        }
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=self.timeout)
        try:
            async with self._session.post(self.url, data=body, headers=headers) as response:
                await response.read()
                if 200 <= response.status < 300:
                    return None
                return f"http {response.status}"
        except (aiohttp.ClientError, TimeoutError) as exc:
            return type(exc).__name__

    async def drain(self) -> None:
        """Wait until every queued event was delivered or given up on (tests, shutdown)."""
        self.start()
        await self._queue.join()

    async def aclose(self, grace: float = 2.0) -> None:
        """Within about `grace` seconds and one more: what is not posted by then stays queued
        (in Redis: for the next start), and a cancel swallowed by a blocking read is not
        waited for."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.drain(), grace)
        if self._worker is not None:
            self._worker.cancel()
            await asyncio.wait({self._worker}, timeout=1.0)
        if self._session is not None:
            await self._session.close()


class FeedPoster(Protocol):
    """What the built-in desk consumer needs from the operator desk (bot.desk.Desk)."""

    async def feed(self, event: HookEvent) -> None: ...


class DeskFeed:
    """The operator group as a consumer: lifecycle events appear in its queue view."""

    def __init__(self, desk: FeedPoster) -> None:
        self.desk = desk

    async def handle(self, event: HookEvent) -> None:
        await self.desk.feed(event)


def build_consumers(
    names: frozenset[str],
    desk: FeedPoster,
    *,
    webhook_url: str | None = None,
    webhook_secret: bytes | None = None,
    webhook_attempts: int = 6,
    redis: Redis | None = None,
    prefix: str = "hl",
) -> list[HookConsumer]:
    """The consumers HOOKS names, in a fixed order: desk, log, webhook (its queue a Redis
    stream when `redis` is given)."""
    consumers: list[HookConsumer] = []
    if "desk" in names:
        consumers.append(DeskFeed(desk))
    if "log" in names:
        consumers.append(LogConsumer())
    if "webhook" in names:
        if not webhook_url or not webhook_secret:
            raise ValueError("the webhook consumer needs HOOK_WEBHOOK_URL and HOOK_WEBHOOK_SECRET")
        queue = None if redis is None else StreamQueue(redis, f"{prefix}:hooks:webhook", 10_000)
        consumers.append(
            WebhookConsumer(webhook_url, webhook_secret, attempts=webhook_attempts, queue=queue)
        )
    return consumers


def start_consumers(hooks: Hooks) -> None:
    for consumer in hooks.consumers:
        if isinstance(consumer, WebhookConsumer):
            consumer.start()


async def close_consumers(hooks: Hooks) -> None:
    for consumer in hooks.consumers:
        if isinstance(consumer, WebhookConsumer):
            await consumer.aclose()
