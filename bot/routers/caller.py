"""The private chat with a caller: every update becomes one flow event."""

from __future__ import annotations

import structlog
from aiogram import F, Router
from aiogram.exceptions import TelegramAPIError
from aiogram.types import CallbackQuery, Message, Update

from bot.events import ButtonData, Labels, LanguageData, edited_event, event_of
from bot.filters import Awaited
from bot.i18n import Translator
from bot.pipeline import Pipeline
from flows import surrender as flow
from flows.model import ChooseLanguage, Event, Press, StaleButton
from flows.quota import OverLimit

log = structlog.get_logger("hotline.caller")


async def _feed(
    pipeline: Pipeline,
    translator: Translator,
    update: Update,
    message: Message,
    event: Event,
    *,
    ref: int | None,
) -> None:
    user = message.from_user
    if user is None or user.is_bot:
        return
    await pipeline.from_caller(
        user.id,
        message.chat.id,
        update.update_id,
        event,
        message_ref=ref,
        language=translator.language_of(user.language_code),
    )


async def on_message(
    message: Message,
    event_update: Update,
    pipeline: Pipeline,
    translator: Translator,
    labels: Labels,
) -> None:
    event = event_of(message, labels)
    await _feed(pipeline, translator, event_update, message, event, ref=message.message_id)


async def on_edit(
    edited_message: Message, event_update: Update, pipeline: Pipeline, translator: Translator
) -> None:
    event = edited_event(edited_message)
    await _feed(
        pipeline, translator, event_update, edited_message, event, ref=edited_message.message_id
    )


async def on_button(
    callback: CallbackQuery, event_update: Update, pipeline: Pipeline, translator: Translator
) -> None:
    event = _button_event(callback.data or "")
    message = callback.message
    if not isinstance(message, Message):  # too old for Telegram to show it to the bot
        await _stop_spinner(callback)
        return
    user = callback.from_user
    stop = True
    try:
        handled = await pipeline.from_caller(
            user.id,
            message.chat.id,
            event_update.update_id,
            event,
            language=translator.language_of(user.language_code),
        )
        # a redelivered update was answered the first time, and Telegram refuses a second
        # answer to the same query
        stop = handled.batch is not None
    except OverLimit:
        stop = False  # the rate limit answers it, once
        raise
    finally:
        # answered once the press is committed (or failed)
        if stop:
            await _stop_spinner(callback)


def _button_event(data: str) -> Event:
    """What an inline button means; data that is not ours (or damaged) is a stale button."""
    try:
        if data.startswith(ButtonData.__prefix__ + ":"):
            button = ButtonData.unpack(data)
            return Press(button.button, screen=button.screen)
        if data.startswith(LanguageData.__prefix__ + ":"):
            lang = LanguageData.unpack(data).lang
            if lang in flow.LANGUAGES:
                return ChooseLanguage(lang)
    except (TypeError, ValueError):
        pass
    return StaleButton()


async def _stop_spinner(callback: CallbackQuery) -> None:
    try:
        await callback.answer()
    except TelegramAPIError as exc:
        # an old query ("query is too old"): nothing to stop, and no reason to fail the update
        log.info("callback not answered", error=type(exc).__name__)


def build_router() -> Router:
    """A router for one app: aiogram attaches a router to one dispatcher only, so every
    `build_app` (tests, console) needs its own."""
    router = Router(name="caller")
    router.message.filter(Awaited(F.chat.type == "private"))
    router.edited_message.filter(Awaited(F.chat.type == "private"))
    router.callback_query.filter(Awaited(F.message.chat.type == "private"))
    router.message.register(on_message)
    router.edited_message.register(on_edit)
    router.callback_query.register(on_button)
    return router
