"""The webhook endpoint: answering only after the update is committed, and refusing (401) any
request without the right secret token.

Hardened for the open internet and for bursts:
- a connection has HEADER_TIMEOUT seconds to send its request line and headers (and to start the
  next request), the body then BODY_TIMEOUT seconds; slow senders are cut off, not waited for;
- a body over MAX_BODY is refused (413); what is not JSON, or not an update, 400;
- the secret is compared as bytes, so a header of any bytes (non-ASCII too) is simply 401;
- at most IN_FLIGHT updates are handled at once; the others wait their turn, connection open
  (back-pressure), so a burst (a backlog after an outage, several instances behind a balancer)
  never saturates the event loop until Redis replies look late and Redis is taken for down.

`setWebhook` is called with MAX_CONNECTIONS = 1: Telegram then posts the next update only once
the last one was answered, so the updates of one chat arrive in Telegram's order even when
several processes share the load (see the README).
"""

from __future__ import annotations

import asyncio
import hmac
import json
from typing import Final

import structlog
from aiogram.types import Update
from aiohttp import web
from pydantic import ValidationError

from bot.app import App
from bot.settings import SECRET_TOKEN

log = structlog.get_logger("hotline.webhook")

SECRET_HEADER: Final = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 - a header name
MAX_BODY: Final = 1 << 20  # bytes; Telegram's updates are far smaller
HEADER_TIMEOUT: Final = 10.0
BODY_TIMEOUT: Final = 10.0
IN_FLIGHT: Final = 32
MAX_CONNECTIONS: Final = 1


class WebhookHandler:
    def __init__(self, app: App, secret: str, *, in_flight: int = IN_FLIGHT) -> None:
        self.app = app
        self._secret = secret.encode("ascii")
        self._slots = asyncio.Semaphore(in_flight)
        self.body_timeout = BODY_TIMEOUT

    def authorized(self, request: web.Request) -> bool:
        given = request.headers.get(SECRET_HEADER, "")
        # aiohttp hands undecodable header bytes over as surrogates: back to the bytes sent
        raw = given.encode("utf-8", "surrogateescape")
        return hmac.compare_digest(raw, self._secret)

    async def handle(self, request: web.Request) -> web.Response:
        if not self.authorized(request):
            return web.Response(status=401, text="Unauthorized")
        if request.content_length is not None and request.content_length > MAX_BODY:
            return web.Response(status=413, text="Too large")
        try:
            async with asyncio.timeout(self.body_timeout):
                body = await request.read()
        except TimeoutError:
            return web.Response(status=408, text="Too slow")
        except web.HTTPRequestEntityTooLarge:
            return web.Response(status=413, text="Too large")
        bot = self.app.bot
        try:
            update = Update.model_validate(json.loads(body), context={"bot": bot})
        except (ValueError, ValidationError):  # json's errors are ValueErrors
            log.warning("webhook request is not an update")
            return web.Response(status=400, text="Not an update")
        async with self._slots:
            try:
                await self.app.dispatcher.feed_update(bot, update)
            except Exception as exc:
                # not committed: Telegram delivers it again (type only: the text may quote him)
                log.error("update not handled", error=type(exc).__name__)
                return web.Response(status=500, text="Not handled")
        return web.json_response({})


def webhook_app(app: App, secret: str, path: str = "/telegram") -> web.Application:
    if not secret:
        raise ValueError("webhook mode refuses to start without a secret token")
    if not SECRET_TOKEN.fullmatch(secret):
        # Telegram would refuse it in setWebhook; never serve with a token it cannot send
        raise ValueError("the webhook secret token must be 1-256 of A-Z a-z 0-9 _ -")
    application = web.Application(client_max_size=MAX_BODY)
    application.router.add_post(path, WebhookHandler(app, secret).handle)
    return application


def webhook_runner(
    app: App,
    secret: str,
    path: str = "/telegram",
    *,
    header_timeout: float = HEADER_TIMEOUT,
    shutdown_timeout: float = 60.0,
) -> web.AppRunner:
    """The server around `webhook_app`: an idle or slow connection is closed after
    `header_timeout` (aiohttp's keep-alive timer also runs while a request's headers arrive)."""
    return web.AppRunner(
        webhook_app(app, secret, path),
        shutdown_timeout=shutdown_timeout,
        keepalive_timeout=header_timeout,
        access_log=None,  # no caller's request line in the logs
        max_line_size=8190,
        max_field_size=8190,
    )
