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
from collections.abc import Awaitable, Callable, Coroutine
from contextlib import suppress
from typing import Any, TypeVar

import structlog
from aiogram import BaseMiddleware, Bot, Dispatcher
from aiogram.dispatcher.dispatcher import DEFAULT_BACKOFF_CONFIG
from aiogram.methods import GetUpdates
from aiogram.types import TelegramObject, Update
from aiogram.utils.backoff import Backoff, BackoffConfig
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import OutOfMemoryError, ReadOnlyError
from redis.exceptions import TimeoutError as RedisTimeoutError

from flows.store import StoreUnavailable

log = structlog.get_logger("hotline.polling")

# A poison update (one that fails however often it comes) would hold back every later update;
# after this many attempts it is dropped, unhandled, so the others are served. Redis being down
# is not the update's fault: every update would fail alike, so those are waited out, not counted.
ATTEMPTS = 5
# (a replica during a failover answers READONLY, a full one OOM: waited out the same way)
STORE_DOWN = (
    StoreUnavailable,
    RedisConnectionError,
    RedisTimeoutError,
    ReadOnlyError,
    OutOfMemoryError,
)
FETCH_BACKOFF = DEFAULT_BACKOFF_CONFIG  # getUpdates itself failing: as aiogram's polling does
RETRY_BACKOFF = BackoffConfig(min_delay=1.0, max_delay=30.0, factor=2.0, jitter=0.3)
FAILURES = "polling_failures"  # the key of the list _NoteFailures appends to

T = TypeVar("T")


class _NoteFailures(BaseMiddleware):
    """The innermost update middleware. StoreDown (outside it) turns a store failure into a
    "try again later" notice and returns normally; the update was still not recorded, so it
    must not be acknowledged."""

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        try:
            return await handler(event, data)
        except Exception as exc:
            failures = data.get(FAILURES)
            if isinstance(failures, list):
                failures.append(exc)
            raise


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
    if not any(isinstance(m, _NoteFailures) for m in dispatcher.update.outer_middleware):
        dispatcher.update.outer_middleware(_NoteFailures())
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
    noted: list[Exception] = []
    try:
        await dispatcher.feed_update(bot, update, **{FAILURES: noted})
    except Exception as exc:  # any failure: not recorded, ask again
        return exc
    return noted[0] if noted else None


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
