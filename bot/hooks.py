"""Consumers of hook events (flows.hooks): an HTTP webhook, and the wiring chosen by HOOKS.

The webhook consumer never blocks the caller's flow: `handle` only queues the event, and one
background task posts it, retrying with exponential backoff on a network error or a non-2xx
answer, a bounded number of times. The body is JSON; `X-Hotline-Signature: sha256=<hex>` is
HMAC-SHA256 of the raw body under HOOK_WEBHOOK_SECRET, `X-Hotline-Timestamp` the Unix time of
the attempt (also in the signed body as `sent_at`, so a receiver can refuse replays).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import random
import time
from collections.abc import Awaitable, Callable
from typing import Final, Protocol

import aiohttp
import structlog

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
        self._queue: asyncio.Queue[HookEvent] = asyncio.Queue(maxsize=queue_size)
        self._worker: asyncio.Task[None] | None = None
        self._session: aiohttp.ClientSession | None = None
        self.delivered = 0
        self.failed = 0
        self.dropped = 0

    def __repr__(self) -> str:
        return "WebhookConsumer(<url and secret hidden>)"

    async def handle(self, event: HookEvent) -> None:
        if self._queue.full():
            # bounded memory when the receiver is down for long: the oldest event goes
            self._queue.get_nowait()
            self._queue.task_done()
            self.dropped += 1
            log.error("webhook queue full: oldest event dropped")
        self._queue.put_nowait(event)
        if self._worker is None or self._worker.done():
            self._worker = asyncio.create_task(self._work(), name="hotline-webhook")

    def body(self, event: HookEvent, sent_at: float) -> bytes:
        data = {**event.as_dict(), "sent_at": round(sent_at, 3)}
        return json.dumps(data, separators=(",", ":"), sort_keys=True).encode()

    async def _work(self) -> None:
        while True:
            event = await self._queue.get()
            try:
                await self._deliver(event)
            finally:
                self._queue.task_done()

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
        await self._queue.join()

    async def aclose(self, grace: float = 5.0) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._queue.join(), grace)
        if self._worker is not None:
            self._worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._worker
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
) -> list[HookConsumer]:
    """The consumers HOOKS names, in a fixed order: desk, log, webhook."""
    consumers: list[HookConsumer] = []
    if "desk" in names:
        consumers.append(DeskFeed(desk))
    if "log" in names:
        consumers.append(LogConsumer())
    if "webhook" in names:
        if not webhook_url or not webhook_secret:
            raise ValueError("the webhook consumer needs HOOK_WEBHOOK_URL and HOOK_WEBHOOK_SECRET")
        consumers.append(WebhookConsumer(webhook_url, webhook_secret, attempts=webhook_attempts))
    return consumers


async def close_consumers(hooks: Hooks) -> None:
    for consumer in hooks.consumers:
        if isinstance(consumer, WebhookConsumer):
            await consumer.aclose()
