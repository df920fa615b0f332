"""The webhook endpoint: aiogram's handler on aiohttp, answering only after the update is
committed, and refusing (401) any request without the right secret token."""

from __future__ import annotations

from aiogram.webhook.aiohttp_server import SimpleRequestHandler
from aiohttp import web

from bot.app import App


def webhook_app(app: App, secret: str, path: str = "/telegram") -> web.Application:
    if not secret:
        raise ValueError("webhook mode refuses to start without a secret token")
    application = web.Application()
    SimpleRequestHandler(
        dispatcher=app.dispatcher,
        bot=app.bot,
        secret_token=secret,
        # answer Telegram only after the handler committed: a crash before that means redelivery
        handle_in_background=False,
    ).register(application, path=path)
    return application
