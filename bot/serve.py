"""`hotline run`: long polling (default) or webhook, with a graceful stop on SIGTERM."""

from __future__ import annotations

import asyncio
import signal

import structlog
from aiogram.types import BotCommand, BotCommandScopeAllPrivateChats
from aiohttp import web

from bot.app import App, build_app
from bot.polling import poll
from bot.settings import SECRET_TOKEN, Settings, SettingsError
from bot.webhook import webhook_app
from flows import surrender as flow

log = structlog.get_logger("hotline.serve")


async def set_commands(app: App) -> None:
    """The command menu in each caller language (the first one is also the default)."""
    scope = BotCommandScopeAllPrivateChats()
    for i, lang in enumerate(app.translator.languages):
        commands = [
            BotCommand(command=name, description=app.translator.text(lang, f"cmd-{name}"))
            for name in flow.COMMANDS
        ]
        await app.bot.set_my_commands(commands, scope=scope, language_code=lang)
        if i == 0:
            await app.bot.set_my_commands(commands, scope=scope)


async def serve(settings: Settings) -> int:
    if settings.bot_token is None:
        raise SettingsError(
            "setting BOT_TOKEN: required to serve Telegram (or run `hotline console`)"
        )
    secret = webhook_secret(settings) if settings.mode == "webhook" else ""  # before anything
    app = build_app(settings)
    try:
        await app.start()  # the desk's service levels and clean-up run beside the updates
        await set_commands(app)
        if settings.mode == "webhook":
            await _serve_webhook(app, secret)
        else:
            # not aiogram's start_polling: it acknowledges an update even when handling failed
            await poll(
                app.bot,
                app.dispatcher,
                _stop_on_signals(),
                allowed_updates=app.dispatcher.resolve_used_update_types(),
            )
    finally:
        await app.close()  # in-flight deliveries finish first
    return 0


def webhook_secret(settings: Settings) -> str:
    """The secret token of webhook mode; without a usable one (unset, empty, or characters
    Telegram does not send) webhook mode does not start."""
    secret = settings.webhook_secret.get_secret_value() if settings.webhook_secret else ""
    if not secret or not settings.webhook_url:
        raise SettingsError("setting WEBHOOK_SECRET: webhook mode refuses to start without it")
    if not SECRET_TOKEN.fullmatch(secret):
        raise SettingsError("setting WEBHOOK_SECRET: only A-Z a-z 0-9 _ - allowed, 1-256 chars")
    return secret


async def _serve_webhook(app: App, secret: str) -> None:
    settings = app.settings
    assert settings.webhook_url is not None  # webhook_secret() checked it
    runner = web.AppRunner(webhook_app(app, secret, settings.webhook_path))
    await runner.setup()
    site = web.TCPSite(runner, settings.webhook_host, settings.webhook_port)
    await site.start()
    await app.bot.set_webhook(
        settings.webhook_url,
        secret_token=secret,
        allowed_updates=app.dispatcher.resolve_used_update_types(),
    )
    log.info("webhook serving", port=settings.webhook_port)
    await _stop_on_signals().wait()
    await runner.cleanup()  # lets in-flight requests finish


def _stop_on_signals() -> asyncio.Event:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    return stop
