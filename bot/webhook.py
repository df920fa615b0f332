"""The webhook endpoint: aiogram's handler on aiohttp, answering only after the update is
committed, and refusing (401) any request without the right secret token."""

from __future__ import annotations

from aiogram.webhook.aiohttp_server import SimpleRequestHandler
from aiohttp import web

from bot.app import App
from bot.settings import SECRET_TOKEN


def webhook_app(app: App, secret: str, path: str = "/telegram") -> web.Application:
    if not secret:
        raise ValueError("webhook mode refuses to start without a secret token")
    if not SECRET_TOKEN.fullmatch(secret):
        # Telegram would refuse it in setWebhook; never serve with a token it cannot send
        raise ValueError("the webhook secret token must be 1-256 of A-Z a-z 0-9 _ -")
    application = web.Application()
    SimpleRequestHandler(
        dispatcher=app.dispatcher,
        bot=app.bot,
        secret_token=secret,
        # answer Telegram only after the handler committed: a crash before that means redelivery
        handle_in_background=False,
    ).register(application, path=path)
    return application
