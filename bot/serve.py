"""`hotline run`: long polling (default) or webhook, a start-up that never hangs and a stop that
never hangs.

SIGTERM and SIGINT are caught before anything starts, so a `docker stop` at any moment is a
clean stop, never a SIGKILL. Start-up checks Redis (reachable, 6.2 or newer: the hook queue
needs XAUTOCLAIM) and Telegram (the token is accepted) within STARTUP_LIMIT; a failure is one
log line naming what failed and exit code 1. After a stop signal the update in hand gets
STOP_GRACE seconds, the clean-up CLOSE_LIMIT: a library call that swallows a cancel cannot
hold the process past them.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
from collections.abc import Awaitable, Callable

import structlog
from aiogram.exceptions import TelegramNotFound, TelegramUnauthorizedError
from aiohttp import web
from redis.asyncio import Redis

from bot import gc_tuning
from bot.app import App, build_app
from bot.health import probe_webhook, start_health_server
from bot.menus import set_menus
from bot.polling import poll
from bot.settings import SECRET_TOKEN, Settings, SettingsError, serving_problems
from bot.webhook import MAX_CONNECTIONS, webhook_runner

log = structlog.get_logger("hotline.serve")

STARTUP_LIMIT = 20.0  # seconds for every start-up step together (the exit is well within 30)
TELEGRAM_LIMIT = 8  # seconds the first Bot API call may take
STOP_GRACE = 4.0  # seconds the update in hand (or the webhook's requests) get after a signal
CLOSE_LIMIT = 4.0  # seconds for the clean-up; with STOP_GRACE, well within Docker's 10
MIN_REDIS = (6, 2)


class StartupFailure(Exception):
    """What failed at start-up (a part's name, a reason in words), never a secret."""

    def __init__(self, part: str, reason: str) -> None:
        super().__init__(f"{part}: {reason}")
        self.part = part
        self.reason = reason


async def serve(settings: Settings) -> int:
    """0 after a stop signal, 1 when start-up failed; SettingsError for bad settings."""
    stop = _stop_on_signals()  # before anything: a signal from here on is a clean stop
    try:
        return await _serve(settings, stop)
    finally:
        _restore_signals()


async def _serve(settings: Settings, stop: asyncio.Event) -> int:
    problems = serving_problems(settings)
    if settings.mode == "webhook" and not _usable_secret(settings):
        problems.append(_NO_WEBHOOK_KEY)
    if problems:
        raise SettingsError(*problems)
    app = build_app(settings)
    runners: list[web.AppRunner] = []
    try:
        try:
            if not await _unless_stopped(stop, _start(app, runners)):
                log.info("stopped during start-up")
                return 0
        except StartupFailure as failure:
            log.error(f"start-up failed: {failure}", part=failure.part)
            return 1
        with gc_tuning.tuned():
            if settings.mode == "webhook":
                await _serve_webhook(app, stop)
            else:
                await _serve_polling(app, stop)
        return 0
    finally:
        if not await finished_within(_close(app, runners), CLOSE_LIMIT):
            log.warning("clean-up cut short at its time limit", seconds=CLOSE_LIMIT)


async def _start(app: App, runners: list[web.AppRunner]) -> None:
    """Every step of start-up, each named should it fail, all within STARTUP_LIMIT."""
    settings = app.settings
    steps: list[tuple[str, Callable[[], Awaitable[object]]]] = []
    if settings.metrics_port is not None:
        port = settings.metrics_port

        async def metrics() -> None:
            runners.append(await start_health_server(app, settings.metrics_host, port))

        steps.append(("metrics", metrics))
    if not settings.embedded:
        steps.append(("redis", lambda: check_redis(app.redis)))
    steps.append(("telegram", lambda: check_telegram(app)))
    assert settings.operator_chat_id is not None  # serving_problems checked it
    desk_chat, language = settings.operator_chat_id, settings.operator_language
    steps.append(("telegram", lambda: set_menus(app.bot, app.translator, desk_chat, language)))
    steps.append(("redis", app.start))  # the desk's loops, the hook queues, pending outboxes
    if settings.mode == "webhook":
        steps.append(("webhook", lambda: _start_webhook(app, runners)))
    part = "start-up"
    try:
        async with asyncio.timeout(STARTUP_LIMIT):
            for name, step in steps:
                part = name  # what a time-out or an error names
                await step()
    except StartupFailure:
        raise
    except TimeoutError:
        raise StartupFailure(part, f"no answer within {STARTUP_LIMIT:.0f} s") from None
    except Exception as exc:  # the type only: an exception's text may quote a URL or a token
        raise StartupFailure(part, f"failed ({type(exc).__name__})") from None


async def check_redis(redis: Redis) -> None:
    try:
        info = await redis.info("server")
    except Exception as exc:
        raise StartupFailure("redis", f"unreachable or refused ({type(exc).__name__})") from None
    version = str(info.get("redis_version", ""))
    if redis_version(version) < MIN_REDIS:
        raise StartupFailure(
            "redis", f"version {version or 'unknown'} is older than 6.2 (XAUTOCLAIM is needed)"
        )


def redis_version(text: str) -> tuple[int, ...]:
    parts = []
    for part in text.split(".")[:3]:
        if not part.isdigit():
            break
        parts.append(int(part))
    return tuple(parts)


async def check_telegram(app: App) -> None:
    """The token is accepted; and the bot's own handle is learnt, the `@self` of the list of
    genuine channels (only Telegram knows it)."""
    try:
        me = await app.bot.get_me(request_timeout=TELEGRAM_LIMIT)
    except (TelegramUnauthorizedError, TelegramNotFound):
        raise StartupFailure(
            "telegram", "BOT_TOKEN was refused (revoked or mistyped: see @BotFather)"
        ) from None
    except Exception as exc:
        raise StartupFailure("telegram", f"unreachable ({type(exc).__name__})") from None
    app.dialogue.own_username(me.username)


async def _serve_polling(app: App, stop: asyncio.Event) -> None:
    # not aiogram's start_polling: it acknowledges an update even when handling failed
    polling = asyncio.create_task(
        poll(
            app.bot,
            app.dispatcher,
            stop,
            allowed_updates=app.dispatcher.resolve_used_update_types(),
        )
    )
    await asyncio.wait({polling, asyncio.create_task(stop.wait())}, return_when="FIRST_COMPLETED")
    if not await finished_within(polling, STOP_GRACE):
        log.warning("stopped in the middle of an update: Telegram will deliver it again")


def webhook_secret(settings: Settings) -> str:
    """The secret token of webhook mode; without a usable one (unset, empty, or characters
    Telegram does not send) webhook mode does not start."""
    if not _usable_secret(settings):
        raise SettingsError(_NO_WEBHOOK_KEY)
    assert settings.webhook_secret is not None
    return settings.webhook_secret.get_secret_value()


_NO_WEBHOOK_KEY = "setting WEBHOOK_SECRET: webhook mode needs one of 1-256 A-Z a-z 0-9 _ -"


def _usable_secret(settings: Settings) -> bool:
    secret = settings.webhook_secret.get_secret_value() if settings.webhook_secret else ""
    return bool(SECRET_TOKEN.fullmatch(secret) and settings.webhook_url)


async def _start_webhook(app: App, runners: list[web.AppRunner]) -> None:
    settings = app.settings
    assert settings.webhook_url is not None  # _usable_secret checked it
    secret = webhook_secret(settings)
    runner = webhook_runner(app, secret, settings.webhook_path, shutdown_timeout=STOP_GRACE)
    await runner.setup()
    runners.append(runner)
    await web.TCPSite(runner, settings.webhook_host, settings.webhook_port).start()
    await app.bot.set_webhook(
        settings.webhook_url,
        secret_token=secret,
        allowed_updates=app.dispatcher.resolve_used_update_types(),
        request_timeout=TELEGRAM_LIMIT,
        max_connections=MAX_CONNECTIONS,  # one chat's updates in Telegram's order (README)
    )
    log.info("webhook serving", port=settings.webhook_port)


async def _serve_webhook(app: App, stop: asyncio.Event) -> None:
    await probe_webhook(app, stop)  # until the signal


async def _close(app: App, runners: list[web.AppRunner]) -> None:
    for runner in reversed(runners):  # the webhook first: in-flight requests finish
        await finished_within(runner.cleanup(), STOP_GRACE)
    await app.close()  # in-flight deliveries finish first


async def finished_within(work: Awaitable[object], seconds: float) -> bool:
    """Let `work` run for at most `seconds`: whether it finished. Past that it is cancelled,
    and not waited for beyond a moment (a library may swallow the cancel)."""
    task = asyncio.ensure_future(work)
    done, _ = await asyncio.wait({task}, timeout=seconds)
    if not done:
        task.cancel()
        await asyncio.wait({task}, timeout=0.5)
        return False
    if not task.cancelled() and task.exception() is not None:
        log.error("failed while stopping", error=type(task.exception()).__name__)
    return True


async def _unless_stopped(stop: asyncio.Event, work: Awaitable[None]) -> bool:
    """Whether `work` finished before a stop signal (then it is cancelled); its errors raise."""
    task = asyncio.ensure_future(work)
    stopping = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({task, stopping}, return_when="FIRST_COMPLETED")
    finally:
        stopping.cancel()
    if task.done():
        task.result()
        return True
    await finished_within(task, 0)
    return False


_SIGNALS = (signal.SIGTERM, signal.SIGINT)


def _stop_on_signals() -> asyncio.Event:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in _SIGNALS:
        loop.add_signal_handler(sig, stop.set)
    return stop


def _restore_signals() -> None:
    loop = asyncio.get_running_loop()
    for sig in _SIGNALS:
        loop.remove_signal_handler(sig)


def run(settings: Settings) -> int:
    """`serve` in a loop of its own that exits even when a task swallows its cancel (then
    asyncio.run would wait for it for ever)."""
    loop = asyncio.new_event_loop()
    try:
        code = loop.run_until_complete(serve(settings))
        left = asyncio.all_tasks(loop)
        for task in left:
            task.cancel()
        if left:
            loop.run_until_complete(asyncio.wait(left, timeout=1.0))
        if any(not task.done() for task in left):
            log.warning("exiting with tasks that ignored their cancel")
            logging.shutdown()
            os._exit(code)
        loop.run_until_complete(loop.shutdown_asyncgens())
        return code
    finally:
        loop.close()
