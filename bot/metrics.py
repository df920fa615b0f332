"""Prometheus metrics: what the team that runs the bot watches (docs/deploy.md says what for).

Labels are kinds only (an update's kind, a Bot API method's name, an outcome, a priority
name, a consumer's name): never an id, a case code, a chat or anything a caller wrote, so a
scrape of /metrics says how the hotline works and nothing about who calls it.

Counters and histograms are moved where things happen, each by a one-line call
(`metrics.REVEALS.inc()`); the gauges of what waits in Redis are read when /metrics is
scraped (bot/health.py), so they cost nothing while nobody looks.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from typing import Any, Generic, TypeVar

from aiogram import BaseMiddleware, Bot
from aiogram.client.session.middlewares.base import BaseRequestMiddleware
from aiogram.exceptions import TelegramRetryAfter
from aiogram.methods import GetUpdates, GetWebhookInfo, Response
from aiogram.types import TelegramObject, Update
from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.gc_collector import GCCollector
from prometheus_client.platform_collector import PlatformCollector
from prometheus_client.process_collector import ProcessCollector

from bot.middlewares.chain import Data, Method, Next, NextRequest, R

REGISTRY = CollectorRegistry()
ProcessCollector(registry=REGISTRY)
PlatformCollector(registry=REGISTRY)
GCCollector(registry=REGISTRY)

UPDATES = Counter(
    "hotline_updates",
    "Telegram updates, by kind and outcome (handled, failed: not acknowledged)",
    ["kind", "outcome"],
    registry=REGISTRY,
)
REDELIVERED = Counter(
    "hotline_updates_redelivered",
    "Updates that came again after failing in this process",
    ["kind"],
    registry=REGISTRY,
)
UPDATE_SECONDS = Histogram(
    "hotline_update_seconds",
    "Time to handle an update, up to its commit (sending happens after)",
    ["kind"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
    registry=REGISTRY,
)
STORE_UNAVAILABLE = Counter(
    "hotline_store_unavailable",
    "Updates that failed because Redis was unusable (down, read-only, out of memory)",
    registry=REGISTRY,
)
OUTBOX_PENDING = Gauge(
    "hotline_outbox_pending_conversations",
    "Conversations whose committed answers are not all sent yet",
    registry=REGISTRY,
)
BOT_API_CALLS = Counter(
    "hotline_bot_api_calls",
    "Bot API requests, by method and outcome (ok, error, retry_after)",
    ["method", "outcome"],
    registry=REGISTRY,
)
BOT_API_WAITED = Counter(
    "hotline_bot_api_waited_seconds",
    "Seconds spent waiting for Telegram's rate limits, 429 retry_after included",
    registry=REGISTRY,
)
ESCALATIONS_WAITING = Gauge(
    "hotline_escalations_waiting",
    "Open escalations no operator has claimed, by priority",
    ["priority"],
    registry=REGISTRY,
)
TIME_TO_CLAIM = Histogram(
    "hotline_time_to_claim_seconds",
    "From an escalation's opening to its first claim",
    buckets=(30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14400),
    registry=REGISTRY,
)
HOOK_QUEUE = Gauge(
    "hotline_hook_queue_length",
    "Case events waiting for the HTTP hook consumer",
    registry=REGISTRY,
)
REVEALS = Counter(
    "hotline_details_reveals",
    "Times an operator had a caller's details shown",
    registry=REGISTRY,
)
SCRAPE_FAILED = Counter(
    "hotline_metrics_refresh_failed",
    "Scrapes whose Redis-backed gauges could not be read in time (they keep older values)",
    registry=REGISTRY,
)

_REMEMBERED_FAILURES = 10_000

_M = TypeVar("_M", Counter, Histogram)


class Children(Generic[_M]):
    """A labelled metric's children, looked up once per label set instead of by `.labels()` on
    every update and request (its checks and lock each time). Only for labels of a bounded
    set of kinds (an update's kind, a method's name, an outcome), as every label here is."""

    def __init__(self, metric: _M) -> None:
        self.metric: _M = metric
        self._children: dict[tuple[str, ...], _M] = {}

    def __call__(self, *labels: str) -> _M:
        child = self._children.get(labels)
        if child is None:
            child = self._children[labels] = self.metric.labels(*labels)
        return child


class UpdateMetrics(BaseMiddleware):
    """The outermost update middleware: counts each update by kind and outcome, times it, and
    tells a redelivery (the same update id failing here before) from a first delivery."""

    def __init__(self) -> None:
        self._failed: OrderedDict[int, None] = OrderedDict()
        self._updates = Children(UPDATES)
        self._seconds = Children(UPDATE_SECONDS)
        self._redelivered = Children(REDELIVERED)
        self.last_update: float | None = None  # monotonic: Telegram was heard from

    async def __call__(self, handler: Next, event: TelegramObject, data: Data) -> Any:
        self.last_update = time.monotonic()
        if not isinstance(event, Update):
            return await handler(event, data)
        kind = event.event_type
        if event.update_id in self._failed:
            self._redelivered(kind).inc()
        started = time.perf_counter()
        try:
            result = await handler(event, data)
        except BaseException:
            self._updates(kind, "failed").inc()
            self._failed[event.update_id] = None
            while len(self._failed) > _REMEMBERED_FAILURES:
                self._failed.popitem(last=False)
            raise
        finally:
            self._seconds(kind).observe(time.perf_counter() - started)
        self._updates(kind, "handled").inc()
        self._failed.pop(event.update_id, None)
        return result


class BotApiMetrics(BaseRequestMiddleware):
    """Every request that leaves for Telegram (inside the throttle: a 429 retried is two
    requests), and when Telegram last answered getUpdates or getWebhookInfo (for /readyz)."""

    def __init__(self) -> None:
        self.last_contact: float | None = None  # monotonic
        self._calls = Children(BOT_API_CALLS)

    async def __call__(
        self, make_request: NextRequest[R], bot: Bot, method: Method[R]
    ) -> Response[R]:
        name = type(method).__name__
        try:
            response = await make_request(bot, method)
        except TelegramRetryAfter:
            self._calls(name, "retry_after").inc()
            raise
        except Exception:
            self._calls(name, "error").inc()
            raise
        self._calls(name, "ok").inc()
        if isinstance(method, GetUpdates | GetWebhookInfo):
            self.last_contact = time.monotonic()
        return response


def render() -> bytes:
    """The text exposition format of every metric."""
    return generate_latest(REGISTRY)
