"""/metrics, /healthz and /readyz on METRICS_PORT, in polling and webhook mode alike (the
image's HEALTHCHECK, `python -m bot.probe`, asks /readyz on the loopback).

/healthz answers while the process's event loop does. /readyz says whether the bot can serve
callers now: Redis answers, Telegram was heard from lately (an answered getUpdates in polling
mode; a webhook request, or an answered getWebhookInfo, which the server asks for every
minute, in webhook mode), and the background loops run. Its JSON body names the checks
only.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter as Tally
from collections.abc import Callable
from contextlib import suppress

import structlog
from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST

from bot import metrics
from bot.app import App
from bot.desk.desk import PRIORITY_NAMES, priority_name

log = structlog.get_logger("hotline.health")

REDIS_LIMIT = 1.0  # seconds /readyz waits for Redis's answer
REFRESH_LIMIT = 3.0  # seconds a scrape may spend reading the gauges from Redis
STALE = 120.0  # seconds without word from Telegram before /readyz fails (a long poll is 30 s)
WEBHOOK_PROBE_EVERY = 60.0


class Readiness:
    def __init__(self, app: App, *, stale: float = STALE) -> None:
        self.app = app
        self.stale = stale
        # more background loops may report here (name -> alive?)
        self.loops: dict[str, Callable[[], bool]] = {
            "desk_tick": lambda: app.service_levels.running,
            "delivery": lambda: app.delivering,
        }

    async def checks(self) -> dict[str, bool]:
        result = {"redis": await self._redis(), "telegram": self._telegram()}
        result.update((name, alive()) for name, alive in self.loops.items())
        return result

    async def _redis(self) -> bool:
        try:
            return bool(await asyncio.wait_for(self.app.redis.ping(), REDIS_LIMIT))
        except Exception:
            return False

    def _telegram(self) -> bool:
        heard = [
            t
            for t in (self.app.api_metrics.last_contact, self.app.update_metrics.last_update)
            if t is not None
        ]
        return bool(heard) and time.monotonic() - max(heard) < self.stale


class Gauges:
    """What waits in Redis, read into the gauges when /metrics is scraped."""

    def __init__(self, app: App) -> None:
        self.app = app
        self._waited = 0.0

    async def refresh(self) -> None:
        throttle = self.app.throttle
        if throttle is not None and throttle.waited > self._waited:
            metrics.BOT_API_WAITED.inc(throttle.waited - self._waited)
            self._waited = throttle.waited
        try:
            await asyncio.wait_for(self._read(), REFRESH_LIMIT)
        except Exception as exc:
            metrics.SCRAPE_FAILED.inc()
            log.warning("metrics refresh failed", error=type(exc).__name__)

    async def _read(self) -> None:
        from bot.hooks import WebhookConsumer

        app = self.app
        metrics.OUTBOX_PENDING.set(len(await app.store.with_pending()))
        waiting: Tally[str] = Tally()
        for key in await app.desk.state.open_keys():
            case = await app.desk.state.load(key)
            if case is not None and case.open and case.claimer is None:
                waiting[priority_name(case.priority)] += 1
        for name in {*PRIORITY_NAMES.values(), "none"}:
            metrics.ESCALATIONS_WAITING.labels(name).set(waiting[name])
        length = 0
        for consumer in app.hooks.consumers:
            if isinstance(consumer, WebhookConsumer):
                length += await consumer.queue_length()
        metrics.HOOK_QUEUE.set(length)


def health_app(app: App, readiness: Readiness | None = None) -> web.Application:
    readiness = readiness or Readiness(app)
    gauges = Gauges(app)

    async def scrape(request: web.Request) -> web.Response:
        await gauges.refresh()
        return web.Response(body=metrics.render(), headers={"Content-Type": CONTENT_TYPE_LATEST})

    async def alive(request: web.Request) -> web.Response:
        return web.json_response({"alive": True})

    async def ready(request: web.Request) -> web.Response:
        checks = await readiness.checks()
        return web.json_response(checks, status=200 if all(checks.values()) else 503)

    application = web.Application()
    application.router.add_get("/metrics", scrape)
    application.router.add_get("/healthz", alive)
    application.router.add_get("/readyz", ready)
    return application


async def start_health_server(app: App, host: str, port: int) -> web.AppRunner:
    runner = web.AppRunner(health_app(app), access_log=None, shutdown_timeout=1.0)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    log.info("metrics and health serving", port=port)
    return runner


async def probe_webhook(app: App, stop: asyncio.Event) -> None:
    """In webhook mode Telegram may stay silent for long: ask it now and then how the webhook
    stands, so /readyz knows it is reachable (BotApiMetrics notes the answer)."""
    while not stop.is_set():
        with suppress(Exception):
            await app.bot.get_webhook_info(request_timeout=10)
        with suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), WEBHOOK_PROBE_EVERY)
