"""Long polling that acknowledges an update only after it was handled.

aiogram's own polling moves Telegram's offset past every update it fetched, failed or not, so an
update whose commit failed would be lost. Here the offset moves past an update only once
`feed_update` returned without an exception; after a failure the batch stops, and the next
`getUpdates` asks from that update again (the store's `update_id` dedupe makes a partly handled
one safe). Updates are handled one at a time, in order: a handler only commits (the outbox
sends), so this is not a bottleneck.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from contextlib import suppress
from typing import Any, TypeVar

import structlog
from aiogram import Bot, Dispatcher
from aiogram.dispatcher.dispatcher import DEFAULT_BACKOFF_CONFIG
from aiogram.methods import GetUpdates
from aiogram.types import Update
from aiogram.utils.backoff import Backoff, BackoffConfig

from bot.middlewares.errors import STORE_DOWN

log = structlog.get_logger("hotline.polling")

# A poison update (one that fails however often it comes) would hold back every later update;
# after this many attempts it is dropped, unhandled, so the others are served. Redis being down
# is not the update's fault: every update would fail alike, so those are waited out, not counted.
ATTEMPTS = 5
FETCH_BACKOFF = DEFAULT_BACKOFF_CONFIG  # getUpdates itself failing: as aiogram's polling does
RETRY_BACKOFF = BackoffConfig(min_delay=1.0, max_delay=30.0, factor=2.0, jitter=0.3)

T = TypeVar("T")


async def poll(
    bot: Bot,
    dispatcher: Dispatcher,
    stop: asyncio.Event,
    *,
    allowed_updates: list[str] | None = None,
    polling_timeout: int = 30,
    attempts: int = ATTEMPTS,
    fetch_backoff: BackoffConfig = FETCH_BACKOFF,
    retry_backoff: BackoffConfig = RETRY_BACKOFF,
) -> None:
    """Poll until `stop` is set; an update being handled then is finished, later ones are left
    to Telegram."""
    # a request may take as long as the long poll itself, on top of the session's own limit
    request_timeout = int(bot.session.timeout + polling_timeout)
    fetching, retrying = Backoff(fetch_backoff), Backoff(retry_backoff)
    offset: int | None = None  # everything below it is handled (or dropped)
    asked: int | None = None  # the offset Telegram last heard
    failed_id, failures = -1, 0
    log.info("polling started")
    while not stop.is_set():
        request = GetUpdates(
            offset=offset, timeout=polling_timeout, allowed_updates=allowed_updates
        )
        asked = offset
        try:
            updates = await _unless_stopped(stop, bot(request, request_timeout=request_timeout))
        except Exception as exc:  # the network or Telegram: try again later
            log.error("getUpdates failed", error=type(exc).__name__, tries=fetching.counter)
            await _pause(stop, next(fetching))
            continue
        fetching.reset()
        for update in updates or ():
            if stop.is_set():
                break
            error = await _handle(bot, dispatcher, update)
            if error is None:
                offset = update.update_id + 1
                retrying.reset()
                continue
            if update.update_id != failed_id:
                failed_id, failures = update.update_id, 0
            if not isinstance(error, STORE_DOWN):
                failures += 1
            # the type only: an exception's text may quote what a caller wrote
            kind = type(error).__name__
            if failures >= attempts:
                log.error("update dropped", update_id=failed_id, error=kind, attempts=failures)
                offset = update.update_id + 1
                continue
            log.warning("update failed", update_id=failed_id, error=kind, attempt=failures)
            offset = update.update_id  # ask from it again: Telegram delivers it once more
            await _pause(stop, next(retrying))
            break
    if offset is not None and offset != asked:
        # tell Telegram what was handled since the last request, so a restart does not fetch
        # it again; what this last request returns is left unacknowledged
        with suppress(Exception):
            await bot(GetUpdates(offset=offset, limit=1, timeout=0), request_timeout=5)
    log.info("polling stopped")


async def _handle(bot: Bot, dispatcher: Dispatcher, update: Update) -> Exception | None:
    """None when handled, else the exception that stopped it."""
    try:
        await dispatcher.feed_update(bot, update)
    except Exception as exc:  # any failure (Redis down too, see StoreDown): ask again
        return exc
    return None


async def _unless_stopped(stop: asyncio.Event, work: Coroutine[Any, Any, T]) -> T | None:
    """The result of `work`, or None when `stop` was set first (then `work` is cancelled)."""
    task = asyncio.ensure_future(work)
    stopping = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait((task, stopping), return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopping.cancel()
        if not task.done():
            task.cancel()
            with suppress(asyncio.CancelledError):
                await task
    return None if task.cancelled() else task.result()


async def _pause(stop: asyncio.Event, seconds: float) -> None:
    with suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), max(seconds, 0.0))
